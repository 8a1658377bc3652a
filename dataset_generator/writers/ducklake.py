"""DuckLake tables through DuckDB and the `ducklake` extension from PyPI (never downloaded at run time).

Layout by default: the DuckLake metadata is a DuckDB file inside the output (`<output>/catalog.ducklake`) and
data files live under `<output>/data/` (DuckLake's DATA_PATH), so the output directory is self-contained:

    ATTACH 'ducklake:<output>/catalog.ducklake' AS lake (DATA_PATH '<output>/data/')

An S3 output keeps DATA_PATH in the bucket (`s3://bucket/prefix/data/`) and its metadata in a local DuckDB
file at `catalog_home.default_catalog_file(<output>, "catalog.ducklake")` (DuckDB cannot write a database file
to S3); the run summary names it. `metadata_uri` puts the metadata elsewhere: a DuckDB file path,
`sqlite:<path>` or `postgres:<libpq dsn>` (which need the `duckdb-extension-sqlite-scanner` /
`duckdb-extension-postgres-scanner` packages); `data_path` moves the data files.

Protocol: a DuckDB connection cannot be shared across processes, so workers write plain Parquet files with
pyarrow (the Parquet format's encoder) into `<DATA_PATH>/<schema>/<table>/year=…/month=…/day=…/`, and `commit`
registers them with `ducklake_add_data_files` in ONE DuckDB transaction, together with CREATE TABLE / SET
PARTITIONED BY for a new table or DELETE FROM for an overwrite (or ALTER TABLE for an append whose spec
changed: `evolution.py`, docs/writers/evolution.md): one DuckLake snapshot per table per run.
DuckLake takes ownership of the files (its compaction and cleanup may later rewrite or delete them).

Partitioning: a table with its own time column is `SET PARTITIONED BY (year(ts), month(ts), day(ts))` (a
prefix of it for year/month); DuckLake derives each added file's partition values from its contents. A child
table partitioned by its parent's time gets year/month/day VARCHAR columns, written into its files, with
identity partitions, matching its Delta and Hive layouts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import duckdb
import pyarrow as pa

from ..contracts import CommitInfo, FileInfo, PartitionValues, TableHandle, TableInfo
from ..errors import TableExistsError, WriterError
from ..faults import fault_point
from ..options import WriterOptions
from ..sql import sql_identifier, sql_literal
from ..storage import S3Config, is_s3_uri
from .base import new_run_id
from .catalog_home import default_catalog_file
from .duckdb_extensions import connect_duckdb
from .evolution import Evolution, Rules, plan_evolution
from .partitions import schema_with_partition_columns
from .table_format import TableFormatWriter, after_commit, commit_failure
from .targets import DuckLakeTarget
from .types import no_duration

CATALOG_ALIAS = "lake"
DEFAULT_METADATA_FILE = "catalog.ducklake"
DEFAULT_DATA_DIR = "data"
DEFAULT_SCHEMA = "main"
# DuckLake's own promotions (checked again by its ALTER COLUMN ... SET DATA TYPE) are wider than these
# (int -> double, timestamp -> timestamptz, bool -> int); an append makes only the widenings that keep values.
DUCKLAKE_RULES = Rules("DuckLake", widen_decimals=True, date_to_timestamp=True)
# Metadata URI prefix -> the DuckDB extension that DuckLake needs to reach that catalog database.
_METADATA_EXTENSIONS: dict[str, str] = {"sqlite:": "sqlite_scanner", "postgres:": "postgres_scanner"}
# WriterOptions codec -> DuckLake `parquet_compression` option (used when DuckDB itself rewrites files).
_DUCKLAKE_CODECS = {"none": "uncompressed"}
_LOCK_WAIT_SECONDS = 60.0  # how long to wait for another process's hold on a DuckDB metadata file


class DuckLakeWriter(TableFormatWriter):
    """DuckLake tables; the target (`DuckLakeTarget`): `metadata_uri`, `data_path`, `schema`."""

    name: ClassVar[str] = "ducklake"
    description: ClassVar[str] = "DuckLake tables (DuckDB), one snapshot per table per run"
    target_spec: ClassVar[type[DuckLakeTarget]] = DuckLakeTarget
    target: DuckLakeTarget

    def unsupported_type(self, data_type: pa.DataType, nested: bool) -> str | None:
        # DuckLake's INTERVAL columns cannot take the int64 a Parquet file stores an Arrow duration as.
        return no_duration("DuckLake", data_type)

    def __init__(
        self, output_uri: str, s3: S3Config | None = None, options: WriterOptions | None = None, **target: Any
    ) -> None:
        super().__init__(output_uri, s3=s3, options=options, **target)
        self.metadata_uri = self.target.metadata_uri
        self.data_path = self.target.data_path
        self.schema = self.target.schema or DEFAULT_SCHEMA

    # ------------------------------------------------------------------ connection (client only)

    def _metadata(self) -> str:
        if self.metadata_uri is not None:
            return self.metadata_uri.removeprefix("ducklake:")
        if is_s3_uri(self.output_uri):  # DuckDB cannot write its database file to S3: a local file
            return default_catalog_file(self.output_uri, DEFAULT_METADATA_FILE)
        return self.storage.join(DEFAULT_METADATA_FILE)

    def describe_catalog(self) -> str:
        """The metadata database and DATA_PATH, for the run summary (a DSN's password is masked)."""
        metadata = re.sub(r"(password=)\S+", r"\1***", self._metadata())
        return f"DuckLake metadata {metadata}, DATA_PATH {self._data_path()}"

    def _data_path(self) -> str:
        path = self.data_path or self.storage.join(DEFAULT_DATA_DIR)
        return path.rstrip("/") + "/"

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        metadata = self._metadata()
        extensions = ["ducklake"]
        extensions += [ext for prefix, ext in _METADATA_EXTENSIONS.items() if metadata.startswith(prefix)]
        secret = (self.s3 or S3Config()).duckdb_secret_sql() if is_s3_uri(self._data_path()) else None
        if secret is not None:
            extensions.append("httpfs")
        local_file = _local_metadata_file(metadata)
        if local_file is not None:
            # DuckDB and SQLite create the file but not its directory.
            os.makedirs(os.path.dirname(os.path.abspath(local_file)), exist_ok=True)
        con = connect_duckdb(extensions)
        try:
            if secret is not None:
                con.execute(secret)
            attach = f"ATTACH {sql_literal('ducklake:' + metadata)} AS {CATALOG_ALIAS} (DATA_PATH {sql_literal(self._data_path())})"
            deadline = time.monotonic() + _LOCK_WAIT_SECONDS
            while True:
                try:
                    con.execute(attach)
                    break
                except duckdb.IOException as exc:
                    # A DuckDB metadata file is locked by one process at a time: another run is committing.
                    if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            yield con
        except duckdb.Error as exc:
            raise WriterError(f"DuckLake at {metadata}: {_first_line(exc)}") from exc
        finally:
            con.close()

    def _qualified(self, table: str) -> str:
        return f"{CATALOG_ALIAS}.{sql_identifier(self.schema)}.{sql_identifier(table)}"

    def _existing_columns(self, con: duckdb.DuckDBPyConnection, table: str) -> list[str] | None:
        rows = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? AND table_name = ? "
            "ORDER BY column_index",
            [CATALOG_ALIAS, self.schema, table],
        ).fetchall()
        return [row[0] for row in rows] or None

    def _stored_data_path(self, con: duckdb.DuckDBPyConnection) -> str:
        # An existing lake keeps the DATA_PATH it was created with, whatever this run passed.
        row = con.execute(
            f"SELECT value FROM __ducklake_metadata_{CATALOG_ALIAS}.ducklake_metadata WHERE key = 'data_path'"
        ).fetchone()
        return row[0] if row and row[0] else self._data_path()

    # ------------------------------------------------------------------ protocol

    def is_committed(self, table: TableInfo) -> bool:
        """Whether the table's latest snapshot by this tool was committed by an identical run (the fingerprint
        in the snapshot's commit extra info) and the table exists."""
        if not table.fingerprint:
            return False
        with self._connect() as con:
            if self._existing_columns(con, table.name) is None:
                return False
            rows = con.execute(
                f"SELECT commit_extra_info FROM ducklake_snapshots({sql_literal(CATALOG_ALIAS)}) "
                "WHERE commit_extra_info IS NOT NULL ORDER BY snapshot_id DESC"
            ).fetchall()
        for (extra_info,) in rows:
            with contextlib.suppress(ValueError, TypeError):
                record = json.loads(extra_info)
                if isinstance(record, dict) and record.get("table") == table.name:
                    return bool(record.get("fingerprint") == table.fingerprint)
        return False

    def open_table(self, table: TableInfo, *, run_id: str | None = None) -> TableHandle:
        mode = self.options.mode
        with self._connect() as con:
            columns = self._existing_columns(con, table.name)
            data_path = self._stored_data_path(con)
            snapshot = _latest_snapshot(con)
            if columns is not None and mode == "error":
                raise TableExistsError(table.name, self._metadata(), str(snapshot), kind="DuckLake table")
            if columns is not None and mode == "append":
                self._plan_evolution(con, table)  # refused here, before any file is written
        location = _join(data_path, self.schema, table.name)
        return TableHandle(
            table=table,
            run_id=run_id or new_run_id(),
            location=location,
            mode=mode,
            extra={"exists": columns is not None, "snapshot": snapshot},
        )

    def part_handle(self, table: TableInfo, run_id: str) -> TableHandle:
        """Where a `--parts` part writes, without touching the metadata database (parts run concurrently):
        the configured DATA_PATH. For an existing lake this must be the DATA_PATH it was created with."""
        location = _join(self._data_path(), self.schema, table.name)
        return TableHandle(table=table, run_id=run_id, location=location, mode=self.options.mode)

    def write_file(
        self,
        handle: TableHandle,
        partition: PartitionValues,
        file_index: int,
        batches: Iterable[pa.RecordBatch],
        *,
        only_file: bool = False,
    ) -> FileInfo:
        return self.write_run_file(handle, partition, file_index, batches, identity_columns=True)

    def commit(self, handle: TableHandle, files: list[FileInfo]) -> CommitInfo:
        table = handle.table
        with self._connect() as con:
            codec = self.options.compression
            # Lake-wide (per-table options cannot be set on a table created in the same transaction); it
            # only steers files DuckDB itself writes later (inserts, compaction) and creates no snapshot.
            con.execute(
                f"CALL {CATALOG_ALIAS}.set_option('parquet_compression', ?)",
                [_DUCKLAKE_CODECS.get(codec, codec)],
            )
            con.execute("BEGIN TRANSACTION")
            try:
                self._register(con, handle, files)
                fault_point("ducklake.before-commit", table.name)
                con.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already ended the transaction
                    con.execute("ROLLBACK")
                if isinstance(exc, duckdb.Error):
                    if "conflict" in str(exc).lower() and handle.mode == "error":
                        raise TableExistsError(table.name, self._metadata(), kind="DuckLake table") from None
                    raise commit_failure(f"DuckLake commit of table {table.name!r} failed", exc) from exc
                raise
            # The snapshot is durable: from here on nothing may raise or delete its files.
            snapshot = after_commit("ducklake", table.name, lambda: _latest_snapshot(con))
        return CommitInfo.from_files(table.name, handle.location, files, version=None if snapshot is None else str(snapshot))

    def _register(self, con: duckdb.DuckDBPyConnection, handle: TableHandle, files: list[FileInfo]) -> None:
        """Inside the open transaction: create, empty or check the table and add the run's files to it."""
        table = handle.table
        qualified = self._qualified(table.name)
        columns = self._existing_columns(con, table.name)
        wanted = list(schema_with_partition_columns(table).names)
        if columns is not None and handle.mode == "overwrite" and columns != wanted:
            con.execute(f"DROP TABLE {qualified}")
            columns = None
        if columns is None:
            if handle.extra["exists"] and handle.mode != "overwrite":
                raise WriterError(f"DuckLake table {table.name!r} was dropped while this run was writing")
            self._create_table(con, table)
        elif handle.mode == "overwrite":
            # Old files stay referenced by earlier snapshots: time travel keeps working.
            con.execute(f"DELETE FROM {qualified}")
        elif handle.mode == "error":
            raise TableExistsError(table.name, self._metadata(), kind="DuckLake table")
        evolution = self._plan_evolution(con, table) if columns is not None and handle.mode == "append" else Evolution()
        if evolution.changed:
            self._evolve(con, table, evolution)  # in this transaction: one snapshot with the run's files
        extra_info = json.dumps({"table": table.name, "fingerprint": table.fingerprint, "run_id": handle.run_id})
        con.execute(
            f"CALL {CATALOG_ALIAS}.set_commit_message('dataset-generator', ?, extra_info => ?)",
            [f"table {table.name}", extra_info],
        )
        if files:
            # A column the spec dropped stays in the table (nullable): the new files lack it, their rows read null.
            con.execute(
                "CALL ducklake_add_data_files(?, ?, ?, schema => ?, allow_missing => ?)",
                [CATALOG_ALIAS, table.name, [info.path for info in files], self.schema, bool(evolution.kept)],
            )

    def _landed(self, handle: TableHandle) -> bool:
        """Whether a snapshot of the lake was committed by this run (its run id in the commit extra info)."""
        try:
            with self._connect() as con:
                rows = con.execute(
                    f"SELECT commit_extra_info FROM ducklake_snapshots({sql_literal(CATALOG_ALIAS)}) "
                    "WHERE commit_extra_info IS NOT NULL"
                ).fetchall()
        except Exception:  # unreadable: nothing can be shown to be ours
            return False
        for (extra_info,) in rows:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                if json.loads(extra_info).get("run_id") == handle.run_id:
                    return True
        return False

    def _plan_evolution(self, con: duckdb.DuckDBPyConnection, table: TableInfo) -> Evolution:
        """What appending this spec's table changes in the DuckLake table (refused: `SchemaEvolutionError`).
        Both sides are rendered by DuckDB (the spec's through its own Arrow type mapping); DuckLake columns
        are nullable, the spec's nullability is the spec's."""
        current = con.execute(f"SELECT * FROM {self._qualified(table.name)} LIMIT 0").to_arrow_table().schema
        spec = schema_with_partition_columns(table)
        with _registered(con, spec) as relation:
            rendered = con.execute(f"SELECT * FROM {relation}").to_arrow_table().schema
        wanted = pa.schema([field.with_nullable(spec.field(field.name).nullable) for field in rendered])
        fixed = [*table.partition_columns, *([table.time_column] if table.time_column and table.partition_columns else [])]
        return plan_evolution(DUCKLAKE_RULES, f"DuckLake table {table.name!r}", current, wanted, fixed=fixed)

    def _evolve(self, con: duckdb.DuckDBPyConnection, table: TableInfo, evolution: Evolution) -> None:
        """ALTER TABLE inside the commit's transaction: new columns, then widened types (DuckLake checks
        each promotion again), with the new columns' descriptions."""
        qualified = self._qualified(table.name)
        types = _duckdb_types(con, schema_with_partition_columns(table))
        descriptions = dict(table.column_descriptions)
        for field in evolution.added:
            con.execute(f"ALTER TABLE {qualified} ADD COLUMN {sql_identifier(field.name)} {types[field.name]}")
            if field.name in descriptions:
                con.execute(f"COMMENT ON COLUMN {qualified}.{sql_identifier(field.name)} IS {sql_literal(descriptions[field.name])}")
        for name, _old, _new in evolution.widened:
            con.execute(f"ALTER TABLE {qualified} ALTER COLUMN {sql_identifier(name)} SET DATA TYPE {types[name]}")

    def _create_table(self, con: duckdb.DuckDBPyConnection, table: TableInfo) -> None:
        types = _duckdb_types(con, schema_with_partition_columns(table))
        columns = ", ".join(f"{sql_identifier(name)} {type_name}" for name, type_name in types.items())
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG_ALIAS}.{sql_identifier(self.schema)}")
        con.execute(f"CREATE TABLE {self._qualified(table.name)} ({columns})")
        if table.description:
            con.execute(f"COMMENT ON TABLE {self._qualified(table.name)} IS {sql_literal(table.description)}")
        for column, text in table.column_descriptions:
            con.execute(
                f"COMMENT ON COLUMN {self._qualified(table.name)}.{sql_identifier(column)} IS {sql_literal(text)}"
            )
        keys = partition_keys(table)
        if keys:
            con.execute(f"ALTER TABLE {self._qualified(table.name)} SET PARTITIONED BY ({', '.join(keys)})")

    def abort(self, handle: TableHandle, files: list[FileInfo]) -> None:
        """Remove this run's data files (and the directory of a table this run would have created), unless a
        snapshot of this run references them (a landed commit is never undone)."""
        if self._landed(handle):
            return
        self.remove_run_files(handle, files)


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> Iterator[str]:
    """An empty relation of `schema` registered on `con` while the block runs (its name)."""
    con.register("dataset_generator_empty", schema.empty_table())
    try:
        yield "dataset_generator_empty"
    finally:
        con.unregister("dataset_generator_empty")


def _duckdb_types(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> dict[str, str]:
    """Column -> DuckDB type name, by DuckDB's own Arrow type mapping (TIMESTAMP, DATE, INTEGER, DECIMAL…)."""
    with _registered(con, schema) as relation:
        return {name: kind for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def partition_keys(table: TableInfo) -> list[str]:
    """DuckLake partition key expressions: time transforms on the time column, or identity columns."""
    columns = list(table.partition_columns)
    if table.time_column is None:
        return [sql_identifier(name) for name in columns]
    return [f"{name}({sql_identifier(table.time_column)})" for name in columns]


def _latest_snapshot(con: duckdb.DuckDBPyConnection) -> int | None:
    row = con.execute(f"SELECT max(snapshot_id) FROM ducklake_snapshots({sql_literal(CATALOG_ALIAS)})").fetchone()
    return row[0] if row else None


def _local_metadata_file(metadata: str) -> str | None:
    if metadata.startswith("sqlite:"):
        return metadata[len("sqlite:") :]
    if metadata.startswith("postgres:"):
        return None
    return metadata


def _join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
