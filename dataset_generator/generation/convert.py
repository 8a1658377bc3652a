"""Between the generators' raw values (numpy arrays, Arrow strings) and typed Arrow arrays."""

from __future__ import annotations

from functools import lru_cache
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas.base import ColumnBase
from ..schemas.nested import ListColumn, StructColumn
from ..schemas.types import DecimalType, ListType, StructType, TypeNode, parse_type

# A generator's raw values: a numpy array (numbers, days, microseconds) or an Arrow array (strings, nulls).
Values: TypeAlias = "np.ndarray | pa.Array"

_ARROW_TYPES: dict[str, pa.DataType] = {
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "uint8": pa.uint8(),
    "uint16": pa.uint16(),
    "uint32": pa.uint32(),
    "uint64": pa.uint64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "string": pa.string(),
    "binary": pa.binary(),
    "date": pa.date32(),
    "time": pa.time64("us"),
}
# Raw numpy representation: dates are days since epoch, timestamps microseconds since epoch, times of day
# seconds since midnight, durations counts of the column's unit.
_NUMPY_TYPES: dict[str, type] = {
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "float32": np.float32,
    "float64": np.float64,
    "bool": np.bool_,
    "date": np.int32,
}
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
MICROS_PER_DAY = 86_400 * 1_000_000


@lru_cache(maxsize=1024)
def arrow_type(column_type: str, unit: str | None = None, tz: str | None = None) -> pa.DataType:
    """The Arrow type of a column type string (`unit`/`tz`: the column's, for timestamps and durations)."""
    return _arrow_of(parse_type(column_type), unit, tz)


def _arrow_of(node: TypeNode, unit: str | None, tz: str | None) -> pa.DataType:
    if isinstance(node, DecimalType):
        return pa.decimal128(node.precision, node.scale)
    if isinstance(node, ListType):
        return pa.list_(_arrow_of(node.element, None, None))
    if isinstance(node, StructType):
        return pa.struct([pa.field(name, _arrow_of(kind, None, None)) for name, kind in node.fields])
    if node == "timestamp":
        return pa.timestamp(unit or "us")
    if node == "timestamptz":
        return pa.timestamp(unit or "us", tz=tz or "UTC")
    if node == "duration":
        return pa.duration(unit or "us")
    return _ARROW_TYPES[node]


def column_arrow_type(column: ColumnBase) -> pa.DataType:
    """The Arrow type a column is written as (a list's or struct's from its parts, with their units and zones)."""
    if isinstance(column, ListColumn):
        return pa.list_(column_arrow_type(column.element))
    if isinstance(column, StructColumn):
        return pa.struct([pa.field(name, column_arrow_type(field)) for name, field in column.fields.items()])
    return arrow_type(column.type, column.unit, column.tz)


def numpy_type(column_type: str) -> type:
    return _NUMPY_TYPES[column_type]


def to_arrow(values: Values, column_type: str | pa.DataType, null_mask: np.ndarray | None = None) -> pa.Array:
    """Typed Arrow values of a column (`column_type`: its type string, or its Arrow type when it has a unit/tz)."""
    target = column_type if isinstance(column_type, pa.DataType) else arrow_type(column_type)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if isinstance(array, pa.DictionaryArray):
            array = array.dictionary_decode()
        if array.type != target:
            if from_numbers(target) and (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)):
                return to_arrow(array.to_numpy(zero_copy_only=False), target, _null_or(array, null_mask))
            array = array.cast(target, safe=not pa.types.is_timestamp(target))
        if null_mask is not None:
            array = pc.if_else(pa.array(null_mask), pa.nulls(len(array), target), array)
        return array
    if pa.types.is_string(target) or pa.types.is_binary(target):
        return to_arrow(pa.array(values).cast(pa.string()), target, null_mask)
    return _from_numpy(values, target, null_mask)


def from_numbers(target: pa.DataType) -> bool:
    """Types whose raw values are numbers in another scale (decimals, times of day, durations)."""
    return pa.types.is_decimal(target) or pa.types.is_time(target) or pa.types.is_duration(target)


def _null_or(array: pa.Array, null_mask: np.ndarray | None) -> np.ndarray | None:
    if not array.null_count:
        return null_mask
    nulls = array.is_null().to_numpy(zero_copy_only=False)
    return nulls if null_mask is None else nulls | null_mask


def _from_numpy(values: np.ndarray, target: pa.DataType, null_mask: np.ndarray | None) -> pa.Array:
    if pa.types.is_decimal(target):
        return decimal_array(values, target, null_mask)
    if pa.types.is_timestamp(target):
        raw = _rescale(np.asarray(values), 1_000_000, _PER_SECOND[target.unit])
    elif pa.types.is_time(target):
        seconds = np.nan_to_num(np.asarray(values, dtype=np.float64))
        raw = np.mod(np.rint(seconds * 1_000_000).astype(np.int64), MICROS_PER_DAY)
    elif pa.types.is_duration(target):
        raw = np.rint(np.nan_to_num(np.asarray(values, dtype=np.float64))).astype(np.int64)
    elif pa.types.is_date32(target):
        raw = np.asarray(values).astype(np.int32, copy=False)
    else:
        raw = values.astype(target.to_pandas_dtype(), copy=False)
    raw = np.ascontiguousarray(raw)
    if pa.types.is_temporal(target):
        storage = pa.array(raw, mask=null_mask)
        return storage.view(target) if null_mask is None else storage.cast(target)
    return pa.array(raw, type=target, mask=null_mask)


