"""A numpy evaluator for the numeric core of `expr` columns: the same values as Polars SQL, bit for bit.

Polars SQL (generation/derived.py) stays the reference and evaluates everything this module does not take:
`evaluate` raises `Unsupported` for any node, type or input outside the subset below, and derived.py then
asks Polars. Inside the subset every operation reproduces what Polars computes (checked bit for bit by
tests/test_sql_numpy.py, against Polars itself, and by the golden hashes):

- columns of types int8-int64, float64 and bool without nulls; integer literals (Polars' dynamic ints take
  the other operand's type), decimal literals (as float64 next to a float; with an integer they would make
  Polars compute in decimals: unsupported), PI();
- + - * on numbers; / as true division, except that Polars turns `x / literal` into `x * (1 / literal)`;
  a literal 0 next to + or - is unsupported (Polars simplifies `x + 0` and `0 - x`);
- comparisons, AND, OR, NOT; CASE (searched or simple) with numeric, NULL, string-literal or string-column
  results; a CASE of literals only is Polars' Int32 (integers) or Decimal (with a decimal: exact mantissas);
- string columns without nulls (plain or dictionary-encoded) only compared with a string literal (= <>, and
  the simple CASE), or as CASE results; dates only cast to BIGINT or INT (days since the epoch);
- + - * of two literals one of which is a decimal fold exactly (8.0 + 1 is 9.0), SQRT of a literal is a
  constant (x / SQRT(9.0) is x * (1 / 3.0), as Polars computes it);
- CAST to DOUBLE, BIGINT, INT; ABS, SIGN, ROUND, CEIL, FLOOR, EXP, LN, COS, SQRT, POWER with a whole
  exponent 1-9 (Polars multiplies left to right), GREATEST, LEAST, MOD of integers. EXP, LN and COS are the
  C library's (generation/libm.py), as Polars' are, on every CPU.

NaN inputs to comparisons, GREATEST/LEAST and SIGN, casts out of range and ties of 0.0 with -0.0 in
GREATEST/LEAST raise `Unsupported` at run time (Polars orders NaN and signed zeros its own way).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..schemas.sql_tree import Binary, Call, Case, Cast, ColumnRef, Literal, Node, Unary
from . import libm
from .sql_values import (
    EXACT_LIMIT,
    OPAQUE,
    SCALARS,
    Unsupported,
    Value,
    as_float,
    bound,
    decimal_case,
    equal_strings,
    fold_decimals,
    mantissa,
    no_nan,
    string_case,
    to_float,
)
from .sql_values import (
    column_value as column_value,  # the evaluator's input, re-exported for derived.py
)


def evaluate(node: Node, columns: Mapping[str, Value], decimals_as_float: bool = False) -> Value:
    """The value of `node` over the rows of `columns`.

    Args:
        decimals_as_float: the result goes into a float64 column, so an exact decimal result (Polars' Decimal,
            which derived.py casts with Arrow) is returned as that cast's float64 values: Arrow multiplies the
            mantissa by 10^-scale (not a division, as Polars' own cast inside an expression: see to_float).

    Raises:
        Unsupported: outside the subset (Polars evaluates it instead).
    """
    try:
        with np.errstate(all="ignore"):
            result = _case(node, columns) if isinstance(node, Case) else _eval(node, columns)
    except (OverflowError, TypeError, ValueError) as exc:  # e.g. a literal beyond an int8 column's range
        raise Unsupported(str(exc)) from None
    if result.kind == "exact" and decimals_as_float:
        result = Value("float", result.array.astype(np.float64) * 10.0**-result.scale, result.nulls)
    if result.kind in SCALARS or result.kind in OPAQUE or result.kind == "exact":
        raise Unsupported("a constant, a decimal, a string column or a date as the result")
    if any(result.data is value.data for value in columns.values()):
        return Value(result.kind, result.array.copy(), result.nulls)  # a column as it is: a new array, as Polars'
    return result


def _eval(node: Node, columns: Mapping[str, Value]) -> Value:
    if isinstance(node, ColumnRef):
        return columns[node.name]
    if isinstance(node, Literal):
        return _literal(node.sql)
    if isinstance(node, Unary):
        return _unary(node.op, _eval(node.operand, columns))
    if isinstance(node, Binary):
        return _binary(node.op, _eval(node.left, columns), _eval(node.right, columns))
    if isinstance(node, Call):
        return _call(node.name, [_eval(arg, columns) for arg in node.args])
    if isinstance(node, Cast):
        return _cast(_eval(node.operand, columns), node.type)
    if isinstance(node, Case):
        value = _case(node, columns)
        if value.nulls is not None or value.kind == "str":
            raise Unsupported("NULL or strings inside an expression")  # nulls would propagate: Polars does it
        return value
    raise Unsupported(type(node).__name__)


def _literal(sql: str) -> Value:
    if sql.startswith("'"):
        return Value("str", sql[1:-1].replace("''", "'"))
    if sql.isdigit():
        number = int(sql)
        if number >= 2**31:
            raise Unsupported("a large integer literal")
        return Value("dyn", number)
    if sql[0].isdigit() or sql[0] == ".":
        return Value("dec", float(sql), text=sql)
    raise Unsupported(sql)  # TRUE, FALSE, NULL outside CASE results


def _unary(op: str, value: Value) -> Value:
    if op == "NOT":
        if value.kind != "bool":
            raise Unsupported("NOT of a non-boolean")
        return Value("bool", ~value.array)
    if value.kind not in ("int", "float", "dyn", "dec"):
        raise Unsupported(f"{op} of {value.kind}")
    if op == "+":
        return value
    if value.kind in ("dyn", "dec"):
        return Value(value.kind, -value.data, text=value.text)
    return Value(value.kind, -value.array)


_ARITHMETIC: dict[str, Any] = {"+": np.add, "-": np.subtract, "*": np.multiply}
_COMPARE: dict[str, Any] = {
    "=": np.equal, "<>": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
}  # fmt: skip


def _number(value: Value) -> np.ndarray | int | float:
    return value.data if value.kind != "bool" else value.array


def _binary(op: str, left: Value, right: Value) -> Value:
    if op in ("AND", "OR"):
        if left.kind != "bool" or right.kind != "bool":
            raise Unsupported(f"{op} of non-booleans")
        return Value("bool", (left.array & right.array) if op == "AND" else (left.array | right.array))
    kinds = {left.kind, right.kind}
    if "strs" in kinds and kinds <= {"strs", "str"} and op in ("=", "<>") and kinds != {"strs"}:
        strings, literal = (left, right) if left.kind == "strs" else (right, left)
        equal = equal_strings(strings.data, str(literal.data))
        return Value("bool", equal if op == "=" else ~equal)
    if kinds & set(OPAQUE):
        raise Unsupported(f"{left.kind} {op} {right.kind}")
    if kinds <= {"dyn", "dec"} and "dec" in kinds and op in _ARITHMETIC:
        return fold_decimals(op, left, right)
    if "exact" in kinds or ("dec" in kinds and "int" in kinds):
        return _exact(op, left, right)
    if kinds & {"bool", "str"} or (left.kind in SCALARS and right.kind in SCALARS and op not in _COMPARE):
        if not (op == "*" and kinds == {"dyn", "const"}):  # 2 * PI(): Polars folds it to the float64 product
            raise Unsupported(f"{left.kind} {op} {right.kind}")
        return Value("const", float(left.data) * float(right.data))
    if left.kind in SCALARS and right.kind in SCALARS:
        raise Unsupported("a comparison of constants")
    if op in _COMPARE:
        no_nan(left, right)
        return Value("bool", _COMPARE[op](left.data, right.data))
    if op in ("+", "-") and any(value.kind in SCALARS and value.data == 0 for value in (left, right)):
        raise Unsupported("0 next to + or - (Polars simplifies it)")
    kind = "float" if kinds & {"float", "dec", "const"} else "int"
    if op in _ARITHMETIC:
        return Value(kind, _ARITHMETIC[op](left.data, right.data))
    if op == "/":
        if right.kind in SCALARS:  # a literal or a constant expression (SQRT(9.0)): Polars multiplies by 1 / c
            if right.data == 0 or (right.kind == "const" and not right.folded):
                raise Unsupported("a division by zero or by PI()")
            return Value("float", np.multiply(as_float(left), 1.0 / float(right.data)))
        return Value("float", np.true_divide(as_float(left), as_float(right)))
    raise Unsupported(op)


def _exact(op: str, left: Value, right: Value) -> Value:
    """Decimal arithmetic as Polars does it (an integer column next to a decimal literal, + - * only), exact in
    int64 mantissas; next to a float, a decimal becomes its float64 value."""
    if {left.kind, right.kind} & {"float", "const"} and op in _ARITHMETIC:
        return _binary(op, to_float(left), to_float(right))
    if op not in _ARITHMETIC or not {left.kind, right.kind} <= {"exact", "int", "dyn", "dec"}:
        raise Unsupported(f"decimal {op}")
    (a, a_scale), (b, b_scale) = mantissa(left), mantissa(right)
    if op == "*":
        scale, a_factor, b_factor = a_scale + b_scale, 1, 1
        largest = bound(a) * bound(b)
    else:
        scale = max(a_scale, b_scale)
        a_factor, b_factor = 10 ** (scale - a_scale), 10 ** (scale - b_scale)
        largest = bound(a) * a_factor + bound(b) * b_factor
    if scale > 15 or largest >= EXACT_LIMIT:  # int64 never overflows, and the float64 value stays exact
        raise Unsupported("a decimal beyond float64's exact integers")
    if op == "*":
        return Value("exact", np.asarray(np.multiply(a, b), dtype=np.int64), scale=scale)
    data = _ARITHMETIC[op](np.multiply(a, a_factor), np.multiply(b, b_factor))
    return Value("exact", np.asarray(data, dtype=np.int64), scale=scale)


def _call(name: str, args: list[Value]) -> Value:
    if name == "PI" and not args:
        return Value("const", math.pi)
    if name in ("GREATEST", "LEAST") and args:
        return _extreme(name, args)
    if name == "MOD" and len(args) == 2:
        number, divisor = args
        if number.kind != "int" or divisor.kind not in ("int", "dyn") or np.any(np.asarray(divisor.data) == 0):
            raise Unsupported("MOD of non-integers or by zero")
        return Value("int", np.fmod(number.array, divisor.data))  # Polars' remainder truncates, like C
    if name == "POWER" or name == "POW":
        base, exponent = args
        if base.kind != "float" or exponent.kind != "dyn" or not 1 <= int(exponent.data) <= 9:
            raise Unsupported("POWER outside a float to a whole exponent 1-9")
        product = base.array
        for _ in range(int(exponent.data) - 1):
            product = product * base.array  # Polars multiplies left to right
        return Value("float", product)
    if name == "ROUND" and args and args[0].kind == "float":
        digits = args[1] if len(args) == 2 else Value("dyn", 0)
        if digits.kind != "dyn" or int(digits.data) < 0 or len(args) > 2:
            raise Unsupported("ROUND to a non-literal")
        return Value("float", np.round(args[0].array, int(digits.data)))
    if name == "SQRT" and len(args) == 1 and args[0].kind in ("dyn", "dec") and float(args[0].data) >= 0:
        return Value("const", float(np.sqrt(np.float64(args[0].data))), folded=True)  # IEEE: correctly rounded
    if len(args) != 1 or args[0].kind not in ("int", "float"):
        raise Unsupported(name)
    value = args[0]
    if name == "ABS":
        return Value(value.kind, np.abs(value.array))
    if value.kind != "float" and name in ("SIGN", "CEIL", "CEILING", "FLOOR"):
        raise Unsupported(f"{name} of an integer")
    if name == "SIGN":
        no_nan(value)
        return Value("float", np.where(value.array == 0, value.array, np.sign(value.array)))  # keeps -0.0
    unary = _FLOAT_FUNCTIONS.get(name)
    if unary is None:
        raise Unsupported(name)
    return Value("float", unary(value.array.astype(np.float64, copy=False)))


_FLOAT_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "CEIL": np.ceil, "CEILING": np.ceil, "FLOOR": np.floor, "EXP": libm.exp, "LN": libm.log, "COS": libm.cos, "SQRT": np.sqrt,
}  # fmt: skip


def _extreme(name: str, args: list[Value]) -> Value:
    kinds = {arg.kind for arg in args}
    if kinds - {"int", "float", "dyn", "dec", "const"} or not kinds & {"int", "float"}:
        raise Unsupported(f"{name} of {kinds}")
    if "dec" in kinds and "float" not in kinds:
        raise Unsupported(f"{name} of integers and decimals")
    no_nan(*args)
    pick = np.maximum if name == "GREATEST" else np.minimum
    result = args[0].data
    for arg in args[1:]:
        ties = np.equal(result, arg.data) & (np.signbit(result) != np.signbit(arg.data))
        if np.any(ties):
            raise Unsupported("0.0 next to -0.0")
        result = pick(result, arg.data)
    return Value("float" if kinds & {"float", "dec", "const"} else "int", np.asarray(result))


_CASTS: dict[str, Any] = {"DOUBLE": np.float64, "FLOAT8": np.float64, "DOUBLE PRECISION": np.float64, "BIGINT": np.int64, "INT8": np.int64,
          "INT": np.int32, "INTEGER": np.int32, "INT4": np.int32}  # fmt: skip


def _cast(value: Value, type_name: str) -> Value:
    target = _CASTS.get(type_name)
    if value.kind == "date" and target in (np.int64, np.int32):
        return Value("int", value.array.astype(target))  # days since the epoch, as Polars casts a Date
    if target is None or value.kind not in ("int", "float", "bool"):
        raise Unsupported(f"CAST of {value.kind} AS {type_name}")
    if target is np.float64:
        return Value("float", value.array.astype(np.float64))
    info = np.iinfo(target)
    if value.kind != "bool" and len(value.array):
        low, high = value.array.min(), value.array.max()
        if not (np.isfinite(low) and np.isfinite(high) and info.min < low and high < info.max):
            raise Unsupported("a cast out of range")  # Polars refuses it: let it say so
    return Value("int", value.array.astype(target))


def _case(node: Case, columns: Mapping[str, Value]) -> Value:
    conditions: list[np.ndarray] = []
    operand = None if node.operand is None else _eval(node.operand, columns)
    for condition, _ in node.whens:
        value = _eval(condition, columns) if operand is None else _binary("=", operand, _eval(condition, columns))
        if value.kind != "bool":
            raise Unsupported("a CASE condition that is not boolean")
        conditions.append(value.array)
    branches = [result for _, result in node.whens] + [node.default if node.default is not None else Literal("NULL")]
    nulls = [isinstance(branch, Literal) and branch.sql == "NULL" for branch in branches]
    values = [None if null else _eval(branch, columns) for branch, null in zip(branches, nulls, strict=True)]
    kinds = {value.kind for value in values if value is not None}
    if kinds and kinds <= {"str", "strs"}:
        return string_case(conditions, values)
    if kinds and kinds <= {"dyn", "dec"} and not any(nulls):
        literals = [value for value in values if value is not None]
        if "dec" in kinds:
            return decimal_case(conditions, literals)
        # Integer literals only: Polars materialises them as Int32 (each is below 2^31, see _literal).
        picked = np.select(conditions, [int(value.data) for value in literals[:-1]], int(literals[-1].data))
        return Value("int", np.broadcast_to(picked.astype(np.int32), conditions[0].shape).copy())
    if not kinds or kinds - {"int", "float", "dyn", "dec", "const"} or not kinds & {"int", "float"}:
        raise Unsupported(f"CASE results of kinds {kinds}")
    if "dec" in kinds and "float" not in kinds:
        raise Unsupported("CASE of integers and decimals")
    kind = "float" if kinds & {"float", "dec", "const"} else "int"
    dtype = np.float64 if kind == "float" else np.result_type(*[value.array for value in values if value is not None and value.kind == "int"])
    choices = [np.zeros(1, dtype=dtype) if value is None else np.asarray(value.data, dtype=dtype) for value in values]
    data = np.select(conditions, choices[:-1], choices[-1])
    if len(data) != len(conditions[0]):
        data = np.broadcast_to(data, conditions[0].shape).copy()
    mask = np.select(conditions, nulls[:-1], nulls[-1]) if any(nulls) else None
    return Value(kind, data, mask)
