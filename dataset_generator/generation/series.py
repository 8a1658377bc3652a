"""Time series: random walks (arithmetic or geometric) across day-level rows, Brownian bridges through a
parent's children, and daily/weekly/yearly cycles.

A walk is never carried from one chunk to the next. A `random_walk` value is the running sum of its
group's steps, re-summed from the nearest saved level (saved every 1,024 steps, once per process); a `brownian_bridge`
needs only the children of the parents it touches, pinned to the parent's start and end values. Prefix
sums always start from the same row, so the float additions, and the bytes, never depend on the chunk.
"""

from __future__ import annotations

import numpy as np

from ..schemas.series import BrownianBridgeColumn, CycleColumn, RandomWalkColumn, WalkNextColumn
from . import libm, links
from . import random as rnd
from .convert import Values, to_numpy
from .rows import Rows
from .temporal import MICROS_PER_DAY, MICROS_PER_HOUR

DAYS_PER_YEAR = 365.2425


def _parameter(value: float | str, rows: Rows) -> np.ndarray | float:
    if isinstance(value, str):
        return to_numpy(rows.get(value)).astype(np.float64)
    return float(value)


def _rounded(values: np.ndarray, digits: int | None) -> np.ndarray:
    return values if digits is None else np.round(values, digits)


# Steps between two saved levels of a walk. A value needs at most this many steps re-summed.
WALK_BLOCK_STEPS = 1024
# Cap on shocks drawn at once while saving levels (steps x walks), to bound memory.
_WALK_BATCH_VALUES = 1 << 22


