"""Stochastic processes keyed by (group, time step): AR(1) noise and two-state Markov chains.

API (spec kinds `ar1` and `markov`, models in schemas/processes.py):
- ar1:    mean + std * z[group, step], z a unit-variance AR(1) of lag-1 correlation `correlation`;
          `smooth: true` interpolates z between the two steps around each time.
- markov: a bool (or 0/1) chain per group: P(true | false before) = p_enter, P(true | true before) = p_stay.

Nothing is carried between rows or chunks. The value at step n is a fixed-order sum over the shocks of the
last `width` steps (AR(1)), or the chain re-run over its last `memory` steps (Markov), each shock a
counter-based draw at (group, step). So the bits never depend on the chunk, the worker or the row layout;
the cost is `width` (or `memory`) multiply-adds per value and, when a chunk holds consecutive steps of a
group, about one draw per step (each group's shocks are drawn once over the range it needs).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..schemas.processes import Ar1Column, MarkovColumn, ProcessBase
from . import libm
from . import random as rnd
from .convert import Values, to_numpy
from .rows import Rows
from .temporal import MICROS_PER_DAY

_GROUP_SHIFT = 32
_STEP_MASK = (1 << _GROUP_SHIFT) - 1
# An AR(1) value sums shocks until correlation^(2 * lags) (their share of the variance) is below this.
_AR_TOLERANCE = 1e-6
_MAX_WIDTH = 1024

Draw = Callable[[int, np.ndarray], np.ndarray]


def _parameter(value: float | str, rows: Rows) -> np.ndarray | float:
    if isinstance(value, str):
        return to_numpy(rows.get(value)).astype(np.float64)
    return float(value)


def _times(column: ProcessBase, rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group, step, microseconds into the step) of every row."""
    group = np.asarray(to_numpy(rows.get(column.group)), dtype=np.int64)
    raw = np.asarray(to_numpy(rows.get(column.time)), dtype=np.int64)
    if rows.spec.columns[column.time].type == "date":
        raw = raw * MICROS_PER_DAY
    step_micros = column.step_seconds * 1_000_000
    step = raw // step_micros
    return group, step, raw - step * step_micros


