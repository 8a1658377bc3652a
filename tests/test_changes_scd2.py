"""SCD type 2 dimensions (`--scd2`): the version history of customers and products in a snapshot run, and
seven days of changes applied to it in DuckLake (closing current versions, opening new ones) give the history
a snapshot run at the last day writes, read back with DuckDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from _changes import SCALE, SINCE, UNTIL, ecommerce_plan, key_of, rows_sorted, snapshot_at_end_of

from dataset_generator.api import generate
from dataset_generator.generation.scd2 import IS_CURRENT, VALID_FROM, VALID_TO
from dataset_generator.options import WriterOptions
from dataset_generator.writers.duckdb_extensions import connect_duckdb
from dataset_generator.writers.registry import create_writer

from helpers import run_cli

DIMENSIONS = ["customers", "products"]


def writer_for(format_name: str, output: Path) -> object:
    return create_writer(format_name, output_uri=str(output), options=WriterOptions())


def read_parquet(root: Path, table: str) -> pa.Table:
    with duckdb.connect() as con:
        return con.execute(f"SELECT * FROM read_parquet('{root}/{table}/*.parquet')").to_arrow_table()


def read_lake(root: Path, table: str) -> pa.Table:
    con = connect_duckdb(["ducklake"])
    try:
        con.execute(f"ATTACH 'ducklake:{root}/catalog.ducklake' AS reader (READ_ONLY)")
        return con.execute(f"SELECT * FROM reader.main.{table}").to_arrow_table()
    finally:
        con.close()


def check_versions(history: pa.Table, key: str) -> None:
    """One current version per key at most, the current one last and open, versions contiguous."""
    rows = sorted(
        zip(history[key].to_pylist(), history[VALID_FROM].to_pylist(), history[VALID_TO].to_pylist(),
            history[IS_CURRENT].to_pylist(), strict=True),
        key=lambda row: (row[0], row[1] is not None, row[1]),
    )  # fmt: skip
    by_key: dict[object, list[tuple]] = {}
    for row in rows:
        by_key.setdefault(row[0], []).append(row)
    for versions in by_key.values():
        assert sum(1 for row in versions if row[3]) <= 1
        for earlier, later in zip(versions, versions[1:], strict=False):
            assert earlier[2] == later[1] and not earlier[3]
        assert versions[-1][3] == (versions[-1][2] is None)


@pytest.fixture(scope="module")
def parquet_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("scd2")
    generate("ecommerce", writer_for("parquet", output), scale=SCALE, scd2=True, tables=DIMENSIONS)
    return output


def test_a_snapshot_run_writes_dimensions_as_version_histories(parquet_history: Path) -> None:
    plan = ecommerce_plan()
    closed = 0
    for table in DIMENSIONS:
        history = read_parquet(parquet_history, table)
        key = key_of(plan, table)
        check_versions(history, key[0])
        closed += history.num_rows - sum(history[IS_CURRENT].to_pylist())
        current = history.filter(history[IS_CURRENT])
        snapshot = snapshot_at_end_of(plan, table, SINCE - dt.timedelta(days=1))  # the range end
        assert rows_sorted(current, snapshot.column_names, key) == rows_sorted(snapshot, snapshot.column_names, key)
    assert closed > 0  # customers move, change emails; prices change


def test_changes_close_and_open_versions_in_ducklake(parquet_history: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    generate("ecommerce", writer_for("ducklake", lake), scale=SCALE, scd2=True, tables=DIMENSIONS)
    generate("ecommerce", writer_for("ducklake", lake), scale=SCALE, scd2=True, tables=DIMENSIONS, changes=True,
             since=SINCE, until=UNTIL)  # fmt: skip
    later = tmp_path / "later"
    generate("ecommerce", writer_for("parquet", later), scale=SCALE, scd2=True, tables=DIMENSIONS, as_of=UNTIL)
    plan = ecommerce_plan()
    for table in DIMENSIONS:
        key = key_of(plan, table)
        got, want = read_lake(lake, table), read_parquet(later, table)
        check_versions(got, key[0])
        order = [*key, VALID_FROM]
        assert rows_sorted(got, want.column_names, order) == rows_sorted(want, want.column_names, order), table


def test_scd2_refusals_are_one_line(tmp_path: Path) -> None:
    result = run_cli("generate", "ecommerce", "--scale", SCALE, "--output", tmp_path, "--scd2", "--changes",
                     "--since", "2024-04-01", "--until", "2024-04-02")  # fmt: skip
    assert result.exit_code == 2 and "leave --scd2 out" in result.output
    assert len(result.output.strip().splitlines()) == 1
