"""Schema evolution on append (`--mode append` with a spec that changed): Delta, Iceberg and DuckLake evolve the
table (new nullable columns, widened types where the format allows, dropped nullable columns kept as nulls);
every incompatible change is refused with one line before anything is written; plain files refuse any change.
Read back by DuckDB's delta/iceberg/ducklake extensions, not by the library that wrote the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dataset_generator import S3Config, WriterOptions, create_writer, generate
from dataset_generator.errors import SchemaEvolutionError
from dataset_generator.writers.duckdb_extensions import connect_duckdb

from helpers import run_cli

# Version 1 of a user's spec: one time-partitioned fact table and one small dimension.
V1 = """\
name: evolving
description: A small dataset whose next version adds, widens and drops columns.
tables:
  accounts:
    rows: 40
    columns:
      account_id: {type: int64, gen: sequence, start: 1}
      tier: {type: string, gen: choice, values: [gold, silver, bronze]}
  events:
    time: {column: ts, start: 2024-01-01, end: 2024-01-03, per_day: 50}
    partition_by: [year, month, day]
    columns:
      ts: {type: timestamp, gen: event_time}
      account_id: {type: int64, gen: foreign_key, table: accounts, column: account_id}
      qty: {type: int32, gen: uniform, low: 1, high: 9}
      price: {type: float32, gen: uniform, low: 1, high: 100, round: 2}
      note: {type: string, gen: choice, values: [a, b], null_fraction: 0.5}
"""
EVENTS, ACCOUNTS = 150, 40
NEW_COLUMNS = """\
      channel: {type: string, gen: choice, values: [web, shop], nullable: true}
