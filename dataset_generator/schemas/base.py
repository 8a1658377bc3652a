"""What every spec model shares: the column types, the model base, the column base and the read-only view of
a dataset that cross-reference checks use (so column families need not import the dataset model)."""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Mapping
from typing import Annotated, Literal, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .types import FLOAT_TYPES, SIGNED_TYPES, TIMESTAMP_TYPES, UNSIGNED_TYPES, is_decimal, normalize_type

# A type string of schemas/types.py, kept in its canonical spelling ("decimal(12,2)", "list<int32>").
ColumnType = Annotated[str, AfterValidator(normalize_type)]
INTEGER_TYPES = SIGNED_TYPES + UNSIGNED_TYPES
NUMERIC_TYPES = INTEGER_TYPES + FLOAT_TYPES
# Inclusive value range of each integer column type. Generators compute in int64, so uint64 reaches 2^63 - 1.
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "int8": (-(1 << 7), (1 << 7) - 1),
    "int16": (-(1 << 15), (1 << 15) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
    "uint8": (0, (1 << 8) - 1),
    "uint16": (0, (1 << 16) - 1),
    "uint32": (0, (1 << 32) - 1),
    "uint64": (0, (1 << 63) - 1),
}
TimeUnit = Literal["s", "ms", "us", "ns"]


def is_numeric_type(kind: str) -> bool:
    """Whether numeric generators make the type's values: numbers, decimals, durations and times of day."""
    return kind in NUMERIC_TYPES or is_decimal(kind) or kind in ("duration", "time")

# Names of tables, columns, parameters and partitions: they become paths and SQL identifiers.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_IDENTIFIER_LENGTH = 64


def identifier_problem(name: object) -> str | None:
    """Why `name` cannot name a table, column, parameter or partition (a phrase such as "must be a string"),
    or None when it can."""
    if not isinstance(name, str):
        return "must be a string"
    if len(name) > MAX_IDENTIFIER_LENGTH:
        return f"is {len(name)} characters long; at most {MAX_IDENTIFIER_LENGTH}"
    if not IDENTIFIER.fullmatch(name):
        return "must be letters, digits and '_' only, not starting with a digit"
    return None


class SpecModel(BaseModel):
    """Base of every spec model: unknown fields are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ParentView(Protocol):
    @property
    def table(self) -> str: ...


class TableView(Protocol):
    """What a column's cross-reference checks read of a table."""

    @property
    def columns(self) -> Mapping[str, ColumnBase]: ...

    @property
    def parent(self) -> ParentView | None: ...


class LookupTableView(Protocol):
    """What a column's cross-reference checks read of a lookup table (schemas/conditional.py)."""

    def keys(self) -> list[str]: ...

    def fields(self) -> set[str]: ...


class SpecView(Protocol):
    """What a column's cross-reference checks read of the dataset: its tables and lookup tables by name."""

    @property
    def tables(self) -> Mapping[str, TableView]: ...

    @property
    def lookup_tables(self) -> Mapping[str, LookupTableView]: ...


class Delay(SpecModel):
    """A lognormal delay in hours: `median` hours, spread `sigma` (log scale), never below `min` hours."""

    median: float = Field(gt=0.0)
    sigma: float = Field(0.5, ge=0.0, le=5.0)
    min: float = Field(0.0, ge=0.0)
    max: float | None = Field(None, gt=0.0)

    @model_validator(mode="after")
    def _check(self) -> Delay:
        check_finite(median=self.median, sigma=self.sigma, min=self.min, max=self.max)
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self



class ChangeStep(SpecModel):
    """A multiplicative lognormal step on the previous value at each change (a price change), clipped to
    [min, max] and rounded to `round` digits (each defaults to the column's own min/max/round)."""

    sigma: float = Field(gt=0.0, le=3.0)
    min: float | None = None
    max: float | None = None
    round: int | None = Field(None, ge=0, le=12)


class Correction(SpecModel):
    """What a row holds before its late correction: the value off by a relative error (normal, sd
    `relative_error`), or null (`missing: true`)."""

    relative_error: float | None = Field(None, gt=0.0, le=10.0)
    missing: bool = False
    round: int | None = Field(None, ge=0, le=12)  # digits of the wrong value (default: the column's round)

    @model_validator(mode="after")
    def _check(self) -> Correction:
        if (self.relative_error is None) == (not self.missing):
            raise ValueError("a correction needs exactly one of relative_error or missing: true")
        return self


