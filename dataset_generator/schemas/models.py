"""Typed models of the dataset spec language (what a YAML dataset file is validated into).

A spec is pure description: parameters are already substituted when these models are built, and
nothing random happens here. Column generators are a tagged union on `gen`.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ColumnType = Literal[
    "int8", "int16", "int32", "int64", "float32", "float64", "bool", "string", "date", "timestamp"
]
INTEGER_TYPES = ("int8", "int16", "int32", "int64")
FLOAT_TYPES = ("float32", "float64")
NUMERIC_TYPES = INTEGER_TYPES + FLOAT_TYPES


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_TEMPLATE_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::0?(\d+)d)?\}")


def template_fields(template: str) -> list[tuple[str, int | None]]:
    """(column, zero-pad width) for each `{column}` or `{column:04d}` placeholder."""
    return [(name, int(width) if width else None) for name, width in _TEMPLATE_FIELD.findall(template)]


@lru_cache(maxsize=1024)
def expr_columns(expr: str) -> tuple[str, ...]:
    """The columns a SQL expression reads (parsed by Polars, which also evaluates it)."""
    import polars as pl

    return tuple(pl.sql_expr(expr).meta.root_names())


class ColumnBase(_Model):
    type: ColumnType
    null_fraction: float = Field(0.0, ge=0.0, le=1.0)
    hidden: bool = False  # computed for other columns (templates, expressions) but not written
    nullable: bool = False  # may hold nulls besides null_fraction's (an expr's NULL, children_agg of no children)
    description: str = ""

    # Each kind that reads other columns or tables says so here; schemas/validate.py only calls these.
    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        """The (table, column) values this column is computed from (for cycle detection)."""
        return []

    def reference_error(self, spec: Any, table: str) -> str | None:
        """What is wrong with the tables or columns this column refers to, or None."""
        return None


class _Bounded(ColumnBase):
    min: float | None = None
    max: float | None = None
    round: int | None = Field(None, ge=0, le=12)


class SequenceColumn(ColumnBase):
    gen: Literal["sequence"]
    type: ColumnType = "int64"
    start: int = 1
    step: int = Field(1, ge=1)


class UniformColumn(_Bounded):
    gen: Literal["uniform"]
    low: float
    high: float  # inclusive for integer types, exclusive for floats

    @model_validator(mode="after")
    def _check_range(self) -> UniformColumn:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self


class NormalColumn(_Bounded):
    gen: Literal["normal"]
    mean: float
    std: float = Field(gt=0)


class LogNormalColumn(_Bounded):
    gen: Literal["lognormal"]
    mean: float  # of the underlying normal
    sigma: float = Field(gt=0)


class GammaColumn(_Bounded):
    gen: Literal["gamma"]
    shape: float = Field(gt=0)
    scale: float = Field(1.0, gt=0)


class PoissonColumn(_Bounded):
    gen: Literal["poisson"]
    type: ColumnType = "int64"
    lam: float = Field(gt=0)


class ZipfColumn(_Bounded):
    gen: Literal["zipf"]
    type: ColumnType = "int64"
    a: float = Field(1.2, gt=0)
    n: int = Field(1000, ge=1)  # values are ranks 1..n, rank 1 the most frequent


class ChoiceColumn(ColumnBase):
    gen: Literal["choice"]
    type: ColumnType = "string"
    values: list[Any] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _check_weights(self) -> ChoiceColumn:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if any(weight < 0 for weight in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative and not all zero")
        return self


class BooleanColumn(ColumnBase):
    gen: Literal["boolean"]
    type: ColumnType = "bool"
    p: float = Field(0.5, ge=0.0, le=1.0)


def _check_weights_len(weights: list[float] | None, expected: int, name: str) -> None:
    if weights is not None:
        if len(weights) != expected:
            raise ValueError(f"{name} needs {expected} entries (got {len(weights)})")
        if any(weight < 0 for weight in weights) or sum(weights) <= 0:
            raise ValueError(f"{name} must be non-negative and not all zero")


class _TimeWeights(ColumnBase):
    hour_weights: list[float] | None = None  # 24 entries, hour 0 first
    weekday_weights: list[float] | None = None  # 7 entries, Monday first

    @model_validator(mode="after")
    def _check_time_weights(self) -> _TimeWeights:
        _check_weights_len(self.hour_weights, 24, "hour_weights")
        _check_weights_len(self.weekday_weights, 7, "weekday_weights")
        return self


class DateColumn(_TimeWeights):
    gen: Literal["date"]
    type: ColumnType = "date"
    start: dt.date
    end: dt.date  # inclusive
    end_offset_days: int = 0  # e.g. -1 with end = the first order date: strictly before it

    @model_validator(mode="after")
    def _check_range(self) -> DateColumn:
        if self.end + dt.timedelta(days=self.end_offset_days) < self.start:
            raise ValueError(f"end ({self.end} {self.end_offset_days:+d} days) is before start ({self.start})")
        return self


class TimestampColumn(_TimeWeights):
    gen: Literal["timestamp"]
    type: ColumnType = "timestamp"
    start: dt.date
    end: dt.date  # inclusive: the whole end day

    @model_validator(mode="after")
    def _check_range(self) -> TimestampColumn:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class EventTimeColumn(_TimeWeights):
    """The table's time driver: the day comes from the table's `time` plan, the time of day from hour_weights."""

    gen: Literal["event_time"]
    type: ColumnType = "timestamp"


class UuidColumn(ColumnBase):
    gen: Literal["uuid"]
    type: ColumnType = "string"


class TemplateColumn(ColumnBase):
    gen: Literal["template"]
    type: ColumnType = "string"
    template: str  # "{first_name}.{last_name}@{domain}", "{n:04d}" zero-pads integer columns
    transform: Literal["none", "lower", "slug"] = "none"  # applied to substituted values, not literals

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        return [(table, name) for name, _ in template_fields(self.template)]

    def reference_error(self, spec: Any, table: str) -> str | None:
        fields = template_fields(self.template)
        if not fields and "{" in self.template:
            return f"template {self.template!r} has no valid {{column}} placeholder"
        missing = [name for name, _ in fields if name not in spec.tables[table].columns]
        return f"template refers to unknown column {missing[0]!r}" if missing else None


class FakerColumn(ColumnBase):
    gen: Literal["faker"]
    type: ColumnType = "string"
    provider: str  # a Faker provider method: first_name, last_name, city, street_name, company...
    locale: str | None = None  # default: the dataset's `locale` parameter, else en_US
    pool_size: int = Field(10_000, ge=1, le=1_000_000)


class ForeignKeyColumn(ColumnBase):
    gen: Literal["foreign_key"]
    type: ColumnType = "int64"
    table: str
    column: str
    distribution: Literal["uniform", "zipf", "cycle"] = "uniform"  # cycle: row r refers to row r % rows
    a: float = Field(1.1, gt=0)  # Zipf exponent

    def reference_error(self, spec: Any, table: str) -> str | None:
        target = spec.tables.get(self.table)
        if target is None:
            return f"foreign key to missing table {self.table!r}"
        if not isinstance(target.columns.get(self.column), SequenceColumn):
            return f"foreign key must reference a sequence column; {self.table}.{self.column} is not one"
        return None


class LookupColumn(ColumnBase):
    """The value of `column` in the row that the foreign key `via` points to."""

    gen: Literal["lookup"]
    via: str
    column: str

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        return [(table, self.via), (spec.tables[table].columns[self.via].table, self.column)]

    def reference_error(self, spec: Any, table: str) -> str | None:
        via = spec.tables[table].columns.get(self.via)
        if not isinstance(via, ForeignKeyColumn):
            return f"lookup via {self.via!r} must name a foreign_key column of this table"
        if via.table in spec.tables and self.column not in spec.tables[via.table].columns:
            return f"lookup column {self.column!r} does not exist in table {via.table!r}"
        return None


class ParentColumn(ColumnBase):
    """The value of `column` in this child row's parent row."""

    gen: Literal["parent"]
    column: str

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        return [(spec.tables[table].parent.table, self.column)]

    def reference_error(self, spec: Any, table: str) -> str | None:
        parent = spec.tables[table].parent
        if parent is None:
            return "gen parent needs the table to declare parent:"
        if parent.table in spec.tables and self.column not in spec.tables[parent.table].columns:
            return f"parent column {self.column!r} does not exist in table {parent.table!r}"
        return None


