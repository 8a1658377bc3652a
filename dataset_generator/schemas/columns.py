"""The column union of the spec language: every `gen:` kind, tagged on `gen`, from its family module."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .derived import ExprColumn
from .keys import ChildrenSumColumn, ForeignKeyColumn, LookupColumn, ParentColumn, SequenceColumn
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
from .series import BrownianBridgeColumn, CycleColumn, RandomWalkColumn, WalkNextColumn
from .structure import ChildrenAggColumn, ChildTimeColumn, DayStartColumn, PositionColumn, RoundRobinColumn
from .temporal import DateColumn, EventTimeColumn, TimestampColumn
from .text import FakerColumn, TemplateColumn, UuidColumn

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
    | ListColumn
    | StructColumn,
    Field(discriminator="gen"),
]

# Elements and fields are columns themselves: the nested models resolve their forward name here.
ListColumn.model_rebuild(_types_namespace={"ElementColumn": Column})
StructColumn.model_rebuild(_types_namespace={"ElementColumn": Column})
