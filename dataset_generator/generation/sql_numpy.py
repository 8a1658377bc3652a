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
- comparisons, AND, OR, NOT; CASE (searched or simple) with numeric, NULL or string-literal results;
- CAST to DOUBLE, BIGINT, INT; ABS, SIGN, ROUND, CEIL, FLOOR, EXP, LN, COS, SQRT, POWER with a whole
  exponent 1-9 (Polars multiplies left to right), GREATEST, LEAST, MOD of integers.

NaN inputs to comparisons, GREATEST/LEAST and SIGN, casts out of range and ties of 0.0 with -0.0 in
GREATEST/LEAST raise `Unsupported` at run time (Polars orders NaN and signed zeros its own way).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ..schemas.sql_tree import Binary, Call, Case, Cast, ColumnRef, Literal, Node, Unary


class Unsupported(Exception):
    """The expression (or this batch's inputs) is outside the subset: let Polars evaluate it."""


# Kinds of value: arrays of integers ("int"), float64 ("float"), bool ("bool"), exact decimals ("exact": what
# Polars makes of a decimal literal and an integer column with + - *); Polars' dynamic integer literals
# ("dyn"), decimal literals ("dec"), float64 constants ("const", PI()); string literals ("str").
@dataclass(frozen=True)
class Value:
    kind: str
    data: Any  # an array, or the literal's int, float or str
    nulls: np.ndarray | None = None  # CASE with a NULL branch: the rows that are null
    scale: int = 0  # "exact": int64 mantissas of decimals with this many digits after the point
    text: str | None = None  # "dec": the literal as written (unsigned)

    @property
    def array(self) -> np.ndarray:
        assert isinstance(self.data, np.ndarray)
        return self.data


_NUMPY_KINDS = {"int8": "int", "int16": "int", "int32": "int", "int64": "int", "float64": "float", "bool": "bool"}
_SCALARS = ("dyn", "dec", "const")


def column_value(values: np.ndarray | pa.Array, column_type: str) -> Value:
    """An input column as the evaluator reads it (the numpy dtype Polars would see from its Arrow form)."""
    kind = _NUMPY_KINDS.get(column_type)
    if kind is None:
        raise Unsupported(column_type)
    if isinstance(values, pa.Array):
        if values.null_count or str(values.type) != ("double" if column_type == "float64" else column_type):
            raise Unsupported("an Arrow input")
        values = values.to_numpy(zero_copy_only=False)
    if not isinstance(values, np.ndarray) or values.dtype.kind not in "biuf":
        raise Unsupported("not a numeric array")
    return Value(kind, values.astype(np.bool_ if kind == "bool" else np.dtype(column_type), copy=False))


def evaluate(node: Node, columns: Mapping[str, Value]) -> Value:
    """The value of `node` over the rows of `columns`.

    Raises:
        Unsupported: outside the subset (Polars evaluates it instead).
    """
    try:
        with np.errstate(all="ignore"):
            result = _case(node, columns) if isinstance(node, Case) else _eval(node, columns)
    except (OverflowError, TypeError, ValueError) as exc:  # e.g. a literal beyond an int8 column's range
        raise Unsupported(str(exc)) from None
    if result.kind in _SCALARS or result.kind == "exact":
        raise Unsupported("a constant or a decimal result")
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
    if "exact" in kinds or ("dec" in kinds and "int" in kinds):
        return _exact(op, left, right)
    if kinds & {"bool", "str"} or (left.kind in _SCALARS and right.kind in _SCALARS and op not in _COMPARE):
        if not (op == "*" and kinds == {"dyn", "const"}):  # 2 * PI(): Polars folds it to the float64 product
            raise Unsupported(f"{left.kind} {op} {right.kind}")
        return Value("const", float(left.data) * float(right.data))
    if left.kind in _SCALARS and right.kind in _SCALARS:
        raise Unsupported("a comparison of constants")
    if op in _COMPARE:
        _no_nan(left, right)
        return Value("bool", _COMPARE[op](left.data, right.data))
    if op in ("+", "-") and any(value.kind in _SCALARS and value.data == 0 for value in (left, right)):
        raise Unsupported("0 next to + or - (Polars simplifies it)")
    kind = "float" if kinds & {"float", "dec", "const"} else "int"
    if op in _ARITHMETIC:
        return Value(kind, _ARITHMETIC[op](left.data, right.data))
    if op == "/":
        if right.kind in _SCALARS:
            if right.data == 0 or right.kind == "const":
                raise Unsupported("a division by a zero or constant literal")
            return Value("float", np.multiply(_as_float(left), 1.0 / float(right.data)))
        return Value("float", np.true_divide(_as_float(left), _as_float(right)))
    raise Unsupported(op)


# Exact decimals stay below 2^53, so that their float64 value (mantissa / 10^scale) is Polars' conversion.
_EXACT_LIMIT = 2**53