class ExprColumn(ColumnBase):
    """A SQL expression over the table's other columns, evaluated by Polars: `ROUND(qty * unit_price, 2)`."""

    gen: Literal["expr"]
    expr: str

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        return [(table, name) for name in expr_columns(self.expr)]

    def reference_error(self, spec: Any, table: str) -> str | None:
        try:
            names = expr_columns(self.expr)
        except Exception as exc:  # polars raises several exception types for bad SQL
            return f"expr {self.expr!r} is not a valid SQL expression ({str(exc).splitlines()[0]})"
        missing = [name for name in names if name not in spec.tables[table].columns]
        return f"expr refers to unknown column {missing[0]!r}" if missing else None


class ChildrenSumColumn(ColumnBase):
    """Sum of `column` over this row's children in the child table `table`."""

    gen: Literal["children_sum"]
    type: ColumnType = "float64"
    table: str
    column: str
    round: int | None = Field(None, ge=0, le=12)

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        return [(self.table, self.column)]

    def reference_error(self, spec: Any, table: str) -> str | None:
        child = spec.tables.get(self.table)
        if child is None or child.parent is None or child.parent.table != table:
            return f"children_sum needs {self.table!r} to be a child table of {table!r}"
        if self.column not in child.columns:
            return f"column {self.column!r} does not exist in table {self.table!r}"
        return None


