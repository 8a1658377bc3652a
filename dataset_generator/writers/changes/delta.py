"""Change feeds into Delta tables: one MERGE per table per day (deltalake `DeltaTable.merge`), one version.

The merge source is the day's net changes without the preimages, so each key appears once: `delete` rows
delete the matched row, `update_postimage` rows update its visible columns, `insert` rows insert (with the
partition values the table stores). A day without changes makes an empty append commit, so every day has its
version (also when a merge changed nothing). Each commit records its day in the commitInfo (`dataset_generator.day`). With change data feed on
(`delta.enableChangeDataFeed`, set when the writer creates a table, turned on here otherwise: one more
version before the first day), `DeltaTable.load_cdf` returns the same changes as the Parquet feed.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable
from deltalake.transaction import CommitProperties

from ...contracts import TableInfo
from ...errors import WriterError
from ...generation.changes import CHANGE_TYPE, DAY_US, DELETE, INSERT, POSTIMAGE, day_start
from ...generation.scd2 import IS_CURRENT, SCD2_COLUMNS, VALID_FROM, VALID_TO
from ..delta import DeltaWriter
from ..table_format import after_commit, commit_failure
from . import (
    DAY_PROPERTY,
    RUN_PROPERTY,
    TABLE_PROPERTY,
    refuse_scd2,
    require_scd2,
    scd2_rows,
    with_partition_values,
)

CHANGE_DATA_FEED = "delta.enableChangeDataFeed"
_ACTION = "_dataset_generator_action"


def _load(writer: DeltaWriter, table: TableInfo) -> DeltaTable | None:
    return writer._load(writer.storage.join(table.name))


def session(writer: DeltaWriter) -> contextlib.AbstractContextManager[DeltaWriter]:
    """What `applied_days` and `apply_day` take: the writer itself (its library holds no connection)."""
    return contextlib.nullcontext(writer)


def applied_days(writer: DeltaWriter, table: TableInfo) -> list[str] | None:
    """The days of change feeds applied to the table (None: no such table)."""
    existing = _load(writer, table)
    if existing is None:
        return None
    return [
        str(entry[DAY_PROPERTY])
        for entry in existing.history()
        if entry.get(DAY_PROPERTY) is not None and entry.get(TABLE_PROPERTY) == table.name
    ]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def apply_day(
    writer: DeltaWriter, table: TableInfo, key: list[str], changes: pa.Table, day: str, run_id: str
) -> str | None:
    """Apply one day's net changes to the Delta table in one version; returns that version."""
    existing = _load(writer, table)
    if existing is None:
        raise WriterError(f"Delta table {table.name!r} disappeared while the change feed was applied")
    refuse_scd2(list(existing.schema().to_arrow().names), table.name)
    if existing.metadata().configuration.get(CHANGE_DATA_FEED) != "true":
        existing.alter.set_table_properties({CHANGE_DATA_FEED: "true"})
        existing = _load(writer, table)
        assert existing is not None
    partition_by = list(existing.metadata().partition_columns)
    kinds = changes[CHANGE_TYPE]
    source = changes.filter(pc.is_in(kinds, pa.array([INSERT, DELETE, POSTIMAGE])))
    source = with_partition_values(source.select([*table.schema.names, CHANGE_TYPE]), table, partition_by, day)
    properties = CommitProperties(custom_metadata={DAY_PROPERTY: day, TABLE_PROPERTY: table.name, RUN_PROPERTY: run_id})
    before = existing.version()
    try:
        if source.num_rows:
            on = " AND ".join(f"t.{_quoted(name)} = s.{_quoted(name)}" for name in key)
            values = [name for name in table.schema.names if name not in key]
            inserted = [name for name in source.column_names if name != CHANGE_TYPE]
            (
                existing.merge(source, on, source_alias="s", target_alias="t", commit_properties=properties)
                .when_matched_delete(predicate=f"s.{CHANGE_TYPE} = '{DELETE}'")
                .when_matched_update(
                    updates={_quoted(name): f"s.{_quoted(name)}" for name in values},
                    predicate=f"s.{CHANGE_TYPE} = '{POSTIMAGE}'",
                )
                .when_not_matched_insert(
                    updates={_quoted(name): f"s.{_quoted(name)}" for name in inserted},
                    predicate=f"s.{CHANGE_TYPE} = '{INSERT}'",
                )
                .execute()
            )
        if _load(writer, table).version() == before:  # type: ignore[union-attr]
            # No change (a quiet day; a merge that changes nothing commits nothing): an empty commit, so
            # that every day has its version.
            existing.create_write_transaction(
                [], "append", existing.schema(), partition_by=partition_by, commit_properties=properties
            )
    except Exception as exc:  # deltalake raises DeltaError, OSError and its own panics
        if day in (applied_days(writer, table) or []):  # the log entry landed, the error came after it
            return None
        raise commit_failure(f"Delta change commit of table {table.name!r} for {day} failed", exc) from exc
    return after_commit("delta", table.name, lambda: str(_load(writer, table).version()))  # type: ignore[union-attr]


