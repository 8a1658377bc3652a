"""Cross-reference checks a single model cannot do: foreign keys, lookups, parents, expressions, cycles."""

from __future__ import annotations

from ..errors import SpecError
from .dataset import DatasetSpec
from .derived import expr_columns
from .history import history_error
from .ranges import check_integer_ranges
from .temporal import EventTimeColumn
from .text import template_fields

__all__ = ["check_references", "column_dependencies", "expr_columns", "template_fields"]


def column_dependencies(spec: DatasetSpec, table: str, column: str) -> list[tuple[str, str]]:
    """The (table, column) values this column is computed from."""
    return spec.tables[table].columns[column].dependencies(spec, table)


def check_references(spec: DatasetSpec, source: str) -> None:
    def fail(table: str, column: str | None, message: str) -> None:
        where = f"table {table!r}, column {column!r}" if column else f"table {table!r}"
        raise SpecError(f"{source}: {where}: {message}")

    for table_name, table in spec.tables.items():
        if table.parent is not None:
            if table.parent.table not in spec.tables:
                fail(table_name, None, f"parent table {table.parent.table!r} does not exist")
            if table.parent.table == table_name:
                fail(table_name, None, "a table cannot be its own parent")
            weight = table.parent.count.weight
            if weight is not None and weight not in spec.tables[table.parent.table].columns:
                fail(table_name, None, f"count weight {weight!r} is not a column of parent table {table.parent.table!r}")
            if table.parent.count.distribution == "session" and spec.tables[table.parent.table].time is None:
                fail(table_name, None, f"count distribution session needs parent table {table.parent.table!r} to be time-driven (time:)")
        if table.partition_by and table.parent is not None and _root_time_table(spec, table_name) is None:
            fail(table_name, None, "partition_by needs a parent chain that ends in a time-driven table")
        for column_name, column in table.columns.items():
            if isinstance(column, EventTimeColumn) and (table.time is None or table.time.column != column_name):
                fail(table_name, column_name, "gen event_time is only for the column named in the table's time.column")
            problem = column.reference_error(spec, table_name)
            if problem:
                fail(table_name, column_name, problem)
        located = history_error(spec, table_name, table.history, table.time.column if table.time else None)
        if located is not None:
            fail(table_name, located[0], located[1])
    _check_cycles(spec, source)
    # Plain tables' row counts are known now: their sequences are checked here, with the file's line.
    plain = {name: table.rows for name, table in spec.tables.items() if table.rows is not None}
    check_integer_ranges(spec, plain, source)


def _root_time_table(spec: DatasetSpec, table: str) -> str | None:
    seen: set[str] = set()
    while table not in seen:
        seen.add(table)
        table_spec = spec.tables[table]
        if table_spec.time is not None:
            return table
        if table_spec.parent is None:
            return None
        table = table_spec.parent.table
    return None


def _check_cycles(spec: DatasetSpec, source: str) -> None:
    for table_name in spec.tables:
        chain = [table_name]
        while spec.tables[chain[-1]].parent is not None:
            parent = spec.tables[chain[-1]].parent.table  # type: ignore[union-attr]
            if parent in chain:
                raise SpecError(f"{source}: table {table_name!r}: parent cycle {' -> '.join([*chain, parent])}")
            chain.append(parent)
    state: dict[tuple[str, str], int] = {}  # 1 = visiting, 2 = done

    def visit(node: tuple[str, str], path: list[tuple[str, str]]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = path[path.index(node) :] + [node]
            raise SpecError(f"{source}: column cycle {' -> '.join(f'{t}.{c}' for t, c in cycle)}")
        state[node] = 1
        for dependency in column_dependencies(spec, *node):
            visit(dependency, [*path, node])
        state[node] = 2

    for table_name, table in spec.tables.items():
        for column_name in table.columns:
            visit((table_name, column_name), [])