# --- Series, structure and aggregate generators (issue 7). Each class names the columns it reads
# (`dependencies`) and checks them (`reference_error`), so validate.py needs no per-kind code.


def _column_of(spec: Any, table: str, column: str) -> Any:
    return spec.tables[table].columns.get(column)


def _parent_table(spec: Any, table: str) -> str | None:
    parent = spec.tables[table].parent
    return None if parent is None else parent.table


class RoundRobinColumn(ColumnBase):
    """values[row % len(values)]: each value in turn, e.g. one row per symbol of a dimension table."""

    gen: Literal["round_robin"]
    type: ColumnType = "string"
    values: list[Any] = Field(min_length=1)


class DayStartColumn(EventTimeColumn):
    """A time driver at a fixed time of day: the row's day (type date) or that day at `at` (type timestamp)."""

    gen: Literal["day_start"]  # type: ignore[assignment]
    at: dt.time = dt.time(0, 0)

    @model_validator(mode="after")
    def _check_type(self) -> DayStartColumn:
        if self.type not in ("date", "timestamp"):
            raise ValueError(f"day_start needs type date or timestamp (got {self.type})")
        return self


class PositionColumn(ColumnBase):
    """The row's position among its parent's children: start, start + 1, ..."""

    gen: Literal["position"]
    type: ColumnType = "int64"
    start: int = 0

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        return []

    def reference_error(self, spec: Any, table: str) -> str | None:
        return None if _parent_table(spec, table) else "gen position needs the table to declare parent:"


class ChildTimeColumn(ColumnBase):
    """A timestamp inside the parent's time slot: parent `start` + position * every_seconds, or the
    slot span_seconds split evenly among the siblings (with `jitter`, at a sorted random point of each share)."""

    gen: Literal["child_time"]
    type: ColumnType = "timestamp"
    start: str  # a date or timestamp column of the parent table
    every_seconds: float | None = Field(None, gt=0)
    span_seconds: float | None = Field(None, gt=0)
    jitter: bool = False

    @model_validator(mode="after")
    def _check_step(self) -> ChildTimeColumn:
        if (self.every_seconds is None) == (self.span_seconds is None):
            raise ValueError("give exactly one of every_seconds or span_seconds")
        return self

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        parent = _parent_table(spec, table)
        return [(parent, self.start)] if parent else []

    def reference_error(self, spec: Any, table: str) -> str | None:
        parent = _parent_table(spec, table)
        if parent is None:
            return "gen child_time needs the table to declare parent:"
        start = _column_of(spec, parent, self.start)
        if start is None:
            return f"start column {self.start!r} does not exist in parent table {parent!r}"
        if start.type not in ("date", "timestamp"):
            return f"start column {parent}.{self.start} must be a date or timestamp (it is {start.type})"
        return None


