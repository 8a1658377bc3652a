"""The transactions dataset (seed 001): exact schema, exact row count, codecs, partitioning, file sizing."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset_generator import WriterOptions, create_writer, generate

from helpers import parquet_glob, query, run_cli, scalar

ROWS = 60_000


@pytest.fixture(scope="module")
def transactions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("transactions")
    result = run_cli(
        "generate", "transactions", "--output", out, "--param", f"rows={ROWS}", "--file-rows-target", 7_000,
        "--compression", "zstd", "--workers", 1,
    )
    assert result.exit_code == 0, result.output
    return out


def test_exact_schema(transactions: Path) -> None:
    schema = pq.read_schema(next((transactions / "transactions").glob("*.parquet")))
    assert [(field.name, field.type) for field in schema] == [
        ("transaction_id", pa.string()),
        ("datetime", pa.timestamp("us")),
        ("customer_id", pa.int64()),
        ("order_qty", pa.int32()),
        ("order_amount", pa.float64()),
    ]


def test_rows_ids_and_ranges(transactions: Path) -> None:
    source = f"read_parquet('{parquet_glob(transactions, 'transactions')}')"
    count, distinct, low, high = query(f"select count(*), count(distinct transaction_id), min(datetime), max(datetime) from {source}")[0]
    assert count == distinct == ROWS
    assert str(low) >= "2024-01-01" and str(high) < "2025-01-01"
    assert len({row[0] for row in query(f"select cast(datetime as date) from {source}")}) == 366
    uuid4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert all(uuid4.match(row[0]) for row in query(f"select transaction_id from {source} limit 2000"))
    qty_low, qty_high, amount_low, customer_low = query(f"select min(order_qty), max(order_qty), min(order_amount), min(customer_id) from {source}")[0]
    assert qty_low >= 1 and qty_high <= 50 and amount_low > 0 and customer_low >= 1
    assert scalar(f"select count(*) from {source} where order_amount <> round(order_amount, 2)") == 0


def test_files_are_exactly_file_rows_target(transactions: Path) -> None:
    counts = [pq.ParquetFile(path).metadata.num_rows for path in sorted((transactions / "transactions").glob("part-*.parquet"))]
    assert counts == [7_000] * 8 + [4_000]
    metadata = pq.ParquetFile(transactions / "transactions" / "part-00000.parquet").metadata
    assert {metadata.row_group(0).column(index).compression for index in range(5)} == {"ZSTD"}


@pytest.mark.parametrize("codec", ["snappy", "gzip", "zstd", "brotli", "lz4", "none"])
def test_every_codec(tmp_path: Path, codec: str) -> None:
    level = {"gzip": 6, "zstd": 9, "brotli": 5}.get(codec)
    writer = create_writer("parquet", output_uri=str(tmp_path), options=WriterOptions(compression=codec, compression_level=level))
    generate("transactions", writer, params={"rows": 2_000}, workers=1)
    metadata = pq.ParquetFile(tmp_path / "transactions" / "transactions.parquet").metadata
    expected = {"none": "UNCOMPRESSED", "lz4": "LZ4"}.get(codec, codec.upper())
    assert metadata.row_group(0).column(0).compression == expected
    assert metadata.num_rows == 2_000


def test_optional_daily_partitioning(tmp_path: Path) -> None:
    result = run_cli(
        "generate", "transactions", "-o", tmp_path, "--param", "rows=20000", "--param", "start_date=2024-02-27",
        "--param", "end_date=2024-03-02", "--partition-by", "year,month,day", "--file-rows-target", 3000, "--workers", 1,
    )
    assert result.exit_code == 0, result.output
    days = sorted(str(path.relative_to(tmp_path / "transactions")) for path in (tmp_path / "transactions").glob("year=*/month=*/day=*"))
    assert days == [
        "year=2024/month=02/day=27", "year=2024/month=02/day=28", "year=2024/month=02/day=29",
        "year=2024/month=03/day=01", "year=2024/month=03/day=02",
    ]
    source = f"read_parquet('{parquet_glob(tmp_path, 'transactions')}', hive_partitioning = true)"
    assert scalar(f"select count(*) from {source}") == 20_000
    assert scalar(f"select count(*) from {source} where cast(day as int) <> day(datetime) or cast(month as int) <> month(datetime)") == 0
    for day in (tmp_path / "transactions").glob("year=*/month=*/day=*"):
        counts = [pq.ParquetFile(path).metadata.num_rows for path in sorted(day.glob("*.parquet"))]
        assert all(count == 3000 for count in counts[:-1]) and 0 < counts[-1] <= 3000


def test_monthly_partitioning_through_the_api(tmp_path: Path) -> None:
    from dataset_generator import PartitionSpec

    writer = create_writer("parquet", output_uri=str(tmp_path), options=WriterOptions(partition=PartitionSpec(columns=("year", "month"))))
    generate("transactions", writer, params={"rows": 12_000}, workers=1)
    months = sorted(path.name for path in (tmp_path / "transactions" / "year=2024").iterdir())
    assert months == [f"month={month:02d}" for month in range(1, 13)]