def apply_scd2_day(
    writer: DeltaWriter, table: TableInfo, key: list[str], changes: pa.Table, day: str, run_id: str
) -> str | None:
    """Apply one day's changes to an SCD2 dimension in one MERGE: the source holds a `close` row per deleted
    or updated key (matched with the key's current version: valid_to and is_current set) and an `open` row per
    new version (never matched: inserted)."""
    existing = _load(writer, table)
    if existing is None:
        raise WriterError(f"Delta table {table.name!r} disappeared while the change feed was applied")
    require_scd2(list(existing.schema().to_arrow().names), table.name)
    day_end = pa.scalar(day_start(dt.date.fromisoformat(day)) + DAY_US - 1, pa.int64()).cast(pa.timestamp("us"))
    closing, opened = scd2_rows(changes, table, day_end)
    closing = closing.select(opened.column_names[: -len(SCD2_COLUMNS)])
    closing = closing.append_column(VALID_FROM, pa.nulls(closing.num_rows, pa.timestamp("us")))
    closing = closing.append_column(VALID_TO, pa.nulls(closing.num_rows, pa.timestamp("us")))
    closing = closing.append_column(IS_CURRENT, pa.nulls(closing.num_rows, pa.bool_()))
    closing = closing.cast(opened.schema).append_column(_ACTION, pa.repeat(pa.scalar("close"), closing.num_rows))
    opened = opened.append_column(_ACTION, pa.repeat(pa.scalar("open"), opened.num_rows))
    source = pa.concat_tables([closing, opened])
    properties = CommitProperties(custom_metadata={DAY_PROPERTY: day, TABLE_PROPERTY: table.name, RUN_PROPERTY: run_id})
    before = existing.version()
    stamp = day_end.as_py().isoformat(sep=" ")
    try:
        if source.num_rows:
            on = " AND ".join(f"t.{_quoted(name)} = s.{_quoted(name)}" for name in key)
            on += f" AND t.{IS_CURRENT} AND s.{_ACTION} = 'close'"
            inserted = [name for name in source.column_names if name != _ACTION]
            (
                existing.merge(source, on, source_alias="s", target_alias="t", commit_properties=properties)
                .when_matched_update(updates={VALID_TO: f"CAST('{stamp}' AS TIMESTAMP_NTZ)", IS_CURRENT: "false"})
                .when_not_matched_insert(
                    updates={_quoted(name): f"s.{_quoted(name)}" for name in inserted},
                    predicate=f"s.{_ACTION} = 'open'",
                )
                .execute()
            )
        if _load(writer, table).version() == before:  # type: ignore[union-attr]
            existing.create_write_transaction(
                [], "append", existing.schema(), partition_by=[], commit_properties=properties
            )
    except Exception as exc:  # deltalake raises DeltaError, OSError and its own panics
        if day in (applied_days(writer, table) or []):
            return None
        raise commit_failure(f"Delta change commit of table {table.name!r} for {day} failed", exc) from exc
    return after_commit("delta", table.name, lambda: str(_load(writer, table).version()))  # type: ignore[union-attr]
