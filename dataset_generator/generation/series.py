"""Time series: random walks (arithmetic or geometric) across day-level rows, Brownian bridges through a
parent's children, and daily/weekly/yearly cycles.

A walk is never carried from one chunk to the next. A `random_walk` value is the prefix sum of its
group's steps recomputed from the group's first row (cheap for day-level tables); a `brownian_bridge`
needs only the children of the parents it touches, pinned to the parent's start and end values. Prefix
sums always start from the same row, so the float additions, and the bytes, never depend on the chunk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..schemas.models import BrownianBridgeColumn, CycleColumn, RandomWalkColumn, WalkNextColumn
from . import random as rnd
from .convert import Values, to_numpy
from .temporal import MICROS_PER_DAY, MICROS_PER_HOUR

if TYPE_CHECKING:
    from .runtime import RowSet

DAYS_PER_YEAR = 365.2425


def _parameter(value: float | str, rows: RowSet) -> np.ndarray | float:
    if isinstance(value, str):
        return to_numpy(rows.get(value)).astype(np.float64)
    return float(value)


def _rounded(values: np.ndarray, digits: int | None) -> np.ndarray:
    return values if digits is None else np.round(values, digits)


def random_walk(column: RandomWalkColumn, rows: RowSet, key: int, after_step: bool = False) -> Values:
    index = rows.index
    if len(index) == 0:
        return np.zeros(0)
    stride = column.stride
    groups, inverse = np.unique(index % stride, return_inverse=True)
    steps = index // stride + (1 if after_step else 0)
    longest = int(steps.max())
    # Step j of group g is drawn at the row it leaves, g + j * stride: a pure function of that row.
    step_rows = groups[None, :] + stride * np.arange(longest, dtype=np.int64)[:, None]
    shocks = rnd.standard_normal(key, step_rows.ravel()).reshape(step_rows.shape)
    first_rows = rows.runtime.rows(rows.table, groups)
    drift = _parameter(column.drift, first_rows)
    volatility = _parameter(column.volatility, first_rows)
    if column.geometric:
        drift = drift - 0.5 * np.square(volatility)
    levels = np.zeros((longest + 1, len(groups)))
    # cumsum along axis 0 adds each group's steps in order from its first row, whatever else is in the chunk.
    np.cumsum(drift + volatility * shocks, axis=0, out=levels[1:])
    level = levels[steps, inverse]
    start = _parameter(column.start, first_rows)
    start = start[inverse] if isinstance(start, np.ndarray) else start
    values = start * np.exp(level) if column.geometric else start + level
    return _rounded(values, column.round)


def brownian_bridge(column: BrownianBridgeColumn, rows: RowSet, key: int, after_step: bool = False) -> Values:
    runtime = rows.runtime
    if len(rows) == 0:
        return np.zeros(0)
    parent_table = rows.spec.parent.table  # type: ignore[union-attr]
    parents, inverse = np.unique(rows.parent_index, return_inverse=True)
    # Every child of every touched parent: the bridge needs the parent's whole path to pin its end.
    child_index, _, counts = runtime.children(rows.table, parents)
    widest = int(counts.max())
    present = np.arange(widest)[None, :] < counts[:, None]
    shocks = np.zeros((len(parents), widest))
    shocks[present] = rnd.standard_normal(key, child_index)
    paths = np.zeros((len(parents), widest + 1))
    np.cumsum(shocks, axis=1, out=paths[:, 1:])
    totals = paths[np.arange(len(parents)), counts]
    first = runtime.first_child(rows.table, parents)
    step = rows.index - first[inverse] + (1 if after_step else 0)
    count = counts[inverse]
    fraction = step / count
    parent_rows = runtime.rows(parent_table, parents)
    start = to_numpy(parent_rows.get(column.start)).astype(np.float64)[inverse]
    end = to_numpy(parent_rows.get(column.end)).astype(np.float64)[inverse]
    volatility = _parameter(column.volatility, parent_rows)
    volatility = volatility[inverse] if isinstance(volatility, np.ndarray) else volatility
    noise = volatility * (paths[inverse, step] - fraction * totals[inverse])
    if column.geometric:
        log_start, log_end = np.log(start), np.log(end)
        values = np.exp(log_start + fraction * (log_end - log_start) + noise)
    else:
        values = start + fraction * (end - start) + noise
    # The ends are the parent's own values, bit for bit: consecutive parents join without a gap.
    values = np.where(step == 0, start, np.where(step == count, end, values))
    return _rounded(values, column.round)


def walk_next(column: WalkNextColumn, rows: RowSet, key: int) -> Values:
    target = rows.spec.columns[column.of]
    target_key = rows.runtime.key(rows.table, column.of)
    if isinstance(target, RandomWalkColumn):
        return random_walk(target, rows, target_key, after_step=True)
    assert isinstance(target, BrownianBridgeColumn)
    return brownian_bridge(target, rows, target_key, after_step=True)


def cycle(column: CycleColumn, rows: RowSet, key: int) -> Values:
    raw = to_numpy(rows.get(column.time)).astype(np.int64)
    if rows.spec.columns[column.time].type == "date":
        raw = raw * MICROS_PER_DAY
    if column.period == "day":
        phase = (raw % MICROS_PER_DAY) / MICROS_PER_HOUR
        period, peak = 24.0, column.peak
    elif column.period == "week":
        # 1970-01-01 was a Thursday: 72 hours after a Monday midnight.
        phase = ((raw // MICROS_PER_HOUR + 72) % 168) + (raw % MICROS_PER_HOUR) / MICROS_PER_HOUR
        period, peak = 168.0, column.peak
    else:
        phase = np.mod(raw / MICROS_PER_DAY, DAYS_PER_YEAR)
        period, peak = DAYS_PER_YEAR, column.peak - 1.0
    values = column.offset + column.amplitude * np.cos(2.0 * np.pi * (phase - peak) / period)
    return _rounded(values, column.round)
