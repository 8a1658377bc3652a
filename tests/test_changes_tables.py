"""Change feeds applied to Delta, Iceberg and DuckLake tables created by a plain run (whose range ends on
2024-03-31): `--changes --since 2024-04-01 --until 2024-04-07` adds 7 commits per table, the final table read
back by DuckDB equals the snapshot at the end of 2024-04-07 row for row, time travel to each day's version
equals the snapshot at the end of that day, Delta's load_cdf gives the Parquet feed's changes, and running
the same command again applies nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute  # noqa: F401 (pa.compute)
import pytest
from _changes import (
    DAYS,
    SCALE,
    SINCE,
    TABLES,
    UNTIL,
    ecommerce_plan,
    key_of,
    rows_sorted,
    snapshot_at_end_of,
)
from _duckdb_reader import READ_EXTENSIONS

from dataset_generator.api import generate
from dataset_generator.generation.changes import CHANGE_TYPE
from dataset_generator.options import WriterOptions
from dataset_generator.writers.changes import DAY_PROPERTY
from dataset_generator.writers.duckdb_extensions import connect_duckdb
from dataset_generator.writers.registry import create_writer

from helpers import run_cli

FORMATS = ["delta", "iceberg", "ducklake"]


@pytest.fixture(scope="module")
def expected() -> dict[tuple[str, dt.date], pa.Table]:
    plan = ecommerce_plan()
    return {(table, day): snapshot_at_end_of(plan, table, day) for table in TABLES for day in DAYS}


def writer_for(format_name: str, output: Path) -> Any:
    return create_writer(format_name, output_uri=str(output), options=WriterOptions())


def read_back(writer: Any, table: str, version: str | None = None) -> pa.Table:
    """The table (at a version) read by DuckDB's extensions, not by the library that wrote it."""
    if writer.name == "delta":
        if version is not None:  # DuckDB's delta_scan has no time travel: deltalake reads old versions
            from deltalake import DeltaTable

            return pa.table(DeltaTable(writer.storage.join(table), version=int(version)).to_pyarrow_table())
        return duckdb_read(f"SELECT * FROM delta_scan('{writer.storage.join(table)}')")
    if writer.name == "iceberg":
        iceberg_table = writer.catalog.load_table((writer.namespace, table))
        if version is not None:
            return iceberg_table.scan(snapshot_id=int(version)).to_arrow()
        metadata = iceberg_table.metadata_location
        return duckdb_read(f"SELECT * FROM iceberg_scan('{metadata}')")
    at = f" AT (VERSION => {int(version)})" if version is not None else ""
    return lake_reader(writer).execute(f"SELECT * FROM reader.{writer.schema}.{table}{at}").to_arrow_table()


_LAKE_READERS: dict[str, Any] = {}


def lake_reader(writer: Any) -> Any:
    """One read-only DuckDB connection per lake, kept for the reads of a test (attaching is slow); close it
    with `close_lake_readers` before the writer attaches the same metadata file in this process."""
    metadata = writer._metadata()
    con = _LAKE_READERS.get(metadata)
    if con is None:
        con = connect_duckdb(READ_EXTENSIONS)
        con.execute(f"ATTACH 'ducklake:{metadata}' AS reader (READ_ONLY)")
        _LAKE_READERS[metadata] = con
    return con


def close_lake_readers() -> None:
    while _LAKE_READERS:
        _LAKE_READERS.popitem()[1].close()


def duckdb_read(sql: str, *setup: str) -> pa.Table:
    """A DuckDB connection of its own (extensions from PyPI), closed at once: the writer attaches the same
    DuckLake metadata file in this process."""
    con = connect_duckdb(READ_EXTENSIONS)
    try:
        for statement in setup:
            con.execute(statement)
        return con.execute(sql).to_arrow_table()
    finally:
        con.close()


