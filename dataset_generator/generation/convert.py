"""Between the generators' raw values (numpy arrays, Arrow strings) and typed Arrow arrays."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# A generator's raw values: a numpy array (numbers, days, microseconds) or an Arrow array (strings, nulls).
Values: TypeAlias = "np.ndarray | pa.Array"

_ARROW_TYPES: dict[str, pa.DataType] = {
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "string": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}
# Raw numpy representation: dates are days since epoch, timestamps microseconds since epoch.
_NUMPY_TYPES: dict[str, type] = {
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "float32": np.float32,
    "float64": np.float64,
    "bool": np.bool_,
    "date": np.int32,
    "timestamp": np.int64,
}


def arrow_type(column_type: str) -> pa.DataType:
    return _ARROW_TYPES[column_type]


def numpy_type(column_type: str) -> type:
    return _NUMPY_TYPES[column_type]


def to_arrow(values: Values, column_type: str, null_mask: np.ndarray | None = None) -> pa.Array:
    target = arrow_type(column_type)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if isinstance(array, pa.DictionaryArray):
            array = array.dictionary_decode()
        if array.type != target:
            array = array.cast(target)
        if null_mask is not None:
            array = pc.if_else(pa.array(null_mask), pa.nulls(len(array), target), array)
        return array
    if column_type == "string":
        return to_arrow(pa.array(values).cast(pa.string()), column_type, null_mask)
    raw = np.ascontiguousarray(values.astype(numpy_type(column_type), copy=False))
    if column_type in ("date", "timestamp"):
        storage = pa.array(raw, mask=null_mask)
        return storage.view(target) if null_mask is None else storage.cast(target)
    return pa.array(raw, type=target, mask=null_mask)


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
    return _format(to_arrow(values, column_type), zero_pad)


def _format(array: pa.Array, zero_pad: int | None) -> pa.Array:
    text = array.cast(pa.string())
    return pc.utf8_lpad(text, width=zero_pad, padding="0") if zero_pad else text
