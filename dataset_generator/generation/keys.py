"""Keys and links between tables: sequences, foreign keys, lookups, parent values, sums over children.

A referenced row is never read: its value is recomputed from its index, which is what lets any chunk
be generated alone.
"""

from __future__ import annotations

from ..schemas.keys import ChildrenSumColumn, ForeignKeyColumn, LookupColumn, ParentColumn, SequenceColumn
from . import popularity
from .convert import Values, to_numpy
from .links import parent_rows, referenced_rows, spread, whole_table
from .rows import Rows
from .structure import aggregate_children
from .timeline import created_times, is_mutable


def sequence(column: SequenceColumn, rows: Rows, key: int) -> Values:
    return column.start + rows.index * column.step


def foreign_key(column: ForeignKeyColumn, rows: Rows, key: int) -> Values:
    return popularity.foreign_key(column, rows, key)


def lookup(column: LookupColumn, rows: Rows, key: int) -> Values:
    via = rows.spec.columns[column.via]
    assert isinstance(via, ForeignKeyColumn)
    target = rows.runtime.spec.tables[via.table].columns[via.column]
    assert isinstance(target, SequenceColumn)
    if is_mutable(rows.runtime.spec, via.table, column.column, rows.runtime.memo.setdefault("mutable", {})):
        # A value that changes is read as it was when the referring row was created (the price when ordered).
        index = (to_numpy(rows.get(column.via)) - target.start) // target.step
        whole = whole_table(rows.runtime, via.table)
        if whole is not None:  # what never changes is read from the table kept whole
            return rows.runtime.rows_from(whole, index, created_times(rows)).get(column.column)
        return rows.runtime.rows(via.table, index, as_of=created_times(rows)).get(column.column)
    referenced, inverse = referenced_rows(
        rows, f"lookup:{column.via}", via.table, lambda: (to_numpy(rows.get(column.via)) - target.start) // target.step
    )
    return spread(referenced.get(column.column), inverse)


def parent(column: ParentColumn, rows: Rows, key: int) -> Values:
    referenced, inverse = parent_rows(rows)
    return spread(referenced.get(column.column), inverse)


def children_sum(column: ChildrenSumColumn, rows: Rows, key: int) -> Values:
    # The general aggregate; `children_sum` is its shorthand.
    return aggregate_children(rows, column.table, column.column, "sum", column.round)
