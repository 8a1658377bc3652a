"""What Delta, Iceberg and DuckLake share: Parquet data files written in place under run-unique names,
made visible only by the format's own commit.

`TableFormatWriter` holds a `ParquetEncoder` (the same bytes as the Parquet format) and writes each data file
at `<location>/<subdirectory>/<partition>/part-00000-<run id>.parquet`: older versions keep their files for
time travel and appends never collide. Its `abort` removes exactly the files this run wrote (and the table
directory when the run created it and nothing else is left there).
"""

from __future__ import annotations

import dataclasses
import errno
from collections.abc import Callable, Iterable
from typing import TypeVar

import pyarrow as pa

from ..contracts import FileInfo, PartitionValues, TableHandle, partition_path
from ..errors import StorageFailure, WriterError
from ..faults import fault_point
from .base import TableWriter
from .parquet_encoding import ParquetEncoder
from .partitions import add_partition_columns, identity_partitioned, schema_with_partition_columns

DATA_EXTENSION = ".parquet"
_NO_SPACE = "no space left on device"
_T = TypeVar("_T")


def commit_failure(message: str, exc: BaseException) -> WriterError | StorageFailure:
    """The error of a commit that did not land: `StorageFailure` (exit code 1) when the cause is a full
    disk (ENOSPC, however deep the library buried it), else `WriterError`; one line, the cause's first."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if _is_no_space(exc):
        return StorageFailure(f"{message}: no space left on device; free some space and run again")
    return WriterError(f"{message}: {first}")


def _is_no_space(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if _NO_SPACE in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def after_commit(format_name: str, table: str, report: Callable[[], _T]) -> _T | None:
    """Run the post-commit work of a landed commit (reading the new version): it never raises, since the
    commit is durable and nothing may abort it now; a failure gives None (the version is then unknown).

    Args:
        format_name: the format, for the fault point `<format>.after-commit`.
        table: the table's name.
        report: what to compute from the landed commit.
    Returns:
        `report()`, or None when it (or the fault point) failed.
    """
    try:
        fault_point(f"{format_name}.after-commit", table)
        return report()
    except Exception:  # the commit landed: an error here must not make the run abort it
        return None


class TableFormatWriter(TableWriter):
    """Base of the table formats: Parquet data files by composition, the commit left to each format."""

    @property
    def encoder(self) -> ParquetEncoder:
        """The Parquet encoder of this writer's data files (built from the current options)."""
        return ParquetEncoder(self.options)

    def write_run_file(
        self,
        handle: TableHandle,
        partition: PartitionValues,
        file_index: int,
        batches: Iterable[pa.RecordBatch],
        *,
        subdirectory: str = "",
        identity_columns: bool = False,
    ) -> FileInfo:
        """Write one data file in place under a run-unique name; nothing is visible until the format's commit.

        Args:
            handle: the table's handle (its location and run id make the path).
            partition: the file's partition values (its Hive directory).
            file_index: the file's number within the partition.
            batches: the rows.
            subdirectory: a directory under the location (Iceberg's `data`).
            identity_columns: give a table partitioned by its parent's time its year/month/day values as
                real columns in the file, where Iceberg and DuckLake read a file's partition from.
        Returns:
            The file, with `stats["relative_path"]` (relative to the location) for the format's commit.
        """
        storage = self.storage
        table = handle.table
        name = f"part-{file_index:05d}-{handle.run_id}{DATA_EXTENSION}"
        relative = "/".join(part for part in (subdirectory, partition_path(partition), name) if part)
        path = storage.join(handle.location, relative)
        file_table = table
        if identity_columns and identity_partitioned(table):
            file_table = dataclasses.replace(table, schema=schema_with_partition_columns(table))
            batches = add_partition_columns(batches, partition, file_table.schema)
        with storage.open_write(path) as sink:
            rows, stats = self.encoder.encode(sink, file_table, batches)
        return FileInfo(
            table=table.name,
            path=path,
            staged_path=path,
            rows=rows,
            bytes=storage.size(path),
            partition=partition,
            stats={**stats, "relative_path": relative},
        )

    def remove_run_files(self, handle: TableHandle, files: list[FileInfo]) -> None:
        """Remove the files this run wrote; the table directory too when this run created the table and
        nothing else is left in it. A `--parts` handle carries no "exists": then the table may exist, and the
        directory is kept."""
        storage = self.storage
        storage.remove(info.path for info in files)
        if not handle.extra.get("exists", True) and not storage.list_files(handle.location):
            storage.remove_tree(handle.location)
