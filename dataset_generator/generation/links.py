"""The rows a batch refers to (its children's parents, the targets of a foreign key), computed once.

Many columns of one batch read the same referenced rows: every `parent` and `lookup` column, the parent's
start of a child's time, the parent's ends of a Brownian bridge. Each distinct referenced row is generated
once per batch, in one shared row set, and spread back to the referring rows; the values are the same
as computing each referring row's target on its own (every value is a pure function of its row).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import cast

import numpy as np
import pyarrow as pa

from .convert import Values
from .layout import PlainLayout, TimeLayout
from .rows import Rows, Runtime

PARENT = "parent"


def distinct(wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, position of each value among them); O(n) when `wanted` is already sorted,
    as children's parents and cycling keys are."""
    steps = np.diff(wanted)
    if len(wanted) and (steps >= 0).all():
        starts = np.r_[True, steps != 0]
        return wanted[starts], np.cumsum(starts) - 1
    return np.unique(wanted, return_inverse=True)


def referenced_rows(
    rows: Rows, name: str, table: str, index: Callable[[], np.ndarray], as_of: int | np.ndarray | None = None
) -> tuple[Rows, np.ndarray]:
    """The distinct rows of `table` that these rows refer to through the link `name`, shared by every
    column of this batch that follows the same link, and where each of these rows points among them.

    `as_of`: when the referenced rows' mutable columns are read (None: the run's default; one time per
    referring row: every referring row gets its own referenced row)."""
    cache: dict[str, tuple[Rows, np.ndarray]] = rows.memo.setdefault("referenced_rows", {})
    if name not in cache:
        if isinstance(as_of, np.ndarray):
            wanted = index()
            cache[name] = (rows.runtime.rows(table, wanted, as_of=as_of), np.arange(len(wanted)))
            return cache[name]
        whole = whole_table(rows.runtime, table, as_of)
        if whole is not None:
            cache[name] = (whole, index())
        else:
            wanted = index()
            steps = np.diff(wanted)
            if len(wanted) and not (steps >= 0).all():
                # Unsorted targets (a foreign key into a large table) rarely repeat within a batch: sorting
                # them to share repeats costs more than computing each target.
                cache[name] = (rows.runtime.rows(table, wanted, as_of=as_of), np.arange(len(wanted)))
            else:
                unique, inverse = distinct(wanted)
                cache[name] = (rows.runtime.rows(table, unique, as_of=as_of), inverse)
    return cache[name]


# A table up to this many rows is generated whole, once per process, for the tables that refer to it: a
# dimension (plain rows) up to 2^21 rows (each column read by others then costs at most 16 MiB, once, instead of
# being recomputed for every batch that looks it up), a day-level table up to 65,536.
WHOLE_TABLE_ROWS = 65_536
WHOLE_DIMENSION_ROWS = 1 << 21
WHOLE_TABLES = "whole_tables"
_PER_ROW_OF_OTHERS = ("children_agg", "children_sum")


def _read_without_aggregates(runtime: Runtime, table: str) -> bool:
    """Whether every column other tables read from `table` (a small day-level table, e.g. one row per symbol
    and session) is computed without an aggregate over children (a count is fine: the layout knows it)."""
    spec = runtime.spec
    pending = [
        dependency
        for name, other in spec.tables.items()
        if name != table
        for column in other.columns.values()
        for dependency in column.dependencies(spec, name)
        if dependency[0] == table
    ]
    seen: set[tuple[str, str]] = set()
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        column = spec.tables[node[0]].columns[node[1]]
        if column.gen == "children_sum" or (column.gen == "children_agg" and getattr(column, "agg", None) != "count"):
            return False
        pending.extend(column.dependencies(spec, node[0]))
    return True


# Whole tables kept per process at as-of times other than the run's default (snapshots of many days).
_OTHER_AS_OF_TABLES = 4


def whole_table(runtime: Runtime, table: str, as_of: int | None = None) -> Rows | None:
    """All rows of `table` as one row set kept for the process (columns computed on first use), when it is
    a small table without a parent: a dimension table with no aggregate over children (which would generate
    every child), or a day-level table whose columns read by other tables need no such aggregate. Every batch that refers to it then reads its values instead of computing them again."""
    tables: dict[tuple[str, int], Rows | None] = runtime.memo.setdefault(WHOLE_TABLES, {})
    moment = runtime.default_as_of if as_of is None else int(as_of)
    entry = (table, moment)
    if entry not in tables:
        stale = [found for found in list(tables) if found[1] != runtime.default_as_of]
        if moment != runtime.default_as_of and len(stale) >= _OTHER_AS_OF_TABLES:
            tables.pop(stale[0], None)
        spec = runtime.spec.tables[table]
        layout = runtime.layouts[table]
        limit = WHOLE_DIMENSION_ROWS if isinstance(layout, PlainLayout) else WHOLE_TABLE_ROWS
        # Worth it only when the run reads more rows than the table has (a 1,000-row run into a million customers
        # computes the thousand it refers to).
        others = sum(other.rows for name, other in runtime.layouts.items() if name != table)
        small = isinstance(layout, (PlainLayout, TimeLayout)) and layout.rows <= min(limit, others) and spec.parent is None
        if isinstance(layout, PlainLayout):
            safe = not any(column.gen in _PER_ROW_OF_OTHERS for column in spec.columns.values())
        else:
            safe = _read_without_aggregates(runtime, table)
        if small and safe:
            tables[entry] = runtime.rows(table, np.arange(layout.rows, dtype=np.int64), as_of=moment)
        else:
            tables[entry] = None
    return tables[entry]


def parent_rows(rows: Rows) -> tuple[Rows, np.ndarray]:
    """The distinct parents of these child rows, and each row's parent among them."""
    assert rows.spec.parent is not None
    return referenced_rows(rows, PARENT, rows.spec.parent.table, lambda: rows.parent_index, rows.as_of)


def share_parents(children: Rows, parents: Rows, owner: np.ndarray) -> None:
    """Tell child rows that their parents are the rows `parents` (child i belongs to parents row owner[i]),
    so that they read the parents' values already computed instead of computing them again. The parents
    keep their children (in their own memo), so the children hold them weakly: no reference cycle, freed
    as soon as the batch is done."""
    children.memo.setdefault("referenced_rows", {})[PARENT] = (cast(Rows, weakref.proxy(parents)), owner)


def spread(values: Values, inverse: np.ndarray) -> Values:
    """values[inverse], for numpy or Arrow values (the values themselves when inverse is the identity)."""
    if len(inverse) == len(values) and _identity(inverse):
        return values
    if isinstance(values, np.ndarray):
        return values[inverse]
    return values.take(pa.array(inverse))


def _identity(inverse: np.ndarray) -> bool:
    return bool((inverse == np.arange(len(inverse))).all())