def _exact(op: str, left: Value, right: Value) -> Value:
    """Decimal arithmetic as Polars does it (an integer column next to a decimal literal, + - * only), exact in
    int64 mantissas; next to a float, a decimal becomes its float64 value."""
    if {left.kind, right.kind} & {"float", "const"} and op in _ARITHMETIC:
        return _binary(op, _to_float(left), _to_float(right))
    if op not in _ARITHMETIC or not {left.kind, right.kind} <= {"exact", "int", "dyn", "dec"}:
        raise Unsupported(f"decimal {op}")
    (a, a_scale), (b, b_scale) = _mantissa(left), _mantissa(right)
    if op == "*":
        scale, a_factor, b_factor = a_scale + b_scale, 1, 1
        bound = _bound(a) * _bound(b)
    else:
        scale = max(a_scale, b_scale)
        a_factor, b_factor = 10 ** (scale - a_scale), 10 ** (scale - b_scale)
        bound = _bound(a) * a_factor + _bound(b) * b_factor
    if scale > 15 or bound >= _EXACT_LIMIT:  # int64 never overflows, and the float64 value stays exact
        raise Unsupported("a decimal beyond float64's exact integers")
    if op == "*":
        return Value("exact", np.asarray(np.multiply(a, b), dtype=np.int64), scale=scale)
    data = _ARITHMETIC[op](np.multiply(a, a_factor), np.multiply(b, b_factor))
    return Value("exact", np.asarray(data, dtype=np.int64), scale=scale)


def _bound(number: np.ndarray | int) -> int:
    if isinstance(number, np.ndarray):
        return int(np.abs(number).max()) if len(number) else 0
    return abs(number)


def _mantissa(value: Value) -> tuple[np.ndarray | int, int]:
    if value.kind == "exact":
        return value.array, value.scale
    if value.kind == "int":
        if value.array.dtype == np.uint64:
            raise Unsupported("uint64 decimals")
        return value.array.astype(np.int64), 0
    if value.kind == "dyn":
        return int(value.data), 0
    text = value.text
    if text is None or not all(part.isdigit() for part in text.split(".", 1)) or "." not in text:
        raise Unsupported("a decimal literal with an exponent")
    whole, fraction = text.split(".")
    sign = -1 if float(value.data) < 0 else 1
    return sign * int(whole + fraction), len(fraction)


def _to_float(value: Value) -> Value:
    if value.kind == "exact":
        return Value("float", value.array.astype(np.float64) / 10.0**value.scale)
    if value.kind == "int":
        return Value("float", value.array.astype(np.float64))
    return value


def _as_float(value: Value) -> np.ndarray | float:
    if isinstance(value.data, np.ndarray):
        return value.data.astype(np.float64, copy=False)
    return float(value.data)


def _no_nan(*values: Value) -> None:
    for value in values:
        if value.kind == "float" and np.isnan(value.array).any():
            raise Unsupported("NaN input (Polars orders NaN above every number)")


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
    if len(args) != 1 or args[0].kind not in ("int", "float"):
        raise Unsupported(name)
    value = args[0]
    if name == "ABS":
        return Value(value.kind, np.abs(value.array))
    if value.kind != "float" and name in ("SIGN", "CEIL", "CEILING", "FLOOR"):
        raise Unsupported(f"{name} of an integer")
    if name == "SIGN":
        _no_nan(value)
        return Value("float", np.where(value.array == 0, value.array, np.sign(value.array)))  # keeps -0.0
    unary = _FLOAT_FUNCTIONS.get(name)
    if unary is None:
        raise Unsupported(name)
    return Value("float", unary(value.array.astype(np.float64, copy=False)))


_FLOAT_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "CEIL": np.ceil, "CEILING": np.ceil, "FLOOR": np.floor, "EXP": np.exp, "LN": np.log, "COS": np.cos, "SQRT": np.sqrt,
}  # fmt: skip


def _extreme(name: str, args: list[Value]) -> Value:
    kinds = {arg.kind for arg in args}
    if kinds - {"int", "float", "dyn", "dec", "const"} or not kinds & {"int", "float"}:
        raise Unsupported(f"{name} of {kinds}")
    if "dec" in kinds and "float" not in kinds:
        raise Unsupported(f"{name} of integers and decimals")
    _no_nan(*args)
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
    if kinds == {"str"}:
        if any(nulls):
            raise Unsupported("a string CASE with NULL")
        texts = [str(value.data) for value in values if value is not None]
        labels = list(dict.fromkeys(texts))
        picks = np.select(conditions, [labels.index(text) for text in texts[:-1]], labels.index(texts[-1]))
        return Value("str", pa.array(labels, type=pa.string()).take(pa.array(picks.astype(np.int32))))
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
