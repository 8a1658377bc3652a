"""Keys and links between tables: sequences, foreign keys, lookups, parent values, sums over children.

A referenced row is never read: its value is recomputed from its index, which is what lets any chunk
be generated alone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from ..schemas.keys import ChildrenSumColumn, ForeignKeyColumn, LookupColumn, ParentColumn, SequenceColumn
from . import random as rnd
from .convert import Values, to_numpy
from .rows import Rows
from .structure import aggregate_children


def sequence(column: SequenceColumn, rows: Rows, key: int) -> Values:
    return column.start + rows.index * column.step


def foreign_key(column: ForeignKeyColumn, rows: Rows, key: int) -> Values:
    target = rows.runtime.spec.tables[column.table].columns[column.column]
    assert isinstance(target, SequenceColumn)
    referenced_rows = rows.runtime.layouts[column.table].rows
    if referenced_rows == 0:
        raise ValueError(f"foreign key {rows.table}.{column.column} points into empty table {column.table!r}")
    if column.distribution == "cycle":
        index = rows.index % referenced_rows
    elif column.distribution == "zipf":
        ranks = rnd.zipf_rank(key, rows.index, referenced_rows, column.a)
        index = rnd.scatter(ranks, referenced_rows, rnd.substream(key, 7))
    else:
        index = np.floor(rnd.uniform(key, rows.index) * referenced_rows).astype(np.int64)
    return target.start + index * target.step


def lookup(column: LookupColumn, rows: Rows, key: int) -> Values:
    via = rows.spec.columns[column.via]
    assert isinstance(via, ForeignKeyColumn)
    target = rows.runtime.spec.tables[via.table].columns[via.column]
    assert isinstance(target, SequenceColumn)
    referenced, inverse = _referenced_rows(rows, f"lookup:{column.via}", via.table, lambda: (to_numpy(rows.get(column.via)) - target.start) // target.step)
    return _spread(referenced.get(column.column), inverse)


def parent(column: ParentColumn, rows: Rows, key: int) -> Values:
    assert rows.spec.parent is not None
    referenced, inverse = _referenced_rows(rows, "parent", rows.spec.parent.table, lambda: rows.parent_index)
    return _spread(referenced.get(column.column), inverse)


def _referenced_rows(rows: Rows, name: str, table: str, index: Callable[[], np.ndarray]) -> tuple[Rows, np.ndarray]:
    """The distinct rows of `table` these rows refer to (through a foreign key or to their parent), shared
    by every lookup through the same link in this batch, and where each of these rows points among them.
    Each referenced row is computed once, not once per referring row and column."""
    cache: dict[str, tuple[Rows, np.ndarray]] = rows.memo.setdefault("referenced_rows", {})
    if name not in cache:
        wanted = index()
        steps = np.diff(wanted)
        if len(wanted) and (steps >= 0).all():  # children's parents and cycling keys: sorted runs, no sort needed
            starts = np.r_[True, steps != 0]
            unique, inverse = wanted[starts], np.cumsum(starts) - 1
        else:
            unique, inverse = np.unique(wanted, return_inverse=True)
        cache[name] = (rows.runtime.rows(table, unique), inverse)
    return cache[name]


def _spread(values: Values, inverse: np.ndarray) -> Values:
    if isinstance(values, np.ndarray):
        return values[inverse]
    return values.take(pa.array(inverse))


def children_sum(column: ChildrenSumColumn, rows: Rows, key: int) -> Values:
    # The general aggregate; `children_sum` is its shorthand.
    return aggregate_children(rows, column.table, column.column, "sum", column.round)
