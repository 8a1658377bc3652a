"""Plain files (Parquet, CSV, JSON lines) in a Hive layout with a `_SUCCESS` marker per table.

Files are written under `<table>/_temporary/<run id>/` and moved into place by `commit`, so a failed
or interrupted run never leaves a table that looks complete. Where renames are not cheap (object
stores), files go straight to their final key; the object only appears when its upload completes,
and `_SUCCESS` is still written last.

The writer holds an `Encoder` (Parquet or text) for the bytes of each file; this module is only the
`_SUCCESS` table protocol: names, staging, modes, commit and abort.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Iterable
from typing import Any, BinaryIO, ClassVar

import pyarrow as pa

from ..contracts import CommitInfo, FileInfo, PartitionValues, TableHandle, TableInfo, partition_path
from ..errors import TableExistsError, WriterError
from .base import STAGING_DIR, SUCCESS_MARKER, TableWriter, new_run_id
from .encoding import Encoder


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
                raise TableExistsError(table.name, location)
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
                "use mode=\"overwrite\""
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
            raise TableExistsError(table.name, location)
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
        commit = CommitInfo.from_files(handle.table.name, handle.location, files)
        summary = {
            "run_id": handle.run_id, "mode": handle.mode, "files": commit.files, "rows": commit.rows, "bytes": commit.bytes
        }  # fmt: skip
        storage.write_bytes(marker, (json.dumps(summary, sort_keys=True) + "\n").encode())
        return commit

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
