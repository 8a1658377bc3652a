"""Values of the numpy SQL evaluator (generation/sql_numpy.py): kinds of value, input columns, exact decimals,
and the CASE results built without evaluating anything (strings, literals)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


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
    folded: bool = False  # "const": a function of a literal (SQRT(9.0)), not PI()

    @property
    def array(self) -> np.ndarray:
        assert isinstance(self.data, np.ndarray)
        return self.data


NUMPY_KINDS = {"int8": "int", "int16": "int", "int32": "int", "int64": "int", "float64": "float", "bool": "bool"}
SCALARS = ("dyn", "dec", "const")
# Input kinds that only some nodes take: string columns ("strs": compared with a string literal, or a CASE
# result) and dates ("date": days since the epoch, only cast to an integer).
OPAQUE = ("strs", "date")


def column_value(values: np.ndarray | pa.Array, column_type: str) -> Value:
    """An input column as the evaluator reads it (the numpy dtype Polars would see from its Arrow form)."""
    if column_type == "string":
        if isinstance(values, pa.DictionaryArray) and is_string(values.dictionary) and not values.dictionary.null_count:
            pass  # compared through its dictionary: one comparison per distinct value
        elif not isinstance(values, pa.Array) or not is_string(values):
            raise Unsupported("a string input that is not Arrow strings")
        if values.null_count:
            raise Unsupported("a string input with nulls")
        return Value("strs", values)
    if column_type == "date":
        if not isinstance(values, np.ndarray) or values.dtype.kind not in "iu":
            raise Unsupported("a date input not as days")
        return Value("date", values.astype(np.int64))
    kind = NUMPY_KINDS.get(column_type)
    if kind is None:
        raise Unsupported(column_type)
    if isinstance(values, pa.Array):
        if values.null_count or str(values.type) != ("double" if column_type == "float64" else column_type):
            raise Unsupported("an Arrow input")
        values = values.to_numpy(zero_copy_only=False)
    if not isinstance(values, np.ndarray) or values.dtype.kind not in "biuf":
        raise Unsupported("not a numeric array")
    return Value(kind, values.astype(np.bool_ if kind == "bool" else np.dtype(column_type), copy=False))


def is_string(values: pa.Array) -> bool:
    return bool(pa.types.is_string(values.type) or pa.types.is_large_string(values.type))


def strings(values: pa.Array) -> pa.Array:
    return (values.dictionary_decode() if isinstance(values, pa.DictionaryArray) else values).cast(pa.string())


def equal_strings(values: pa.Array, text: str) -> np.ndarray:
    literal = pa.scalar(text, pa.string())
    if isinstance(values, pa.DictionaryArray):
        matches = np.asarray(pc.equal(values.dictionary.cast(pa.string()), literal))
        return matches[values.indices.to_numpy()]
    return np.asarray(pc.equal(values, literal))


# Exact decimals stay below 2^53, so that their float64 value (mantissa / 10^scale) is Polars' conversion.
EXACT_LIMIT = 2**53


def fold_decimals(op: str, left: Value, right: Value) -> Value:
    """+ - * of two literals, one a decimal: Polars computes it in exact decimals (8.0 + 1 is 9.0)."""
    a, b = (Decimal(str(value.data)) if value.kind == "dyn" else decimal_of(value) for value in (left, right))
    total = a + b if op == "+" else a - b if op == "-" else a * b
    return Value("dec", float(total), text=format(abs(total), "f"))


def decimal_of(value: Value) -> Decimal:
    text = value.text
    if text is None or "e" in text.lower():
        raise Unsupported("a decimal literal with an exponent")
    return Decimal(text) if float(value.data) >= 0 else -Decimal(text)


def bound(number: np.ndarray | int) -> int:
    if isinstance(number, np.ndarray):
        return int(np.abs(number).max()) if len(number) else 0
    return abs(number)


def mantissa(value: Value) -> tuple[np.ndarray | int, int]:
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


def to_float(value: Value) -> Value:
    if value.kind == "exact":
        return Value("float", value.array.astype(np.float64) / 10.0**value.scale)
    if value.kind == "int":
        return Value("float", value.array.astype(np.float64))
    return value


def as_float(value: Value) -> np.ndarray | float:
    if isinstance(value.data, np.ndarray):
        return value.data.astype(np.float64, copy=False)
    return float(value.data)


def no_nan(*values: Value) -> None:
    for value in values:
        if value.kind == "float" and np.isnan(value.array).any():
            raise Unsupported("NaN input (Polars orders NaN above every number)")


def string_case(conditions: list[np.ndarray], values: list[Value | None]) -> Value:
    """A CASE of string literals, string columns and NULLs: one take from all branches laid end to end."""
    rows = len(conditions[0])
    pieces: list[pa.Array] = []
    starts: list[np.ndarray | int] = []
    offset = 0
    for value in values:
        if value is None:
            starts.append(-1)
            continue
        piece = strings(value.data) if value.kind == "strs" else pa.array([str(value.data)], type=pa.string())
        starts.append(offset + np.arange(rows, dtype=np.int64) if value.kind == "strs" else offset)
        pieces.append(piece)
        offset += len(piece)
    picks = np.select(conditions, starts[:-1], starts[-1]) if conditions else np.full(rows, starts[-1])
    picks = np.broadcast_to(np.asarray(picks, dtype=np.int64), (rows,))
    indices = pa.array(picks, mask=picks < 0)
    return Value("str", pa.concat_arrays(pieces).take(indices))


def decimal_case(conditions: list[np.ndarray], values: list[Value]) -> Value:
    """A CASE whose results are all literals, one a decimal: Polars' Decimal at the widest scale, as mantissas."""
    exact = [mantissa(value) for value in values]
    scale = max(digits for _, digits in exact)
    mantissas = [int(number) * 10 ** (scale - digits) for number, digits in exact]
    if scale > 15 or max(abs(number) for number in mantissas) >= EXACT_LIMIT:
        raise Unsupported("a decimal beyond float64's exact integers")
    data = np.select(conditions, mantissas[:-1], mantissas[-1]).astype(np.int64)
    return Value("exact", np.broadcast_to(data, conditions[0].shape).copy(), scale=scale)
