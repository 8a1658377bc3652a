"""Delta Lake tables (one per dataset table, at `<output>/<table>`), committed in one transaction per run.

Workers write plain Parquet data files with pyarrow (the same encoder as the Parquet format) straight into
the table directory, in a Hive layout, under names unique to the run. Nothing is visible to readers until
`commit` adds every file in ONE Delta transaction on the client. deltalake is called only on the client
(`open_table`, `commit`): it panics in a forked child once the parent has used it, and keeping it out of
`write_file` lets any engine fork, spawn or ship the work to Dask.

Partition columns (year/month/day) are STRING partition columns of the Delta schema and, as Delta requires,
are not stored in the data files: their values live in each add action.

Schema evolution on append (`evolution.py`, docs/writers/evolution.md): new nullable columns and relaxed
nullability are merged in a metadata-only version just before the data commit (deltalake 1.6.6 keeps the
schema in `create_write_transaction`'s append); it has no type widening, so widened types are refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake
from deltalake import Schema as DeltaSchema
from deltalake.transaction import AddAction, CommitProperties, RemoveAction, create_table_with_add_actions

from ..contracts import CommitInfo, FileInfo, PartitionValues, TableHandle, TableInfo
from ..errors import SchemaEvolutionError, StorageFailure, TableExistsError, WriterError
from ..faults import fault_point
from ..storage import S3Config, is_s3_uri
from .base import new_run_id
from .descriptions import with_field_descriptions
from .evolution import Evolution, Rules, plan_evolution
from .table_format import TableFormatWriter, after_commit, commit_failure
from .types import micros_utc_only, no_duration, no_unsigned

DELTA_LOG = "_delta_log"
_FINGERPRINT = "dataset_generator.fingerprint"  # commitInfo key: what the run that made the version wrote
_EVOLUTION = "dataset_generator.schema_evolution"  # commitInfo key of a metadata-only schema change
# deltalake 1.6.6 has no type widening (no `typeWidening` table feature; `schema_mode="merge"` casts wider data
# down to the table's type): an append may only add nullable columns, relax nullability and drop nullable ones.
DELTA_RULES = Rules("Delta", widen_integers=False, widen_floats=False, note="no widened types (deltalake 1.6.6 has no Delta type widening)")
# Strings longer than this get no min/max stats: a truncated max would no longer bound the column.
_MAX_STAT_STRING = 64


def delta_storage_options(s3: S3Config | None, uri: str) -> dict[str, str] | None:
    """deltalake `storage_options` for an S3 location; None for local paths (deltalake needs nothing)."""
    if not is_s3_uri(uri):
        return None
    return (s3 or S3Config()).delta_storage_options()


class DeltaWriter(TableFormatWriter):
    name: ClassVar[str] = "delta"
    description: ClassVar[str] = "Delta Lake tables, one transaction per table per run"

    def unsupported_type(self, data_type: pa.DataType, nested: bool) -> str | None:
        if pa.types.is_time(data_type):
            return "Delta has no time-of-day type; use a timestamp, or a numeric column of seconds since midnight"
        return no_unsigned("Delta", data_type) or no_duration("Delta", data_type) or micros_utc_only("Delta", data_type)

    def _table_uri(self, location: str) -> str:
        return location if is_s3_uri(location) else os.path.abspath(location)

    def _storage_options(self, location: str) -> dict[str, str] | None:
        return delta_storage_options(self.s3, location)

    def _load(self, location: str) -> DeltaTable | None:
        uri = self._table_uri(location)
        options = self._storage_options(location)
        try:
            if not DeltaTable.is_deltatable(uri, storage_options=options):
                return None
            return DeltaTable(uri, storage_options=options)
        except OSError as exc:  # delta-rs' object store errors are multi-line: one line, exit code 1
            text = str(exc).strip()
            first = text.splitlines()[0] if text else type(exc).__name__
            raise StorageFailure(f"cannot read the Delta table at {location}: {first}") from exc

    def is_committed(self, table: TableInfo) -> bool:
        """Whether the table's latest version was committed by an identical run (its commitInfo fingerprint)."""
        existing = self._load(self.storage.join(table.name))
        if existing is None or not table.fingerprint:
            return False
        history = existing.history(1)
        return bool(history) and history[0].get(_FINGERPRINT) == table.fingerprint

    def open_table(self, table: TableInfo, *, run_id: str | None = None) -> TableHandle:
        storage = self.storage
        location = storage.join(table.name)
        mode = self.options.mode
        existing = self._load(location)
        if existing is None:
            strangers = [
                path for path in storage.list_files(location) if not _is_own_data_file(path[len(location) :])
            ]
            if strangers:
                raise WriterError(
                    f"output {location} is not empty and is not a Delta table (found {strangers[0]}); "
                    "choose an empty location"
                )
        elif mode == "error":
            raise TableExistsError(table.name, location, str(existing.version()), kind="Delta table")
        elif mode == "append":
            if existing.metadata().partition_columns != list(table.partition_columns):
                raise WriterError(
                    f"cannot append to Delta table {table.name!r}: its partitioning differs from this dataset's "
                    f"({', '.join(existing.metadata().partition_columns) or 'none'}); use mode=\"overwrite\""
                )
            _plan_evolution(existing, table)  # refused here, before any file is written
        version = existing.version() if existing is not None else None
        return TableHandle(
            table=table,
            run_id=run_id or new_run_id(),
            location=location,
            mode=mode,
            extra={"exists": existing is not None, "version": version},
        )

    def write_file(
        self,
        handle: TableHandle,
        partition: PartitionValues,
        file_index: int,
        batches: Iterable[pa.RecordBatch],
        *,
        only_file: bool = False,
    ) -> FileInfo:
        stats = _StatsCollector(handle.table.schema)
        info = self.write_run_file(handle, partition, file_index, stats.observe(batches))
        return dataclasses.replace(
            info, stats={**info.stats, "delta": stats.result(info.rows), "mtime_ms": int(time.time() * 1000)}
        )

    def commit(self, handle: TableHandle, files: list[FileInfo]) -> CommitInfo:
        table = handle.table
        uri = self._table_uri(handle.location)
        options = self._storage_options(handle.location)
        actions = [
            AddAction(
                path=info.stats["relative_path"],
                size=info.bytes,
                partition_values=dict(info.partition),
                modification_time=info.stats["mtime_ms"],
                data_change=True,
                stats=json.dumps(info.stats["delta"], separators=(",", ":")),
            )
            for info in files
        ]
        # Column descriptions are `comment` field metadata of the Delta schema; the table's is its description.
        schema = with_field_descriptions(_delta_arrow_schema(table), table, "comment")
        partition_by = list(table.partition_columns)
        creating = not handle.extra["exists"]
        properties = CommitProperties(
            custom_metadata={
                "dataset_generator.run_id": handle.run_id, "dataset_generator.table": table.name,
                _FINGERPRINT: table.fingerprint,
            },
            # Creating: version 0 or nothing. deltalake would otherwise retry a lost race for version 0 as
            # version 1, adding this run's rows to the table the other run just created.
            max_commit_retries=0 if creating else None,
        )  # fmt: skip
        fault_point("delta.before-commit", table.name)
        try:
            if not handle.extra["exists"] or handle.mode == "overwrite":
                # "error": put-if-absent of version 0, so a table another run created since open_table refuses
                # this commit rather than being replaced.
                create_table_with_add_actions(
                    uri,
                    DeltaSchema.from_arrow(schema),
                    actions,
                    mode="overwrite" if handle.extra["exists"] else "error",
                    partition_by=partition_by,
                    name=table.name,
                    description=table.description or None,
                    # Change data feed on from the start, so a later `--changes` run's merges are in load_cdf.
                    configuration={"delta.enableChangeDataFeed": "true"},
                    storage_options=options,
                    commit_properties=properties,
                )
            else:
                current = DeltaTable(uri, storage_options=options)
                evolution = _plan_evolution(current, table)
                if evolution.changed:
                    _evolve(current, schema, evolution, partition_by, handle)
                    fault_point("delta.after-evolution", table.name)
                appended: list[AddAction | RemoveAction] = list(actions)
                DeltaTable(uri, storage_options=options).create_write_transaction(
                    appended, "append", schema, partition_by=partition_by, commit_properties=properties
                )
        except SchemaEvolutionError:
            raise
        except Exception as exc:  # deltalake raises DeltaError, OSError and its own panics
            if self._landed(handle):  # the log entry was written, the error came after it
                return CommitInfo.from_files(table.name, handle.location, files, version=None)
            if not handle.extra["exists"] and self._load(handle.location) is not None:
                raise TableExistsError(table.name, handle.location, kind="Delta table") from None
            raise commit_failure(f"Delta commit of table {table.name!r} at {handle.location} failed", exc) from exc
        # The log entry is durable: from here on nothing may raise or delete its files.
        version = after_commit("delta", table.name, lambda: DeltaTable(uri, storage_options=options).version())
        return CommitInfo.from_files(
            table.name, handle.location, files, version=None if version is None else str(version)
        )

    def _landed(self, handle: TableHandle) -> bool:
        """Whether a version of the log was committed by this run (its run id in the commitInfo): a commit
        that raised after writing its log entry has still landed."""
        try:
            existing = self._load(handle.location)
            history = existing.history(20) if existing is not None else []
        except Exception:  # unreadable: nothing can be shown to be ours, so nothing is kept
            return False
        return any(entry.get("dataset_generator.run_id") == handle.run_id for entry in history)

    def abort(self, handle: TableHandle, files: list[FileInfo]) -> None:
        """Remove this run's data files (and the directory of a table this run would have created), unless a
        version of the log references them (a landed commit is never undone)."""
        if self._landed(handle):
            return
        self.remove_run_files(handle, files)


