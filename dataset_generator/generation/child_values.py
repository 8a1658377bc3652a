"""Children generated for their parents' aggregates, kept a while for the child table's own batches.

A parent with `children_agg`/`children_sum` columns (weather's daily over hourly, sensors' device_days over
readings) generates its children's columns to reduce them. The child table's own files need most of those
columns again: this process keeps them (a bounded store, oldest first out) so that a batch of the child table
whose rows the store covers starts from them instead of computing them a second time. Every column is a pure
function of (seed, table, column, row), so a column read from the store is the column the batch would compute:
the output is the same bytes with or without the store (it only saves time), and a batch the store does not
cover computes everything as before. The local engine runs a parent's files just before its children's
(`parents_first` below) so that the store is still warm when they run.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from ..contracts import FileTask
from ..schemas.dataset import DatasetSpec, TableSpec
from ..schemas.keys import ChildrenSumColumn
from ..schemas.structure import ChildrenAggColumn
from .convert import Values

# Bytes of child columns one process keeps at most (a range read to its end is dropped at once): a month of
# weather's hourly rows takes ~21 MB.
STORE_BYTES = 64 * 2**20


def _nbytes(values: Values) -> int:
    return int(values.nbytes) if isinstance(values, np.ndarray) else int(values.get_total_buffer_size())


def kept_columns(spec: DatasetSpec, table: str, computed: Mapping[str, Values]) -> list[str]:
    """Of the columns `computed`, those a batch of the table needs: each visible column, or when it was not
    computed, what it is computed from (recursively, in this table). Missing one only costs its recomputation."""
    # An explicit stack, not a recursive closure: a closure that calls itself is a reference cycle, which
    # would hold `computed` (a whole group of children) until the garbage collector next runs.
    columns = spec.tables[table].columns
    kept: set[str] = set()
    seen: set[str] = set()
    stack = [name for name, column in columns.items() if not column.hidden]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in computed:
            kept.add(name)
        elif name in columns:
            stack.extend(other for other_table, other in columns[name].dependencies(spec, table) if other_table == table)
    return sorted(kept)


class ChildValueStore:
    """Columns of contiguous child row ranges [first, stop), per child table; thread-safe, bounded."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = STORE_BYTES if budget is None else budget
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int], tuple[int, dict[str, Values], int]] = OrderedDict()
        self._bytes = 0

    def remember(self, table: str, first: int, values: Mapping[str, Values]) -> None:
        if not values:
            return
        stop = first + len(next(iter(values.values())))
        size = sum(_nbytes(value) for value in values.values())
        if size > self.budget:
            return
        with self._lock:
            old = self._entries.pop((table, first), None)
            if old is not None:
                self._bytes -= old[2]
            self._entries[(table, first)] = (stop, dict(values), size)
            self._bytes += size
            while self._bytes > self.budget:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def recall(self, table: str, first: int, stop: int) -> dict[str, Values]:
        """Columns of rows [first, stop) that the store covers entirely (the columns every covering range has)."""
        with self._lock:
            ranges = sorted((start, entry[0], entry[1]) for (name, start), entry in self._entries.items() if name == table)
            pieces: list[tuple[int, int, dict[str, Values]]] = []
            at = first
            for start, end, values in ranges:
                if start <= at < end:
                    pieces.append((at - start, min(end, stop) - start, values))
                    at = min(end, stop)
                    if at == stop:
                        break
            if at != stop or not pieces:
                return {}
            # Each child row is in one file, read once, in order: a range read to its end is done with.
            for start, end, _ in ranges:
                if first <= end <= stop:
                    _, _, size = self._entries.pop((table, start))
                    self._bytes -= size
        names = set(pieces[0][2]).intersection(*(set(values) for _, _, values in pieces[1:]))
        found: dict[str, Values] = {}
        for name in names:
            parts = [values[name][low:high] for low, high, values in pieces]
            joined = _join(parts)
            if joined is not None:
                found[name] = joined
        return found


def _join(parts: list[Values]) -> Values | None:
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(part, np.ndarray) for part in parts):
        return np.concatenate(parts)
    if all(isinstance(part, pa.Array) for part in parts) and len({part.type for part in parts}) == 1:  # type: ignore[union-attr]
        try:
            return pa.concat_arrays(parts)
        except pa.ArrowInvalid:  # e.g. dictionaries that differ: the batch computes this column itself
            return None
    return None


def child_aggregates(table: TableSpec) -> list[tuple[str, str, str, int | None]]:
    """(child table, child column, agg, round) of each aggregate `table` computes from its children's rows
    (children_agg other than count, which needs only the counts, and children_sum)."""
    found: list[tuple[str, str, str, int | None]] = []
    for column in table.columns.values():
        if isinstance(column, ChildrenAggColumn) and column.agg != "count":
            found.append((column.table, column.column, column.agg, column.round))
        elif isinstance(column, ChildrenSumColumn):
            found.append((column.table, column.column, "sum", column.round))
    return found


def aggregated_children(spec: DatasetSpec) -> dict[str, list[str]]:
    """Parent table -> the child tables whose rows it aggregates (child_aggregates)."""
    found: dict[str, list[str]] = {}
    for name, table in spec.tables.items():
        for child in dict.fromkeys(child for child, _, _, _ in child_aggregates(table)):
            found.setdefault(name, []).append(child)
    return found


def parents_first(spec: DatasetSpec, parent_of: Callable[[str, int], int], tasks: Sequence[FileTask], lead: int) -> list[FileTask]:
    """`tasks` in an order that runs each child file soon after the parent files it reads, `lead` parent
    files later (so the store still holds its rows when it runs, while the parents run ahead in parallel).
    The same tasks: only the order differs (files are named by their place, never by when they ran)."""
    children = aggregated_children(spec)
    by_table: dict[str, list[FileTask]] = {}
    for task in tasks:
        by_table.setdefault(task.table, []).append(task)
    attached = {child for parent, kids in children.items() if parent in by_table for child in kids if child in by_table and child != parent}
    ordered: list[FileTask] = []

    def emit_table(table: str) -> None:
        own = by_table[table]
        kids = [child for child in children.get(table, []) if child in attached]
        firsts = [task.first_row for task in own]
        # Each child file goes with the parent file holding the parent of its first row.
        waiting: list[list[FileTask]] = [[] for _ in own]
        for child in kids:
            for task in by_table[child]:
                parent_row = parent_of(child, task.first_row)
                waiting[max(bisect.bisect_right(firsts, parent_row) - 1, 0)].append(task)
        for position, task in enumerate(own):
            ordered.append(task)
            if position >= lead:
                ordered.extend(waiting[position - lead])
        for late in waiting[max(len(own) - lead, 0):]:
            ordered.extend(late)

    for table in by_table:
        if table not in attached:
            emit_table(table)
    # A child attached twice (or a cycle the loader refused) must not be lost: anything not placed, at the end.
    placed = {id(task) for task in ordered}
    ordered.extend(task for task in tasks if id(task) not in placed)
    return ordered
