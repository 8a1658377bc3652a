"""Calendars and trends of a `time:` table: annual seasonality, named calendar events with multipliers and
spill-over days, and a growth trend (turned into rows per day by generation/calendar.py); and the
`calendar_event` column, the name of the event a timestamp's day belongs to.

Event days are computed by rule for every year (Black Friday is the day after the fourth Thursday of November),
never listed as dates.
"""

from __future__ import annotations

# Any here: raw input of a before-validator.
import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, model_validator

from .base import NUMERIC_TYPES, ColumnBase, ColumnType, SpecModel, SpecView, check_finite, check_weights


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (Monday = 0) of the month; n = -1 the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    last = following - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def easter(year: int) -> dt.date:
    """Western Easter Sunday (the anonymous Gregorian computus, as in Meeus' Astronomical Algorithms)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * leap) // 433
    month = (h + leap - 7 * m + 90) // 25
    return dt.date(year, month, (h + leap - 7 * m + 33 * month + 19) % 32)


def _fixed(month: int, day: int) -> Callable[[int], dt.date]:
    return lambda year: dt.date(year, month, day)


def _thanksgiving(year: int) -> dt.date:
    return _nth_weekday(year, 11, 3, 4)  # US: the fourth Thursday of November


# The built-in events: name -> the event's day in a year.
EVENT_RULES: dict[str, Callable[[int], dt.date]] = {
    "new_years_day": _fixed(1, 1),
    "presidents_day": lambda year: _nth_weekday(year, 2, 0, 3),  # US: third Monday of February
    "valentines_day": _fixed(2, 14),
    "st_patricks_day": _fixed(3, 17),
    "mothering_sunday": lambda year: easter(year) - dt.timedelta(days=21),  # UK: fourth Sunday of Lent
    "good_friday": lambda year: easter(year) - dt.timedelta(days=2),
    "easter": easter,
    "easter_monday": lambda year: easter(year) + dt.timedelta(days=1),
    "mothers_day": lambda year: _nth_weekday(year, 5, 6, 2),  # US, DE, IT, AU...: second Sunday of May
    "memorial_day": lambda year: _nth_weekday(year, 5, 0, -1),  # US: last Monday of May
    "fathers_day": lambda year: _nth_weekday(year, 6, 6, 3),  # US, UK: third Sunday of June
    "independence_day": _fixed(7, 4),
    "labor_day": lambda year: _nth_weekday(year, 9, 0, 1),  # US: first Monday of September
    "halloween": _fixed(10, 31),
    "singles_day": _fixed(11, 11),
    "thanksgiving": _thanksgiving,
    "black_friday": lambda year: _thanksgiving(year) + dt.timedelta(days=1),
    "cyber_monday": lambda year: _thanksgiving(year) + dt.timedelta(days=4),
    "christmas_eve": _fixed(12, 24),
    "christmas_day": _fixed(12, 25),
    "boxing_day": _fixed(12, 26),
    "new_years_eve": _fixed(12, 31),
}
MAX_SPILL_DAYS = 60


class CalendarEvent(SpecModel):
    """A day of the year with its own factor: a built-in `name` (computed by rule each year), or any name with
    `month`/`day` (every year) or `dates` (those days only)."""

    name: str
    multiplier: float = Field(ge=0)  # rows on the day relative to an ordinary day
    month: int | None = Field(None, ge=1, le=12)
    day: int | None = Field(None, ge=1, le=31)
    dates: list[dt.date] | None = None
    before_days: int = Field(0, ge=0, le=MAX_SPILL_DAYS)  # days before with part of the effect (a run-up)
    after_days: int = Field(0, ge=0, le=MAX_SPILL_DAYS)  # days after (a spill-over)
    spill: float = Field(0.5, ge=0, le=1)  # a day k days away gets 1 + (multiplier - 1) * spill^k

    @model_validator(mode="after")
    def _check(self) -> CalendarEvent:
        check_finite(multiplier=self.multiplier, spill=self.spill)
        custom = self.month is not None or self.day is not None or self.dates is not None
        if (self.month is None) != (self.day is None):
            raise ValueError("give month and day together")
        if self.month is not None and self.dates is not None:
            raise ValueError("give month/day or dates, not both")
        if self.month is not None and self.day is not None:
            dt.date(2024, self.month, self.day)  # a real day (2024 is a leap year: 02-29 is allowed)
        if not custom and self.name not in EVENT_RULES:
            raise ValueError(
                f"unknown calendar event {self.name!r}; built-in events: {', '.join(EVENT_RULES)} "
                "(or give month/day or dates for your own)"
            )
        return self

    def days(self, first_year: int, last_year: int) -> list[dt.date]:
        """The event's days in the years first_year..last_year."""
        if self.dates is not None:
            return list(self.dates)
        found = []
        for year in range(first_year, last_year + 1):
            if self.month is not None and self.day is not None:
                if self.month == 2 and self.day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
                    continue
                found.append(dt.date(year, self.month, self.day))
            else:
                found.append(EVENT_RULES[self.name](year))
        return found


