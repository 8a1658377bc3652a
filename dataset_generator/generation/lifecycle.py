"""Lifecycle state from an entity's own timeline.

Each entity (e.g. an order) has event times, a pure function of (seed, table, column, row) and of its start
time: the main path's states entered one after another (placed -> processing -> shipped -> delivered, each
after a lognormal delay), and at most one terminal exit (cancelled between placing and shipping, returned some
days after delivery). The `lifecycle` column is the state at `as_of`; the same timeline answers "state at T"
(`state_at`) and "events between T1 and T2" (`events_between`) for as-of snapshots and change feeds.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from ..schemas.entities import Delay, LifecycleColumn
from . import libm
from . import random as rnd
from .convert import Values, to_numpy
from .layout import EPOCH
from .rows import Rows
from .temporal import MICROS_PER_DAY, MICROS_PER_HOUR

NEVER = np.iinfo(np.int64).max  # the time of a state the entity never enters


def _delay_micros(delay: Delay, key: int, index: np.ndarray) -> np.ndarray:
    hours = delay.median * libm.exp(delay.sigma * rnd.standard_normal(key, index))
    hours = np.clip(hours, delay.min, delay.max if delay.max is not None else np.inf)
    return np.rint(hours * MICROS_PER_HOUR).astype(np.int64)


def lifecycle_events(column: LifecycleColumn, start: np.ndarray, key: int, index: np.ndarray) -> np.ndarray:
    """Event times of entities `index` (rows of the column's table) whose start times are `start` (int64
    microseconds): an (entities, states) int64 array in the order of `column.states`, NEVER where a state is
    not entered. Main-path times increase; an exit's time is later than every state entered before it."""
    main = [step.state for step in column.steps]
    times = np.full((len(index), len(column.states)), NEVER, dtype=np.int64)
    times[:, 0] = start
    for i, step in enumerate(column.steps[1:], start=1):
        assert step.after is not None
        times[:, i] = times[:, i - 1] + np.maximum(_delay_micros(step.after, rnd.substream(key, i), index), 1)
    if not column.exits:
        return times
    u = rnd.uniform(rnd.substream(key, 200), index)
    low = 0.0
    for j, exit_ in enumerate(column.exits):
        taken = np.flatnonzero((u >= low) & (u < low + exit_.p))
        low += exit_.p
        if not taken.size:
            continue
        origin = times[taken, main.index(exit_.from_state)]
        if exit_.before is not None:
            share = rnd.uniform_open(rnd.substream(key, 300 + j), index[taken])
            span = times[taken, main.index(exit_.before)] - origin
            at = origin + np.maximum(np.floor(share * span).astype(np.int64), 1)
        else:
            assert exit_.delay is not None
            at = origin + np.maximum(_delay_micros(exit_.delay, rnd.substream(key, 400 + j), index[taken]), 1)
        block = times[taken, : len(main)]
        block[block > at[:, None]] = NEVER  # the main path stops at the exit
        times[taken, : len(main)] = block
        times[taken, len(main) + j] = at
    return times


def state_at(times: np.ndarray, at: np.ndarray | int) -> np.ndarray:
    """Code (index into `column.states`) of each entity's state at time `at` (microseconds, inclusive); -1
    for an entity that has not started yet."""
    entered = np.where(times <= np.asarray(at).reshape(-1, 1), times, np.iinfo(np.int64).min)
    codes = np.argmax(entered, axis=1)
    started = times[:, 0] <= np.asarray(at)
    return np.where(started, codes, -1)


def events_between(times: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The events with start <= time < stop: (entity positions, state codes, times), by entity then time."""
    entity, code = np.nonzero((times >= start) & (times < stop) & (times != NEVER))
    when = times[entity, code]
    order = np.lexsort((when, entity))
    return entity[order], code[order], when[order]


def as_of_micros(column: LifecycleColumn, rows: Rows) -> int | np.ndarray:
    """The column's fixed as_of, else the rows' as-of time (the range end by default)."""
    if column.as_of is None:
        return rows.as_of
    moment = column.as_of.replace(tzinfo=None) if column.as_of.tzinfo is None else column.as_of.astimezone(dt.UTC).replace(tzinfo=None)
    delta = moment - dt.datetime.combine(EPOCH, dt.time())
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def start_micros(column: LifecycleColumn, rows: Rows) -> np.ndarray:
    start = to_numpy(rows.get(column.start)).astype(np.int64)
    return start * MICROS_PER_DAY if rows.spec.columns[column.start].type == "date" else start


def lifecycle(column: LifecycleColumn, rows: Rows, key: int) -> Values:
    times = lifecycle_events(column, start_micros(column, rows), key, rows.index)
    codes = state_at(times, as_of_micros(column, rows))
    labels = pa.array(column.states, type=pa.string())
    missing = codes < 0
    indices = pa.array(np.maximum(codes, 0).astype(np.int32), mask=missing if missing.any() else None)
    return pa.DictionaryArray.from_arrays(indices, labels)
