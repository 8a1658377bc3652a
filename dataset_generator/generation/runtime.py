"""Turns a resolved spec, a seed and the layouts into Arrow batches for any row range of any table."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from ..schemas.base import ColumnBase
from ..schemas.dataset import DatasetSpec
from ..schemas.text import FakerColumn
from . import random as rnd
from .child_values import ChildValueStore
from .children import PARENT_BLOCK_ROWS, block_counts
from .columns import generate_column
from .convert import Values, column_arrow_type, to_arrow, to_numpy
from .exchange import session_children
from .layout import ChildLayout, Layout, TimeLayout, child_count_key
from .links import spread
from .nested import walk_columns
from .rows import Rows
from .timeline import (
    TimeView,
    changing_values,
    created_times,
    deletes,
    exists_at,
    group_of,
    is_mutable,
    range_of,
    spread_as_of,
    version_key,
)
from .vocab import DEFAULT_LOCALE, faker_pool

# Block prefixes kept per runtime: a few tasks' worth (each is 512 KiB).
_CACHED_BLOCKS = 8


class DatasetRuntime:
    """Everything a worker needs to generate any chunk alone: the resolved spec, the seed and the layouts.
    Small and picklable; it holds no state that depends on what was generated before."""

    def __init__(self, spec: DatasetSpec, seed: int, layouts: dict[str, Layout], view: TimeView | None = None) -> None:
        self.spec = spec
        self.seed = seed
        self.layouts = layouts
        self.view = view if view is not None else TimeView()
        # The dataset's range (generation/history.py range_bounds) and the as-of time of rows by default.
        self.range_start, self.range_end = range_of(layouts, spec)
        self.default_as_of = self.view.as_of if self.view.as_of is not None else self.range_end
        # Per-process caches of generators (saved walk levels), of several shapes: hence Any.
        self.memo: dict[str, Any] = {}

    def with_view(self, view: TimeView) -> DatasetRuntime:
        """The same dataset seen through another time window (a cheap copy: layouts are shared; caches that
        depend on the as-of time start empty)."""
        copy = DatasetRuntime(self.spec, self.seed, self.layouts, view)
        copy.memo = {name: value for name, value in self.memo.items() if name in ("block_prefix", "mutable")}
        return copy

    def __getstate__(self) -> dict[str, Any]:
        # Block prefixes and whole small tables are cheap to recompute and large to ship: a worker builds its own.
        state = self.__dict__.copy()
        state["memo"] = {name: value for name, value in self.memo.items() if name not in ("block_prefix", "whole_tables", "child_values")}
        return state

    def key(self, table: str, column: str) -> int:
        return rnd.stream_key(self.seed, table, column)

    def rows(self, table: str, index: np.ndarray, parent_index: np.ndarray | None = None, as_of: int | np.ndarray | None = None) -> RowSet:
        return RowSet(self, table, index, parent_index, as_of)

    def rows_from(self, source: Rows, positions: np.ndarray, as_of: int | np.ndarray) -> RowSet:
        """Rows `source.index[positions]` read at `as_of`: what never changes is read from `source`."""
        return AtTimeRows(source, positions, as_of)

    def faker_locale(self, column: FakerColumn) -> str:
        return column.locale or DEFAULT_LOCALE

    def warm_vocabularies(self) -> None:
        """Build every Faker pool the spec uses, once, before workers start."""
        for table in self.spec.tables.values():
            for column in walk_columns(table.columns.values()):
                if isinstance(column, FakerColumn):
                    faker_pool(column.provider, self.faker_locale(column), column.pool_size)

    # --- parent/child arithmetic -------------------------------------------------------------------
    def _child_layout(self, child: str) -> ChildLayout:
        layout = self.layouts[child]
        assert isinstance(layout, ChildLayout)
        return layout

    def child_counts(self, child: str, parent_index: np.ndarray) -> np.ndarray:
        """Children of each parent (from its block's split of the block total)."""
        if len(parent_index) and parent_index.min() // PARENT_BLOCK_ROWS == parent_index.max() // PARENT_BLOCK_ROWS:
            block = int(parent_index[0]) // PARENT_BLOCK_ROWS  # the usual case: one block
            prefix = self._block_prefix(child, block)
            local = parent_index - block * PARENT_BLOCK_ROWS
            return prefix[local + 1] - prefix[local]
        result = np.empty(parent_index.shape, dtype=np.int64)
        blocks = parent_index // PARENT_BLOCK_ROWS
        for block in np.unique(blocks):
            mask = blocks == block
            prefix = self._block_prefix(child, int(block))
            local = parent_index[mask] - block * PARENT_BLOCK_ROWS
            result[mask] = prefix[local + 1] - prefix[local]
        return result

    @staticmethod
    def _block_parents(block: int, size: int) -> np.ndarray:
        return np.arange(block * PARENT_BLOCK_ROWS, block * PARENT_BLOCK_ROWS + size, dtype=np.int64)

    def _block_prefix(self, child: str, block: int) -> np.ndarray:
        """First child row of every parent in `block`, plus the block's end (length block rows + 1).

        Kept for the last few blocks asked (a task reads the same block for counts, starts and parents)."""
        cache: dict[tuple[str, int], np.ndarray] = self.memo.setdefault("block_prefix", {})
        found = cache.get((child, block))
        if found is not None:
            return found
        layout = self._child_layout(child)
        parent = self.spec.tables[child].parent
        assert parent is not None
        size = min(layout.parent_rows - block * PARENT_BLOCK_ROWS, PARENT_BLOCK_ROWS)
        first, end = int(layout.block_offsets[block]), int(layout.block_offsets[block + 1])
        if parent.count.distribution == "session":
            # Sessions: each parent's count is its day's trading minutes / every_minutes, no draw.
            parent_layout = self.layouts[parent.table]
            assert isinstance(parent_layout, TimeLayout)
            counts = session_children(parent.count, parent_layout.day_of(self._block_parents(block, size)))
        else:
            weights = None
            if parent.count.weight is not None:
                # Poisson children spread by a parent column (e.g. an intraday quote rate), read for the block.
                weights = to_numpy(self.rows(parent.table, self._block_parents(block, size)).get(parent.count.weight)).astype(np.float64)
            counts = block_counts(parent.count, child_count_key(self.seed, child), block, size, end - first, weights)
        prefix = np.empty(size + 1, dtype=np.int64)
        prefix[0] = first
        np.cumsum(counts, out=prefix[1:])
        prefix[1:] += first
        if len(cache) >= _CACHED_BLOCKS:
            # Another thread may be evicting too: losing a cached block only costs its recomputation.
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                cache.pop(next(iter(cache)))
        cache[(child, block)] = prefix
        return prefix

    def first_child(self, child: str, parent_index: np.ndarray) -> np.ndarray:
        """Row index of the first child of each parent (children of parent p are contiguous)."""
        if len(parent_index) == 0:
            return np.zeros(0, dtype=np.int64)
        low, high = int(parent_index.min()) // PARENT_BLOCK_ROWS, int(parent_index.max()) // PARENT_BLOCK_ROWS
        if low == high:  # the usual case: every parent in one block
            return self._block_prefix(child, low)[parent_index - low * PARENT_BLOCK_ROWS]
        result = np.empty(parent_index.shape, dtype=np.int64)
        blocks = parent_index // PARENT_BLOCK_ROWS
        for block in np.unique(blocks):
            mask = blocks == block
            prefix = self._block_prefix(child, int(block))
            result[mask] = prefix[parent_index[mask] - block * PARENT_BLOCK_ROWS]
        return result

    def parent_of(self, child: str, child_index: np.ndarray) -> np.ndarray:
        layout = self._child_layout(child)
        if len(child_index) == 0:
            return np.zeros(0, dtype=np.int64)
        ends = np.searchsorted(layout.block_offsets, [child_index.min(), child_index.max()], side="right") - 1
        if ends[0] == ends[1]:  # the usual case: every child in one block of parents
            block = int(ends[0])
            return block * PARENT_BLOCK_ROWS + np.searchsorted(self._block_prefix(child, block), child_index, side="right") - 1
        result = np.empty(child_index.shape, dtype=np.int64)
        blocks = np.searchsorted(layout.block_offsets, child_index, side="right") - 1
        for block in np.unique(blocks):
            mask = blocks == block
            prefix = self._block_prefix(child, int(block))
            local = np.searchsorted(prefix, child_index[mask], side="right") - 1
            result[mask] = block * PARENT_BLOCK_ROWS + local
        return result

    def children(self, child: str, parent_index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(child row indices, their parent indices, child count per parent) for the given parents."""
        counts = self.child_counts(child, parent_index)
        starts = self.first_child(child, parent_index)
        total = int(counts.sum())
        owner = np.repeat(np.arange(len(parent_index)), counts)
        run_start = np.repeat(np.cumsum(counts) - counts, counts)
        child_index = np.repeat(starts, counts) + (np.arange(total, dtype=np.int64) - run_start)
        return child_index, parent_index[owner], counts

    # --- output --------------------------------------------------------------------------------------
    def arrow_schema(self, table: str) -> pa.Schema:
        columns = self.spec.tables[table].columns
        return pa.schema(
            [pa.field(name, column_arrow_type(col), nullable=_nullable(col)) for name, col in columns.items() if not col.hidden]
        )

    def filters(self, table: str) -> bool:
        """Whether the view or the table's history can leave rows of `table` out of a batch."""
        view = self.view
        if view.as_of is not None or view.since is not None or view.until is not None or deletes(self.spec, table):
            return True
        history = self.spec.tables[table].history
        return history is not None and history.created is not None

    def selected(self, rows: RowSet) -> np.ndarray:
        """Which of `rows` the view selects: existing at its as-of, created in [since, until)."""
        keep = exists_at(rows, rows.as_of)
        created = created_times(rows)
        if self.view.since is not None:
            keep &= created >= self.view.since
        if self.view.until is not None:
            keep &= created < self.view.until
        return keep

    def batch(self, table: str, first_row: int, n_rows: int) -> pa.RecordBatch:
        """The rows [first_row, first_row + n_rows) of `table` that the view selects, at its as-of time."""
        index = np.arange(first_row, first_row + n_rows, dtype=np.int64)
        rows = self.rows(table, index)
        store: ChildValueStore | None = self.memo.get("child_values")
        if store is not None and rows.shareable_values() is not None:
            # Columns generated for the parents' aggregates (generation/child_values.py): the same values.
            rows._values.update(store.recall(table, first_row, first_row + n_rows))
        if self.filters(table):
            keep = self.selected(rows)
            if not keep.all():
                rows = self.rows(table, index[keep])
        schema = self.arrow_schema(table)
        if not len(rows):  # the view left no row of this range
            return pa.RecordBatch.from_arrays([pa.array([], type=field.type) for field in schema], schema=schema)
        arrays = [rows.arrow(name) for name in schema.names]
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def batches(self, table: str, first_row: int, n_rows: int, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        stop = first_row + n_rows
        for start in range(first_row, stop, chunk_rows):
            yield self.batch(table, start, min(chunk_rows, stop - start))


class RowSet:
    """Some rows of one table (by index), with each column computed at most once."""

    def __init__(
        self, runtime: DatasetRuntime, table: str, index: np.ndarray, parent_index: np.ndarray | None, as_of: int | np.ndarray | None = None
    ) -> None:
        self.runtime = runtime
        self.table = table
        self.spec = runtime.spec.tables[table]
        self.index = index
        self._parent_index = parent_index
        # The time the rows' mutable columns are read at: one for all, or one per row (int64 microseconds).
        self.as_of: int | np.ndarray = runtime.default_as_of if as_of is None else as_of
        self._values: dict[str, Values] = {}
        # Per-batch caches of generators (child rows shared by aggregates), of several shapes: hence Any.
        self.memo: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.index)

    @property
    def parent_index(self) -> np.ndarray:
        if self._parent_index is None:
            self._parent_index = self.runtime.parent_of(self.table, self.index)
        return self._parent_index

    def get(self, column: str) -> Values:
        """The column's values without nulls applied: what other columns compute from."""
        values = self._values.get(column)
        if values is None:
            spec = self.spec.columns[column]
            key = self.runtime.key(self.table, column)
            if spec.changes is None:
                values = generate_column(spec, self, key)
            else:
                values = changing_values(spec, column, self, key, lambda rows, k: generate_column(spec, rows, k), self.version_rows)
            self._values[column] = values
        return values

    def versioned(self, key: int) -> int:
        """A random key of these rows' version of their changing values (the key itself at version 0)."""
        return key

    def shareable_values(self) -> dict[str, Values] | None:
        as_of = self.as_of
        return self._values if isinstance(as_of, int) and as_of == self.runtime.default_as_of else None

    def version_rows(self, positions: np.ndarray, group: str, version: int) -> RowSet:
        return VersionRows(self, positions, group, version)

    def arrow(self, column: str) -> pa.Array:
        spec = self.spec.columns[column]
        null_mask = None
        if spec.null_fraction > 0:
            null_mask = rnd.uniform(rnd.substream(self.runtime.key(self.table, column), 99), self.index) < spec.null_fraction
        values = self.get(column)
        if spec.gen == "waiting_time":
            # A visible event time is null until it has come (a soft delete, at the rows' as-of time).
            later = np.asarray(values) > np.asarray(self.as_of)
            null_mask = later if null_mask is None else null_mask | later
        return to_arrow(values, column_arrow_type(spec), null_mask)


class VersionRows(RowSet):
    """Some rows of a row set at one version of one change group: the group's columns are generated with
    their keys mixed with the version; every other column is read from the source rows as it is."""

    def __init__(self, source: RowSet, positions: np.ndarray, group: str, version: int) -> None:
        parent_index = None if source._parent_index is None else source._parent_index[positions]
        super().__init__(source.runtime, source.table, source.index[positions], parent_index, spread_as_of(source.as_of, positions))
        self._source = source
        self._positions = positions
        self._group = group
        self.version = version

    def versioned(self, key: int) -> int:
        return version_key(key, self.version)

    def shareable_values(self) -> dict[str, Values] | None:
        return None  # a version's values are not the rows' own

    def get(self, column: str) -> Values:
        spec = self.spec.columns[column]
        if spec.changes is None or spec.changes.kind != "redraw" or group_of(column, spec.changes) != self._group:
            return spread(self._source.get(column), self._positions)
        values = self._values.get(column)
        if values is None:
            values = generate_column(spec, self, version_key(self.runtime.key(self.table, column), self.version))
            self._values[column] = values
        return values


class AtTimeRows(RowSet):
    """Rows of a table read at other times (a lookup at the referring rows' creation): the columns that never
    change, and the values changing columns start from, are read from `source` (the same table's rows, e.g.
    the whole dimension kept for the process); only what changes is computed here."""

    def __init__(self, source: Rows, positions: np.ndarray, as_of: int | np.ndarray) -> None:
        super().__init__(self_runtime(source), source.table, source.index[positions], None, as_of)
        self._source = source
        self._positions = positions

    def shareable_values(self) -> dict[str, Values] | None:
        return None  # read at other times

    def get(self, column: str) -> Values:
        values = self._values.get(column)
        if values is not None:
            return values
        spec = self.spec.columns[column]
        key = self.runtime.key(self.table, column)
        if not is_mutable(self.runtime.spec, self.table, column, self.runtime.memo.setdefault("mutable", {})):
            values = spread(self._source.get(column), self._positions)
        elif spec.changes is not None:
            values = changing_values(spec, column, self, key, lambda rows, k: self._generate(spec, column, rows, k, key), self.version_rows)
        else:
            values = generate_column(spec, self, key)
        self._values[column] = values
        return values

    def _generate(self, spec: ColumnBase, column: str, rows: Rows, key: int, own_key: int) -> Values:
        if rows is not self or key != own_key:
            return generate_column(spec, rows, key)  # type: ignore[arg-type]
        # Version 0 (a step model's start): the source's own draw, computed once for it.
        base: dict[str, Values] = self._source.memo.setdefault("base_values", {})
        if column not in base:
            base[column] = generate_column(spec, self._source, own_key)  # type: ignore[arg-type]
        return spread(base[column], self._positions)


def self_runtime(rows: Rows) -> DatasetRuntime:
    runtime = rows.runtime
    assert isinstance(runtime, DatasetRuntime)
    return runtime


def _nullable(column: ColumnBase) -> bool:
    model = column.changes
    missing = model is not None and model.correction is not None and model.correction.missing
    return column.null_fraction > 0 or column.nullable or missing or column.gen == "waiting_time"  # type: ignore[attr-defined]