class ChangeModel(SpecModel):
    """How a column's value changes after its row is created (generation/history.py):

    - `per_year` (+ optional `group`): change events at a Poisson rate per year after creation; each event
      re-draws the value (a new version: the same generator with its random keys mixed with the version).
      Columns of one `group` share their events and version (an address's street, city and postcode).
    - `per_year` + `step`: each event multiplies the previous value by a lognormal step (prices).
    - `p` + `after` + `correction`: a share `p` of the rows first arrives wrong (or null) and is corrected
      `after` hours (a lognormal delay) after creation.
    """

    per_year: float | None = Field(None, gt=0.0, le=10_000.0)
    group: str | None = None
    step: ChangeStep | None = None
    p: float | None = Field(None, gt=0.0, le=1.0)
    after: Delay | None = None
    correction: Correction | None = None

    @model_validator(mode="after")
    def _check(self) -> ChangeModel:
        late = (self.p, self.after, self.correction)
        if self.per_year is not None:
            if any(value is not None for value in late):
                raise ValueError("changes: give per_year (re-draws or steps) or p/after/correction (late corrections), not both")
            if self.step is not None and self.group is not None:
                raise ValueError("changes: a step model changes one column on its own; drop group")
        elif any(value is None for value in late):
            raise ValueError("changes needs per_year, or p, after and correction together")
        elif self.step is not None or self.group is not None:
            raise ValueError("changes: step and group go with per_year")
        return self

    @property
    def kind(self) -> str:
        if self.per_year is None:
            return "correction"
        return "step" if self.step is not None else "redraw"


class ColumnBase(SpecModel):
    type: ColumnType
    null_fraction: float = Field(0.0, ge=0.0, le=1.0)
    hidden: bool = False  # computed for other columns (templates, expressions) but not written
    nullable: bool = False  # may hold nulls besides null_fraction's (an expr's NULL, children_agg of no children)
    description: str = ""
    unit: TimeUnit | None = None  # timestamp/timestamptz: stored resolution (default us); duration: what 1 means
    tz: str | None = None  # timestamptz: the zone readers display it in (values are stored as UTC instants)
    changes: ChangeModel | None = None  # how the value changes after the row is created (schemas: history)

    @model_validator(mode="after")
    def _check_unit(self) -> ColumnBase:
        if self.unit is not None and self.type not in (*TIMESTAMP_TYPES, "duration"):
            raise ValueError(f"unit applies to timestamp, timestamptz and duration columns, not {self.type}")
        if self.type == "duration" and self.unit is None:
            raise ValueError("a duration column needs unit: s, ms, us or ns (what a value of 1 means)")
        if self.tz is not None and self.type != "timestamptz":
            raise ValueError(f"tz applies to timestamptz columns, not {self.type}")
        if self.tz is not None:
            check_time_zone(self.tz)
        return self

    # Each kind that reads other columns or tables says so here; schemas/validate.py only calls these.
    def dependencies(self, spec: SpecView, table: str) -> list[tuple[str, str]]:
        """The (table, column) values this column is computed from (for cycle detection)."""
        return []

    def reference_error(self, spec: SpecView, table: str) -> str | None:
        """What is wrong with the tables or columns this column refers to, or None."""
        return None


class Bounded(ColumnBase):
    """A numeric draw clipped to [min, max] and rounded to `round` digits."""

    min: float | None = None
    max: float | None = None
    round: int | None = Field(None, ge=0, le=12)


def check_time_zone(name: str) -> None:
    """A zone name the IANA database knows ("UTC", "Europe/Paris") or a fixed offset ("+02:00")."""
    if re.fullmatch(r"[+-]\d\d:\d\d", name):
        return
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"tz {name!r} is not a known time zone; use an IANA name such as 'UTC' or 'Europe/Paris'") from None


def check_finite(**values: float | None) -> None:
    """Refuse NaN and infinities (YAML's .nan/.inf) in numeric parameters."""
    for name, value in values.items():
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number (got {value})")


def check_weights(weights: list[float] | None, name: str, expected: int | None = None) -> None:
    """Weights are finite, non-negative, not all zero, and `expected` many when given."""
    if weights is None:
        return
    if expected is not None and len(weights) != expected:
        raise ValueError(f"{name} needs {expected} entries (got {len(weights)})")
    if any(not math.isfinite(weight) for weight in weights):
        raise ValueError(f"{name} must be finite numbers (got {weights})")
    if any(weight < 0 for weight in weights) or sum(weights) <= 0:
        raise ValueError(f"{name} must be non-negative and not all zero")


def check_integer_values(kind: str, values: list[object]) -> None:
    """Values listed for an integer column are whole numbers inside its type (an int8 `choice` of 1000 would wrap)."""
    if kind not in INTEGER_RANGES:
        return
    low, high = INTEGER_RANGES[kind]
    for value in values:
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not whole and not (isinstance(value, float) and value.is_integer()):
            raise ValueError(f"value {value!r} is not a whole number for a {kind} column")
        if not low <= value <= high:  # type: ignore[operator]
            raise ValueError(f"value {value!r} is outside the range of {kind} ({low}..{high})")


def column_of(spec: SpecView, table: str, column: str) -> ColumnBase | None:
    return spec.tables[table].columns.get(column)


def parent_table(spec: SpecView, table: str) -> str | None:
    parent = spec.tables[table].parent
    return None if parent is None else parent.table