def _plan_evolution(existing: DeltaTable, table: TableInfo) -> Evolution:
    """What appending this spec's table changes in the Delta table's schema (refused: `SchemaEvolutionError`).
    Both sides are Arrow schemas rendered by deltalake (the spec's through `Schema.from_arrow`)."""
    current = pa.schema(existing.schema().to_arrow())
    wanted = pa.schema(DeltaSchema.from_arrow(_delta_arrow_schema(table)).to_arrow())
    return plan_evolution(
        DELTA_RULES, f"Delta table {table.name!r}", current, wanted, fixed=table.partition_columns
    )


def _evolve(existing: DeltaTable, schema: pa.Schema, evolution: Evolution, partition_by: list[str], handle: TableHandle) -> None:
    """Add the new columns and relax nullability in their own metadata-only Delta version, just before the
    run's data commit: deltalake 1.6.6's `create_write_transaction` keeps the table's schema on append, and
    `write_deltalake(..., schema_mode="merge")` is the API that merges one (here with no rows). A crash between
    the two leaves the old rows with the new columns null (what the evolved table shows anyway) and no new
    rows: the commitInfo carries no run id or fingerprint, so the run counts as not committed and a re-run
    appends its rows in one commit against the schema it now finds."""
    relaxed = set(evolution.relaxed)
    by_name = {field.name: field for field in schema}
    current = pa.schema(existing.schema().to_arrow())
    fields = [field.with_nullable(True) if field.name in relaxed else field for field in current]
    merged = pa.schema(fields + [by_name[field.name] for field in evolution.added])
    write_deltalake(
        existing,
        merged.empty_table(),
        mode="append",
        schema_mode="merge",
        partition_by=partition_by or None,
        commit_properties=CommitProperties(
            custom_metadata={
                _EVOLUTION: evolution.describe(), "dataset_generator.evolution_of_run": handle.run_id,
                "dataset_generator.table": handle.table.name,
            }
        ),
    )  # fmt: skip


