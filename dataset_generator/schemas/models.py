"""The spec language in one import: every model of a dataset spec (what a YAML dataset file is validated into).

A spec is pure description: parameters are already substituted when these models are built, and nothing
random happens here. The models live by family, mirroring `generation/`: `keys`, `numeric`, `temporal`,
`text`, `derived`, `structure`, `series`; the column union is in `columns`, the dataset, table and parameter
models in `dataset`, what they share in `base`.
"""

from __future__ import annotations

from .base import (
    FLOAT_TYPES,
    INTEGER_RANGES,
    INTEGER_TYPES,
    NUMERIC_TYPES,
    Bounded,
    ColumnBase,
    ColumnType,
    SpecModel,
    SpecView,
)
from .columns import Column
from .dataset import ChildCount, DatasetSpec, ParameterSpec, ParentSpec, TableSpec, TimeSpec
from .derived import ExprColumn, expr_columns
from .keys import ChildrenSumColumn, ForeignKeyColumn, LookupColumn, ParentColumn, SequenceColumn
from .numeric import (
    BooleanColumn,
    ChoiceColumn,
    GammaColumn,
    LogNormalColumn,
    NormalColumn,
    NumericColumn,
    PoissonColumn,
    UniformColumn,
    ZipfColumn,
)
from .series import BrownianBridgeColumn, CycleColumn, RandomWalkColumn, WalkNextColumn
from .structure import ChildrenAggColumn, ChildTimeColumn, DayStartColumn, PositionColumn, RoundRobinColumn
from .temporal import DateColumn, EventTimeColumn, TimestampColumn, TimeWeights
from .text import FakerColumn, TemplateColumn, UuidColumn, template_fields

__all__ = [
    "FLOAT_TYPES", "INTEGER_RANGES", "INTEGER_TYPES", "NUMERIC_TYPES", "BooleanColumn", "Bounded",
    "BrownianBridgeColumn", "ChildCount", "ChildTimeColumn", "ChildrenAggColumn", "ChildrenSumColumn",
    "ChoiceColumn", "Column", "ColumnBase", "ColumnType", "CycleColumn", "DatasetSpec", "DateColumn",
    "DayStartColumn", "EventTimeColumn", "ExprColumn", "FakerColumn", "ForeignKeyColumn", "GammaColumn",
    "LogNormalColumn", "LookupColumn", "NormalColumn", "NumericColumn", "ParameterSpec", "ParentColumn",
    "ParentSpec", "PoissonColumn", "PositionColumn", "RandomWalkColumn", "RoundRobinColumn", "SequenceColumn",
    "SpecModel", "SpecView", "TableSpec", "TemplateColumn", "TimeSpec", "TimeWeights", "TimestampColumn",
    "UniformColumn", "UuidColumn", "WalkNextColumn", "ZipfColumn", "expr_columns", "template_fields",
]  # fmt: skip
