"""Integer columns whose values depend on row counts (sequences and the foreign keys into them) checked against
their column type, so nothing wraps silently: an int8 sequence of 1,000 rows is an error, not 256 keys."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import SpecError
from .base import INTEGER_RANGES
from .dataset import DatasetSpec
from .keys import ForeignKeyColumn, SequenceColumn
from .structure import ChildrenAggColumn, PositionColumn


def sequence_span(column: SequenceColumn, rows: int) -> tuple[int, int]:
    """The first and last value of a sequence over `rows` rows (Python integers: they never wrap)."""
    return column.start, column.start + max(rows - 1, 0) * column.step


def integer_range_problem(kind: str, low: int, high: int) -> str | None:
    """Why values low..high do not fit integer type `kind`, or None (also None for non-integer types)."""
    if kind not in INTEGER_RANGES:
        return None
    type_low, type_high = INTEGER_RANGES[kind]
    if low < type_low or high > type_high:
        return f"values reach {low:,}..{high:,}, beyond {kind} ({type_low:,}..{type_high:,}); use a wider type"
    return None


def check_integer_ranges(spec: DatasetSpec, rows: Mapping[str, int], source: str) -> None:
    """Check every sequence of a table in `rows` (table -> row count), every foreign key into one, and the
    positions and child counts of every table (bounded by the child count's `max`).

    Raises:
        SpecError: naming the table and column whose values leave their type.
    """
    for table_name, table in spec.tables.items():
        for column_name, column in table.columns.items():
            problem = None
            if isinstance(column, SequenceColumn) and table_name in rows:
                problem = integer_range_problem(column.type, *sequence_span(column, rows[table_name]))
            elif isinstance(column, ForeignKeyColumn) and column.table in rows:
                target = spec.tables[column.table].columns.get(column.column)
                if isinstance(target, SequenceColumn):
                    span = sequence_span(target, rows[column.table])
                    problem = integer_range_problem(column.type, *span)
                    if problem:
                        problem = f"keys of {column.table}.{column.column} reach {span[1]:,}, beyond {column.type}"
            elif isinstance(column, (PositionColumn, ChildrenAggColumn)):
                problem = _child_count_problem(spec, table_name, column)
            if problem:
                raise SpecError(f"{source}: table {table_name!r}, column {column_name!r}: {problem}")


def _child_count_problem(spec: DatasetSpec, table: str, column: PositionColumn | ChildrenAggColumn) -> str | None:
    """Positions reach start + max children - 1; a count of children reaches the child table's max."""
    if isinstance(column, PositionColumn):
        parent = spec.tables[table].parent
        return None if parent is None else integer_range_problem(column.type, column.start, column.start + parent.count.max - 1)
    child = spec.tables.get(column.table)
    if column.agg != "count" or child is None or child.parent is None:
        return None
    return integer_range_problem(column.type, 0, child.parent.count.max)
