"""What a written dataset must hold, read off the plan and the spec: rows per table and partition, the
file row counts of each partition, key and foreign-key columns, and the declared `checks:`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..contracts import partition_path
from ..generation.planner import Plan, TablePlan
from ..generation.runtime import DatasetRuntime
from ..generation.timeline import deletes
from ..options import WriterOptions
from ..schemas.models import DatasetSpec, ForeignKeyColumn, ParentColumn, SequenceColumn, UuidColumn

# Rows counted at a time when the view filters a table.
_COUNT_ROWS = 1 << 16


@dataclass(frozen=True)
class Key:
    """A column whose values are unique: a `sequence` (start, step known) or a `uuid`."""

    column: str
    kind: str  # "sequence" or "uuid"
    start: int = 1
    step: int = 1


@dataclass(frozen=True)
class Reference:
    """A column whose values must exist in `table.column` (a foreign key, or a child's copy of its parent's key).

    `start`, `step` and `rows` describe the referenced sequence, to check the range when that table is not
    validated (or its key is hidden).
    """

    column: str
    table: str
    target: str
    start: int
    step: int
    rows: int
    visible: bool
    deletes: bool = False  # the referenced table deletes rows: references keep the ids of deleted rows


@dataclass(frozen=True)
class ExpectedTable:
    """One table as the plan has it."""

    name: str
    rows: int
    schema: pa.Schema
    partition_columns: tuple[str, ...]
    time_column: str | None
    partitions: dict[str, list[int]]  # "year=2024/month=01" ("" unpartitioned) -> rows of each file, in order
    file_names: dict[str, list[str]]  # partition -> planned file names without extension, in order
    keys: tuple[Key, ...] = ()
    references: tuple[Reference, ...] = ()
    checks: tuple[str, ...] = ()
    # Rows the plan lays out before the run's view and the table's history filter them (deleted rows, rows
    # created outside the slice): sequences then have gaps inside 1..planned_rows.
    planned_rows: int | None = None

    @property
    def partition_rows(self) -> dict[str, int]:
        """Rows per partition."""
        return {partition: sum(rows) for partition, rows in self.partitions.items()}

    @property
    def identity_partitioned(self) -> bool:
        """Partitioned by a parent's time: the partition values are not derived from a column of the table."""
        return bool(self.partition_columns) and self.time_column is None


@dataclass(frozen=True)
class ExpectedDataset:
    """The whole plan: tables in plan order, the dataset-level checks, and the options files must follow."""

    name: str
    tables: tuple[ExpectedTable, ...]
    options: WriterOptions
    checks: tuple[str, ...] = field(default_factory=tuple)

    def table(self, name: str) -> ExpectedTable | None:
        """The table called `name`, or None when it is not part of this validation."""
        return next((table for table in self.tables if table.name == name), None)


def expected_dataset(plan: Plan, options: WriterOptions) -> ExpectedDataset:
    """What `plan`, written with `options`, must look like."""
    spec = plan.runtime.spec
    tables = tuple(_expected_table(spec, plan, table) for table in plan.tables)
    return ExpectedDataset(name=spec.name, tables=tables, options=options, checks=_checks(spec))


def _checks(model: object) -> tuple[str, ...]:
    # `checks:` is a list of SQL strings on tables and datasets; specs older than the field have none.
    return tuple(str(check) for check in (getattr(model, "checks", None) or ()))


def _kept_rows(runtime: DatasetRuntime, table: str, first_row: int, rows: int) -> int:
    """Rows of [first_row, first_row + rows) the run's view keeps: only the cheap columns that decide it
    (creation and deletion times) are generated."""
    kept = 0
    for start in range(first_row, first_row + rows, _COUNT_ROWS):
        index = np.arange(start, min(start + _COUNT_ROWS, first_row + rows), dtype=np.int64)
        kept += int(runtime.selected(runtime.rows(table, index)).sum())
    return kept


def _expected_table(spec: DatasetSpec, plan: Plan, table: TablePlan) -> ExpectedTable:
    partitions: dict[str, list[int]] = {}
    names: dict[str, list[str]] = {}
    filtered = plan.runtime.filters(table.name)
    for task in table.files:
        key = partition_path(task.partition)
        partitions.setdefault(key, []).append(_kept_rows(plan.runtime, table.name, task.first_row, task.rows) if filtered else task.rows)
        names.setdefault(key, []).append(table.name if task.only_file else f"part-{task.file_index:05d}")
    return ExpectedTable(
        name=table.name,
        rows=sum(sum(rows) for rows in partitions.values()) if filtered else table.rows,
        planned_rows=table.rows if filtered else None,
        schema=table.info.schema,
        partition_columns=table.info.partition_columns,
        time_column=table.info.time_column,
        partitions=partitions,
        file_names=names,
        keys=_keys(spec, table.name),
        references=_references(spec, plan, table.name),
        checks=_checks(spec.tables[table.name]),
    )


def _keys(spec: DatasetSpec, table: str) -> tuple[Key, ...]:
    keys = []
    for name, column in spec.tables[table].columns.items():
        if column.hidden or column.null_fraction:
            continue
        if isinstance(column, SequenceColumn):
            keys.append(Key(name, "sequence", column.start, column.step))
        elif isinstance(column, UuidColumn):
            keys.append(Key(name, "uuid"))
    return tuple(keys)


def _references(spec: DatasetSpec, plan: Plan, table: str) -> tuple[Reference, ...]:
    table_spec = spec.tables[table]
    references = []
    for name, column in table_spec.columns.items():
        if column.hidden:
            continue
        if isinstance(column, ForeignKeyColumn):
            target_table, target_column = column.table, column.column
        elif isinstance(column, ParentColumn) and table_spec.parent is not None:
            target_table, target_column = table_spec.parent.table, column.column
        else:
            continue
        target = spec.tables[target_table].columns.get(target_column)
        if not isinstance(target, SequenceColumn):
            continue  # a copy of a non-key column (a lookup of a lookup): nothing to resolve
        references.append(
            Reference(
                column=name,
                table=target_table,
                target=target_column,
                start=target.start,
                step=target.step,
                rows=plan.runtime.layouts[target_table].rows,
                visible=not target.hidden,
                deletes=deletes(spec, target_table),
            )
        )
    return tuple(references)
