"""Between the generators' raw values (numpy arrays, Arrow strings) and typed Arrow arrays."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Values = np.ndarray | pa.Array

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
    return values.to_numpy(zero_copy_only=False)


def to_strings(values: Values, column_type: str, zero_pad: int | None = None) -> pa.Array:
    """String form of a column, as a template substitutes it."""
    if isinstance(values, pa.Array) and pa.types.is_string(values.type):
        return values
    if column_type == "float64" or column_type == "float32":
        array = pa.array(np.asarray(values, dtype=np.float64))
    else:
        array = to_arrow(values, column_type)
    text = array.cast(pa.string())
    if zero_pad:
        text = pc.utf8_lpad(text, width=zero_pad, padding="0")
    return text