class ChildrenAggColumn(ColumnBase):
    """An aggregate of `column` over this row's children in `table`; min/max/mean/first/last of no children is null."""

    gen: Literal["children_agg"]
    type: ColumnType = "float64"
    table: str
    column: str
    agg: Literal["sum", "min", "max", "mean", "count", "first", "last"]
    round: int | None = Field(None, ge=0, le=12)

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        return [] if self.agg == "count" else [(self.table, self.column)]

    def reference_error(self, spec: Any, table: str) -> str | None:
        child = spec.tables.get(self.table)
        if child is None or child.parent is None or child.parent.table != table:
            return f"children_agg needs {self.table!r} to be a child table of {table!r}"
        target = child.columns.get(self.column)
        if target is None:
            return f"column {self.column!r} does not exist in table {self.table!r}"
        if self.agg != "count" and target.type not in (*NUMERIC_TYPES, "bool", "date", "timestamp"):
            return f"agg {self.agg} needs a numeric column; {self.table}.{self.column} is {target.type}"
        return None


def _numeric_refs(table: str, *values: float | str | None) -> list[tuple[str, str]]:
    return [(table, value) for value in values if isinstance(value, str)]


class RandomWalkColumn(ColumnBase):
    """`stride` interleaved walks: rows g, g + stride, g + 2*stride, ... form walk g. The value is the level
    before this row's step; `walk_next` gives the level after it. String parameters name columns of this
    table, read at the walk's first row. Cost per row is constant: levels are saved every 1,024 steps (once per process) and re-summed from there."""

    gen: Literal["random_walk"]
    type: ColumnType = "float64"
    stride: int = Field(1, ge=1)
    start: float | str = 0.0
    drift: float | str = 0.0  # per step (of the log for geometric walks)
    volatility: float | str = 1.0  # standard deviation per step
    geometric: bool = False  # start * exp(walk), with drift - volatility^2/2 so `drift` is the mean growth
    round: int | None = Field(None, ge=0, le=12)

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        return _numeric_refs(table, self.start, self.drift, self.volatility)

    def reference_error(self, spec: Any, table: str) -> str | None:
        for _, name in self.dependencies(spec, table):
            if _column_of(spec, table, name) is None:
                return f"random_walk refers to unknown column {name!r}"
        return None


class BrownianBridgeColumn(ColumnBase):
    """A path through the parent's children from the parent's `start` value to its `end` value: the level
    before each child's step (`walk_next` gives the level after it, so the first child starts exactly at
    `start` and the last ends exactly at `end`). String parameters name columns of the parent table."""

    gen: Literal["brownian_bridge"]
    type: ColumnType = "float64"
    start: str
    end: str
    volatility: float | str = 1.0  # standard deviation per child step (of the log for geometric paths)
    geometric: bool = False
    round: int | None = Field(None, ge=0, le=12)

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        parent = _parent_table(spec, table)
        return _numeric_refs(parent, self.start, self.end, self.volatility) if parent else []

    def reference_error(self, spec: Any, table: str) -> str | None:
        parent = _parent_table(spec, table)
        if parent is None:
            return "gen brownian_bridge needs the table to declare parent:"
        for _, name in self.dependencies(spec, table):
            if _column_of(spec, parent, name) is None:
                return f"brownian_bridge refers to unknown column {name!r} of parent table {parent!r}"
        return None


class WalkNextColumn(ColumnBase):
    """The level after this row's step of the random_walk or brownian_bridge column `of`."""

    gen: Literal["walk_next"]
    type: ColumnType = "float64"
    of: str

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        return [(table, self.of)]

    def reference_error(self, spec: Any, table: str) -> str | None:
        target = _column_of(spec, table, self.of)
        if not isinstance(target, (RandomWalkColumn, BrownianBridgeColumn)):
            return f"walk_next of {self.of!r} must name a random_walk or brownian_bridge column of this table"
        return None


