"""The plan: every output file of every table, its partition and its row range, known before any data exists.

A plan is small, pure data. It can be printed (`--dry-run`), pickled to a worker, or split into parts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..contracts import FileTask, PartitionValues, TableInfo
from ..errors import ParameterError, SpecError
from ..options import PartitionSpec, WriterOptions
from ..schemas.dataset import DatasetSpec
from ..schemas.numeric import BooleanColumn, ChoiceColumn
from ..schemas.ranges import check_integer_ranges
from ..schemas.text import FakerColumn
from .estimate import check_size
from .history import Moment, planned_days, resolve_view
from .layout import EPOCH, ChildLayout, Layout, TimeLayout, build_layouts
from .runtime import DatasetRuntime
from .temporal import MICROS_PER_DAY
from .timeline import range_of

# Rows generated per batch inside a file. Any value gives the same bytes (row groups are cut by row
# count, not by batch); it only trades memory for per-batch overhead.
DEFAULT_CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class TablePlan:
    name: str
    rows: int
    info: TableInfo
    files: tuple[FileTask, ...]


@dataclass(frozen=True)
class Plan:
    dataset: str
    seed: int
    runtime: DatasetRuntime
    tables: tuple[TablePlan, ...]

    @property
    def total_rows(self) -> int:
        return sum(table.rows for table in self.tables)

    @property
    def tasks(self) -> list[FileTask]:
        return [task for table in self.tables for task in table.files]

    def part(self, parts: int, part: int) -> list[FileTask]:
        """Tasks of part `part` (1-based) of `parts`: round-robin, so every part gets a similar share."""
        return [task for position, task in enumerate(self.tasks) if position % parts == part - 1]


def sized_layouts(spec: DatasetSpec, seed: int, *, force: bool = False) -> dict[str, Layout]:
    """The layouts of every table (row counts per day and per parent block), after the size check that
    `make_plan` does too, so that describing an absurd run answers at once instead of building it.

    Raises:
        SizeLimitError: the estimate is beyond the bound and `force` is False.
    """
    partitions = {name: effective_partition(spec, name, None) for name in spec.tables}
    check_size(spec, partitions, WriterOptions().file_rows_target, force=force)
    return build_layouts(spec, seed)


def make_plan(
    spec: DatasetSpec,
    *,
    seed: int,
    options: WriterOptions,
    tables: list[str] | None = None,
    force: bool = False,
    file_rows: Mapping[str, int] | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    as_of: Moment | None = None,
) -> Plan:
    """The plan of a run: every file of every selected table, with its partition and row range.

    The run's size is estimated from the spec first (constant time per table); layouts and tasks are built
    only when it is sane.

    Args:
        spec: the resolved spec.
        seed: the run's seed.
        options: the writer options (file_rows_target, partitioning).
        tables: the tables to write (default: all).
        force: plan even a run estimated beyond 1 PB or 10^7 files.
        file_rows: rows per file by table, instead of the options' file_rows_target (a size-targeted run).
        since, until, as_of: the run's time window (days, a day or a moment; generation/history.py
            resolve_view): time-driven tables and their children plan only the days of the slice (O(files));
            other tables are generated and filtered.

    Returns:
        The plan.

    Raises:
        ParameterError: an unknown table is selected.
        SpecError: a column clashes with a partition column or a sequence leaves its column type.
        SizeLimitError: the estimate is beyond the bound and `force` is False.
    """
    selected = select_tables(spec, tables)
    partitions = {name: effective_partition(spec, name, options.partition) for name in selected}
    for name, columns in partitions.items():
        clash = [column for column in columns if column in spec.tables[name].visible_columns]
        if clash:
            raise SpecError(
                f"{spec.name}: table {name!r}, column {clash[0]!r}: has the name of a partition column "
                f"({', '.join(columns)}); rename the column or partition differently"
            )
    rows_per_file = {name: (file_rows or {}).get(name, options.file_rows_target) for name in selected}
    check_size(spec, partitions, min(rows_per_file.values(), default=options.file_rows_target), force=force)
    layouts = build_layouts(spec, seed)
    check_integer_ranges(spec, {name: layout.rows for name, layout in layouts.items()}, spec.name)
    runtime = DatasetRuntime(spec, seed, layouts, resolve_view(range_of(layouts, spec), since, until, as_of))
    table_plans = []
    for name in selected:
        partition_columns = partitions[name]
        segments = clip_segments(partition_segments(runtime, name, partition_columns), slice_rows(runtime, name))
        table_spec = spec.tables[name]
        info = TableInfo(
            name=name,
            schema=runtime.arrow_schema(name),
            partition_columns=partition_columns,
            time_column=table_spec.time.column if table_spec.time is not None and partition_columns else None,
            dictionary_columns=tuple(
                column_name
                for column_name, column in table_spec.columns.items()
                if isinstance(column, (ChoiceColumn, FakerColumn, BooleanColumn)) and not column.hidden
            ),
            expected_rows=sum(rows for _, _, rows in segments),
            description=table_spec.description.strip(),
            column_descriptions=tuple(
                (column_name, column.description.strip())
                for column_name, column in table_spec.columns.items()
                if column.description.strip() and not column.hidden
            ),
        )
        table_plans.append(
            TablePlan(name=name, rows=sum(rows for _, _, rows in segments), info=info, files=split_files(name, segments, rows_per_file[name]))
        )
    return Plan(dataset=spec.name, seed=seed, runtime=runtime, tables=tuple(table_plans))


def select_tables(spec: DatasetSpec, tables: list[str] | None) -> list[str]:
    """The tables to plan, in the order given (all but the hidden ones for None or an empty list).

    Raises:
        ParameterError: a name is not a table of the spec.
    """
    written = [name for name, table in spec.tables.items() if not table.hidden]  # hidden tables are never written
    if not tables:
        return written
    unknown = [name for name in tables if name not in written]
    if unknown:
        raise ParameterError(f"unknown table {unknown[0]!r} in {spec.name}; its tables are {', '.join(written)}")
    return list(dict.fromkeys(tables))


def effective_partition(spec: DatasetSpec, table: str, requested: PartitionSpec | None) -> tuple[str, ...]:
    """The writer's PartitionSpec wins; None keeps the dataset's own. Tables without time stay unpartitioned."""
    if not _has_time(spec, table):
        return ()
    if requested is None:
        return tuple(spec.tables[table].partition_by)
    return requested.columns


def _has_time(spec: DatasetSpec, table: str) -> bool:
    table_spec = spec.tables[table]
    if table_spec.time is not None:
        return True
    return table_spec.parent is not None and _has_time(spec, table_spec.parent.table)


def partition_segments(runtime: DatasetRuntime, table: str, columns: tuple[str, ...]) -> list[tuple[PartitionValues, int, int]]:
    """(partition values, first row, row count) of each partition, in row order."""
    spec, layouts = runtime.spec, runtime.layouts
    layout = layouts[table]
    if not columns:
        return [((), 0, layout.rows)]
    root, chain = _time_root(spec, table)
    root_layout = layouts[root]
    assert isinstance(root_layout, TimeLayout)
    keys = [_partition_key(root_layout.first_day + day, columns) for day in range(len(root_layout.day_offsets) - 1)]
    # Consecutive days with the same key (e.g. one month) form one partition.
    bounds = [0] + [day for day in range(1, len(keys)) if keys[day] != keys[day - 1]] + [len(keys)]
    boundaries = root_layout.day_offsets[bounds]
    for child in chain:
        boundaries = _child_rows_before(runtime, layouts, child, boundaries)
    segments = []
    for position in range(len(bounds) - 1):
        first, stop = int(boundaries[position]), int(boundaries[position + 1])
        if stop > first:
            segments.append((keys[bounds[position]], first, stop - first))
    return segments


def slice_rows(runtime: DatasetRuntime, table: str) -> tuple[int, int] | None:
    """[first, stop) rows of a time-driven table (or a child of one) created inside the run's slice (days of
    the time-driven ancestor), or None for the whole table."""
    since, stop = planned_days(runtime)
    if (since is None and stop is None) or not _has_time(runtime.spec, table):
        return None
    root, chain = _time_root(runtime.spec, table)
    layout = runtime.layouts[root]
    assert isinstance(layout, TimeLayout)
    days = len(layout.day_offsets) - 1
    low = 0 if since is None else int(np.clip(since // MICROS_PER_DAY - layout.first_day, 0, days))
    high = days if stop is None else int(np.clip(-(-stop // MICROS_PER_DAY) - layout.first_day, low, days))
    bounds = layout.day_offsets[[low, high]]
    for child in chain:
        bounds = _child_rows_before(runtime, runtime.layouts, child, bounds)
    return int(bounds[0]), int(bounds[1])


def clip_segments(segments: list[tuple[PartitionValues, int, int]], bounds: tuple[int, int] | None) -> list[tuple[PartitionValues, int, int]]:
    """The parts of the segments inside [first, stop) rows (the segments themselves for None)."""
    if bounds is None:
        return segments
    first, stop = bounds
    clipped = []
    for partition, start, rows in segments:
        low, high = max(start, first), min(start + rows, stop)
        if high > low:
            clipped.append((partition, low, high - low))
    return clipped


def _child_rows_before(runtime: DatasetRuntime, layouts: dict[str, Layout], child: str, parent_rows: np.ndarray) -> np.ndarray:
    layout = layouts[child]
    assert isinstance(layout, ChildLayout)
    inside = parent_rows < layout.parent_rows
    result = np.full(parent_rows.shape, layout.rows, dtype=np.int64)
    if inside.any():
        result[inside] = runtime.first_child(child, parent_rows[inside])
    return result


def _time_root(spec: DatasetSpec, table: str) -> tuple[str, list[str]]:
    """The time-driven ancestor of `table` and the chain of children from it down to `table`."""
    chain: list[str] = []
    while spec.tables[table].time is None:
        chain.insert(0, table)
        table = spec.tables[table].parent.table  # type: ignore[union-attr]
    return table, chain


def _partition_key(day: int, columns: tuple[str, ...]) -> PartitionValues:
    date = EPOCH + dt.timedelta(days=day)
    parts = {"year": f"{date.year:04d}", "month": f"{date.month:02d}", "day": f"{date.day:02d}"}
    return tuple((column, parts[column]) for column in columns)


def split_files(table: str, segments: list[tuple[PartitionValues, int, int]], file_rows_target: int) -> tuple[FileTask, ...]:
    """Cut each partition into files of exactly `file_rows_target` rows; only the last file of a partition is shorter."""
    tasks = []
    for partition, first_row, rows in segments:
        for file_index, offset in enumerate(range(0, max(rows, 1), file_rows_target)):
            tasks.append(FileTask(table, partition, file_index, first_row + offset, min(file_rows_target, rows - offset)))
    if len(tasks) == 1 and not tasks[0].partition:
        tasks[0] = FileTask(table, (), 0, tasks[0].first_row, tasks[0].rows, only_file=True)
    return tuple(tasks)
