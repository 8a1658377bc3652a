"""A spec's table and column descriptions become table/column comments in Delta, Iceberg and DuckLake and key-value
metadata in Parquet (unless `--no-descriptions`), read back from each format (issue 15 item 4). The data files of the table
formats do not change with the prose: their bytes are those of a spec without descriptions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataset_generator.writers.duckdb_extensions import connect_duckdb

from helpers import file_digests, run_cli

SPEC = """
name: shop
tables:
  items:
    description: "one row per item; it's the catalogue"
    rows: 500
    columns:
      item_id: {type: int64, gen: sequence, start: 1, description: "the item's key"}
      price: {type: float64, gen: uniform, low: 1, high: 99, description: price in EUR}
      colour: {gen: choice, values: [red, blue]}
"""
COLUMNS = {"item_id": "the item's key", "price": "price in EUR"}
TABLE = "one row per item; it's the catalogue"


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SPEC)
    return path


def _generate(spec: Path, out: Path, format_name: str, *extra: str) -> None:
    result = run_cli("generate", "--schema-file", spec, "--format", format_name, "-o", out, *extra)
    assert result.exit_code == 0, result.output


def test_parquet_key_value_metadata(spec: Path, tmp_path: Path) -> None:
    _generate(spec, tmp_path / "plain", "parquet", "--no-descriptions")
    _generate(spec, tmp_path / "described", "parquet")
    con = connect_duckdb([])
    rows = con.execute(
        f"select decode(key), decode(value) from parquet_kv_metadata('{tmp_path}/described/items/*.parquet') "
        "where decode(key) like 'dataset_generator.%'"
    ).fetchall()
    assert dict(rows) == {
        "dataset_generator.description": TABLE,
        **{f"dataset_generator.description.{name}": text for name, text in COLUMNS.items()},
    }
    plain = con.execute(f"select count(*) from parquet_kv_metadata('{tmp_path}/plain/items/*.parquet') "
                        "where decode(key) like 'dataset_generator.%'").fetchone()[0]  # fmt: skip
    assert plain == 0  # --no-descriptions: the files' bytes do not depend on the prose
    same = "select * from read_parquet('{}/items/*.parquet') order by item_id"
    assert con.execute(same.format(tmp_path / "plain")).fetchall() == con.execute(same.format(tmp_path / "described")).fetchall()
    con.close()


def test_delta_comments(spec: Path, tmp_path: Path) -> None:
    from deltalake import DeltaTable

    _generate(spec, tmp_path, "delta")
    table = DeltaTable(str(tmp_path / "items"))
    assert table.metadata().description == TABLE
    comments = {field.name: (field.metadata or {}).get("comment") for field in table.schema().fields}
    assert comments == {**COLUMNS, "colour": None}


def test_iceberg_comments(spec: Path, tmp_path: Path) -> None:
    _generate(spec, tmp_path, "iceberg")
    metadata = json.loads((tmp_path / "items" / "metadata" / "v0.metadata.json").read_text())
    assert metadata["properties"]["comment"] == TABLE
    fields = metadata["schemas"][metadata["current-schema-id"]]["fields"]
    assert {field["name"]: field.get("doc") for field in fields} == {**COLUMNS, "colour": None}
    con = connect_duckdb(["avro", "iceberg"])
    assert con.execute(f"select count(*) from iceberg_scan('{tmp_path}/items')").fetchone()[0] == 500
    con.close()


def test_ducklake_comments(spec: Path, tmp_path: Path) -> None:
    _generate(spec, tmp_path, "ducklake")
    con = connect_duckdb(["ducklake"])
    con.execute(f"ATTACH 'ducklake:{tmp_path}/catalog.ducklake' AS lake (READ_ONLY)")
    assert con.execute("select comment from duckdb_tables() where database_name = 'lake' and table_name = 'items'").fetchone()[0] == TABLE
    comments = dict(
        con.execute("select column_name, comment from duckdb_columns() where database_name = 'lake' and table_name = 'items'").fetchall()
    )
    assert comments == {**COLUMNS, "colour": None}
    con.close()


@pytest.mark.parametrize("format_name", ["delta", "iceberg", "ducklake"])
def test_table_format_data_files_do_not_depend_on_descriptions(spec: Path, tmp_path: Path, format_name: str) -> None:
    bare = tmp_path / "bare.yaml"
    bare.write_text("\n".join(line.split(", description")[0] + ("}" if ", description" in line else "")
                              for line in SPEC.splitlines() if "description:" not in line.strip()[:12]))  # fmt: skip
    _generate(spec, tmp_path / "a", format_name, "--seed", "3")
    _generate(bare, tmp_path / "b", format_name, "--seed", "3")
    digests = [sorted(value for path, value in file_digests(tmp_path / name).items() if path.endswith(".parquet"))
               for name in ("a", "b")]  # fmt: skip
    assert digests[0] and digests[0] == digests[1]
