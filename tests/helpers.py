"""Small helpers shared by tests: run the CLI, read outputs back with DuckDB and pyarrow."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner, Result

from dataset_generator.cli import cli


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def parquet_glob(root: Path, table: str) -> str:
    return str(root / table / "**" / "*.parquet")


def query(sql: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql).fetchall()


def scalar(sql: str):
    return query(sql)[0][0]


def file_digests(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every data file under root (markers excluded: they hold run ids)."""
    digests = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            if name == "_SUCCESS":
                continue
            path = Path(directory) / name
            digests[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def read_table_rows(duckdb_con: Any, writer: Any, table: str) -> list[tuple[Any, ...]]:
    """Every row of a Delta/Iceberg/DuckLake table, read by DuckDB (not by the library that wrote it)."""
    if writer.name == "delta":
        source = f"delta_scan('{writer.storage.join(table)}')"
    elif writer.name == "iceberg":
        metadata = writer.catalog.load_table((writer.namespace, table)).metadata_location
        source = f"iceberg_scan('{metadata}')"
    else:
        alias = f"lake_{abs(hash(writer.output_uri))}"
        duckdb_con.execute(f"ATTACH IF NOT EXISTS 'ducklake:{writer._metadata()}' AS {alias} (READ_ONLY)")
        source = f"{alias}.{writer.schema}.{table}"
    return duckdb_con.execute(f"SELECT * FROM {source} ORDER BY ALL").fetchall()
