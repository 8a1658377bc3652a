"""Apache Parquet files in a Hive layout (`<table>/year=2024/month=01/day=01/part-00000.parquet`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

from .base import FileTableWriter, TableInfo, rebatch
from .options import CODECS


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
