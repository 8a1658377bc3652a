"""Dates and timestamps: uniform or weighted by weekday, time of day weighted by hour."""

from __future__ import annotations

import numpy as np

from ..schemas.temporal import DateColumn, EventTimeColumn, TimestampColumn, TimeWeights
from . import random as rnd
from .calendar import weekday_factors
from .convert import Values
from .layout import TimeLayout, day_number
from .rows import Rows

MICROS_PER_DAY = 86_400 * 1_000_000
MICROS_PER_HOUR = 3_600 * 1_000_000


def pick_day(key: int, index: np.ndarray, first_day: int, last_day: int, weekday_weights: list[float] | None) -> np.ndarray:
    days = last_day - first_day + 1
    if weekday_weights is None:
        return first_day + np.floor(rnd.uniform(key, index) * days).astype(np.int64)
    return first_day + rnd.weighted_index(key, index, weekday_factors(first_day, days, weekday_weights))


def time_of_day(column: TimeWeights, key: int, index: np.ndarray) -> np.ndarray:
    """Microseconds since midnight, with hours drawn by hour_weights."""
    if column.hour_weights is None:
        return np.floor(rnd.uniform(rnd.substream(key, 1), index) * MICROS_PER_DAY).astype(np.int64)
    hours = rnd.weighted_index(rnd.substream(key, 1), index, np.asarray(column.hour_weights))
    within = np.floor(rnd.uniform(rnd.substream(key, 2), index) * MICROS_PER_HOUR).astype(np.int64)
    return hours * MICROS_PER_HOUR + within


def date(column: DateColumn, rows: Rows, key: int) -> Values:
    last = day_number(column.end) + column.end_offset_days
    return pick_day(key, rows.index, day_number(column.start), last, column.weekday_weights)


def timestamp(column: TimestampColumn, rows: Rows, key: int) -> Values:
    days = pick_day(key, rows.index, day_number(column.start), day_number(column.end), column.weekday_weights)
    return days * MICROS_PER_DAY + time_of_day(column, key, rows.index)


def event_time(column: EventTimeColumn, rows: Rows, key: int) -> Values:
    layout = rows.runtime.layouts[rows.table]
    assert isinstance(layout, TimeLayout)
    return layout.day_of(rows.index) * MICROS_PER_DAY + time_of_day(column, key, rows.index)
