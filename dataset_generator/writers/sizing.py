"""Rows per file for a size target (`WriterOptions.file_bytes_target`, `--file-size-target 256MB`).

Each table's rows per file come from the encoded size of a pilot sample: one row group's worth of rows taken in
`PILOT_SLICES` equal slices spread evenly over the table (so a table whose values drift over time is sampled at
its start, middle and end), encoded in memory with the writer's own encoder, codec and level. The sample is a
fixed set of rows, so the result is the same on every machine with the same library versions, and every part
of a `--parts` run and every Dask worker derives the same plan.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping
from typing import Any

from ..contracts import TableInfo
from ..generation.planner import Plan, make_plan
from ..generation.runtime import DatasetRuntime
from ..options import WriterOptions
from ..schemas.dataset import DatasetSpec
from .encoding import Encoder
from .parquet_encoding import ParquetEncoder

PILOT_SLICES = 4
# Row groups of a size-targeted file: the default row group, unless the file is smaller.
PILOT_GROUP_ROWS = 131_072


def sized_plan(
    spec: DatasetSpec,
    *,
    seed: int,
    options: WriterOptions,
    tables: list[str] | None = None,
    force: bool = False,
    encoder: Encoder | None = None,
    window: Mapping[str, Any] | None = None,
) -> Plan:
    """`make_plan`, with each table's rows per file derived from `options.file_bytes_target` when it is set.

    Args:
        spec, seed, options, tables, force: as for `make_plan`.
        window: `make_plan`'s since/until/as_of, by name.
        encoder: the writer's encoder, for the pilot (None: Parquet with `options`).

    Raises:
        the errors of `make_plan`.
    """
    plan = make_plan(spec, seed=seed, options=options, tables=tables, force=force, **(window or {}))
    if options.file_bytes_target is None:
        return plan
    file_rows = {table.name: pilot_file_rows(plan.runtime, table.info, table.rows, options, encoder) for table in plan.tables}
    return make_plan(spec, seed=seed, options=options, tables=tables, force=force, file_rows=file_rows, **(window or {}))


def pilot_file_rows(
    runtime: DatasetRuntime, info: TableInfo, table_rows: int, options: WriterOptions, encoder: Encoder | None = None
) -> int:
    """Rows per file that make files of about `options.file_bytes_target` bytes.

    Args:
        runtime: the plan's runtime (generates the pilot rows).
        info: the table (schema, dictionary columns).
        table_rows: the table's row count.
        options: the run's writer options, with `file_bytes_target` set.
        encoder: the writer's encoder (None: Parquet with `options`; a Parquet encoder is rebuilt with the pilot's
            row groups).

    Returns:
        Rows per file, at least 1.
    """
    target = options.file_bytes_target
    assert target is not None
    if table_rows <= 0:
        return options.file_rows_target
    group = min(options.row_group_rows or PILOT_GROUP_ROWS, table_rows)
    rows = _rows_for(runtime, info, table_rows, options, encoder, group, target)
    if rows < group and options.row_group_rows is None:
        # Files smaller than a row group hold one row group each: measure that shape instead.
        rows = _rows_for(runtime, info, table_rows, options, encoder, max(rows, 1), target)
    return max(1, rows)


def _rows_for(
    runtime: DatasetRuntime, info: TableInfo, table_rows: int, options: WriterOptions, encoder: Encoder | None, group: int, target: int
) -> int:
    sample = min(group, table_rows)
    slice_rows = -(-sample // PILOT_SLICES)
    starts = sorted({min(table_rows - slice_rows, (table_rows * i) // PILOT_SLICES) for i in range(PILOT_SLICES)})
    batches = [runtime.batch(info.name, max(start, 0), min(slice_rows, table_rows)) for start in starts]
    if encoder is None or isinstance(encoder, ParquetEncoder):
        encoder = ParquetEncoder(dataclasses.replace(options, row_group_rows=group))
    sink = io.BytesIO()
    encoded, _ = encoder.encode(sink, info, batches)
    size = sink.tell()
    if encoded <= 0 or size <= 0:
        return options.file_rows_target
    return int(target * encoded / size)