class Seasonality(SpecModel):
    """An annual curve of rows per day: `monthly` (12 weights) or `day_of_year` (N weights spread evenly over
    the year), normalised to mean 1; `smooth` interpolates linearly between the points (mid-month for monthly),
    around the year's end too."""

    monthly: list[float] | None = None
    day_of_year: list[float] | None = None
    smooth: bool = True

    @model_validator(mode="after")
    def _check(self) -> Seasonality:
        if (self.monthly is None) == (self.day_of_year is None):
            raise ValueError("give exactly one of monthly (12 weights) or day_of_year (weights)")
        check_weights(self.monthly, "monthly", 12)
        check_weights(self.day_of_year, "day_of_year")
        if self.day_of_year is not None and not 2 <= len(self.day_of_year) <= 366:
            raise ValueError(f"day_of_year needs 2 to 366 weights (got {len(self.day_of_year)})")
        return self


class Trend(SpecModel):
    """Growth: rows per day are multiplied by (1 + annual_growth) ^ (years since the table's start)."""

    annual_growth: float = Field(gt=-1, le=100)

    @model_validator(mode="after")
    def _check(self) -> Trend:
        check_finite(annual_growth=self.annual_growth)
        return self


class CalendarEventColumn(ColumnBase):
    """The name of the calendar event on the `time` column's day (one of `events`), or null on other days; with
    `values`, a number per event name instead (`default` on other days). Spill-over days do not count."""

    gen: Literal["calendar_event"]
    type: ColumnType = "string"
    nullable: bool = False  # true for names (null on ordinary days); set by the model
    time: str  # a date or timestamp column of this table
    events: list[CalendarEvent | str] = Field(min_length=1)  # a built-in name is short for {name, multiplier: 1}
    values: dict[str, float] | None = None  # event name -> the column's value on its days (a numeric column)
    default: float = 0.0  # the value on other days, with values

    @model_validator(mode="before")
    @classmethod
    def _nullable_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("values") is None and "nullable" not in data:
            data = {**data, "nullable": True}  # names are null on ordinary days
        return data

    @model_validator(mode="after")
    def _check(self) -> CalendarEventColumn:
        if self.values is None and self.type != "string":
            raise ValueError("calendar_event gives event names (type string), or give values: for a number per event")
        if self.values is not None:
            if self.type not in NUMERIC_TYPES:
                raise ValueError(f"calendar_event with values: needs a numeric type (got {self.type})")
            check_finite(default=self.default, **self.values)
            names = {event if isinstance(event, str) else event.name for event in self.events}
            unknown = sorted(set(self.values) - names)
            if unknown:
                raise ValueError(f"values names {unknown[0]!r}, which is not one of events ({', '.join(sorted(names))})")
        for event in self.events:
            if isinstance(event, str) and event not in EVENT_RULES:
                raise ValueError(f"unknown calendar event {event!r}; built-in events: {', '.join(EVENT_RULES)}")
        return self

    def resolved_events(self) -> list[CalendarEvent]:
        return [CalendarEvent.model_validate({"name": event, "multiplier": 1.0}) if isinstance(event, str) else event for event in self.events]

    def dependencies(self, spec: SpecView, table: str) -> list[tuple[str, str]]:
        return [(table, self.time)]

    def reference_error(self, spec: SpecView, table: str) -> str | None:
        target = spec.tables[table].columns.get(self.time)
        if target is None:
            return f"calendar_event time {self.time!r}: no such column in table {table!r}"
        if target.type not in ("date", "timestamp"):
            return f"calendar_event time {self.time!r} must be a date or timestamp column (it is {target.type})"
        return None