def _lookback(draw: Draw, key: int, keys: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Shocks of the `width` steps up to each of the sorted, unique (group << 32 | step) `keys`:
    returns (shocks, last) with shocks[last[i] - j] the draw at step (step_i - j), 0 <= j < width.

    Each group's shocks are drawn once over the range of steps it needs when that is cheaper than a
    separate window per key (consecutive steps in one chunk); the draws are the same either way."""
    groups = keys >> _GROUP_SHIFT
    first = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    last_of_group = np.r_[first[1:], len(keys)] - 1
    low, high = keys[first], keys[last_of_group]
    lengths = high - low + width
    total = int(lengths.sum())
    if total <= len(keys) * width:
        offsets = np.r_[0, np.cumsum(lengths)[:-1]]
        within = np.arange(total, dtype=np.int64) - np.repeat(offsets, lengths)
        shocks = draw(key, np.repeat(low - (width - 1), lengths) + within)
        group_of_key = np.repeat(np.arange(len(first)), np.diff(np.r_[first, len(keys)]))
        last = offsets[group_of_key] + (keys - low[group_of_key]) + (width - 1)
        return shocks, last
    window = keys[:, None] - (width - 1) + np.arange(width, dtype=np.int64)[None, :]
    return draw(key, window.ravel()), np.arange(len(keys), dtype=np.int64) * width + (width - 1)


def ar1_width(correlation: float) -> int:
    """Number of shocks summed per AR(1) value."""
    if correlation <= 0.0:
        return 1
    return max(1, min(_MAX_WIDTH, math.ceil(math.log(_AR_TOLERANCE) / (2.0 * math.log(correlation)))))


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, return_inverse=True), faster on rows in time order: runs of one key (the hours of
    a station-day) are collapsed before sorting."""
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    unique, run_inverse = np.unique(keys[starts], return_inverse=True)
    return unique, np.repeat(run_inverse, np.diff(np.r_[starts, len(keys)]))


def _ar1_at(correlation: float, key: int, keys: np.ndarray) -> np.ndarray:
    """Unit-variance AR(1) values at the given (group << 32 | step) keys (any order, repeats allowed)."""
    unique, inverse = _distinct(keys)
    width = ar1_width(correlation)
    shocks, last = _lookback(rnd.standard_normal, key, unique, width)
    total = np.zeros(len(unique))
    for lag in range(width - 1, -1, -1):  # oldest first: one fixed order of additions
        total += correlation**lag * shocks[last - lag]
    scale = math.sqrt((1.0 - correlation**2) / (1.0 - correlation ** (2 * width))) if width > 1 else 1.0
    return (total * scale)[inverse]


def _keys(group: np.ndarray, step: np.ndarray) -> np.ndarray:
    return (group << _GROUP_SHIFT) + (step & _STEP_MASK)


def _group_ranges(group: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(distinct groups, lowest step of each, highest step of each, each row's group among them); rows of
    one group come in runs (the hours of a station-day), collapsed before sorting."""
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    groups, run_group = np.unique(group[starts], return_inverse=True)
    low = np.full(len(groups), np.iinfo(np.int64).max)
    high = np.full(len(groups), np.iinfo(np.int64).min)
    np.minimum.at(low, run_group, np.minimum.reduceat(step, starts))
    np.maximum.at(high, run_group, np.maximum.reduceat(step, starts))
    return groups, low, high, np.repeat(run_group, np.diff(np.r_[starts, len(group)]))


Ranges = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _ar1_grid(correlation: float, key: int, ranges: Ranges, step: np.ndarray, extra: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Unit-variance AR(1) values over every step each group's rows span (plus `extra` steps after), and
    where each row's step sits: z[position + j] is the value at (group, step + j), j <= extra. The same
    values as `_ar1_at` (same shocks, same order of additions); None when the rows are too sparse in time
    for a dense grid to pay off."""
    groups, low, high, row_group = ranges
    knots = high + extra - low + 1
    count = int(knots.sum())
    if count > 2 * len(step) + 4096:
        return None
    width = ar1_width(correlation)
    lengths = knots + (width - 1)
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    within = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(offsets, lengths)
    shocks = rnd.standard_normal(key, np.repeat(_keys(groups, low) - (width - 1), lengths) + within)
    knot_offsets = np.r_[0, np.cumsum(knots)[:-1]]
    # The newest shock of each knot: knot k of a group sits width - 1 + k into the group's shocks.
    last = np.repeat(offsets + (width - 1) - knot_offsets, knots) + np.arange(count, dtype=np.int64)
    total = np.zeros(count)
    for lag in range(width - 1, -1, -1):  # oldest first: the order of additions of _ar1_at
        total += correlation**lag * shocks[last - lag]
    scale = math.sqrt((1.0 - correlation**2) / (1.0 - correlation ** (2 * width))) if width > 1 else 1.0
    return total * scale, knot_offsets[row_group] + (step - low[row_group])


def _ar1_values(correlation: float, key: int, rows: Rows, column: Ar1Column, extra: int) -> list[np.ndarray]:
    """The AR(1) values at (group, step + j) for j = 0..extra of every row."""
    group, step, _, ranges = _steps(column, rows)
    grid = _ar1_grid(correlation, key, ranges, step, extra)
    if grid is not None:
        z, position = grid
        return [z[position + j] for j in range(extra + 1)]
    return [_ar1_at(correlation, key, _keys(group, step + j)) for j in range(extra + 1)]


def _steps(column: Ar1Column, rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray, Ranges]:
    """_times and _group_ranges of the rows, shared by the batch's processes on the same group and steps."""
    cache: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray, np.ndarray, Ranges]]
    cache = rows.memo.setdefault("process_steps", {})
    name = (column.group, column.time, column.step_seconds)
    if name not in cache:
        group, step, offset = _times(column, rows)
        cache[name] = (group, step, offset, _group_ranges(group, step))
    return cache[name]


def _weights(column: Ar1Column, rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolation weight of the step before (1 at it, 0 at the next, flat at both) and the divisor that
    keeps the variance 1, shared like _steps."""
    cache: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = rows.memo.setdefault("process_weights", {})
    name = (column.group, column.time, column.step_seconds)
    if name not in cache:
        cache[name] = _weights_of(column, rows)
    return cache[name]


# Steps up to this many seconds long keep a table of the weights at each whole second of the step.
_TABLE_SECONDS = 1 << 18


def _weights_of(column: Ar1Column, rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    offset = _steps(column, rows)[2]
    step_micros = column.step_seconds * 1_000_000
    if column.step_seconds <= _TABLE_SECONDS:
        seconds = offset // 1_000_000
        if bool((seconds * 1_000_000 == offset).all()):
            # Times on whole seconds (hourly rows): look the weights up. k / s and (k * 10^6) / (s * 10^6) are
            # the same correctly rounded quotient, so the table holds exactly the values computed per row.
            cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = rows.runtime.memo.setdefault("process_weight_tables", {})
            if column.step_seconds not in cache:
                cache[column.step_seconds] = _weights_at(np.arange(column.step_seconds) / column.step_seconds)
            weight, rest, norm = cache[column.step_seconds]
            return weight[seconds], rest[seconds], norm[seconds]
    return _weights_at(offset / step_micros)


def _weights_at(fraction: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weight = 0.5 * (1.0 + libm.cos(np.pi * fraction))
    rest = 1.0 - weight
    return weight, rest, np.sqrt(weight**2 + rest**2)


def ar1(column: Ar1Column, rows: Rows, key: int) -> Values:
    if len(rows) == 0:
        return np.zeros(0)
    if column.smooth:
        before, after = _ar1_values(column.correlation, key, rows, column, 1)
        weight, rest, norm = _weights(column, rows)
        # (weight * before + rest * after) / norm, in place: the same operations, fewer temporaries.
        z = np.multiply(weight, before, out=before)
        z += np.multiply(rest, after, out=after)
        z /= norm
    else:
        (z,) = _ar1_values(column.correlation, key, rows, column, 0)
    std, mean = _parameter(column.std, rows), _parameter(column.mean, rows)
    values = z if isinstance(std, float) and std == 1.0 else std * z
    values = values if isinstance(mean, float) and mean == 0.0 else mean + values
    return values if column.round is None else np.round(values, column.round)


def markov(column: MarkovColumn, rows: Rows, key: int) -> Values:
    if len(rows) == 0:
        return np.zeros(0, dtype=bool)
    group, step, _ = _times(column, rows)
    unique, inverse = _distinct(_keys(group, step))
    memory = column.memory
    draws, last = _lookback(rnd.uniform, key, unique, memory + 1)
    last = last[inverse]
    p_enter = np.broadcast_to(_parameter(column.p_enter, rows), (len(rows),))
    p_stay = np.broadcast_to(_parameter(column.p_stay, rows), (len(rows),))
    # Start `memory` steps back from the stationary distribution, then run the chain forward.
    stationary = p_enter / np.maximum(1.0 - p_stay + p_enter, 1e-12)
    state = draws[last - memory] < stationary
    for lag in range(memory - 1, -1, -1):
        u = draws[last - lag]
        state = np.where(state, u < p_stay, u < p_enter)
    return state if column.type == "bool" else state.astype(np.int64)
