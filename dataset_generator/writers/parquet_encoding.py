"""The Parquet encoder of every format that writes Parquet files (Parquet, Delta, Iceberg, DuckLake, null)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from ..contracts import TableInfo
from ..options import CODECS, WriterOptions
from .descriptions import described_parquet_schema
from .encoding import rebatch


@dataclass(frozen=True)
class ParquetEncoder:
    """One Parquet file per call, with the options' codec, level and row groups.

    Row groups hold exactly `options.effective_row_group_rows` rows (the last fewer), whatever the batching,
    so the bytes depend only on the rows. Dictionary encoding only for the table's low-cardinality columns.
    `descriptions` adds the spec's table and column descriptions to the file's key-value metadata
    (descriptions.py); the Parquet writer turns it on unless told not to (`--no-descriptions`).
    """

    options: WriterOptions
    descriptions: bool = False

    def encode(self, sink: BinaryIO, table: TableInfo, batches: Iterable[pa.RecordBatch]) -> tuple[int, dict[str, Any]]:
        """Write `batches` to `sink` as one Parquet file.

        Returns:
            (rows written, {}).
        Raises:
            pyarrow.ArrowException, OSError: encoding or the sink failed.
        """
        options = self.options
        rows = 0
        # Dictionary encoding only where values repeat; on ids and uuids it costs time and saves nothing.
        dictionary_columns = [name for name in table.dictionary_columns if name in table.schema.names]
        with pq.ParquetWriter(
            sink,
            described_parquet_schema(table) if self.descriptions else table.schema,
            compression=CODECS[options.compression][0],
            compression_level=options.compression_level,
            use_dictionary=dictionary_columns or False,
            write_statistics=True,
        ) as writer:
            for group in rebatch(batches, options.effective_row_group_rows):
                writer.write_table(group, row_group_size=group.num_rows)
                rows += group.num_rows
        return rows, {}