def day_versions(writer: Any, table: str) -> dict[str, str]:
    """Each applied day -> the version (Delta) / snapshot id (Iceberg, DuckLake) that recorded it."""
    if writer.name == "delta":
        from deltalake import DeltaTable

        history = DeltaTable(writer.storage.join(table)).history()
        return {entry[DAY_PROPERTY]: str(entry["version"]) for entry in history if DAY_PROPERTY in entry}
    if writer.name == "iceberg":
        snapshots = writer.catalog.load_table((writer.namespace, table)).snapshots()
        return {s.summary[DAY_PROPERTY]: str(s.snapshot_id) for s in snapshots if s.summary and s.summary.get(DAY_PROPERTY)}
    import json

    rows = lake_reader(writer).execute("SELECT snapshot_id, commit_extra_info FROM ducklake_snapshots('reader')").fetchall()
    found = {}
    for snapshot_id, extra in rows:
        record = json.loads(extra) if extra else {}
        if record.get("table") == table and record.get("kind") == "changes":
            found[record["day"]] = str(snapshot_id)
    return found


def commit_count(writer: Any, table: str) -> int:
    if writer.name == "delta":
        from deltalake import DeltaTable

        return len(DeltaTable(writer.storage.join(table)).history())
    if writer.name == "iceberg":
        return len(writer.catalog.load_table((writer.namespace, table)).snapshots())
    with writer._connect() as con:
        return int(con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0])


@pytest.mark.parametrize("format_name", FORMATS)
def test_seven_days_of_changes_make_seven_commits_that_time_travel_to_each_day(
    tmp_path: Path, format_name: str, expected: dict[tuple[str, dt.date], pa.Table]
) -> None:
    output = tmp_path / format_name
    generate("ecommerce", writer_for(format_name, output), scale=SCALE)  # the range ends on 2024-03-31
    writer = writer_for(format_name, output)
    before = {table: commit_count(writer, table) for table in TABLES}
    generate("ecommerce", writer, scale=SCALE, changes=True, since=SINCE, until=UNTIL)
    plan = ecommerce_plan()
    lake_wide = format_name == "ducklake"  # DuckLake snapshots are the lake's: 7 per table
    added = {table: commit_count(writer, table) - before[table] for table in TABLES}
    if lake_wide:
        assert set(added.values()) == {7 * len(TABLES)}
    else:
        assert added == {table: 7 for table in TABLES}
    for table in TABLES:
        key = key_of(plan, table)
        columns = expected[(table, UNTIL)].column_names
        final = read_back(writer, table)
        assert rows_sorted(final, columns, key) == rows_sorted(expected[(table, UNTIL)], columns, key), table
        versions = day_versions(writer, table)
        assert sorted(versions) == [day.isoformat() for day in DAYS]
        for day in (DAYS[0], DAYS[3]) if table == "order_items" else DAYS:  # items never change: two days do
            old = read_back(writer, table, versions[day.isoformat()])
            assert rows_sorted(old, columns, key) == rows_sorted(expected[(table, day)], columns, key), (table, day)
    # The same command again: every day is there already, nothing is applied twice.
    close_lake_readers()
    again = run_cli("generate", "ecommerce", "--scale", SCALE, "--format", format_name, "--output", output,
                    "--changes", "--since", "2024-04-01", "--until", "2024-04-07")  # fmt: skip
    assert again.exit_code == 0, again.output
    assert {table: commit_count(writer, table) - before[table] for table in TABLES} == added


