"""Nested values: a list per row (`gen: list`) and named fields per row (`gen: struct`).

A list's length is a count distribution drawn from the row index (as children per parent); element `j` of
row `r` is drawn by the element spec at the element index `r * (length.max + 1) + j`, so every element is a
pure function of (seed, table, column, row, position) whatever the batch. A struct's fields are drawn from
the row itself, each with its own stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas.base import ColumnBase
from ..schemas.counts import ListLength
from ..schemas.dataset import TableSpec
from ..schemas.nested import ListColumn, StructColumn
from . import random as rnd
from .convert import Values, column_arrow_type, to_arrow
from .rows import Rows, Runtime

# The column dispatch (columns.generate_column), passed in so this module need not import it.
Dispatch = Callable[[Any, Rows, int], Values]


class ElementRows:
    """The elements of some lists, as the rows an element spec draws from (index: the element index)."""

    def __init__(self, rows: Rows, index: np.ndarray) -> None:
        self._rows = rows
        self._index = index
        self.memo: dict[str, Any] = {}

    @property
    def table(self) -> str:
        return self._rows.table

    @property
    def spec(self) -> TableSpec:
        return self._rows.spec

    @property
    def index(self) -> np.ndarray:
        return self._index

    @property
    def runtime(self) -> Runtime:
        return self._rows.runtime

    @property
    def as_of(self) -> int | np.ndarray:
        return self._rows.as_of

    def versioned(self, key: int) -> int:
        return self._rows.versioned(key)

    def shareable_values(self) -> dict[str, Values] | None:
        return None  # elements of nested lists, not a table's rows

    @property
    def parent_index(self) -> np.ndarray:
        raise TypeError("a list element has no parent row")  # unreachable: nested kinds never ask

    def __len__(self) -> int:
        return len(self._index)

    def get(self, column: str) -> Values:
        raise TypeError("a list element reads no other column")  # unreachable: nested kinds never ask


def walk_columns(columns: Iterable[ColumnBase]) -> Iterator[ColumnBase]:
    """The columns and, inside lists and structs, their elements and fields."""
    for column in columns:
        yield column
        if isinstance(column, ListColumn):
            yield from walk_columns([column.element])
        elif isinstance(column, StructColumn):
            yield from walk_columns(column.fields.values())


def nested_arrow(column: ColumnBase, rows: Rows, key: int, generate: Dispatch) -> pa.Array:
    """An element's or field's typed values, with its own null_fraction applied."""
    null_mask = None
    if column.null_fraction > 0:
        null_mask = rnd.uniform(rnd.substream(key, 99), rows.index) < column.null_fraction
    return to_arrow(generate(column, rows, key), column_arrow_type(column), null_mask)


def list_lengths(count: ListLength, key: int, index: np.ndarray) -> np.ndarray:
    """Elements per list, each a pure function of its row index, clipped to [min, max]."""
    if count.distribution == "poisson":
        values = rnd.poisson(key, index, float(count.lam or 0))
    elif count.distribution == "uniform":
        low, high = int(count.low or 0), int(count.high or 0)
        values = low + np.floor(rnd.uniform(key, index) * (high - low + 1)).astype(np.int64)
    else:
        values = np.full(index.shape, int(count.value or 0), dtype=np.int64)
    return np.clip(values, count.min, count.max)


def list_values(column: ListColumn, rows: Rows, key: int, generate: Dispatch) -> Values:
    lengths = list_lengths(column.length, rnd.substream(key, 0), rows.index)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    position = np.arange(total, dtype=np.int64) - np.repeat(offsets[:-1], lengths)
    element_index = np.repeat(rows.index, lengths) * np.int64(column.length.max + 1) + position
    elements = nested_arrow(column.element, ElementRows(rows, element_index), rnd.substream(key, 1), generate)
    if column.distinct and total:
        elements, lengths = _first_occurrences(elements, np.repeat(np.arange(len(lengths)), lengths), len(lengths))
        offsets[1:] = np.cumsum(lengths)
        total = int(offsets[-1])
    list_type = column_arrow_type(column)
    if total >= 1 << 31:
        raise OverflowError("more than 2^31 list elements in one batch; lower `chunk_rows`")
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), elements, type=list_type)


def _first_occurrences(elements: pa.Array, owner: np.ndarray, lists: int) -> tuple[pa.Array, np.ndarray]:
    """Each list's elements without repeats (the first of equal values kept, in order), and the new lengths."""
    encoded = pc.dictionary_encode(elements)
    # Nulls are equal to each other: one code past the dictionary.
    codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False).astype(np.int64)
    _, first = np.unique(owner * (len(encoded.dictionary) + 1) + codes, return_index=True)
    keep = np.sort(first)
    return elements.take(pa.array(keep)), np.bincount(owner[keep], minlength=lists)


def struct_values(column: StructColumn, rows: Rows, key: int, generate: Dispatch) -> Values:
    arrays = [nested_arrow(field, rows, rnd.stream_key(key, "field", name), generate) for name, field in column.fields.items()]
    return pa.StructArray.from_arrays(arrays, fields=list(column_arrow_type(column)))
