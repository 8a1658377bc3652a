"""The column union of the spec language: every `gen:` kind, tagged on `gen`, from its family module."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import ColumnBase
from .calendar import CalendarEventColumn
from .conditional import SwitchBase, TableLookupColumn
from .derived import ExprColumn
from .entities import LifecycleColumn, PopularityColumn
from .history import WaitingTimeColumn
from .keys import ChildrenSumColumn, ForeignKeyColumn, LookupColumn, ParentColumn, SequenceColumn
from .market import MarketReferenceColumn, QuotePriceColumn
from .nested import ListColumn, StructColumn
from .numeric import (
    BooleanColumn,
    ChoiceColumn,
    GammaColumn,
    LogNormalColumn,
    NormalColumn,
    PoissonColumn,
    UniformColumn,
    ZipfColumn,
)
from .people import CountryColumn, PersonColumn
from .places import PlaceColumn
from .processes import Ar1Column, MarkovColumn
from .series import BrownianBridgeColumn, CycleColumn, RandomWalkColumn, WalkNextColumn
from .shocks import GarchColumn, KeyedRandomColumn
from .structure import ChildrenAggColumn, ChildTimeColumn, DayStartColumn, PositionColumn, RoundRobinColumn
from .temporal import DateColumn, EventTimeColumn, TimestampColumn
from .text import FakerColumn, TemplateColumn, UuidColumn


class SwitchColumn(SwitchBase):
    """A column whose generator depends on the value of the `by` column: `cases` maps each value (as text) to
    a column spec without `type` (it takes the switch's), `default` covers the other values."""

    cases: dict[str, Column] = Field(min_length=1)
    default: Column | None = None

    def branches(self) -> dict[str, ColumnBase]:
        found: dict[str, ColumnBase] = dict(self.cases)
        if self.default is not None:
            found[""] = self.default
        return found


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
    | CycleColumn
    | KeyedRandomColumn
    | GarchColumn
    | MarketReferenceColumn
    | QuotePriceColumn
    | PopularityColumn
    | LifecycleColumn
    | WaitingTimeColumn
    | TableLookupColumn
    | SwitchColumn
    | CalendarEventColumn
    | CountryColumn
    | PersonColumn
    | Ar1Column
    | MarkovColumn
    | PlaceColumn
    | ListColumn
    | StructColumn,
    Field(discriminator="gen"),
]


# Elements and fields are columns themselves: the nested models resolve their forward name here.
ListColumn.model_rebuild(_types_namespace={"ElementColumn": Column})
StructColumn.model_rebuild(_types_namespace={"ElementColumn": Column})
SwitchColumn.model_rebuild()
