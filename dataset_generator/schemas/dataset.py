"""Spec models of a dataset, its tables (plain, time-driven or children of a parent) and its parameters."""

from __future__ import annotations

# Any here: Any: raw input of before-validators; a parameter's default.
import datetime as dt
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from .base import SpecModel, check_finite, check_weights, identifier_problem
from .calendar import CalendarEvent, Seasonality, Trend
from .columns import Column
from .conditional import LookupTableSpec
from .counts import Amount, Count, ListLength
from .history import HistorySpec
from .temporal import EventTimeColumn

PARTITION_COLUMNS = ("year", "month", "day")


# Exchange calendars (generation/exchange.py): nyse (holidays, early closes) or crypto (24/7).
Exchange = Literal["nyse", "crypto"]
FULL_SESSION_MINUTES = {"nyse": 390, "crypto": 1440}


class TimeSpec(SpecModel):
    """Rows spread over days: `per_day` rows each day (shaped by weekday weights and noise), or `rows` in total.
    With `exchange`, days the exchange is closed (weekends, holidays) get no rows; open days keep their counts."""

    column: str
    start: dt.date
    end: dt.date  # inclusive
    per_day: Amount | None = Field(None, ge=0)
    rows: Count | None = None
    weekday_weights: list[float] | None = None
    daily_noise: float = Field(0.0, ge=0.0, lt=1.0)
    # Calendars and trends (schemas/calendar.py): factors of rows per day, multiplied with the weekday's.
    seasonality: Seasonality | None = None
    events: list[CalendarEvent] = Field(default_factory=list)
    trend: Trend | None = None
    exchange: Exchange | None = None

    @model_validator(mode="after")
    def _check(self) -> TimeSpec:
        check_finite(per_day=self.per_day)
        if (self.per_day is None) == (self.rows is None):
            raise ValueError("give exactly one of per_day or rows")
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        check_weights(self.weekday_weights, "weekday_weights", 7)
        return self


class ChildCount(ListLength):
    """Children per parent row: poisson (lam), uniform (low..high), fixed (value), or session: one child every
    `every_minutes` of the parent's trading session on `exchange` (the parent must be a time-driven table)."""

    distribution: Literal["poisson", "uniform", "fixed", "session"] = "poisson"  # type: ignore[assignment]
    exchange: Exchange | None = None
    every_minutes: int | None = Field(None, ge=1)
    # poisson: a numeric column of the parent table; children go to a block's parents in proportion to it
    # (mean children of a parent: min + (lam - min) x weight / the block's mean weight).
    weight: str | None = None

    _needed: ClassVar[dict[str, tuple[str, ...]]] = {**ListLength._needed, "session": ("exchange", "every_minutes")}

    def _check_more(self) -> None:
        if self.weight is not None and self.distribution != "poisson":
            raise ValueError(f"weight works with distribution poisson only (got {self.distribution})")

    def _mean(self) -> float:
        if self.distribution == "session":
            return float(FULL_SESSION_MINUTES[self.exchange or "nyse"] // (self.every_minutes or 1))
        return super()._mean()


class ParentSpec(SpecModel):
    table: str
    count: ChildCount


def _check_names(kind: str, names: Any) -> Any:
    if isinstance(names, dict):
        for name in names:
            problem = identifier_problem(name)
            if problem:
                raise ValueError(f"{kind} {str(name)[:80]!r} {problem}")
    return names


class TableSpec(SpecModel):
    description: str = ""
    hidden: bool = False  # never written (not in the plan's files), but foreign keys and lookups may read it
    rows: Count | None = None
    time: TimeSpec | None = None
    parent: ParentSpec | None = None
    partition_by: list[Literal["year", "month", "day"]] = Field(default_factory=list)
    columns: dict[str, Column] = Field(min_length=1)
    checks: list[str] = Field(default_factory=list)  # SQL predicates over the table, evaluated by `validate`
    history: HistorySpec | None = None  # row identity, creation and deletion (generation/history.py)

    @field_validator("columns", mode="before")
    @classmethod
    def _check_column_names(cls, value: Any) -> Any:
        return _check_names("column", value)

    @model_validator(mode="after")
    def _check(self) -> TableSpec:
        given = [name for name in ("rows", "time", "parent") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of rows, time or parent (got {', '.join(given) or 'none'})")
        if self.partition_by and self.rows is not None:
            raise ValueError("partition_by needs a time-driven table (time:) or a child of one (parent:)")
        if self.partition_by != ["year", "month", "day"][: len(self.partition_by)]:
            raise ValueError("partition_by must be a prefix of [year, month, day]")
        clash = [name for name in self.partition_by if name in self.visible_columns]  # hidden ones are not written
        if clash:
            raise ValueError(
                f"column {clash[0]!r} has the name of a partition column (partition_by: {', '.join(self.partition_by)}); "
                "rename the column"
            )
        if self.time is not None:
            column = self.columns.get(self.time.column)
            if column is None:
                raise ValueError(f"time.column {self.time.column!r} is not a column of this table")
            if not isinstance(column, EventTimeColumn):
                raise ValueError(f"time.column {self.time.column!r} must use gen: event_time")
        return self

    @property
    def visible_columns(self) -> list[str]:
        return [name for name, column in self.columns.items() if not column.hidden]


class ParameterSpec(SpecModel):
    type: Literal["int", "float", "str", "date", "bool"]
    default: Any
    scale: bool = False  # multiplied by --scale (sizes)
    min: float | None = None
    description: str = ""


class DatasetSpec(SpecModel):
    name: str
    description: str = ""
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    tables: dict[str, TableSpec] = Field(min_length=1)
    checks: list[str] = Field(default_factory=list)  # SQL predicates across tables, evaluated by `validate`
    lookup_tables: dict[str, LookupTableSpec] = Field(default_factory=dict)  # reference rows read by table_lookup

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError("name may hold letters, digits, '-' and '_' only")
        return value

    @field_validator("tables", mode="before")
    @classmethod
    def _check_table_names(cls, value: Any) -> Any:
        return _check_names("table", value)

    @field_validator("parameters", mode="before")
    @classmethod
    def _check_parameter_names(cls, value: Any) -> Any:
        return _check_names("parameter", value)

    @field_validator("lookup_tables", mode="before")
    @classmethod
    def _check_lookup_names(cls, value: Any) -> Any:
        return _check_names("lookup table", value)