def test_delta_change_data_feed_matches_the_parquet_feed(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    generate("ecommerce", writer_for("delta", tmp_path / "lake"), scale=SCALE)
    generate("ecommerce", writer_for("delta", tmp_path / "lake"), scale=SCALE, changes=True, since=SINCE, until=UNTIL)
    generate("ecommerce", writer_for("parquet", tmp_path / "feed"), scale=SCALE, changes=True, since=SINCE, until=UNTIL)
    plan = ecommerce_plan()
    import duckdb

    for table in ("orders", "customers"):
        delta_table = DeltaTable(str(tmp_path / "lake" / table))
        assert delta_table.metadata().configuration.get("delta.enableChangeDataFeed") == "true"
        first = min(int(v) for v in day_versions(writer_for("delta", tmp_path / "lake"), table).values())
        cdf = pa.table(delta_table.load_cdf(starting_version=first).read_all())
        with duckdb.connect() as con:
            feed = con.execute(f"SELECT * FROM read_parquet('{tmp_path}/feed/{table}_changes/*.parquet')").to_arrow_table()
        # Delta numbers versions from the table's creation; the feed numbers days from 1.
        day_number = pa.compute.subtract(cdf["_commit_version"], first - 1)
        cdf = cdf.set_column(cdf.schema.get_field_index("_commit_version"), "_commit_version", day_number)
        columns = [*plan.runtime.arrow_schema(table).names, CHANGE_TYPE, "_commit_version"]
        cdf = cdf.select(columns).cast(feed.select(columns).schema)  # deltalake gives string/binary views
        key = [*key_of(plan, table), "_commit_version", CHANGE_TYPE]
        assert rows_sorted(cdf, columns, key) == rows_sorted(feed, columns, key), table
        assert table != "orders" or feed.num_rows > 0


def test_a_missing_table_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli("generate", "ecommerce", "--scale", SCALE, "--format", "ducklake", "--output", tmp_path,
                     "--changes", "--since", "2024-04-01", "--until", "2024-04-07")  # fmt: skip
    assert result.exit_code == 2
    assert "does not exist" in result.output and "--as-of 2024-03-31" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_feed_past_the_historical_load_of_a_longer_range(tmp_path: Path) -> None:
    """The range runs to 2024-06-30; the historical load is `--as-of 2024-03-31`; seven days of changes on top
    of it give the `--as-of 2024-04-07` snapshot (written by the same tool, read back by DuckDB)."""
    params = {"end_date": "2024-06-30"}
    lake = tmp_path / "lake"
    generate("ecommerce", writer_for("delta", lake), scale=SCALE, params=params, as_of="2024-03-31")
    generate("ecommerce", writer_for("delta", lake), scale=SCALE, params=params, changes=True, since=SINCE, until=UNTIL)
    generate("ecommerce", writer_for("parquet", tmp_path / "as_of"), scale=SCALE, params=params, as_of="2024-04-07")
    plan = ecommerce_plan(params)
    writer = writer_for("delta", lake)
    for table in TABLES:
        key = key_of(plan, table)
        want = duckdb_read(f"SELECT * FROM read_parquet('{tmp_path}/as_of/{table}/**/*.parquet', hive_partitioning = false)")
        got = read_back(writer, table)
        assert got.num_rows > 0 and rows_sorted(got, want.column_names, key) == rows_sorted(want, want.column_names, key), table


@pytest.mark.parametrize("fault", ["delta.after-commit:orders"])  # also passes with changes.before-day:order_items
def test_a_killed_changes_run_resumes_and_applies_no_day_twice(
    tmp_path: Path, fault: str, expected: dict[tuple[str, dt.date], pa.Table]
) -> None:
    """kill -9 just after orders' first day landed (before the tool saw it), or just before order_items'
    first day: every table is at a day boundary; the same command again applies the rest, each day once."""
    import os
    import signal
    import subprocess
    import sys

    output = tmp_path / "lake"
    generate("ecommerce", writer_for("delta", output), scale=SCALE)
    command = [sys.executable, "-m", "dataset_generator.cli", "generate", "ecommerce", "--scale", str(SCALE),
               "--format", "delta", "--output", str(output), "--changes", "--since", "2024-04-01",
               "--until", "2024-04-07", "-q"]  # fmt: skip
    crashed = subprocess.run(command, capture_output=True, text=True, timeout=300,
                             env={**os.environ, "DATASET_GENERATOR_FAULT": fault}, start_new_session=True)  # fmt: skip
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    writer = writer_for("delta", output)
    assert len(day_versions(writer, "orders")) == 1  # day 1 of orders landed in both cases
    assert len(day_versions(writer, "order_items")) == 0
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    plan = ecommerce_plan()
    for table in TABLES:
        from deltalake import DeltaTable

        history = DeltaTable(writer.storage.join(table)).history()
        days = [entry[DAY_PROPERTY] for entry in history if DAY_PROPERTY in entry]
        assert sorted(days) == [day.isoformat() for day in DAYS], table  # each day exactly once
        key = key_of(plan, table)
        columns = expected[(table, UNTIL)].column_names
        final = read_back(writer, table)
        assert rows_sorted(final, columns, key) == rows_sorted(expected[(table, UNTIL)], columns, key), table
