"""Apache Parquet files in a Hive layout (`<table>/year=2024/month=01/day=01/part-00000.parquet`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import BinaryIO, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

from ..contracts import FileInfo, PartitionValues, TableHandle, TableInfo, partition_path
from ..options import CODECS
from .base import (
    FileTableWriter,
    add_partition_columns,
    identity_partitioned,
    rebatch,
    schema_with_partition_columns,
)


class ParquetWriter(FileTableWriter):
    name: ClassVar[str] = "parquet"
    description: ClassVar[str] = "Apache Parquet files, Hive-partitioned, one _SUCCESS per table"
    extension: ClassVar[str] = ".parquet"

    def _encode(self, sink: BinaryIO, table: TableInfo, batches: Iterable[pa.RecordBatch]) -> tuple[int, dict]:
        options = self.options
        rows = 0
        # Dictionary encoding only where values repeat; on ids and uuids it costs time and saves nothing.
        dictionary_columns = [name for name in table.dictionary_columns if name in table.schema.names]
        with pq.ParquetWriter(
            sink,
            table.schema,
            compression=CODECS[options.compression][0],
            compression_level=options.compression_level,
            use_dictionary=dictionary_columns or False,
            write_statistics=True,
        ) as writer:
            for group in rebatch(batches, options.effective_row_group_rows):
                writer.write_table(group, row_group_size=group.num_rows)
                rows += group.num_rows
        return rows, {}

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
        """One data file of a table format, written in place under a run-unique name
        (`<location>/<subdirectory>/<partition>/part-00000-<run id>.parquet`): older versions keep their files
        for time travel and appends never collide. Nothing is visible until the format's commit.

        With `identity_columns`, a table partitioned by its parent's time gets its year/month/day values as
        real columns in the file, where Iceberg and DuckLake read a file's partition from.
        """
        storage = self.storage
        table = handle.table
        name = f"part-{file_index:05d}-{handle.run_id}{self.extension}"
        relative = "/".join(part for part in (subdirectory, partition_path(partition), name) if part)
        path = storage.join(handle.location, relative)
        file_table = table
        if identity_columns and identity_partitioned(table):
            file_table = dataclasses.replace(table, schema=schema_with_partition_columns(table))
            batches = add_partition_columns(batches, partition, file_table.schema)
        with storage.open_write(path) as sink:
            rows, stats = self._encode(sink, file_table, batches)
        return FileInfo(
            table=table.name,
            path=path,
            staged_path=path,
            rows=rows,
            bytes=storage.size(path),
            partition=partition,
            stats={**stats, "relative_path": relative},
        )
