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
from .child_values import ChildValueStore, child_aggregates, kept_columns
from .convert import Values, to_numpy
from .layout import TimeLayout
from .links import parent_rows, share_parents, spread
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
    if "child_positions" not in rows.memo:
        parents, owner = parent_rows(rows)
        rows.memo["child_positions"] = rows.index - rows.runtime.first_child(rows.table, parents.index)[owner]
    positions: np.ndarray = rows.memo["child_positions"]
    return positions


def position(column: PositionColumn, rows: Rows, key: int) -> Values:
    return child_positions(rows) + column.start


def child_time(column: ChildTimeColumn, rows: Rows, key: int) -> Values:
    runtime = rows.runtime
    assert rows.spec.parent is not None
    parent_table = rows.spec.parent.table
    parent_column = runtime.spec.tables[parent_table].columns[column.start]
    parents, owner = parent_rows(rows)
    start = to_numpy(spread(parents.get(column.start), owner)).astype(np.int64)
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


# Children generated at once for the aggregates of a batch: their parents are cut into groups of about this many
# children (whole parents only), so a batch of parents with many children never holds them all at once.
AGGREGATE_CHILD_ROWS = 131_072


def aggregate_children(rows: Rows, table: str, source: str, agg: str, digits: int | None) -> Values:
    """`agg` of column `source` over the children (in child table `table`) of each of these rows."""
    if agg == "count":
        return rows.runtime.child_counts(table, rows.index)
    results: dict[tuple[str, str, str, int | None], Values] = rows.memo.setdefault("children_aggs", {})
    if (table, source, agg, digits) not in results:
        _aggregate_all(rows, table, {(source, agg, digits)}, results)
    return results[(table, source, agg, digits)]


def _aggregate_all(rows: Rows, table: str, extra: set[tuple[str, str, int | None]], results: dict[tuple[str, str, str, int | None], Values]) -> None:
    """Every aggregate this table declares over `table` (and `extra`), from one pass over the children made
    group by group: each child column computes once per group and the group's children are then dropped."""
    wanted = set(extra) | {(source, agg, digits) for child, source, agg, digits in child_aggregates(rows.spec) if child == table}
    order = sorted(wanted, key=repr)
    counts = rows.runtime.child_counts(table, rows.index)
    parts: dict[tuple[str, str, int | None], list[np.ndarray]] = {item: [] for item in order}
    for first, stop in _parent_groups(counts):
        child_index, parent_index, group_counts = rows.runtime.children(table, rows.index[first:stop])
        owner = first + np.repeat(np.arange(stop - first), group_counts)
        # Children are read at their parent's as-of time.
        as_of = rows.as_of[owner] if isinstance(rows.as_of, np.ndarray) else rows.as_of
        children = rows.runtime.rows(table, child_index, parent_index, as_of)
        # The children's parents are these rows: their values are read, not computed again.
        share_parents(children, rows, owner)
        for source, agg, digits in order:
            values = to_numpy(children.get(source)).astype(np.float64)
            parts[(source, agg, digits)].append(_reduce(values, group_counts, agg))
        _keep_children(rows, table, children, child_index)
    for source, agg, digits in order:
        result = _rounded(np.concatenate(parts[(source, agg, digits)]) if parts[(source, agg, digits)] else np.zeros(0), digits)
        missing = np.isnan(result)
        results[(table, source, agg, digits)] = pa.array(result, type=pa.float64(), mask=missing) if missing.any() else result


def _keep_children(parents: Rows, table: str, children: Rows, child_index: np.ndarray) -> None:
    """Keep the children's columns for the child table's own batches (generation/child_values.py), when the
    parents and children are plain rows at the run's as-of time and the children a contiguous range."""
    computed = children.shareable_values()
    if not len(child_index) or computed is None or parents.shareable_values() is None:
        return
    first = int(child_index[0])
    if int(child_index[-1]) - first + 1 != len(child_index):
        return
    runtime = parents.runtime
    store: ChildValueStore = runtime.memo.setdefault("child_values", ChildValueStore())
    store.remember(table, first, {name: computed[name] for name in kept_columns(runtime.spec, table, computed)})


def _parent_groups(counts: np.ndarray) -> list[tuple[int, int]]:
    """[first, stop) ranges of parents holding about AGGREGATE_CHILD_ROWS children each (at least one parent)."""
    ends = np.cumsum(counts)
    groups: list[tuple[int, int]] = []
    first = 0
    while first < len(counts):
        before = ends[first - 1] if first else 0
        stop = int(np.searchsorted(ends, before + AGGREGATE_CHILD_ROWS, side="right"))
        stop = max(stop, first + 1)
        groups.append((first, stop))
        first = stop
    return groups


def _reduce(values: np.ndarray, counts: np.ndarray, agg: str) -> np.ndarray:
    """`agg` of each parent's run of `values` (NaN for none); sum of none is 0."""
    n = len(counts)
    present = counts > 0
    starts = np.cumsum(counts) - counts
    result = np.full(n, np.nan)
    if agg in ("sum", "mean"):
        owner = np.repeat(np.arange(n), counts)
        valid = ~np.isnan(values)  # like SQL, null children are skipped
        # bincount adds in row order: the same sum whatever the chunk (np.sum's pairwise order would not be).
        totals = np.bincount(owner[valid], weights=values[valid], minlength=n)
        if agg == "sum":
            return totals
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
    return result


def _rounded(values: np.ndarray, digits: int | None) -> np.ndarray:
    return values if digits is None else np.round(values, digits)
