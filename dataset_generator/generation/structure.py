"""Structure-driven columns: values in turn, the day of a time driver, positions and times of children
inside their parent, and aggregates over children.

Everything is arithmetic on row indices and the layouts (no state), so any row range computes alone.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..schemas.structure import (
    ChildrenAggColumn,
    ChildTimeColumn,
    DayStartColumn,
    PositionColumn,
    RoundRobinColumn,
)
from . import random as rnd
from .convert import Values, to_numpy
from .layout import TimeLayout
from .rows import Rows
from .temporal import MICROS_PER_DAY

MICROS_PER_SECOND = 1_000_000


def round_robin(column: RoundRobinColumn, rows: Rows, key: int) -> Values:
    picks = rows.index % len(column.values)
    if column.type == "string":
        return pa.array([str(value) for value in column.values], type=pa.string()).take(pa.array(picks))
    return np.asarray(column.values)[picks]


def day_start(column: DayStartColumn, rows: Rows, key: int) -> Values:
    layout = rows.runtime.layouts[rows.table]
    assert isinstance(layout, TimeLayout)
    day = layout.day_of(rows.index)
    if column.type == "date":
        return day
    at = column.at
    seconds = at.hour * 3600 + at.minute * 60 + at.second
    return day * MICROS_PER_DAY + seconds * MICROS_PER_SECOND + at.microsecond


def child_positions(rows: Rows) -> np.ndarray:
    """0-based position of each row among its parent's children (siblings are contiguous)."""
    return rows.index - rows.runtime.first_child(rows.table, rows.parent_index)


def position(column: PositionColumn, rows: Rows, key: int) -> Values:
    return child_positions(rows) + column.start


def child_time(column: ChildTimeColumn, rows: Rows, key: int) -> Values:
    runtime = rows.runtime
    assert rows.spec.parent is not None
    parent_table = rows.spec.parent.table
    parent_column = runtime.spec.tables[parent_table].columns[column.start]
    parent_rows, inverse = rows.parent_rows()
    start = to_numpy(parent_rows.get(column.start)).astype(np.int64)[inverse]
    if parent_column.type == "date":
        start = start * MICROS_PER_DAY
    pos = child_positions(rows)
    if column.every_seconds is not None:
        step = int(round(column.every_seconds * MICROS_PER_SECOND))
        if not column.jitter:
            return start + pos * step
        return start + pos * step + np.floor(rnd.uniform(key, rows.index) * step).astype(np.int64)
    span = int(round(float(column.span_seconds or 0) * MICROS_PER_SECOND))
    counts = runtime.child_counts(rows.table, rows.parent_index)
    if not column.jitter:
        # Integer arithmetic: even shares are exact and never depend on float rounding.
        return start + (pos * span) // counts
    # A random point in each sibling's own share keeps siblings' times sorted by position.
    share = (pos + rnd.uniform(key, rows.index)) / counts
    return start + np.minimum(np.floor(share * span).astype(np.int64), span - 1)


def children_agg(column: ChildrenAggColumn, rows: Rows, key: int) -> Values:
    return aggregate_children(rows, column.table, column.column, column.agg, column.round)


def aggregate_children(rows: Rows, table: str, source: str, agg: str, digits: int | None) -> Values:
    """`agg` of column `source` over the children (in child table `table`) of each of these rows."""
    if agg == "count":
        # Counts need no child row: the layout knows them.
        return rows.runtime.child_counts(table, rows.index)
    counts, children = _children_rows(rows, table)
    values = to_numpy(children.get(source)).astype(np.float64)
    n = len(rows)
    present = counts > 0
    starts = np.cumsum(counts) - counts
    result = np.full(n, np.nan)
    if agg in ("sum", "mean"):
        owner = np.repeat(np.arange(n), counts)
        valid = ~np.isnan(values)  # like SQL, null children are skipped
        # bincount adds in row order: the same sum whatever the chunk (np.sum's pairwise order would not be).
        totals = np.bincount(owner[valid], weights=values[valid], minlength=n)
        if agg == "sum":
            return _rounded(totals, digits)
        counted = np.bincount(owner[valid], minlength=n)
        present = counted > 0
        result[present] = totals[present] / counted[present]
    elif present.any():
        first = starts[present]
        if agg == "min":
            result[present] = np.fmin.reduceat(values, first)
        elif agg == "max":
            result[present] = np.fmax.reduceat(values, first)
        elif agg == "first":
            result[present] = values[first]
        else:
            result[present] = values[first + counts[present] - 1]
    result = _rounded(result, digits)
    missing = np.isnan(result)
    if not missing.any():
        return result
    return pa.array(result, type=pa.float64(), mask=missing)


def _children_rows(rows: Rows, table: str) -> tuple[np.ndarray, Rows]:
    """Child rows of these rows, shared by all aggregates of one batch so child columns compute once."""
    cache: dict[str, tuple[np.ndarray, Rows]] = rows.memo.setdefault("children_rows", {})
    if table not in cache:
        child_index, parent_index, counts = rows.runtime.children(table, rows.index)
        cache[table] = (counts, rows.runtime.rows(table, child_index, parent_index))
    return cache[table]


def _rounded(values: np.ndarray, digits: int | None) -> np.ndarray:
    return values if digits is None else np.round(values, digits)
