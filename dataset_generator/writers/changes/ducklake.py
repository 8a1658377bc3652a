"""Change feeds into DuckLake tables: one transaction per table per day (DELETE of the removed keys, INSERT of
the added rows, the commit message naming the day), so one DuckLake snapshot per day."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ...contracts import TableInfo
from ...generation.changes import CHANGE_TYPE, DAY_US, DELETE, INSERT, POSTIMAGE, day_start
from ...generation.scd2 import IS_CURRENT, VALID_TO
from ...sql import sql_identifier, sql_literal
from ..ducklake import CATALOG_ALIAS, DuckLakeWriter, _latest_snapshot
from ..partitions import schema_with_partition_columns
from ..table_format import after_commit, commit_failure
from . import commit_record, refuse_scd2, require_scd2, scd2_rows, with_partition_values


@dataclass
class Session:
    """One connection to the lake for a whole feed (attaching costs more than a day's commit)."""

    writer: DuckLakeWriter
    con: duckdb.DuckDBPyConnection


@contextmanager
def session(writer: DuckLakeWriter) -> Iterator[Session]:
    with writer._connect() as con:
        yield Session(writer, con)


def applied_days(session: Session, table: TableInfo) -> list[str] | None:
    """The days of change feeds applied to the table (None: no such table)."""
    writer, con = session.writer, session.con
    if writer._existing_columns(con, table.name) is None:
        return None
    rows = con.execute(
        f"SELECT commit_extra_info FROM ducklake_snapshots({sql_literal(CATALOG_ALIAS)}) "
        "WHERE commit_extra_info IS NOT NULL ORDER BY snapshot_id"
    ).fetchall()
    days = []
    for (extra_info,) in rows:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            record = json.loads(extra_info)
            if record.get("table") == table.name and record.get("kind") == "changes":
                days.append(str(record["day"]))
    return days


def apply_day(
    session: Session, table: TableInfo, key: list[str], changes: pa.Table, day: str, run_id: str
) -> str | None:
    """Apply one day's net changes to the DuckLake table in one snapshot (DELETE the deleted keys, UPDATE the
    updated rows in place, so they keep their partition values, INSERT the new rows); returns its id."""
    writer, con = session.writer, session.con
    qualified = writer._qualified(table.name)
    refuse_scd2(writer._existing_columns(con, table.name) or [], table.name)
    stored = [name for name in schema_with_partition_columns(table).names if name not in table.schema.names]
    kinds = changes[CHANGE_TYPE]
    deleted = changes.filter(pc.equal(kinds, DELETE)).select(key)
    updated = changes.filter(pc.equal(kinds, POSTIMAGE)).select(table.schema.names)
    inserted = with_partition_values(
        changes.filter(pc.equal(kinds, INSERT)).select(table.schema.names), table, stored, day
    )
    columns = ", ".join(sql_identifier(name) for name in inserted.column_names)
    keys = ", ".join(sql_identifier(name) for name in key)
    matched = " AND ".join(f"{qualified}.{sql_identifier(name)} = u.{sql_identifier(name)}" for name in key)
    values = [name for name in table.schema.names if name not in key]
    assignments = ", ".join(f"{sql_identifier(name)} = u.{sql_identifier(name)}" for name in values)
    con.register("dataset_generator_deleted", deleted)
    con.register("dataset_generator_updated", updated)
    con.register("dataset_generator_inserted", inserted)

    def body() -> None:
        if deleted.num_rows:
            con.execute(f"DELETE FROM {qualified} WHERE ({keys}) IN (SELECT {keys} FROM dataset_generator_deleted)")
        if updated.num_rows and assignments:
            con.execute(f"UPDATE {qualified} SET {assignments} FROM dataset_generator_updated AS u WHERE {matched}")
        if inserted.num_rows:
            con.execute(f"INSERT INTO {qualified} ({columns}) SELECT {columns} FROM dataset_generator_inserted")
        if not (deleted.num_rows or updated.num_rows or inserted.num_rows):
            _touch(con, writer, table, qualified)

    return _day_commit(session, table, day, run_id, f"changes of table {table.name} on {day}", body)


def apply_scd2_day(
    session: Session, table: TableInfo, key: list[str], changes: pa.Table, day: str, run_id: str
) -> str | None:
    """Apply one day's changes to an SCD2 dimension in one snapshot: the current version of each deleted or
    updated key closed at the end of the day, the new versions inserted."""
    writer, con = session.writer, session.con
    qualified = writer._qualified(table.name)
    require_scd2(writer._existing_columns(con, table.name) or [], table.name)
    day_end = pa.scalar(day_start(dt.date.fromisoformat(day)) + DAY_US - 1, pa.int64()).cast(pa.timestamp("us"))
    closing, opened = scd2_rows(changes, table, day_end)
    closing = closing.select(key)
    columns = ", ".join(sql_identifier(name) for name in opened.column_names)
    matched = " AND ".join(f"{qualified}.{sql_identifier(name)} = c.{sql_identifier(name)}" for name in key)
    con.register("dataset_generator_closing", closing)
    con.register("dataset_generator_opened", opened)

    def body() -> None:
        if closing.num_rows:
            con.execute(
                f"UPDATE {qualified} SET {VALID_TO} = ?::TIMESTAMP, {IS_CURRENT} = false "
                f"FROM dataset_generator_closing AS c WHERE {matched} AND {qualified}.{IS_CURRENT}",
                [day_end.as_py()],
            )
        if opened.num_rows:
            con.execute(f"INSERT INTO {qualified} ({columns}) SELECT {columns} FROM dataset_generator_opened")
        if not (closing.num_rows or opened.num_rows):
            _touch(con, writer, table, qualified)

    return _day_commit(session, table, day, run_id, f"changes of table {table.name} on {day} (scd2)", body)


def _day_commit(session: Session, table: TableInfo, day: str, run_id: str, message: str, body: Callable[[], None]) -> str | None:
    """Run `body` (the day's statements) in one transaction that records the day, so it is one snapshot;
    roll back on any failure. Returns the snapshot id (None when the commit landed but could not be read)."""
    con = session.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"CALL {CATALOG_ALIAS}.set_commit_message('dataset-generator', ?, extra_info => ?)",
            [message, commit_record(table.name, day, run_id)],
        )
        body()
        con.execute("COMMIT")
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        if isinstance(exc, duckdb.Error):
            raise commit_failure(f"DuckLake change commit of table {table.name!r} for {day} failed", exc) from exc
        raise
    snapshot = after_commit("ducklake", table.name, lambda: _latest_snapshot(con))
    return None if snapshot is None else str(snapshot)


def _touch(con: duckdb.DuckDBPyConnection, writer: DuckLakeWriter, table: TableInfo, qualified: str) -> None:
    """A change that changes nothing, so that a day without changes still makes its snapshot: the table's
    comment set to what it is."""
    comment = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
        [CATALOG_ALIAS, writer.schema, table.name],
    ).fetchone()
    text = comment[0] if comment else None
    con.execute(f"COMMENT ON TABLE {qualified} IS {'NULL' if text is None else sql_literal(text)}")
