"""docs/lifecycle.md's worked example runs as written (at a smaller scale): every `dataset-generator` command of
the page through the CLI, in page order, then every Python block; then the final Delta, Iceberg and DuckLake
tables (read back by DuckDB's extensions) equal `--as-of 2024-04-07` row for row."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from dataset_generator.writers.duckdb_extensions import connect_duckdb

from helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "lifecycle.md"
SCALE = "0.001"
TABLES = {"customers": "customer_id", "products": "product_id", "orders": "order_id", "order_items": "order_item_id"}
_BLOCK = re.compile(r"```(bash|python)\n(.*?)```", re.S)


def page_blocks() -> list[tuple[str, str]]:
    return _BLOCK.findall(PAGE.read_text())


def commands(body: str) -> list[list[str]]:
    found = []
    for line in body.replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("dataset-generator "):
            continue
        args = shlex.split(line)[1:]
        args[args.index("--scale") + 1] = SCALE
        found.append(args + ["--workers", "1"])
    return found


def parquet_table(path: Path) -> pl.DataFrame:
    return pl.read_parquet(str(path / "**" / "*.parquet"), hive_partitioning=False)


def same_rows(got: pl.DataFrame, expected: pl.DataFrame, key: str) -> None:
    got = got.select(expected.columns).sort(key)
    assert got.height == expected.height
    assert got.equals(expected.sort(key))


@pytest.fixture(scope="module")
def worked_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lifecycle")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for kind, body in page_blocks():
            if kind == "bash":
                for args in commands(body):
                    result = run_cli(*args)
                    assert result.exit_code == 0, f"dataset-generator {' '.join(args)}\n{result.output}"
            else:
                exec(compile(body, "docs/lifecycle.md example", "exec", dont_inherit=True), {"__name__": "docs_example"})
        result = run_cli(
            "generate", "ecommerce", "--format", "parquet", "--output", "day7", "--scale", SCALE,
            "--param", "end_date=2024-06-30", "--as-of", "2024-04-07", "--workers", "1",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    return root


def test_page_runs(worked_example: Path) -> None:
    assert (worked_example / "lake" / "orders" / "_delta_log").is_dir()


@pytest.mark.parametrize("table", list(TABLES))
def test_final_tables_equal_as_of(worked_example: Path, table: str) -> None:
    key = TABLES[table]
    expected = parquet_table(worked_example / "day7" / table)
    con: Any = connect_duckdb(["delta", "iceberg", "avro", "ducklake"])
    try:
        delta = pl.from_arrow(con.execute(f"SELECT * FROM delta_scan('{worked_example / 'lake' / table}')").to_arrow_table())
        same_rows(delta, expected, key)
        metadata = sorted((worked_example / "lake-iceberg" / table / "metadata").glob("*.metadata.json"))[-1]
        iceberg = pl.from_arrow(con.execute(f"SELECT * FROM iceberg_scan('{metadata}')").to_arrow_table())
        same_rows(iceberg, expected, key)
        con.execute(f"ATTACH 'ducklake:{worked_example / 'lake-ducklake' / 'catalog.ducklake'}' AS lake (READ_ONLY)")
        ducklake = pl.from_arrow(con.execute(f"SELECT * FROM lake.{table}").to_arrow_table())
        same_rows(ducklake, expected, key)
        records = [
            json.loads(extra)
            for _, extra in con.execute("SELECT snapshot_id, commit_extra_info FROM ducklake_snapshots('lake')").fetchall()
            if extra
        ]
        days = [record["day"] for record in records if record.get("kind") == "changes" and record.get("table") == table]
        assert days == [f"2024-04-0{n}" for n in range(1, 8)]  # one commit per day, in day order
    finally:
        con.close()


def test_seven_delta_versions_after_the_load(worked_example: Path) -> None:
    from deltalake import DeltaTable

    for table in TABLES:
        assert DeltaTable(str(worked_example / "lake" / table)).version() == 7
