"""Integer columns whose values depend on row counts (sequences and the foreign keys into them) checked against
their column type, so nothing wraps silently: an int8 sequence of 1,000 rows is an error, not 256 keys."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import SpecError
from .base import INTEGER_RANGES
from .dataset import DatasetSpec
from .keys import ForeignKeyColumn, SequenceColumn


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
    """Check every sequence of a table in `rows` (table -> row count), and every foreign key into one.

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
            if problem:
                raise SpecError(f"{source}: table {table_name!r}, column {column_name!r}: {problem}")
