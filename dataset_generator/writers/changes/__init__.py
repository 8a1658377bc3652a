"""Change feeds applied to Delta, Iceberg and DuckLake tables: one commit per table per day (docs/changes.md).

Each format module (`delta.py`, `iceberg.py`, `ducklake.py`) has two functions on the client:

    applied_days(writer, table) -> list[str]       the days already applied (from the commit metadata)
    apply_day(writer, table, key, changes, day, run_id) -> str | None   one commit: the day's net changes

Every commit records its day (`dataset_generator.day`: Delta commitInfo, Iceberg snapshot summary, DuckLake
commit extra info), so a re-run skips the days a killed run already applied, and time travel finds a day's
version. `applier_for(writer)` gives the module of a writer's format (None: a file format, which gets
`<table>_changes` tables instead).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from types import ModuleType

import pyarrow as pa
import pyarrow.compute as pc

from ...contracts import TableInfo
from ...errors import WriterError
from ...generation.changes import CHANGE_TYPE, DELETE, INSERT, POSTIMAGE, PREIMAGE
from ...generation.scd2 import IS_CURRENT, SCD2_COLUMNS, VALID_FROM, VALID_TO
from ..base import TableWriter
from ..partitions import identity_partitioned

DAY_PROPERTY = "dataset_generator.day"
TABLE_PROPERTY = "dataset_generator.table"
RUN_PROPERTY = "dataset_generator.run_id"
_APPLIERS = {"delta", "iceberg", "ducklake"}


def applier_for(writer: TableWriter) -> ModuleType | None:
    """The module that applies change feeds to `writer`'s tables, or None for formats without tables."""
    if writer.name not in _APPLIERS:
        return None
    return importlib.import_module(f"{__name__}.{writer.name}")


def removed_keys(changes: pa.Table, key: list[str]) -> pa.Table:
    """The keys whose current row a day's changes remove (deletes, and the preimage of updates)."""
    mask = pc.is_in(changes[CHANGE_TYPE], pa.array([DELETE, PREIMAGE]))
    return changes.filter(mask).select(key)


def added_rows(changes: pa.Table, table: TableInfo, partition_columns: list[str], day: str) -> pa.Table:
    """The rows a day's changes add (inserts and postimages), in the table's columns, plus the partition
    columns the format stores (`partition_columns`): derived from the time column when the table has one,
    else the day itself (a child table's row is created with its parent, on the day it is inserted)."""
    mask = pc.is_in(changes[CHANGE_TYPE], pa.array([INSERT, POSTIMAGE]))
    rows = changes.filter(mask).select(table.schema.names)
    return with_partition_values(rows, table, partition_columns, day)


def with_partition_values(rows: pa.Table, table: TableInfo, partition_columns: list[str], day: str) -> pa.Table:
    """`rows` with string year/month/day columns for every name of `partition_columns` not among them."""
    formats = {"year": "%Y", "month": "%m", "day": "%d"}
    year, month, date = day.split("-")
    constant = {"year": year, "month": month, "day": date}
    for name in partition_columns:
        if name in rows.column_names:
            continue
        if table.time_column is not None and not identity_partitioned(table):
            values = pc.strftime(rows[table.time_column], format=formats[name])
        else:
            values = pa.array([constant[name]] * rows.num_rows, pa.string())
        rows = rows.append_column(pa.field(name, pa.string()), values)
    return rows


def commit_record(table: str, day: str, run_id: str) -> str:
    """The JSON a DuckLake commit's extra info holds for a change-feed day."""
    return json.dumps({"table": table, "day": day, "run_id": run_id, "kind": "changes"})


def next_days(applied: list[str], days: list[str], table: str) -> list[str]:
    """The days of `days` still to apply, after those already `applied` (ISO dates).

    Raises:
        WriterError: the feed would not continue the table's days (a gap, or a day before its last one).
    """
    done = set(applied)
    todo = [day for day in days if day not in done]
    if todo and applied:
        last = max(applied)
        following = (dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()
        if todo[0] != following:
            raise WriterError(
                f"table {table!r} holds changes up to {last}; a change feed into it must continue with "
                f"`since` {following} (got days from {todo[0]})"
            )
    return todo


def scd2_rows(changes: pa.Table, table: TableInfo, day_end: pa.Scalar) -> tuple[pa.Table, pa.Table]:
    """(keys whose current version a day's changes close, the versions they open) of an SCD2 dimension.

    `table` has the SCD2 schema (generation/scd2.py); `day_end` is the day's commit timestamp, where closed
    versions end and opened ones start."""
    visible = [name for name in table.schema.names if name not in SCD2_COLUMNS]
    closing = changes.filter(pc.is_in(changes[CHANGE_TYPE], pa.array([DELETE, PREIMAGE])))
    opened = changes.filter(pc.is_in(changes[CHANGE_TYPE], pa.array([INSERT, POSTIMAGE]))).select(visible)
    count = opened.num_rows
    opened = opened.append_column(VALID_FROM, pa.repeat(day_end, count).cast(pa.timestamp("us")))
    opened = opened.append_column(VALID_TO, pa.nulls(count, pa.timestamp("us")))
    opened = opened.append_column(IS_CURRENT, pa.repeat(pa.scalar(True), count))
    return closing, opened.cast(table.schema)


def require_scd2(columns: list[str], table: str) -> None:
    """Refuse a changes run with --scd2 into a table that is not an SCD2 history (and the reverse)."""
    if not set(SCD2_COLUMNS) <= set(columns):
        raise WriterError(
            f"table {table!r} is not an SCD2 history (no {', '.join(SCD2_COLUMNS)}); create it with a `scd2=True` run, "
            "or leave `scd2=True` out"
        )


def refuse_scd2(columns: list[str], table: str) -> None:
    if set(SCD2_COLUMNS) <= set(columns):
        raise WriterError(f"table {table!r} is an SCD2 history; apply changes to it with `scd2=True`")
