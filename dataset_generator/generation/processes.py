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
    """(group, step, fraction of the step elapsed) of every row."""
    group = to_numpy(rows.get(column.group)).astype(np.int64)
    raw = to_numpy(rows.get(column.time)).astype(np.int64)
    if rows.spec.columns[column.time].type == "date":
        raw = raw * MICROS_PER_DAY
    step_micros = column.step_seconds * 1_000_000
    step = raw // step_micros
    fraction = (raw - step * step_micros) / step_micros
    return group, step, fraction


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


def _ar1_at(correlation: float, key: int, keys: np.ndarray) -> np.ndarray:
    """Unit-variance AR(1) values at the given (group << 32 | step) keys (any order, repeats allowed)."""
    unique, inverse = np.unique(keys, return_inverse=True)
    width = ar1_width(correlation)
    shocks, last = _lookback(rnd.standard_normal, key, unique, width)
    total = np.zeros(len(unique))
    for lag in range(width - 1, -1, -1):  # oldest first: one fixed order of additions
        total += correlation**lag * shocks[last - lag]
    scale = math.sqrt((1.0 - correlation**2) / (1.0 - correlation ** (2 * width))) if width > 1 else 1.0
    return (total * scale)[inverse]


def _keys(group: np.ndarray, step: np.ndarray) -> np.ndarray:
    return (group << _GROUP_SHIFT) + (step & _STEP_MASK)


def ar1(column: Ar1Column, rows: Rows, key: int) -> Values:
    if len(rows) == 0:
        return np.zeros(0)
    group, step, fraction = _times(column, rows)
    if column.smooth:
        both = _ar1_at(column.correlation, key, np.concatenate([_keys(group, step), _keys(group, step + 1)]))
        before, after = both[: len(step)], both[len(step) :]
        weight = 0.5 * (1.0 + np.cos(np.pi * fraction))  # 1 at the step, 0 at the next, flat at both
        z = (weight * before + (1.0 - weight) * after) / np.sqrt(weight**2 + (1.0 - weight) ** 2)
    else:
        z = _ar1_at(column.correlation, key, _keys(group, step))
    values = _parameter(column.mean, rows) + _parameter(column.std, rows) * z
    return values if column.round is None else np.round(values, column.round)


def markov(column: MarkovColumn, rows: Rows, key: int) -> Values:
    if len(rows) == 0:
        return np.zeros(0, dtype=bool)
    group, step, _ = _times(column, rows)
    unique, inverse = np.unique(_keys(group, step), return_inverse=True)
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