class CycleColumn(ColumnBase):
    """offset + amplitude * cos(2 pi (phase - peak) / period) of a timestamp column: 1 at the peak, -1 half
    a period away. `peak` is an hour of the day (period day), an hour of the week from Monday 00:00
    (period week) or a day of the year (period year, 1 = January 1st, years of 365.2425 days)."""

    gen: Literal["cycle"]
    type: ColumnType = "float64"
    time: str
    period: Literal["day", "week", "year"]
    peak: float = 0.0
    amplitude: float = 1.0
    offset: float = 0.0
    round: int | None = Field(None, ge=0, le=12)

    def dependencies(self, spec: Any, table: str) -> list[tuple[str, str]]:
        return [(table, self.time)]

    def reference_error(self, spec: Any, table: str) -> str | None:
        target = _column_of(spec, table, self.time)
        if target is None:
            return f"cycle time column {self.time!r} does not exist"
        if target.type not in ("timestamp", "date"):
            return f"cycle time column {self.time!r} must be a timestamp or date (it is {target.type})"
        return None


Column = Annotated[
    SequenceColumn
    | UniformColumn
    | NormalColumn
    | LogNormalColumn
    | GammaColumn
    | PoissonColumn
    | ZipfColumn
    | ChoiceColumn
    | BooleanColumn
    | DateColumn
    | TimestampColumn
    | EventTimeColumn
    | UuidColumn
    | TemplateColumn
    | FakerColumn
    | ForeignKeyColumn
    | LookupColumn
    | ParentColumn
    | ExprColumn
    | ChildrenSumColumn
    | RoundRobinColumn
    | DayStartColumn
    | PositionColumn
    | ChildTimeColumn
    | ChildrenAggColumn
    | RandomWalkColumn
    | BrownianBridgeColumn
    | WalkNextColumn
    | CycleColumn,
    Field(discriminator="gen"),
]


class TimeSpec(_Model):
    """Rows spread over days: `per_day` rows each day (shaped by weekday weights and noise), or `rows` in total."""

    column: str
    start: dt.date
    end: dt.date  # inclusive
    per_day: float | None = Field(None, ge=0)
    rows: int | None = Field(None, ge=0)
    weekday_weights: list[float] | None = None
    daily_noise: float = Field(0.0, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _check(self) -> TimeSpec:
        if (self.per_day is None) == (self.rows is None):
            raise ValueError("give exactly one of per_day or rows")
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        _check_weights_len(self.weekday_weights, 7, "weekday_weights")
        return self


class ChildCount(_Model):
    distribution: Literal["poisson", "uniform", "fixed"] = "poisson"
    lam: float | None = Field(None, gt=0)
    low: int | None = Field(None, ge=0)
    high: int | None = Field(None, ge=0)
    value: int | None = Field(None, ge=0)
    min: int = Field(0, ge=0)
    max: int = Field(1_000, ge=0)

    @model_validator(mode="after")
    def _check(self) -> ChildCount:
        needed = {"poisson": ("lam",), "uniform": ("low", "high"), "fixed": ("value",)}[self.distribution]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"distribution {self.distribution} needs {', '.join(missing)}")
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class ParentSpec(_Model):
    table: str
    count: ChildCount


class TableSpec(_Model):
    description: str = ""
    rows: int | None = Field(None, ge=0)
    time: TimeSpec | None = None
    parent: ParentSpec | None = None
    partition_by: list[Literal["year", "month", "day"]] = Field(default_factory=list)
    columns: dict[str, Column] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> TableSpec:
        given = [name for name in ("rows", "time", "parent") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of rows, time or parent (got {', '.join(given) or 'none'})")
        if self.partition_by and self.rows is not None:
            raise ValueError("partition_by needs a time-driven table (time:) or a child of one (parent:)")
        if self.partition_by != ["year", "month", "day"][: len(self.partition_by)]:
            raise ValueError("partition_by must be a prefix of [year, month, day]")
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


class ParameterSpec(_Model):
    type: Literal["int", "float", "str", "date", "bool"]
    default: Any
    scale: bool = False  # multiplied by --scale (sizes)
    min: float | None = None
    description: str = ""


class DatasetSpec(_Model):
    name: str
    description: str = ""
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    tables: dict[str, TableSpec] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError("name may hold letters, digits, '-' and '_' only")
        return value
