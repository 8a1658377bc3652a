"""`generate ecommerce --format delta|iceberg|ducklake` through the CLI, read back by DuckDB and Polars,
holding the same rows as the Parquet run with the same seed, with keys and totals intact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from dataset_generator import create_writer
from dataset_generator.schemas.loader import load_schema

from helpers import parquet_glob, read_table_rows, run_cli

SCALE = "0.0005"
TABLES = ("customers", "products", "orders", "order_items")


@pytest.fixture(scope="module")
def parquet_counts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    out = tmp_path_factory.mktemp("parquet")
    assert run_cli("generate", "ecommerce", "--format", "parquet", "-o", out, "--scale", SCALE).exit_code == 0
    return {
        table: pl.scan_parquet(parquet_glob(out, table), hive_partitioning=True).select(pl.len()).collect().item()
        for table in TABLES
    }


def polars_count(format_name: str, writer: Any, table: str) -> int | None:
    if format_name == "delta":
        return pl.scan_delta(writer.storage.join(table)).select(pl.len()).collect().item()
    if format_name == "iceberg":
        return pl.scan_iceberg(writer.catalog.load_table((writer.namespace, table))).select(pl.len()).collect().item()
    return None  # Polars has no DuckLake reader; DuckDB reads it below


@pytest.mark.parametrize("format_name", ["delta", "iceberg", "ducklake"])
def test_table_format_matches_the_parquet_run(
    tmp_path: Path, duckdb_con: Any, parquet_counts: dict[str, int], format_name: str
) -> None:
    out = tmp_path / "lake"
    result = run_cli("generate", "ecommerce", "--format", format_name, "--output", out, "--scale", SCALE)
    assert result.exit_code == 0, result.output
    writer = create_writer(format_name, output_uri=str(out))
    rows = {table: read_table_rows(duckdb_con, writer, table) for table in TABLES}
    assert {table: len(values) for table, values in rows.items()} == parquet_counts
    for table in ("delta", "iceberg"):
        if format_name == table:
            assert {t: polars_count(format_name, writer, t) for t in TABLES} == parquet_counts
    # Keys and totals survive the format: sum of line totals per order equals the order's total.
    duckdb_con.register("orders_rows", pl.DataFrame(rows["orders"], orient="row").to_arrow())
    duckdb_con.register("items_rows", pl.DataFrame(rows["order_items"], orient="row").to_arrow())
    spec = load_schema("ecommerce", scale=float(SCALE))
    orders, items = list(spec.tables["orders"].visible_columns), list(spec.tables["order_items"].visible_columns)
    order_id, total_amount = orders.index("order_id"), orders.index("total_amount")  # positions in the rows read
    item_order_id, line_total = items.index("order_id"), items.index("line_total")
    worst = duckdb_con.execute(
        f"""SELECT max(abs(o.column_{total_amount} - i.total)) FROM orders_rows o JOIN
            (SELECT column_{item_order_id} AS id, sum(column_{line_total}) AS total FROM items_rows GROUP BY 1) i
            ON o.column_{order_id} = i.id"""
    ).fetchone()[0]
    assert worst < 0.006


@pytest.mark.parametrize(("first", "second"), [("delta", "iceberg"), ("iceberg", "delta"), ("iceberg", "parquet"), ("parquet", "delta")])
def test_two_formats_never_share_a_table_directory(tmp_path: Path, first: str, second: str) -> None:
    out = tmp_path / "lake"
    args = ("generate", "transactions", "--param", "rows=1000", "--output", out)
    assert run_cli(*args, "--format", first).exit_code == 0
    result = run_cli(*args, "--format", second)
    assert result.exit_code == 2, result.output
    assert "not empty" in result.output and len(result.output.strip().splitlines()) == 1
