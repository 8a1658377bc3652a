"""The writer protocol: two-phase, so that any engine (a local pool, a Dask cluster) can drive it.

    open_table(table)                   -> TableHandle   on the client, checks the mode
    write_file(handle, partition, i, batches) -> FileInfo in any worker, one data file, not yet visible
    commit(handle, files)               -> CommitInfo    on the client, one atomic step per table
    abort(handle, files)                                 removes what a failed run wrote

Handles and FileInfos are small picklable values; writers hold no open resources between calls.
"""

from __future__ import annotations

import json
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, ClassVar

import pyarrow as pa

from ..contracts import CommitInfo, FileInfo, PartitionValues, TableHandle, TableInfo, partition_path
from ..errors import WriterError
from ..options import WriterOptions
from ..storage import S3Config, Storage, open_storage

SUCCESS_MARKER = "_SUCCESS"
STAGING_DIR = "_temporary"


def identity_partitioned(table: TableInfo) -> bool:
    """True when partition values do not derive from a column of the table (a child partitioned by its
    parent's time): table formats then store year/month/day as real string columns."""
    return bool(table.partition_columns) and table.time_column is None


def schema_with_partition_columns(table: TableInfo) -> pa.Schema:
    """The table's schema, plus year/month/day string columns when it is identity-partitioned."""
    if not identity_partitioned(table):
        return table.schema
    present = set(table.schema.names)
    extra = [pa.field(name, pa.string()) for name in table.partition_columns if name not in present]
    return pa.schema(list(table.schema) + extra)


