"""A writer that writes nothing: each file is encoded to Parquet in memory (with the options' codec and
row groups) and discarded, so `generate --format null` measures generation plus encoding without disk or
network in the way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import pyarrow as pa

from ..contracts import CommitInfo, FileInfo, PartitionValues, TableHandle, TableInfo, partition_path
from ..options import WriterOptions
from ..storage import S3Config
from .base import TableWriter, new_run_id
from .parquet import ParquetWriter

NULL_LOCATION = "null:"


class NullWriter(TableWriter):
    name: ClassVar[str] = "null"
    description: ClassVar[str] = "generates and encodes to Parquet in memory, writes nothing"

    def __init__(
        self, output_uri: str = "", s3: S3Config | None = None, options: WriterOptions | None = None
    ) -> None:
        # No output is needed; whatever is given is only echoed back in CommitInfo.location.
        super().__init__(output_uri or NULL_LOCATION, s3=None, options=options)
        # The same encoder as the Parquet format, so the measured cost is the real one.
        self._parquet = ParquetWriter(self.output_uri, options=self.options)

    def check(self) -> None:
        """Nothing is written, so any output location is acceptable."""

    def open_table(self, table: TableInfo, *, run_id: str | None = None) -> TableHandle:
        return self.part_handle(table, run_id or new_run_id())

    def part_handle(self, table: TableInfo, run_id: str) -> TableHandle:
        return TableHandle(
            table=table, run_id=run_id, location=f"{NULL_LOCATION}{table.name}", mode=self.options.mode
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
        # MockOutputStream counts bytes and keeps none: memory stays flat whatever the file size.
        sink = pa.MockOutputStream()
        rows, stats = self._parquet._encode(sink, handle.table, batches)  # type: ignore[arg-type]
        directory = partition_path(partition)
        name = f"part-{file_index:05d}.parquet"
        path = f"{handle.location}/{directory}/{name}" if directory else f"{handle.location}/{name}"
        return FileInfo(
            table=handle.table.name,
            path=path,
            staged_path=path,
            rows=rows,
            bytes=sink.size(),
            partition=partition,
            stats=stats,
        )

    def commit(self, handle: TableHandle, files: list[FileInfo]) -> CommitInfo:
        return CommitInfo(
            table=handle.table.name,
            location=handle.location,
            files=len(files),
            rows=sum(info.rows for info in files),
            bytes=sum(info.bytes for info in files),
        )

    def abort(self, handle: TableHandle, files: list[FileInfo]) -> None:
        """Nothing was written, so nothing to remove."""
