"""Small, safe expressions inside `${...}` placeholders: `${devices * 288}`, `${len(split(symbols))}`,
`${pick(calendar, 'nyse', 390, 'crypto', 1440)}`, `${add_days(start_date, days - 1)}`.

Only literals, parameter names, arithmetic, comparisons, `x if c else y` and the functions below are
allowed: a spec file can compute sizes from its parameters but cannot run code.
"""

from __future__ import annotations

# Any here: parameter values and what placeholders compute from them: numbers, strings, dates, lists.
import ast
import datetime as dt
import operator
from collections.abc import Callable, Mapping
from typing import Any


class ExpressionError(ValueError):
    pass


def _split(text: Any, separator: str = ",") -> list[str]:
    if isinstance(text, (list, tuple)):
        return [str(item) for item in text]
    return [part.strip() for part in str(text).split(separator) if part.strip()]


def _add_days(day: Any, days: Any) -> dt.date:
    if not isinstance(day, dt.date):
        day = dt.date.fromisoformat(str(day))
    return day + dt.timedelta(days=int(days))


def _pick(value: Any, *cases: Any) -> Any:
    """pick(value, key1, result1, key2, result2, ..., [default]): a switch over a parameter's values."""
    pairs = len(cases) // 2
    for position in range(pairs):
        if value == cases[2 * position]:
            return cases[2 * position + 1]
    if len(cases) % 2:
        return cases[-1]
    choices = ", ".join(repr(cases[2 * position]) for position in range(pairs))
    raise ExpressionError(f"{value!r} is not one of {choices}")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "split": _split,
    "int": int,
    "float": float,
    "str": str,
    "round": round,
    "min": min,
    "max": max,
    "abs": abs,
    "add_days": _add_days,
    "pick": _pick,
}

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda left, right: left in right,
    ast.NotIn: lambda left, right: left not in right,
}


# Bounds: a placeholder is small, and so is everything it computes (no `${n ** n ** n}`, no `${s * 10**9}`).
MAX_EXPRESSION_CHARS = 1_000
MAX_NODES = 300
MAX_INTEGER_BITS = 4_096
MAX_SEQUENCE_LENGTH = 100_000


def _sized(value: Any) -> Any:
    """`value`, unless it is too large to be a sensible result of a placeholder."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INTEGER_BITS:
        raise ExpressionError(f"the result has more than {MAX_INTEGER_BITS:,} bits; keep placeholder values small")
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_SEQUENCE_LENGTH:
        raise ExpressionError(f"the result is {len(value):,} long; at most {MAX_SEQUENCE_LENGTH:,}")
    return value


def _power(base: Any, exponent: Any) -> Any:
    integers = isinstance(base, int) and isinstance(exponent, int)
    if integers and exponent > 0 and abs(base) > 1 and exponent * base.bit_length() > MAX_INTEGER_BITS:
        raise ExpressionError(f"{base} ** {exponent} is too large; keep placeholder values small")
    return operator.pow(base, exponent)


def _repeat_size(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple)) and isinstance(count, int) and len(sequence) * count > MAX_SEQUENCE_LENGTH:
            raise ExpressionError(f"repeating a value {count:,} times is too large; at most {MAX_SEQUENCE_LENGTH:,} long")


def _multiply(left: Any, right: Any) -> Any:
    _repeat_size(left, right)
    return operator.mul(left, right)


_BINARY[ast.Pow] = _power
_BINARY[ast.Mult] = _multiply


def evaluate(text: str, values: Mapping[str, Any]) -> Any:
    """The value of one placeholder expression.

    Args:
        text: the expression inside `${...}`.
        values: the parameters' resolved values by name.

    Returns:
        The expression's value.

    Raises:
        ExpressionError: the expression is invalid, uses something not allowed, or is too large (in text,
            in nodes or in its result).
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"a placeholder may be at most {MAX_EXPRESSION_CHARS:,} characters long")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression nests too deeply") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"the expression has more than {MAX_NODES} parts; keep placeholders small")
    try:
        return _eval(tree.body, values)
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError, IndexError, KeyError, RecursionError) as exc:
        raise ExpressionError(str(exc) or type(exc).__name__) from None


def _eval(node: ast.AST, values: Mapping[str, Any]) -> Any:
    return _sized(_eval_node(node, values))


def _eval_node(node: ast.AST, values: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise ExpressionError(f"{node.id!r} is not a declared parameter (declare it under parameters:)")
        return values[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, values), _eval(node.right, values)
        sequences = isinstance(left, (str, list)) and isinstance(right, (str, list))
        if isinstance(node.op, ast.Add) and sequences and len(left) + len(right) > MAX_SEQUENCE_LENGTH:
            raise ExpressionError(f"the result would be over {MAX_SEQUENCE_LENGTH:,} long")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return +operand
        if isinstance(node.op, ast.Not):
            return not operand
    if isinstance(node, ast.BoolOp):
        result = _eval(node.values[0], values)
        for item in node.values[1:]:
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
            result = _eval(item, values)
        return result
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _eval(node.left, values)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, values)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, values) else node.orelse, values)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(item, values) for item in node.elts]
    if isinstance(node, ast.Subscript):
        return _eval(node.value, values)[_eval(node.slice, values)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        function = FUNCTIONS.get(node.func.id)
        if function is None:
            raise ExpressionError(f"unknown function {node.func.id!r}; known: {', '.join(sorted(FUNCTIONS))}")
        return function(*(_eval(argument, values) for argument in node.args))
    raise ExpressionError(f"{ast.unparse(node)!r} is not allowed in a placeholder")