def add_partition_columns(
    batches: Iterable[pa.RecordBatch], partition: PartitionValues, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """Append the partition values as constant columns, to match `schema_with_partition_columns`."""
    values = dict(partition)
    for batch in batches:
        constants = [
            pa.repeat(pa.scalar(values.get(field.name), pa.string()), batch.num_rows)
            for field in schema
            if field.name not in batch.schema.names
        ]
        yield pa.RecordBatch.from_arrays([*batch.columns, *constants], schema=schema)


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def rebatch(batches: Iterable[pa.RecordBatch], rows_per_group: int) -> Iterator[pa.Table]:
    """Regroup a stream of batches into tables of exactly `rows_per_group` rows (the last may be shorter).

    Row groups then depend only on the row count, never on how the generator happened to batch rows,
    which keeps files byte-identical across chunk sizes.
    """
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            take = min(rows_per_group - pending_rows, batch.num_rows - offset)
            pending.append(batch.slice(offset, take))
            pending_rows += take
            offset += take
            if pending_rows == rows_per_group:
                yield pa.Table.from_batches(pending)
                pending, pending_rows = [], 0
    if pending_rows:
        yield pa.Table.from_batches(pending)


class TableWriter(ABC):
    """Base class of every writer. Subclasses set `name` and implement the four protocol methods."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    # Whether `commit` can take files written elsewhere (by Dask workers or `--parts` runs).
    supports_external_commit: ClassVar[bool] = True

    def __init__(self, output_uri: str, s3: S3Config | None = None, options: WriterOptions | None = None) -> None:
        if not output_uri:
            raise WriterError("an output location is required (--output PATH or s3://bucket/prefix)")
        self.output_uri = output_uri
        self.s3 = s3
        self.options = options or WriterOptions()

    @property
    def storage(self) -> Storage:
        # Built on first use and not pickled: workers rebuild their own (see __getstate__).
        storage = self.__dict__.get("_storage")
        if storage is None:
            storage = open_storage(self.output_uri, self.s3)
            self.__dict__["_storage"] = storage
        return storage

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_storage", None)
        return state

    def __repr__(self) -> str:
        return f"{type(self).__name__}(output_uri={self.output_uri!r}, options={self.options!r})"

    def check(self) -> None:
        """Fail fast, before any data is generated, when the output cannot be written."""
        self.storage.check_writable()

    @abstractmethod
    def open_table(self, table: TableInfo) -> TableHandle:
        """Check the mode and prepare the table. Writers may accept a keyword `run_id` (see FileTableWriter):
        a `--parts` commit re-opens each table with the run id the parts wrote their files under."""

    def part_handle(self, table: TableInfo, run_id: str) -> TableHandle:
        """The handle one part of a `--parts` run writes its files with: no checks and no side effects,
        because parts run uncoordinated, concurrently, in any order; the commit re-opens the table and
        checks the mode. Writers whose files do not live under `<output>/<table>` must override this."""
        return TableHandle(table=table, run_id=run_id, location=self.storage.join(table.name), mode=self.options.mode)

    @abstractmethod
    def write_file(
        self,
        handle: TableHandle,
        partition: PartitionValues,
        file_index: int,
        batches: Iterable[pa.RecordBatch],
        *,
        only_file: bool = False,
    ) -> FileInfo: ...

    @abstractmethod
    def commit(self, handle: TableHandle, files: list[FileInfo]) -> CommitInfo: ...

    @abstractmethod
    def abort(self, handle: TableHandle, files: list[FileInfo]) -> None: ...


class FileTableWriter(TableWriter):
    """Plain files (Parquet, CSV, JSON lines) in a Hive layout with a `_SUCCESS` marker per table.

    Files are written under `<table>/_temporary/<run id>/` and moved into place by `commit`, so a failed
    or interrupted run never leaves a table that looks complete. Where renames are not cheap (object
    stores), files go straight to their final key; the object only appears when its upload completes,
    and `_SUCCESS` is still written last.
    """

    extension: ClassVar[str]

    @abstractmethod
    def _encode(self, sink: BinaryIO, table: TableInfo, batches: Iterable[pa.RecordBatch]) -> tuple[int, dict]:
        """Write `batches` to `sink`; return (rows written, per-file stats)."""

    def _file_suffix(self) -> str:
        return self.extension

    def _is_own_file(self, relative: str) -> bool:
        name = relative.rsplit("/", 1)[-1]
        return (
            relative.startswith(STAGING_DIR + "/")
            or name == SUCCESS_MARKER
            or (name.endswith(self._file_suffix()) and (name.startswith("part-") or "/" not in relative))
            or name.startswith(".")
        )

    def open_table(self, table: TableInfo, *, run_id: str | None = None) -> TableHandle:
        storage = self.storage
        location = storage.join(table.name)
        existing = storage.list_files(location)
        if run_id is not None:
            # A `--parts` commit: this run's staged files are not "existing" data to check or replace.
            # (In append mode on object stores they are already on final keys, named with the run id.)
            own_staging = storage.join(location, STAGING_DIR, run_id) + "/"
            own_suffix = f"-{run_id}{self._file_suffix()}"
            existing = [path for path in existing if not (path.startswith(own_staging) or path.endswith(own_suffix))]
        relative = [_relative(location, path) for path in existing]
        complete = SUCCESS_MARKER in relative
        mode = self.options.mode
        foreign = [path for path in relative if not self._is_own_file(path)]
        if existing and mode == "error":
            if complete:
                raise WriterError(
                    f"table {table.name!r} already exists at {location}; "
                    "use --mode overwrite to replace it or --mode append to add to it"
                )
            if foreign:
                raise WriterError(
                    f"output {location} is not empty and was not written by dataset-generator "
                    f"(found {foreign[0]}); choose an empty location"
                )
            # Leftovers of an interrupted run of ours: safe to clear, so re-running the command just works.
            if run_id is None:
                storage.remove_tree(location)
                existing = []
            # With a run id, the parts may have written straight to final keys (object stores): nothing is
            # removed here, and commit removes the leftovers this run did not write.
        if mode == "append" and existing and not complete:
            raise WriterError(
                f"cannot append to {location}: it holds an incomplete run (no {SUCCESS_MARKER}); "
                "use --mode overwrite"
            )
        previous = tuple(path for path in existing if _relative(location, path) != SUCCESS_MARKER)
        if mode == "overwrite" and not storage.cheap_rename:
            # New files land on their final keys while the run goes on: the table must stop looking complete.
            storage.remove([storage.join(location, SUCCESS_MARKER)])
        return TableHandle(
            table=table, run_id=run_id or new_run_id(), location=location, mode=mode, previous_files=previous
        )

    def part_handle(self, table: TableInfo, run_id: str) -> TableHandle:
        storage = self.storage
        location = storage.join(table.name)
        marker = storage.join(location, SUCCESS_MARKER)
        mode = self.options.mode
        # Read-only checks every part can afford: where files land on their final keys (object stores),
        # a part of an "error" run must not overwrite a complete table before the commit refuses it.
        if mode == "error" and storage.exists(marker):
            raise WriterError(
                f"table {table.name!r} already exists at {location}; "
                "use --mode overwrite to replace it or --mode append to add to it"
            )
        if mode == "overwrite" and not storage.cheap_rename:
            storage.remove([marker])  # idempotent: parts may race on it
        return TableHandle(table=table, run_id=run_id, location=location, mode=mode)

    def _final_relative(self, handle: TableHandle, partition: PartitionValues, file_index: int, only_file: bool) -> str:
        suffix = self._file_suffix()
        # Run-unique names where a new file could otherwise replace a live one: appends, and overwrites on
        # object stores (files go straight to their final keys there; a failed overwrite must not have
        # replaced any old file, so that abort leaves the old files as they were).
        unique = handle.mode == "append" or (bool(handle.previous_files) and not self.storage.cheap_rename)
        if unique:
            name = f"part-{file_index:05d}-{handle.run_id}{suffix}"
        elif only_file and not partition:
            name = f"{handle.table.name}{suffix}"
        else:
            name = f"part-{file_index:05d}{suffix}"
        directory = partition_path(partition)
        return f"{directory}/{name}" if directory else name

    def write_file(
        self,
        handle: TableHandle,
        partition: PartitionValues,
        file_index: int,
        batches: Iterable[pa.RecordBatch],
        *,
        only_file: bool = False,
    ) -> FileInfo:
        storage = self.storage
        relative = self._final_relative(handle, partition, file_index, only_file)
        final = storage.join(handle.location, relative)
        staged = storage.join(handle.location, STAGING_DIR, handle.run_id, relative) if storage.cheap_rename else final
        with storage.open_write(staged) as sink:
            rows, stats = self._encode(sink, handle.table, batches)
        return FileInfo(
            table=handle.table.name,
            path=final,
            staged_path=staged,
            rows=rows,
            bytes=storage.size(staged),
            partition=partition,
            stats=stats,
        )

    def commit(self, handle: TableHandle, files: list[FileInfo]) -> CommitInfo:
        storage = self.storage
        marker = storage.join(handle.location, SUCCESS_MARKER)
        storage.remove([marker])
        new_paths = {info.path for info in files}
        # previous_files are empty in "error" mode unless open_table kept a `--parts` run's leftovers.
        if handle.mode != "append":
            storage.remove(path for path in handle.previous_files if path not in new_paths)
        for info in files:
            if info.staged_path != info.path:
                storage.move(info.staged_path, info.path)
        self._clear_staging(handle)
        rows = sum(info.rows for info in files)
        size = sum(info.bytes for info in files)
        summary = {"run_id": handle.run_id, "mode": handle.mode, "files": len(files), "rows": rows, "bytes": size}
        storage.write_bytes(marker, (json.dumps(summary, sort_keys=True) + "\n").encode())
        return CommitInfo(table=handle.table.name, location=handle.location, files=len(files), rows=rows, bytes=size)

    def abort(self, handle: TableHandle, files: list[FileInfo]) -> None:
        self.storage.remove(info.staged_path for info in files)
        self._clear_staging(handle)

    def _clear_staging(self, handle: TableHandle) -> None:
        storage = self.storage
        staging = storage.join(handle.location, STAGING_DIR)
        storage.remove_tree(storage.join(staging, handle.run_id))
        if not storage.list_files(staging):  # other runs may still be staging here (concurrent appends)
            storage.remove_tree(staging)


def _relative(location: str, path: str) -> str:
    return path[len(location) :].lstrip("/")
