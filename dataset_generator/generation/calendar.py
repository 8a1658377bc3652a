"""Calendars of `time:` tables: each day's factor of rows (weekday × seasonality × events × trend), one number
per day, and the days of calendar events (for generation/calendar_events.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..schemas.calendar import CalendarEvent, Seasonality, Trend
from ..schemas.dataset import TimeSpec
from . import libm

EPOCH = dt.date(1970, 1, 1)


def weekday_factors(first_day: int, days: int, weekday_weights: list[float] | None) -> np.ndarray:
    """Relative weight of each day; 1970-01-01 was a Thursday (weekday 3, Monday = 0)."""
    if weekday_weights is None:
        return np.ones(days)
    weights = np.asarray(weekday_weights, dtype=np.float64)
    weights = weights / weights.mean()
    return weights[(np.arange(first_day, first_day + days) + 3) % 7]


def day_factors(time: TimeSpec, first_day: int, days: int) -> np.ndarray:
    """Each day's factor of rows: weekday weights × seasonality × calendar events × trend."""
    factors = weekday_factors(first_day, days, time.weekday_weights)
    if time.seasonality is not None:
        factors = factors * seasonal_factors(time.seasonality, first_day, days)
    if time.events:
        factors = factors * event_factors(time.events, first_day, days)
    if time.trend is not None:
        factors = factors * trend_factors(time.trend, days)
    return factors


def _year_position(first_day: int, days: int) -> np.ndarray:
    """Each day's position in its year, in [0, 1): (day of year - 0.5) / days in the year (its middle)."""
    numbers = np.arange(first_day, first_day + days, dtype=np.int64).astype("datetime64[D]")
    years = numbers.astype("datetime64[Y]")
    starts = years.astype("datetime64[D]")
    lengths = ((years + 1).astype("datetime64[D]") - starts).astype(np.int64)
    return ((numbers - starts).astype(np.int64) + 0.5) / lengths


def seasonal_factors(season: Seasonality, first_day: int, days: int) -> np.ndarray:
    weights = np.asarray(season.monthly if season.monthly is not None else season.day_of_year, dtype=np.float64)
    weights = weights / weights.mean()
    if season.monthly is not None and not season.smooth:
        months = np.arange(first_day, first_day + days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]")
        return weights[months.astype(np.int64) % 12]
    position = _year_position(first_day, days) * len(weights)  # point k sits at k + 0.5
    if not season.smooth:
        return weights[np.minimum(position.astype(np.int64), len(weights) - 1)]
    # Linear between neighbouring points, around the year's end too (December's point joins January's).
    left = np.floor(position - 0.5).astype(np.int64)
    share = position - 0.5 - left
    return weights[left % len(weights)] * (1 - share) + weights[(left + 1) % len(weights)] * share


def event_factors(events: list[CalendarEvent], first_day: int, days: int) -> np.ndarray:
    """Product of every event's factor: the multiplier on its day, 1 + (multiplier - 1) × spill^k k days away."""
    factors = np.ones(days)
    first = EPOCH + dt.timedelta(days=first_day)
    last = first + dt.timedelta(days=days - 1)
    for event in events:
        for day in event.days(first.year - 1, last.year + 1):
            centre = (day - EPOCH).days - first_day
            if centre + event.after_days < 0 or centre - event.before_days >= days:
                continue
            offsets = np.arange(-event.before_days, event.after_days + 1)
            positions = centre + offsets
            inside = (positions >= 0) & (positions < days)
            effect = 1.0 + (event.multiplier - 1.0) * libm.power(event.spill, np.abs(offsets))
            factors[positions[inside]] *= effect[inside]
    return factors


def trend_factors(trend: Trend, days: int) -> np.ndarray:
    return libm.power(1.0 + trend.annual_growth, np.arange(days, dtype=np.float64) / 365.25)


def event_days(events: list[CalendarEvent], first_day: int, last_day: int) -> tuple[np.ndarray, list[str]]:
    """(day numbers, event position) of every event day between two day numbers, sorted by day."""
    first = EPOCH + dt.timedelta(days=first_day)
    last = EPOCH + dt.timedelta(days=last_day)
    found: dict[int, int] = {}
    for position, event in enumerate(events):
        for day in event.days(first.year, last.year):
            found.setdefault((day - EPOCH).days, position)  # two events on one day: the first listed
    ordered = sorted(found)
    return np.asarray(ordered, dtype=np.int64), [events[found[day]].name for day in ordered]

