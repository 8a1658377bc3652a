"""Cross-reference checks a single model cannot do: foreign keys, lookups, parents, expressions, cycles."""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import SpecError
from .models import (
    ChildrenSumColumn,
    DatasetSpec,
    EventTimeColumn,
    ExprColumn,
    ForeignKeyColumn,
    LookupColumn,
    ParentColumn,
    SequenceColumn,
    TemplateColumn,
)

_TEMPLATE_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::0?(\d+)d)?\}")


def template_fields(template: str) -> list[tuple[str, int | None]]:
    """(column, zero-pad width) for each `{column}` or `{column:04d}` placeholder."""
    return [(name, int(width) if width else None) for name, width in _TEMPLATE_FIELD.findall(template)]


@lru_cache(maxsize=1024)
def expr_columns(expr: str) -> tuple[str, ...]:
    import polars as pl

    return tuple(pl.sql_expr(expr).meta.root_names())


def column_dependencies(spec: DatasetSpec, table: str, column: str) -> list[tuple[str, str]]:
    """The (table, column) values this column is computed from."""
    table_spec = spec.tables[table]
    col = table_spec.columns[column]
    if isinstance(col, LookupColumn):
        fk = table_spec.columns[col.via]
        assert isinstance(fk, ForeignKeyColumn)
        return [(table, col.via), (fk.table, col.column)]
    if isinstance(col, ParentColumn):
        assert table_spec.parent is not None
        return [(table_spec.parent.table, col.column)]
    if isinstance(col, ChildrenSumColumn):
        return [(col.table, col.column)]
    if isinstance(col, ExprColumn):
        return [(table, name) for name in expr_columns(col.expr)]
    if isinstance(col, TemplateColumn):
        return [(table, name) for name, _ in template_fields(col.template)]
    # Newer column kinds describe their own inputs (see the series/structure models).
    own = getattr(col, "dependencies", None)
    if own is not None:
        return own(spec, table)
    return []


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
        if table.partition_by and table.parent is not None and _root_time_table(spec, table_name) is None:
            fail(table_name, None, "partition_by needs a parent chain that ends in a time-driven table")
        for column_name, column in table.columns.items():
            own_check = getattr(column, "reference_error", None)
            problem = own_check(spec, table_name) if own_check is not None else None
            if problem:
                fail(table_name, column_name, problem)
            if isinstance(column, EventTimeColumn) and (table.time is None or table.time.column != column_name):
                fail(table_name, column_name, "gen event_time is only for the column named in the table's time.column")
            if isinstance(column, ForeignKeyColumn):
                target = spec.tables.get(column.table)
                if target is None:
                    fail(table_name, column_name, f"foreign key to missing table {column.table!r}")
                elif not isinstance(target.columns.get(column.column), SequenceColumn):
                    fail(table_name, column_name, f"foreign key must reference a sequence column; {column.table}.{column.column} is not one")
            elif isinstance(column, LookupColumn):
                via = table.columns.get(column.via)
                if not isinstance(via, ForeignKeyColumn):
                    fail(table_name, column_name, f"lookup via {column.via!r} must name a foreign_key column of this table")
                elif column.column not in spec.tables[via.table].columns:
                    fail(table_name, column_name, f"lookup column {column.column!r} does not exist in table {via.table!r}")
            elif isinstance(column, ParentColumn):
                if table.parent is None:
                    fail(table_name, column_name, "gen parent needs the table to declare parent:")
                elif column.column not in spec.tables[table.parent.table].columns:
                    fail(table_name, column_name, f"parent column {column.column!r} does not exist in table {table.parent.table!r}")
            elif isinstance(column, ChildrenSumColumn):
                child = spec.tables.get(column.table)
                if child is None or child.parent is None or child.parent.table != table_name:
                    fail(table_name, column_name, f"children_sum needs {column.table!r} to be a child table of {table_name!r}")
                elif column.column not in child.columns:
                    fail(table_name, column_name, f"column {column.column!r} does not exist in table {column.table!r}")
            elif isinstance(column, ExprColumn):
                try:
                    names = expr_columns(column.expr)
                except Exception as exc:  # polars raises several exception types for bad SQL
                    fail(table_name, column_name, f"expr {column.expr!r} is not a valid SQL expression ({str(exc).splitlines()[0]})")
                missing = [name for name in names if name not in table.columns]
                if missing:
                    fail(table_name, column_name, f"expr refers to unknown column {missing[0]!r}")
            elif isinstance(column, TemplateColumn):
                fields = template_fields(column.template)
                if not fields and "{" in column.template:
                    fail(table_name, column_name, f"template {column.template!r} has no valid {{column}} placeholder")
                missing = [name for name, _ in fields if name not in table.columns]
                if missing:
                    fail(table_name, column_name, f"template refers to unknown column {missing[0]!r}")
    _check_cycles(spec, source)


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