def _is_own_data_file(relative: str) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return (name.startswith("part-") and name.endswith(".parquet")) or name.startswith(".")


def _delta_arrow_schema(table: TableInfo) -> pa.Schema:
    # Delta keeps every partition column (derived or inherited) as a STRING column of its schema.
    present = set(table.schema.names)
    extra = [pa.field(name, pa.string()) for name in table.partition_columns if name not in present]
    return pa.schema(list(table.schema) + extra)


class _StatsCollector:
    """Per-file Delta statistics (numRecords, minValues, maxValues, nullCount), gathered batch by batch with
    Arrow kernels while the file streams out, so readers can skip files without opening them."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.nulls: dict[str, int] = {name: 0 for name in schema.names}
        self.mins: dict[str, Any] = {}
        self.maxs: dict[str, Any] = {}

    def observe(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index, field in enumerate(self.schema):
                column = batch.column(index)
                self.nulls[field.name] += column.null_count
                if _has_min_max(field.type) and column.null_count < len(column):
                    low, high = pc.min_max(column).values()
                    self._merge(field.name, low.as_py(), high.as_py())
            yield batch

    def _merge(self, name: str, low: Any, high: Any) -> None:
        if name not in self.mins or low < self.mins[name]:
            self.mins[name] = low
        if name not in self.maxs or high > self.maxs[name]:
            self.maxs[name] = high

    def result(self, rows: int) -> dict[str, Any]:
        types = {field.name: field.type for field in self.schema}
        mins = {name: _stat_json(value, types[name]) for name, value in self.mins.items()}
        maxs = {name: _stat_json(value, types[name]) for name, value in self.maxs.items()}
        return {
            "numRecords": rows,
            "minValues": {name: value for name, value in mins.items() if value is not None},
            "maxValues": {name: value for name, value in maxs.items() if value is not None},
            # A struct's nullCount would be an object of its fields' counts: structs are left out (stats are optional).
            "nullCount": {name: count for name, count in self.nulls.items() if not pa.types.is_struct(types[name])},
        }


def _has_min_max(data_type: pa.DataType) -> bool:
    return (
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_date32(data_type)
        # Python datetimes stop at microseconds: a nanosecond max would be rounded below the true max.
        or (pa.types.is_timestamp(data_type) and data_type.unit != "ns")
    )


def _stat_json(value: Any, data_type: pa.DataType) -> Any:
    """A min/max value in the Delta stats JSON form; None when it should be left out."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value if len(value) <= _MAX_STAT_STRING else None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
