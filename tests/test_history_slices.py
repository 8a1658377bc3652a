"""Issue 16, time slices: `--until D` then `--since D+1 --until E --mode append` hold exactly the rows of one
run over the whole range (the multiset of every table), in Parquet and in Delta, Iceberg and DuckLake (each
slice one commit), read back by DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dataset_generator import create_writer
from dataset_generator.schemas.loader import load_schema

from helpers import parquet_glob, read_table_rows, run_cli

TABLES = ("customers", "products", "orders", "order_items")
RANGE = ("--param", "end_date=2024-06-30")
FIRST = ("--until", "2024-03-31")
SECOND = ("--since", "2024-04-01", "--until", "2024-06-30", "--mode", "append")


def _generate(out: Path, scale: str, *extra: str) -> None:
    result = run_cli("generate", "ecommerce", "-o", out, "--scale", scale, "-q", *RANGE, *extra)
    assert result.exit_code == 0, result.output


def _parquet_rows(duckdb_con: Any, root: Path, table: str) -> list[tuple[Any, ...]]:
    columns = ", ".join(load_schema("ecommerce", scale=0.001).tables[table].visible_columns)
    return duckdb_con.execute(
        f"SELECT {columns} FROM read_parquet('{parquet_glob(root, table)}', hive_partitioning = false) ORDER BY ALL"
    ).fetchall()


SCALE = "0.0005"  # 500 customers, 25 products, ~100 orders a day: every table changes, runs stay short


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Parquet run over 2024-01-01..2024-06-30."""
    out = tmp_path_factory.mktemp("whole")
    _generate(out, SCALE)
    return out


def test_parquet_slices_add_up_to_one_run(tmp_path: Path, whole: Path, duckdb_con: Any) -> None:
    out = tmp_path / "slices"
    _generate(out, SCALE, *FIRST)
    first = {table: len(_parquet_rows(duckdb_con, out, table)) for table in TABLES}
    _generate(out, SCALE, *SECOND)
    for table in TABLES:
        sliced, full = _parquet_rows(duckdb_con, out, table), _parquet_rows(duckdb_con, whole, table)
        assert sliced == full, table  # sorted rows: the same multiset
    # The second slice really added rows: orders and items of April-June, customers who signed up then.
    assert all(len(_parquet_rows(duckdb_con, out, table)) > first[table] for table in ("customers", "orders", "order_items"))
    assert len(_parquet_rows(duckdb_con, out, "products")) == first["products"]  # products exist from before the range


@pytest.mark.parametrize("format_name", ["delta", "iceberg", "ducklake"])
def test_table_format_slices_are_one_commit_each(tmp_path: Path, whole: Path, duckdb_con: Any, format_name: str) -> None:
    out = tmp_path / "lake"
    _generate(out, SCALE, "--format", format_name, *FIRST)
    _generate(out, SCALE, "--format", format_name, *SECOND)
    writer = create_writer(format_name, output_uri=str(out))
    for table in TABLES:
        columns = load_schema("ecommerce", scale=0.001).tables[table].visible_columns
        rows = read_table_rows(duckdb_con, writer, table)
        width = len(columns)
        # Table formats may add partition columns after the data columns: compare the data columns.
        assert sorted(row[:width] for row in rows) == _parquet_rows(duckdb_con, whole, table), table
    if format_name == "delta":
        from deltalake import DeltaTable

        assert len(DeltaTable(str(out / "orders")).history()) == 2  # one commit per slice
    elif format_name == "iceberg":
        assert len(writer.catalog.load_table((writer.namespace, "orders")).snapshots()) == 2