def _walk_increments(column: RandomWalkColumn, rows: Rows, key: int, groups: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Increments (steps x groups) of the walks `groups` at step numbers `steps`, a pure function of the rows."""
    if column.steps is not None:
        return _column_steps(column.steps, column.stride, rows, groups, steps)
    first_rows = rows.runtime.rows(rows.table, groups)
    drift = _parameter(column.drift, first_rows)
    volatility = _parameter(column.volatility, first_rows)
    if column.geometric:
        drift = drift - 0.5 * np.square(volatility)
    # Step j of group g is drawn at the row it leaves, g + j * stride.
    step_rows = groups[None, :] + column.stride * steps[:, None]
    shocks = rnd.standard_normal(key, step_rows.ravel()).reshape(step_rows.shape)
    return drift + volatility * shocks


def _column_steps(name: str, stride: int, rows: Rows, groups: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Steps (steps x groups) read from column `name` at rows g + j * stride; 0 past the table's end."""
    step_rows = (groups[None, :] + stride * steps[:, None]).ravel()
    total = rows.runtime.layouts[rows.table].rows
    inside = step_rows < total
    values = np.zeros(len(step_rows))
    if inside.any():
        values[inside] = to_numpy(rows.runtime.rows(rows.table, step_rows[inside]).get(name)).astype(np.float64)
    return values.reshape(len(steps), len(groups))


def _walk_levels(column: RandomWalkColumn, rows: Rows, key: int) -> np.ndarray:
    """The level of every walk after each whole block of steps (blocks x walks), computed once per process.

    Saved levels are the running sum itself, carried through every step in order, so re-summing from a
    saved level performs exactly the float additions of summing from step 0: same bits, bounded cost.
    """
    cache: dict[int, np.ndarray] = rows.runtime.memo.setdefault("walk_levels", {})
    if key in cache:
        return cache[key]
    total_rows = rows.runtime.layouts[rows.table].rows
    walks = min(column.stride, max(total_rows, 1))
    longest = -(-total_rows // column.stride)  # steps of walk 0, the longest
    blocks = longest // WALK_BLOCK_STEPS
    saved = np.zeros((blocks + 1, walks))
    slice_width = max(1, _WALK_BATCH_VALUES // WALK_BLOCK_STEPS)
    for first in range(0, walks, slice_width):
        groups = np.arange(first, min(walks, first + slice_width), dtype=np.int64)
        carry = np.zeros(len(groups))
        for block in range(blocks):
            steps = np.arange(block * WALK_BLOCK_STEPS, (block + 1) * WALK_BLOCK_STEPS, dtype=np.int64)
            running = np.vstack([carry, _walk_increments(column, rows, key, groups, steps)])
            carry = np.cumsum(running, axis=0)[-1]
            saved[block + 1, groups] = carry
    cache[key] = saved
    return saved


def random_walk(column: RandomWalkColumn, rows: Rows, key: int, after_step: bool = False) -> Values:
    index = rows.index
    if len(index) == 0:
        return np.zeros(0)
    stride = column.stride
    group = index % stride
    steps = index // stride + (1 if after_step else 0)
    saved = _walk_levels(column, rows, key)
    block = np.minimum(steps // WALK_BLOCK_STEPS, len(saved) - 1)
    level = np.empty(len(index))
    # A chunk touches one or two blocks of each walk: re-sum each touched block from its saved level.
    for current in np.unique(block):
        here = block == current
        groups, inverse = np.unique(group[here], return_inverse=True)
        first_step = int(current) * WALK_BLOCK_STEPS
        offsets = steps[here] - first_step
        span = np.arange(first_step, first_step + int(offsets.max()), dtype=np.int64)
        running = np.vstack([saved[current, groups], _walk_increments(column, rows, key, groups, span)])
        level[here] = np.cumsum(running, axis=0)[offsets, inverse]
    first_rows = rows.runtime.rows(rows.table, np.unique(group))
    start = _parameter(column.start, first_rows)
    if isinstance(start, np.ndarray):
        start = start[np.searchsorted(np.unique(group), group)]
    values = start * libm.exp(level) if column.geometric else start + level
    return _rounded(values, column.round)


def _bridge_paths(column: BrownianBridgeColumn, rows: Rows, key: int) -> tuple[np.ndarray, ...]:
    """(inverse, counts, paths, cumulative variance or None) of the parents these rows touch, once per batch."""
    cache: dict[int, tuple[np.ndarray, ...]] = rows.memo.setdefault("bridge_paths", {})
    if key in cache:
        return cache[key]
    runtime = rows.runtime
    parents, inverse = links.distinct(rows.parent_index)
    # Every child of every touched parent: the bridge needs the parent's whole path to pin its end.
    child_index, child_parents, counts = runtime.children(rows.table, parents)
    widest = int(counts.max())
    present = np.arange(widest)[None, :] < counts[:, None]
    children = None
    if column.shocks or column.step_scale:
        # Usually the batch holds whole parents: its own rows are the children (their columns computed once).
        same = len(child_index) == len(rows.index) and bool(np.array_equal(child_index, rows.index))
        children = rows if same else runtime.rows(rows.table, child_index, child_parents)
    shocks = np.zeros((len(parents), widest))
    if column.shocks is not None and children is not None:
        shocks[present] = to_numpy(children.get(column.shocks)).astype(np.float64)
    else:
        shocks[present] = rnd.standard_normal(key, child_index)
    variance = None
    if column.step_scale is not None and children is not None:
        scale = np.zeros((len(parents), widest))
        scale[present] = to_numpy(children.get(column.step_scale)).astype(np.float64)
        shocks *= scale
        variance = np.zeros((len(parents), widest + 1))
        np.cumsum(np.square(scale), axis=1, out=variance[:, 1:])
    paths = np.zeros((len(parents), widest + 1))
    np.cumsum(shocks, axis=1, out=paths[:, 1:])
    cached = (parents, inverse, counts, paths, variance) if variance is not None else (parents, inverse, counts, paths)
    cache[key] = cached
    return cached


def brownian_bridge(column: BrownianBridgeColumn, rows: Rows, key: int, after_step: bool = False) -> Values:
    runtime = rows.runtime
    if len(rows) == 0:
        return np.zeros(0)
    assert rows.spec.parent is not None
    parents, inverse, counts, paths, *variance = _bridge_paths(column, rows, key)
    rows_of = np.arange(len(parents))
    totals = paths[rows_of, counts]
    first = runtime.first_child(rows.table, parents)
    step = rows.index - first[inverse] + (1 if after_step else 0)
    count = counts[inverse]
    if variance:
        # Variance time: the share of the parent's variance spent before this step.
        cumulative = variance[0]
        fraction = cumulative[inverse, step] / np.maximum(cumulative[rows_of, counts][inverse], 1e-300)
    else:
        fraction = step / count
    # The parents' values through the batch's shared parent rows (maybe the whole parent table): `owner`.
    parent_rows, owner = links.parent_rows(rows)
    start = to_numpy(parent_rows.get(column.start)).astype(np.float64)[owner]
    end = to_numpy(parent_rows.get(column.end)).astype(np.float64)[owner]
    volatility = _parameter(column.volatility, parent_rows)
    volatility = volatility[owner] if isinstance(volatility, np.ndarray) else volatility
    noise = volatility * (paths[inverse, step] - fraction * totals[inverse])
    if column.geometric:
        log_start, log_end = libm.log(start), libm.log(end)
        values = libm.exp(log_start + fraction * (log_end - log_start) + noise)
    else:
        values = start + fraction * (end - start) + noise
    # The ends are the parent's own values, bit for bit: consecutive parents join without a gap.
    values = np.where(step == 0, start, np.where(step == count, end, values))
    return _rounded(values, column.round)


def walk_next(column: WalkNextColumn, rows: Rows, key: int) -> Values:
    target = rows.spec.columns[column.of]
    target_key = rows.runtime.key(rows.table, column.of)
    if isinstance(target, RandomWalkColumn):
        return random_walk(target, rows, target_key, after_step=True)
    assert isinstance(target, BrownianBridgeColumn)
    return brownian_bridge(target, rows, target_key, after_step=True)


def cycle(column: CycleColumn, rows: Rows, key: int) -> Values:
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
    values = column.offset + column.amplitude * libm.cos(2.0 * np.pi * (phase - peak) / period)
    return _rounded(values, column.round)
