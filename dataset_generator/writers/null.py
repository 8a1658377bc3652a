"""A writer that writes nothing: each file is encoded to Parquet in memory (with the options' codec and
row groups) and discarded, so `generate --format null` measures generation plus encoding without disk or
network in the way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import pyarrow as pa

from ..contracts import CommitInfo, FileInfo, PartitionValues, TableHandle, TableInfo, partition_path
from ..options import WriterOptions
from ..storage import S3Config
from .base import TableWriter, new_run_id
from .parquet_encoding import ParquetEncoder

NULL_LOCATION = "null:"


class NullWriter(TableWriter):
    """Encodes every file with the Parquet format's encoder (so the measured cost is the real one), keeps none."""

    name: ClassVar[str] = "null"
    description: ClassVar[str] = "generates and encodes to Parquet in memory, writes nothing"

    def __init__(
        self, output_uri: str = "", s3: S3Config | None = None, options: WriterOptions | None = None, **target: Any
    ) -> None:
        # No output is needed; whatever is given is only echoed back in CommitInfo.location.
        super().__init__(output_uri or NULL_LOCATION, s3=None, options=options, **target)

    @property
    def encoder(self) -> ParquetEncoder:
        """The Parquet encoder, with this writer's options."""
        return ParquetEncoder(self.options)

    def check(self) -> None:
        """Nothing is written, so any output location is acceptable."""

    def open_table(self, table: TableInfo, *, run_id: str | None = None) -> TableHandle:
        """A handle at `null:<table>`; no mode applies (nothing exists)."""
        return self.part_handle(table, run_id or new_run_id())

    def part_handle(self, table: TableInfo, run_id: str) -> TableHandle:
        """A handle at `null:<table>`."""
        return TableHandle(table=table, run_id=run_id, location=f"{NULL_LOCATION}{table.name}", mode=self.options.mode)

    def write_file(
        self,
        handle: TableHandle,
        partition: PartitionValues,
        file_index: int,
        batches: Iterable[pa.RecordBatch],
        *,
        only_file: bool = False,
    ) -> FileInfo:
        """Encode the file into a byte counter; the FileInfo says how big it would have been."""
        # MockOutputStream counts bytes and keeps none: memory stays flat whatever the file size.
        sink = pa.MockOutputStream()
        rows, stats = self.encoder.encode(sink, handle.table, batches)
        directory = partition_path(partition)
        name = f"part-{file_index:05d}.parquet"
        path = f"{handle.location}/{directory}/{name}" if directory else f"{handle.location}/{name}"
        return FileInfo(
            table=handle.table.name, path=path, staged_path=path, rows=rows, bytes=sink.size(), partition=partition,
            stats=stats,
        )  # fmt: skip

    def commit(self, handle: TableHandle, files: list[FileInfo]) -> CommitInfo:
        """The totals of the files, nothing written."""
        return CommitInfo.from_files(handle.table.name, handle.location, files)

    def abort(self, handle: TableHandle, files: list[FileInfo]) -> None:
        """Nothing was written, so nothing to remove."""
