"""CSV, JSON lines and null writers, driven through the protocol as an engine would, read back with
DuckDB and Polars."""

from __future__ import annotations

import gzip
import multiprocessing
import os
from pathlib import Path

import polars as pl
import pytest
from _duckdb_reader import (
    child_by_partition,
    child_info,
    transactions_by_partition,
    transactions_info,
    write_files,
)

from dataset_generator.errors import WriterError
from dataset_generator.options import WriterOptions
from dataset_generator.writers.registry import create_writer

ROWS = 3000


def _run(fmt: str, output: Path, pool: object | None = None, **options: object) -> list:
    writer = create_writer(fmt, output_uri=str(output), options=WriterOptions(**options))
    handle = writer.open_table(transactions_info(rows=ROWS))
    files = write_files(writer, handle, transactions_by_partition(ROWS), pool=pool)
    writer.commit(handle, files)
    return files


@pytest.mark.parametrize(
    ("compression", "suffix"), [("snappy", ".csv"), ("gzip", ".csv.gz"), ("zstd", ".csv.zst")]
)
def test_csv_roundtrip(tmp_path: Path, duckdb_con, compression: str, suffix: str) -> None:
    files = _run("csv", tmp_path, compression=compression, compression_level=None, row_group_rows=300)
    assert all(info.path.endswith(suffix) for info in files)
    assert {os.path.basename(os.path.dirname(info.path)) for info in files} == {"day=30", "day=31", "day=01"}
    assert (tmp_path / "transactions" / "_SUCCESS").exists()
    pattern = str(tmp_path / "transactions" / "**" / f"*{suffix}")
    rows = duckdb_con.execute(
        f"SELECT count(*), count(DISTINCT transaction_id), min(datetime), max(month) "
        f"FROM read_csv('{pattern}', hive_partitioning = true)"
    ).fetchone()
    assert rows[0] == ROWS and rows[1] == ROWS
    assert str(rows[2]).startswith("2024-01-30")
    # DuckDB sniffs the ISO timestamps as TIMESTAMP, the header as column names.
    described = duckdb_con.execute(f"DESCRIBE SELECT * FROM read_csv('{pattern}')").fetchall()
    types = {row[0]: row[1] for row in described}
    assert (
        types["datetime"] == "TIMESTAMP"
        and types["order_qty"] == "BIGINT"
        and types["is_refund"] == "BOOLEAN"
    )
    frame = pl.concat([pl.read_csv(info.path) for info in files])
    assert frame.height == ROWS and frame.columns[0] == "transaction_id"


def test_csv_text_is_iso_with_header(tmp_path: Path) -> None:
    files = _run("csv", tmp_path, compression="gzip", compression_level=9)
    with gzip.open(files[0].path, "rt") as handle:
        header, first = handle.readline().strip(), handle.readline().strip()
    assert header == "transaction_id,datetime,customer_id,order_qty,order_amount,is_refund,order_date"
    stamp = first.split(",")[1]
    assert stamp[10] == "T" and len(stamp) == len("2024-01-30T00:00:00.000000")


def test_jsonl_spawned_workers(tmp_path: Path, duckdb_con) -> None:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        files = _run(
            "jsonl", tmp_path, pool=pool, compression="zstd", compression_level=5, row_group_rows=256
        )
    assert all(info.path.endswith(".jsonl.zst") for info in files)
    pattern = str(tmp_path / "transactions" / "**" / "*.jsonl.zst")
    count, days = duckdb_con.execute(
        f"SELECT count(*), count(DISTINCT day) FROM read_json('{pattern}', hive_partitioning = true)"
    ).fetchone()
    assert (count, days) == (ROWS, 3)
    frame = pl.read_ndjson(files[0].path)  # Polars decompresses zstd by magic bytes
    assert frame.schema["datetime"] == pl.String and frame["datetime"][0][10] == "T"
    assert frame.schema["is_refund"] == pl.Boolean and frame.schema["order_qty"] == pl.Int64


def test_jsonl_child_table_and_modes(tmp_path: Path) -> None:
    writer = create_writer("jsonl", output_uri=str(tmp_path), options=WriterOptions())
    handle = writer.open_table(child_info())
    files = write_files(writer, handle, child_by_partition())
    writer.commit(handle, files)
    assert files[0].path.endswith(".jsonl") and "year=2024" in files[0].path
    with pytest.raises(WriterError, match="mode=.overwrite."):
        writer.open_table(child_info())
    appender = create_writer("jsonl", output_uri=str(tmp_path), options=WriterOptions(mode="append"))
    handle = appender.open_table(child_info())
    appender.commit(handle, write_files(appender, handle, child_by_partition()))
    total = pl.scan_ndjson(str(tmp_path / "order_items" / "**" / "*.jsonl")).select(pl.len()).collect().item()
    assert total == 1200


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("codec", ["brotli", "lz4"])
def test_text_rejects_page_codecs(tmp_path: Path, fmt: str, codec: str) -> None:
    with pytest.raises(WriterError, match="not supported"):
        create_writer(fmt, output_uri=str(tmp_path), options=WriterOptions(compression=codec))


def test_csv_abort_leaves_nothing(tmp_path: Path) -> None:
    writer = create_writer("csv", output_uri=str(tmp_path), options=WriterOptions())
    handle = writer.open_table(transactions_info())
    files = write_files(writer, handle, transactions_by_partition(ROWS))
    writer.abort(handle, files)
    assert [p for p in (tmp_path / "transactions").rglob("*") if p.is_file()] == []


def test_null_writer_encodes_and_writes_nothing(tmp_path: Path) -> None:
    writer = create_writer("null", options=WriterOptions(compression="zstd", compression_level=3))
    writer.check()
    handle = writer.open_table(transactions_info())
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        files = write_files(writer, handle, transactions_by_partition(ROWS), pool=pool)
    result = writer.commit(handle, files)
    assert result.rows == ROWS and result.files == len(files) == 6
    assert result.bytes > 1000 and all(info.bytes > 0 for info in files)
    snappy = create_writer("null", output_uri=str(tmp_path), options=WriterOptions(compression="none"))
    handle = snappy.open_table(transactions_info())
    uncompressed = snappy.commit(handle, write_files(snappy, handle, transactions_by_partition(ROWS)))
    assert uncompressed.bytes > result.bytes
    assert list(tmp_path.iterdir()) == []
