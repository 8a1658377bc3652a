"""Fixtures that read outputs back with DuckDB and its PyPI extensions (never downloading one),
plus the small sample tables the writer tests share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from dataset_generator.contracts import PartitionValues, TableInfo
from dataset_generator.writers.duckdb_extensions import connect_duckdb

READ_EXTENSIONS = ["delta", "iceberg", "avro", "ducklake"]


@pytest.fixture
def duckdb_con() -> Iterator[object]:
    """A DuckDB connection with delta, iceberg (+avro) and ducklake loaded from their PyPI packages."""
    con = connect_duckdb(READ_EXTENSIONS)
    try:
        yield con
    finally:
        con.close()


TRANSACTIONS_SCHEMA = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("datetime", pa.timestamp("us")),
        ("customer_id", pa.int64()),
        ("order_qty", pa.int32()),
        ("order_amount", pa.float64()),
        ("is_refund", pa.bool_()),
        ("order_date", pa.date32()),
    ]
)
CHILD_SCHEMA = pa.schema([("item_id", pa.int64()), ("transaction_id", pa.string()), ("sku", pa.string())])
START = dt.datetime(2024, 1, 30)
DAYS = 3  # 2024-01-30, 2024-01-31, 2024-02-01: crosses a month boundary


def transactions_info(name: str = "transactions", rows: int = 3000) -> TableInfo:
    return TableInfo(
        name=name,
        schema=TRANSACTIONS_SCHEMA,
        partition_columns=("year", "month", "day"),
        time_column="datetime",
        dictionary_columns=("is_refund",),
        expected_rows=rows,
    )


def child_info(name: str = "order_items", rows: int = 600) -> TableInfo:
    return TableInfo(
        name=name,
        schema=CHILD_SCHEMA,
        partition_columns=("year", "month", "day"),
        time_column=None,
        expected_rows=rows,
    )


def partition_of(day: dt.date) -> PartitionValues:
    return (("year", f"{day.year:04d}"), ("month", f"{day.month:02d}"), ("day", f"{day.day:02d}"))


def transactions_by_partition(
    rows: int = 3000, seed: int = 0, batch_rows: int = 700
) -> dict[PartitionValues, list[pa.RecordBatch]]:
    """Rows spread evenly over DAYS days, split per Hive partition and re-sliced into small batches."""
    rng = np.random.default_rng(seed)
    offsets_us = np.sort(rng.integers(0, DAYS * 86_400_000_000, rows))
    start_us = int((START - dt.datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    stamps = pa.array(offsets_us + start_us, pa.timestamp("us"))
    table = pa.table(
        {
            "transaction_id": pa.array([f"t-{seed}-{i:08d}" for i in range(rows)]),
            "datetime": stamps,
            "customer_id": pa.array(rng.integers(1, 10_000, rows), pa.int64()),
            "order_qty": pa.array(rng.integers(1, 10, rows).astype(np.int32), pa.int32()),
            "order_amount": pa.array(np.round(rng.random(rows) * 100, 2), pa.float64()),
            "is_refund": pa.array(rng.random(rows) < 0.05),
            "order_date": pc.cast(stamps, pa.date32()),
        },
        schema=TRANSACTIONS_SCHEMA,
    )
    days = pc.cast(table["datetime"], pa.date32())
    out: dict[PartitionValues, list[pa.RecordBatch]] = {}
    for index in range(DAYS):
        day = (START + dt.timedelta(days=index)).date()
        part = table.filter(pc.equal(days, pa.scalar(day, pa.date32())))
        out[partition_of(day)] = part.to_batches(max_chunksize=batch_rows)
    return out


def child_by_partition(rows_per_day: int = 200, seed: int = 0) -> dict[PartitionValues, list[pa.RecordBatch]]:
    out: dict[PartitionValues, list[pa.RecordBatch]] = {}
    for index in range(DAYS):
        day = (START + dt.timedelta(days=index)).date()
        first = index * rows_per_day
        ids = np.arange(first, first + rows_per_day, dtype=np.int64)
        batch = pa.record_batch(
            {
                "item_id": pa.array(ids),
                "transaction_id": pa.array([f"t-{seed}-{i:08d}" for i in ids.tolist()]),
                "sku": pa.array([f"SKU-{i % 17}" for i in ids.tolist()]),
            },
            schema=CHILD_SCHEMA,
        )
        out[partition_of(day)] = [batch]
    return out


def _write_one(args: tuple) -> object:
    # Module-level so a spawned worker can import it by name.
    writer, handle, partition, index, batches = args
    return writer.write_file(handle, partition, index, iter(batches))


def write_files(
    writer: object,
    handle: object,
    parts: dict[PartitionValues, list[pa.RecordBatch]],
    *,
    files_per_partition: int = 2,
    pool: object | None = None,
) -> list:
    """Call write_file as an engine would: each partition's batches split over a few files, file indexes
    per partition, optionally in worker processes (`pool.map`)."""
    calls = []
    for partition, batches in parts.items():
        chunks = [batches[i::files_per_partition] for i in range(files_per_partition)]
        for index, chunk in enumerate(c for c in chunks if c):
            calls.append((writer, handle, partition, index, chunk))
    if pool is not None:
        return list(pool.map(_write_one, calls))
    return [_write_one(call) for call in calls]