def _rescale(micros: np.ndarray, source: int, wanted: int) -> np.ndarray:
    """Microseconds since the epoch in another unit (floor division going coarser)."""
    micros = micros.astype(np.int64, copy=False)
    if wanted == source:
        return micros
    if wanted > source:
        return micros * (wanted // source)
    return micros // (source // wanted)


_SPLIT = 134_217_729.0  # 2^27 + 1: Veltkamp's split of a float64 into two 26-bit halves


def _two_product(a: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    """(p, e) with p + e == a * b exactly (Dekker's product, no fused multiply-add needed)."""
    product = a * b
    a_big = a * _SPLIT
    a_high = a_big - (a_big - a)
    a_low = a - a_high
    b_big = b * _SPLIT
    b_high = b_big - (b_big - b)
    b_low = b - b_high
    error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    return product, error


def round_scaled(values: np.ndarray, scale: int) -> np.ndarray:
    """round-half-even(value * 10^scale) of each float64 value's exact binary value, as whole float64s:
    2.675 (stored as 2.67499999…) gives 267, where rint(2.675 * 100) would give 268."""
    product, error = _two_product(values, 10.0**scale)
    scaled = np.rint(product)
    with np.errstate(invalid="ignore"):
        residual = (product - scaled) + error  # exact difference to the true product, within float64 error
        scaled = np.where(residual > 0.5, scaled + 1, np.where(residual < -0.5, scaled - 1, scaled))
        tie = np.abs(residual) == 0.5
        if tie.any():
            candidate = scaled + np.sign(residual)
            scaled = np.where(tie & (np.fmod(candidate, 2) == 0), candidate, scaled)
    return scaled


def decimal_array(values: np.ndarray, target: pa.DataType, null_mask: np.ndarray | None = None) -> pa.Array:
    """Exact decimals from numbers: each value rounded half-to-even to the scale (from its float64 value times
    10^scale), stored as the scaled 128-bit integer itself: no float-to-string step.

    Raises:
        ValueError: a value needs more digits than the precision (the spec checks make this unreachable).
    """
    numbers = np.asarray(values)
    if numbers.dtype.kind in "iu" and target.precision <= 18:
        scaled_int = numbers.astype(np.int64) * np.int64(10**target.scale)
        scaled = scaled_int.astype(np.float64)
    else:
        scaled = round_scaled(np.nan_to_num(numbers.astype(np.float64)), target.scale)
        scaled_int = np.where(np.abs(scaled) < 2.0**63, scaled, 0.0).astype(np.int64)
    low_word = scaled_int.view(np.uint64).copy()
    high_word = np.where(scaled_int < 0, np.int64(-1), np.int64(0))
    big = np.abs(scaled) >= 2.0**63
    if big.any():  # beyond int64: whole multiples of 2^11, so both 64-bit halves are exact in float64
        high = np.floor(scaled[big] / 2.0**64)
        low_word[big] = (scaled[big] - high * 2.0**64).astype(np.uint64)
        high_word[big] = high.astype(np.int64)
    limit = 10.0**target.precision
    if len(scaled) and float(np.abs(scaled).max()) >= limit:
        raise ValueError(f"a value needs more than the {target.precision} digits of {target}")
    words = np.empty((len(numbers), 2), dtype=np.uint64)
    words[:, 0] = low_word
    words[:, 1] = high_word.view(np.uint64)
    validity = None if null_mask is None else pa.array(~np.asarray(null_mask, dtype=bool)).buffers()[1]
    nulls = -1 if null_mask is None else int(np.count_nonzero(null_mask))
    return pa.Array.from_buffers(target, len(numbers), [validity, pa.py_buffer(words)], null_count=nulls)


def to_numpy(values: Values) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, pa.DictionaryArray):
        values = values.dictionary_decode()
    return values.to_numpy(zero_copy_only=False)


# Integers spanning fewer values than this are formatted once per distinct value, then indexed.
_SMALL_INTEGER_RANGE = 1 << 16


def to_strings(values: Values, column_type: str, zero_pad: int | None = None) -> pa.Array:
    """String form of a column, as a template substitutes it (dictionary-encoded where values repeat)."""
    if isinstance(values, pa.Array) and (pa.types.is_string(values.type) or pa.types.is_dictionary(values.type)):
        return values
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu" and len(values) > 0:
        low, high = int(values.min()), int(values.max())
        if high - low < _SMALL_INTEGER_RANGE:
            labels = _format(pa.array(np.arange(low, high + 1, dtype=np.int64)), zero_pad)
            return pa.DictionaryArray.from_arrays(pa.array((values - low).astype(np.int32)), labels)
    if column_type in ("float64", "float32"):
        return _format(pa.array(np.asarray(values, dtype=np.float64)), zero_pad)
    if column_type == "binary":
        return _format(to_arrow(values, "string"), zero_pad)
    return _format(to_arrow(values, column_type), zero_pad)


def _format(array: pa.Array, zero_pad: int | None) -> pa.Array:
    text = array.cast(pa.string())
    return pc.utf8_lpad(text, width=zero_pad, padding="0") if zero_pad else text
