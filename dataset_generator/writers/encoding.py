"""What every file writer shares: an encoder turns a stream of record batches into the bytes of one file.

    encoder.encode(sink, table, batches) -> (rows, stats)

Encoders hold only options, so they pickle to any worker. `ParquetEncoder` (parquet_encoding.py) serves the
Parquet files of every format (plain Parquet, Delta, Iceberg, DuckLake, null); the text encoders (text.py)
serve CSV and JSON lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, Protocol

import pyarrow as pa

from ..contracts import TableInfo


class Encoder(Protocol):
    """Writes one file's rows to a binary sink."""

    def encode(self, sink: BinaryIO, table: TableInfo, batches: Iterable[pa.RecordBatch]) -> tuple[int, dict[str, Any]]:
        """Write `batches` (rows of `table.schema`) to `sink`, which the caller opens and closes.

        Returns:
            (rows written, per-file stats for the format's commit; {} when it keeps none).
        """
        ...


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
