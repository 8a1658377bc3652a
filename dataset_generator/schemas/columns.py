"""The column union of the spec language: every `gen:` kind, tagged on `gen`, from its family module."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .derived import ExprColumn
from .keys import ChildrenSumColumn, ForeignKeyColumn, LookupColumn, ParentColumn, SequenceColumn
from .market import MarketReferenceColumn, QuotePriceColumn
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
from .processes import GarchColumn, KeyedRandomColumn
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
    | KeyedRandomColumn
    | GarchColumn
    | MarketReferenceColumn
    | QuotePriceColumn,
    Field(discriminator="gen"),
]
