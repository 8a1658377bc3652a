"""Plain files (Parquet, CSV, JSON lines) in a Hive layout with a `_SUCCESS` manifest per table.

A run stages its files under `<output>/_staging/<table>/<run id>/` (a sibling of the tables, outside every
table's glob) and its commit publishes them: files moved into the table directory (renames on local disk),
then `_SUCCESS` (written atomically) listing every data file of the table, then the replaced files removed.
Where renames are not cheap (object stores), files go straight to their final keys, named with the run id
when they could otherwise replace a live file, and the staging area holds one empty marker per file.

What a reader sees: one that follows `_SUCCESS` (its `data_files`) sees the old table or the new one, never a
mix. A plain glob reader of an overwrite sees, for the instant between the publishing renames and the removal
of the old files, both (run-unique names never replace a live file); on object stores it sees the new files
appear as they are uploaded (`_SUCCESS` is removed when the overwrite starts there). Ownership, the table lock
and crash recovery are in `file_runs.py`. The writer holds an `Encoder` (Parquet or text) for the bytes.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Iterable
from typing import Any, BinaryIO, ClassVar

import pyarrow as pa

from ..contracts import CommitInfo, FileInfo, PartitionValues, TableHandle, TableInfo, partition_path
from ..errors import TableExistsError, WriterError
from .base import SUCCESS_MARKER, TableWriter, new_run_id
from .encoding import Encoder
from .evolution import check_same_columns, columns_record
from .file_runs import (
    COMMIT_RECORD,
    RUN_RECORD,
    Manifest,
    TableLock,
    prune_directories,
    prune_staging,
    read_record,
    recover,
    relative,
    staged_runs,
    staging_root,
    write_record,
)

logger = logging.getLogger("dataset_generator.writers")


class FileTableWriter(TableWriter):
    """The `_SUCCESS` file-table protocol over an encoder. Subclasses set `extension` and build `encoder`."""

    extension: ClassVar[str]

    @property
    def encoder(self) -> Encoder:
        """The encoder of this writer's files, built from the current options (a `--parts` commit may
        replace them with the parts' options)."""
        return self._make_encoder()

    @abstractmethod
    def _make_encoder(self) -> Encoder: ...

    def _encode(self, sink: BinaryIO, table: TableInfo, batches: Iterable[pa.RecordBatch]) -> tuple[int, dict[str, Any]]:
        """Write one file's rows to `sink` with the writer's encoder (a hook tests and subclasses may wrap)."""
        return self.encoder.encode(sink, table, batches)

    def _file_suffix(self) -> str:
        return self.extension

    def _format_suffixes(self) -> tuple[str, ...]:
        """Endings of the files this format writes (what an overwrite may remove of files it cannot prove)."""
        return (self._file_suffix(),)

    def open_table(self, table: TableInfo, *, run_id: str | None = None) -> TableHandle:
        """Lock the table, clear crashed runs' leftovers, check the mode against what the directory holds.

        With `run_id` (a `--parts` commit), the files the parts staged or marked under that run id are this
        run's. See `TableWriter.open_table` for the errors.
        """
        storage = self.storage
        mode = self.options.mode
        run = run_id or new_run_id()
        location = storage.join(table.name)
        lock = TableLock(storage, table.name, run)
        lock.acquire()
        try:
            recover(storage, table.name, location, run)
            # Under the lock no other run writes this table: unfinished uploads here are a killed run's.
            storage.abort_stale_uploads(location)
            extra = self._classify(table, location)
            if run_id is None:
                write_record(storage, table.name, run, RUN_RECORD, {"table": table.name, "mode": mode})
            if mode == "overwrite" and not storage.cheap_rename:
                # New files appear on their final keys while the run goes on: the table stops looking complete.
                storage.remove([storage.join(location, SUCCESS_MARKER)])
        except BaseException:
            lock.release()
            raise
        previous = extra["replace"] if mode == "overwrite" else extra["keep"]
        return TableHandle(
            table=table, run_id=run, location=location, mode=mode,
            previous_files=tuple(storage.join(location, name) for name in previous), extra=extra,
        )  # fmt: skip

    def is_committed(self, table: TableInfo) -> bool:
        """Whether `_SUCCESS` records this table's fingerprint (an identical run committed it)."""
        manifest = Manifest.read(self.storage, self.storage.join(table.name))
        return bool(table.fingerprint) and manifest is not None and manifest.summary.get("fingerprint") == table.fingerprint

    def _classify(self, table: TableInfo, location: str) -> dict[str, Any]:
        """What the table directory holds: the files to keep (append) or replace (overwrite); refuses the
        mode when it does not fit."""
        storage = self.storage
        mode = self.options.mode
        manifest = Manifest.read(storage, location)
        staged = staged_runs(storage, table.name)
        # On object stores, files of pending runs (this parts run, other parts runs) are already in place.
        pending = set() if storage.cheap_rename else {name for names in staged.values() for name in names}
        present = [relative(location, path) for path in storage.list_files(location)]
        present = [name for name in present if name != SUCCESS_MARKER and name not in pending]
        listed = set(manifest.data_files) if manifest else set()
        owned = [name for name in present if name in listed]
        foreign = [name for name in present if name not in listed]
        if mode == "error" and manifest is not None:
            raise TableExistsError(table.name, location)
        if mode == "append" and manifest is None:
            raise WriterError(
                f'cannot append to {location}: it holds no complete table (incomplete: no {SUCCESS_MARKER}); '
                'use mode="overwrite"'
            )
        if mode == "append" and manifest is not None:
            check_same_columns(f"table {table.name!r} at {location}", manifest.summary.get("columns"), table.schema)
        if foreign and mode != "overwrite":
            raise WriterError(
                f"output {location} is not empty: it holds {len(foreign)} file(s) not written by dataset-generator "
                f'(e.g. {foreign[0]}); choose an empty location, or mode="overwrite" to replace the table '
                f"(it removes only {'/'.join(self._format_suffixes())} files)"
            )
        ours = [name for name in foreign if self._is_format_file(name)]
        replace = owned + ours if mode == "overwrite" else []
        return {
            "keep": tuple(manifest.data_files) if mode == "append" and manifest else (),
            "replace": tuple(replace),
            "foreign_removed": tuple(ours),
            "unique_names": mode == "append" or bool(replace),
        }

    def _is_format_file(self, name: str) -> bool:
        base = name.rsplit("/", 1)[-1]
        return not base.startswith(".") and base.endswith(self._format_suffixes())

    def part_handle(self, table: TableInfo, run_id: str) -> TableHandle:
        storage = self.storage
        location = storage.join(table.name)
        marker = storage.join(location, SUCCESS_MARKER)
        mode = self.options.mode
        # Read-only checks every part can afford: where files land on their final keys (object stores),
        # a part of an "error" run must not overwrite a complete table before the commit refuses it.
        if mode == "error" and storage.exists(marker):
            raise TableExistsError(table.name, location)
        if mode == "overwrite" and not storage.cheap_rename:
            storage.remove([marker])  # idempotent: parts may race on it
        # Appends carry the run id in their names; the commit re-opens the table and checks the rest.
        return TableHandle(table=table, run_id=run_id, location=location, mode=mode, extra={"unique_names": mode == "append"})

    def _final_relative(self, handle: TableHandle, partition: PartitionValues, file_index: int, only_file: bool) -> str:
        suffix = self._file_suffix()
        # Run-unique names where a new file could otherwise replace a live one (appends, overwrites of a
        # table with files): the old files stay intact until the new manifest has landed.
        if handle.extra.get("unique_names", handle.mode == "append"):
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
        """Write one file under `_staging/<table>/<run id>/` (local disk), or on its final key after an empty
        marker there (object stores). See `TableWriter.write_file`."""
        storage = self.storage
        name = self._final_relative(handle, partition, file_index, only_file)
        final = storage.join(handle.location, name)
        staged = storage.join(staging_root(storage, handle.table.name), handle.run_id, name)
        marker = None
        if not storage.cheap_rename:
            marker, staged = staged, final
            storage.write_bytes(marker, b"")  # the marker first: a crash mid-upload is still provably ours
        try:
            with storage.open_write(staged) as sink:
                rows, stats = self._encode(sink, handle.table, batches)
        except BaseException:
            if marker is not None:  # nothing of the file is left (the upload was aborted): nor of its marker
                storage.remove([marker])
            raise
        return FileInfo(
            table=handle.table.name, path=final, staged_path=staged, rows=rows, bytes=storage.size(staged),
            partition=partition, stats=stats,
        )  # fmt: skip

    def commit(self, handle: TableHandle, files: list[FileInfo]) -> CommitInfo:
        """Publish the run: record what it publishes and replaces, move the files into place, write the new
        `_SUCCESS` (the point of no return), then remove the replaced files and the run's staging.

        Returns:
            The run's files, rows and bytes (the table may hold more after an append).
        """
        storage = self.storage
        table = handle.table.name
        location = handle.location
        published = [relative(location, info.path) for info in files]
        new = set(published)
        replace = [relative(location, path) for path in handle.previous_files] if handle.mode != "append" else []
        replace = [name for name in replace if name not in new]
        write_record(storage, table, handle.run_id, COMMIT_RECORD, {"publish": published, "replace": replace})
        for info in files:
            if info.staged_path != info.path:
                storage.move(info.staged_path, info.path)
        commit = CommitInfo.from_files(table, location, files)
        kept = list(handle.extra.get("keep", ())) if handle.mode == "append" else []
        summary = {"mode": handle.mode, "files": commit.files, "rows": commit.rows, "bytes": commit.bytes,
                   "fingerprint": handle.table.fingerprint, "columns": columns_record(handle.table.schema)}  # fmt: skip
        manifest = Manifest(handle.run_id, tuple(sorted({*kept, *published})), summary)
        marker = storage.join(location, SUCCESS_MARKER)
        if storage.cheap_rename:  # staged, then renamed over the old one: readers see one or the other
            staged_marker = storage.join(staging_root(storage, table), handle.run_id, SUCCESS_MARKER)
            storage.write_bytes(staged_marker, manifest.to_bytes())
            storage.move(staged_marker, marker)
        else:
            storage.write_bytes(marker, manifest.to_bytes())
        storage.remove(storage.join(location, name) for name in replace)
        removed = handle.extra.get("foreign_removed", ())
        if removed:
            logger.warning(
                "overwrite of table %r removed %d file(s) it had not written: %s", table, len(removed), ", ".join(removed)
            )
        prune_directories(storage, location)
        self._end_run(handle)
        return commit

    def abort(self, handle: TableHandle, files: list[FileInfo]) -> None:
        """Remove this run's staged (or, on object stores, written) files, its staging and its lock. After a
        commit that failed half-way: if its `_SUCCESS` landed the table is kept as committed; if not, the
        files it had already published are removed too."""
        storage = self.storage
        manifest = Manifest.read(storage, handle.location)
        if manifest is not None and manifest.run_id == handle.run_id:
            self._end_run(handle)  # the commit landed: its files are the table now
            return
        listed = set(manifest.data_files) if manifest else set()
        published = read_record(storage, handle.table.name, handle.run_id, COMMIT_RECORD) is not None
        doomed = [info.staged_path for info in files]
        if published:
            doomed += [info.path for info in files if relative(handle.location, info.path) not in listed]
        storage.remove(doomed)
        self._end_run(handle)

    def _end_run(self, handle: TableHandle) -> None:
        storage = self.storage
        storage.remove_tree(storage.join(staging_root(storage, handle.table.name), handle.run_id))
        TableLock(storage, handle.table.name, handle.run_id).release()
        prune_staging(storage, handle.table.name)
