"""Keys and links between tables: sequences, foreign keys, lookups, parent values, sums over children.

A referenced row is never read: its value is recomputed from its index, which is what lets any chunk
be generated alone.
"""

from __future__ import annotations

import numpy as np

from ..schemas.keys import ChildrenSumColumn, ForeignKeyColumn, LookupColumn, ParentColumn, SequenceColumn
from . import popularity
from .convert import Values, distinct, take, to_numpy
from .rows import Rows
from .structure import aggregate_children


def sequence(column: SequenceColumn, rows: Rows, key: int) -> Values:
    return column.start + rows.index * column.step


def foreign_key(column: ForeignKeyColumn, rows: Rows, key: int) -> Values:
    return popularity.foreign_key(column, rows, key)


def lookup(column: LookupColumn, rows: Rows, key: int) -> Values:
    via = rows.spec.columns[column.via]
    assert isinstance(via, ForeignKeyColumn)
    target = rows.runtime.spec.tables[via.table].columns[via.column]
    assert isinstance(target, SequenceColumn)
    # One row set per foreign key and batch, over the distinct referenced rows, shared by its lookups.
    cache: dict[str, tuple[Rows, np.ndarray]] = rows.memo.setdefault("lookup_rows", {})
    if column.via not in cache:
        referenced = (to_numpy(rows.get(column.via)) - target.start) // target.step
        distinct_rows, inverse = distinct(referenced.astype(np.int64))
        cache[column.via] = (rows.runtime.rows(via.table, distinct_rows), inverse)
    target_rows, inverse = cache[column.via]
    return take(target_rows.get(column.column), inverse)


def parent(column: ParentColumn, rows: Rows, key: int) -> Values:
    parent_rows, inverse = rows.parent_rows()
    return take(parent_rows.get(column.column), inverse)


def children_sum(column: ChildrenSumColumn, rows: Rows, key: int) -> Values:
    # The general aggregate; `children_sum` is its shorthand.
    return aggregate_children(rows, column.table, column.column, "sum", column.round)