"""


def v2(*, widen: bool) -> str:
    """Version 2: `channel` added (nullable) to both tables, `note` dropped (it was nullable), and with `widen`
    qty int32 -> int64 and price float32 -> float64."""
    text = V1.replace("      note: {type: string, gen: choice, values: [a, b], null_fraction: 0.5}\n", NEW_COLUMNS)
    text = text.replace("      tier: {type: string, gen: choice, values: [gold, silver, bronze]}\n",
                        "      tier: {type: string, gen: choice, values: [gold, silver, bronze]}\n" + NEW_COLUMNS)  # fmt: skip
    if widen:
        text = text.replace("qty: {type: int32", "qty: {type: int64").replace("price: {type: float32", "price: {type: float64")
    return text


# Each incompatible change: (name, spec text, column the refusal names, what else it must say).
INCOMPATIBLE = [
    ("narrowed", V1.replace("account_id: {type: int64, gen: foreign_key", "account_id: {type: int32, gen: foreign_key"), "account_id", ("int64", "int32")),
    ("int_to_string", V1.replace("qty: {type: int32, gen: uniform, low: 1, high: 9}", "qty: {type: string, gen: choice, values: [x]}"), "qty", ("int32", "string")),
    ("not_nullable_new", V1 + "      extra: {type: int32, gen: uniform, low: 1, high: 2}\n", "extra", ("not nullable", "nullable: true")),
]  # fmt: skip


def write_spec(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(text)
    return path


def writer_for(fmt: str, out: Path, mode: str) -> Any:
    return create_writer(fmt, output_uri=str(out), options=WriterOptions(mode=mode))


def read(con: Any, writer: Any, table: str, sql: str) -> list[tuple[Any, ...]]:
    """Run `sql` (its `{t}` the table) on the table as DuckDB's own extension reads it. A DuckLake lake is
    attached read-only for the query only: the writer of this process attaches it again."""
    if writer.name == "delta":
        return con.execute(sql.format(t=f"delta_scan('{writer.storage.join(table)}')")).fetchall()
    if writer.name == "iceberg":
        metadata = writer.catalog.load_table((writer.namespace, table)).metadata_location
        return con.execute(sql.format(t=f"iceberg_scan('{metadata}')")).fetchall()
    con.execute(f"ATTACH 'ducklake:{writer._metadata()}' AS evolving_lake (READ_ONLY)")
    try:
        return con.execute(sql.format(t=f"evolving_lake.{writer.schema}.{table}")).fetchall()
    finally:
        con.execute("DETACH evolving_lake")


def types(con: Any, writer: Any, table: str) -> dict[str, str]:
    return {row[0]: row[1] for row in read(con, writer, table, "DESCRIBE SELECT * FROM {t}")}


def versions(writer: Any, table: str) -> int:
    """How many versions/snapshots the table has (Delta log entries, Iceberg snapshots, DuckLake snapshots
    that touched the lake)."""
    if writer.name == "delta":
        from deltalake import DeltaTable

        return DeltaTable(writer.storage.join(table)).version() + 1
    if writer.name == "iceberg":
        return len(writer.catalog.load_table((writer.namespace, table)).snapshots())
    con = connect_duckdb(["ducklake"])
    try:
        con.execute(f"ATTACH 'ducklake:{writer._metadata()}' AS lake (READ_ONLY)")
        return int(con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0])
    finally:
        con.close()


def files_under(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("fmt", ["iceberg", "ducklake", "delta"])
def test_append_evolves_the_table(tmp_path: Path, fmt: str, duckdb_con: Any) -> None:
    widen = fmt != "delta"  # deltalake 1.6.6 has no Delta type widening: refused (below)
    out = tmp_path / "out"
    generate(write_spec(tmp_path, "v1", V1), writer_for(fmt, out, "error"), workers=1)
    writer = writer_for(fmt, out, "append")
    before = read(duckdb_con, writer, "events", "SELECT ts, account_id, qty, price FROM {t} ORDER BY ALL")
    counts = {table: versions(writer, table) for table in ("events", "accounts")}
    summary = generate(write_spec(tmp_path, "v2", v2(widen=widen)), writer, workers=1)
    assert summary.rows == EVENTS + ACCOUNTS

    kinds = types(duckdb_con, writer, "events")
    assert kinds["channel"] == "VARCHAR"
    assert (kinds["qty"], kinds["price"]) == (("BIGINT", "DOUBLE") if widen else ("INTEGER", "FLOAT"))
    assert "note" in kinds  # dropped from the spec: kept in the table, null in the new rows
    [rows] = read(
        duckdb_con, writer, "events",
        "SELECT count(*), count(channel), count(*) FILTER (channel IS NULL AND note IS NOT NULL), "
        "count(*) FILTER (channel IS NOT NULL AND note IS NOT NULL) FROM {t}",
    )  # fmt: skip
    assert rows[0] == 2 * EVENTS and rows[1] == EVENTS  # the old rows read null in the new column
    assert 0 < rows[2] < EVENTS and rows[3] == 0  # old rows keep their notes, new rows have none
    # The old rows read back unchanged, in the widened types.
    old = read(duckdb_con, writer, "events", "SELECT ts, account_id, qty, price FROM {t} WHERE channel IS NULL ORDER BY ALL")
    assert old == before
    assert read(duckdb_con, writer, "accounts", "SELECT count(*), count(channel) FROM {t}") == [(2 * ACCOUNTS, ACCOUNTS)]
    # Iceberg and DuckLake evolve inside the run's one commit; Delta adds a metadata-only version before it.
    extra = 1 if fmt == "delta" else 0
    assert versions(writer, "events") - counts["events"] == (1 if fmt != "ducklake" else 2) + extra


@pytest.mark.parametrize("fmt", ["delta", "iceberg", "ducklake"])
def test_incompatible_changes_are_refused_and_leave_the_table_untouched(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out"
    assert run_cli("generate", write_spec(tmp_path, "v1", V1), "--format", fmt, "-o", out, "--workers", "1").exit_code == 0
    writer = writer_for(fmt, out, "append")
    state = (files_under(out), versions(writer, "events"), versions(writer, "accounts"))
    cases = list(INCOMPATIBLE)
    if fmt == "delta":
        cases.append(("widened_in_delta", v2(widen=True), "qty", ("int32", "int64", "no Delta type widening")))
    for name, text, column, words in cases:
        result = run_cli(
            "generate", write_spec(tmp_path, name, text), "--format", fmt, "-o", out, "--workers", "1", "--mode", "append"
        )
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2, (name, result.output)
        assert len(lines) == 1, (name, result.output)
        assert f"'{column}'" in lines[0] and "cannot append to" in lines[0], (name, lines[0])
        assert all(word in lines[0] for word in words), (name, lines[0])
        assert (files_under(out), versions(writer, "events"), versions(writer, "accounts")) == state, name


def test_a_not_null_column_dropped_from_the_spec_is_refused_where_the_table_requires_it(tmp_path: Path) -> None:
    dropped = V1.replace("      price: {type: float32, gen: uniform, low: 1, high: 100, round: 2}\n", "")
    for fmt in ("delta", "iceberg"):
        out = tmp_path / fmt
        generate(write_spec(tmp_path, "v1", V1), writer_for(fmt, out, "error"), workers=1)
        with pytest.raises(SchemaEvolutionError, match=r"column 'price' \(float32, NOT NULL in the table\)") as info:
            generate(write_spec(tmp_path, "dropped", dropped), writer_for(fmt, out, "append"), workers=1)
        assert (info.value.column, info.value.old, info.value.new) == ("price", "float32", None)


@pytest.mark.parametrize("fmt", ["ducklake", "iceberg"])
def test_date_widened_to_timestamp(tmp_path: Path, fmt: str, duckdb_con: Any) -> None:
    """DuckLake promotes date -> timestamp; pyiceberg 0.12 has no such promotion (a v3 rule): refused."""
    with_date = V1.replace("      tier:", "      since: {type: date, gen: date, start: 2020-01-01, end: 2020-12-31}\n      tier:")
    out = tmp_path / "out"
    generate(write_spec(tmp_path, "v1", with_date), writer_for(fmt, out, "error"), workers=1, tables=["accounts"])
    widened = with_date.replace("since: {type: date, gen: date", "since: {type: timestamp, gen: timestamp")
    writer = writer_for(fmt, out, "append")
    spec = write_spec(tmp_path, "v2", widened)
    if fmt == "iceberg":
        with pytest.raises(SchemaEvolutionError, match=r"'since' is date in the table and timestamp in the spec.*no date -> timestamp"):
            generate(spec, writer, workers=1, tables=["accounts"])
        return
    generate(spec, writer, workers=1, tables=["accounts"])
    assert types(duckdb_con, writer, "accounts")["since"] == "TIMESTAMP"
    # Old rows: midnight of their day; new rows: any time of day.
    assert read(duckdb_con, writer, "accounts", "SELECT count(*), count(*) FILTER (since::TIME = TIME '00:00') >= 40 FROM {t}") == [(80, True)]


@pytest.mark.parametrize("fmt", ["iceberg", "ducklake", "delta"])
def test_decimal_precision_widened(tmp_path: Path, fmt: str, duckdb_con: Any) -> None:
    """decimal(9,2) -> decimal(18,2): Iceberg and DuckLake promote it (old values read unchanged), Delta refuses."""
    with_decimal = V1.replace("      tier:", "      balance: {type: \"decimal(9,2)\", gen: uniform, low: 0, high: 9999}\n      tier:")
    out = tmp_path / "out"
    generate(write_spec(tmp_path, "v1", with_decimal), writer_for(fmt, out, "error"), workers=1, tables=["accounts"])
    writer = writer_for(fmt, out, "append")
    before = read(duckdb_con, writer, "accounts", "SELECT account_id, balance::VARCHAR FROM {t} ORDER BY ALL")
    spec = write_spec(tmp_path, "v2", with_decimal.replace("decimal(9,2)", "decimal(18,2)"))
    if fmt == "delta":
        with pytest.raises(SchemaEvolutionError, match=r"'balance' is decimal\(9,2\) in the table and decimal\(18,2\)"):
            generate(spec, writer, workers=1, tables=["accounts"])
        return
    generate(spec, writer, workers=1, tables=["accounts"])
    assert types(duckdb_con, writer, "accounts")["balance"] == "DECIMAL(18,2)"
    rows = read(duckdb_con, writer, "accounts", "SELECT account_id, balance::VARCHAR FROM {t} ORDER BY ALL")
    assert len(rows) == 2 * ACCOUNTS and set(before) <= set(rows)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_plain_files_refuse_a_changed_schema(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out"
    assert run_cli("generate", write_spec(tmp_path, "v1", V1), "--format", fmt, "-o", out, "--workers", "1").exit_code == 0
    before = {path: (out / path).read_bytes() for path in files_under(out)}
    result = run_cli("generate", write_spec(tmp_path, "v2", v2(widen=True)), "--format", fmt, "-o", out, "--mode", "append")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "plain files have no table schema to evolve" in result.output and "cannot append to table 'accounts'" in result.output
    assert {path: (out / path).read_bytes() for path in files_under(out)} == before
    # The same spec appends as before.
    assert run_cli("generate", tmp_path / "v1.yaml", "--format", fmt, "-o", out, "--mode", "append", "--seed", "7").exit_code == 0


def test_delta_crash_between_the_schema_version_and_the_data_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, duckdb_con: Any) -> None:
    """Delta's metadata-only version lands first: a failure before the data commit leaves the old rows with the
    new column null and none of the run's files; running again appends the rows in one commit."""
    out = tmp_path / "out"
    generate(write_spec(tmp_path, "v1", V1), writer_for("delta", out, "error"), workers=1, tables=["events"])
    spec = write_spec(tmp_path, "v2", v2(widen=False))
    monkeypatch.setenv("DATASET_GENERATOR_FAULT", "delta.after-evolution:events@raise")
    with pytest.raises(Exception, match="injected fault"):
        generate(spec, writer_for("delta", out, "append"), workers=1, tables=["events"])
    monkeypatch.delenv("DATASET_GENERATOR_FAULT")
    writer = writer_for("delta", out, "append")
    assert read(duckdb_con, writer, "events", "SELECT count(*), count(channel) FROM {t}") == [(EVENTS, 0)]
    assert len([path for path in files_under(out / "events") if path.endswith(".parquet")]) == 3  # v1's only
    generate(spec, writer, workers=1, tables=["events"])
    assert read(duckdb_con, writer, "events", "SELECT count(*), count(channel) FROM {t}") == [(2 * EVENTS, EVENTS)]


def test_delta_on_s3_gains_a_column(s3_server: Any, s3_bucket: str, tmp_path: Path) -> None:
    output = f"s3://{s3_bucket}/evolving"
    s3 = S3Config(key=s3_server.key, secret=s3_server.secret, endpoint_url=s3_server.endpoint_url)
    for name, text, mode in (("v1", V1, "error"), ("v2", v2(widen=False), "append")):
        writer = create_writer("delta", output_uri=output, s3=s3, options=WriterOptions(mode=mode))
        generate(write_spec(tmp_path, name, text), writer, workers=1, tables=["events"])
    con = connect_duckdb(["httpfs", "delta"])
    try:
        con.execute(s3.duckdb_secret_sql())
        row = con.execute(f"SELECT count(*), count(channel), count(*) FILTER (note IS NOT NULL AND channel IS NOT NULL) FROM delta_scan('{output}/events')").fetchone()
    finally:
        con.close()
    assert row == (2 * EVENTS, EVENTS, 0)
