"""Catalogs in a real PostgreSQL server (tests/_pg_server.py, on 127.0.0.1): DuckLake metadata in Postgres
(`--metadata-uri postgres:…`) and Iceberg's SQL catalog in Postgres (`--catalog-uri postgresql+psycopg2://…`),
read back with DuckDB; two `--parts` committing into one Postgres-backed DuckLake; a run that fails at its
commit leaves the catalog as it was (issue 15 item 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dataset_generator import WriterOptions, commit_parts, create_writer, generate
from dataset_generator.cli import cli
from dataset_generator.writers.duckdb_extensions import connect_duckdb

from helpers import run_cli

pytest.importorskip("psycopg2")
ROWS = {"rows": "3000"}


def _lake(pg: Any, database: str, data_path: Path) -> Any:
    con = connect_duckdb(["ducklake", "postgres_scanner"])
    con.execute(f"ATTACH 'ducklake:{pg.ducklake_uri(database)}' AS lake (DATA_PATH '{data_path}/', READ_ONLY)")
    return con


def _failing_run(monkeypatch: pytest.MonkeyPatch, fault: str, *args: Any) -> Any:
    """The CLI with a fault point raising at `fault` (an error, as a dropped connection would give)."""
    with monkeypatch.context() as patch:
        patch.setenv("DATASET_GENERATOR_FAULT", fault + "@raise")
        return CliRunner().invoke(cli, [str(arg) for arg in args])


def test_ducklake_metadata_in_postgres(pg_server: Any, pg_database: str, tmp_path: Path) -> None:
    uri = pg_server.ducklake_uri(pg_database)
    result = run_cli(
        "generate", "transactions", "--format", "ducklake", "-o", tmp_path, "--param", "rows=3000",
        "--metadata-uri", uri, "--file-rows-target", "1000",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"DuckLake metadata {uri}" in result.output
    # The metadata really is in Postgres: DuckLake's own tables, with our snapshot in them.
    tables = {row[0] for row in pg_server.query(pg_database, "select tablename from pg_tables where schemaname='public'")}
    assert "ducklake_snapshot" in tables and "ducklake_data_file" in tables
    assert pg_server.query(pg_database, "select count(*) from ducklake_data_file")[0][0] == 3
    con = _lake(pg_server, pg_database, tmp_path / "data")
    assert con.execute("select count(*), count(distinct transaction_id) from lake.main.transactions").fetchone() == (3000, 3000)
    con.close()
    assert not (tmp_path / "catalog.ducklake").exists()


def test_two_parts_commit_into_one_postgres_ducklake(pg_server: Any, pg_database: str, tmp_path: Path) -> None:
    options = WriterOptions(file_rows_target=1000)
    uri = pg_server.ducklake_uri(pg_database)

    def writer() -> Any:
        return create_writer("ducklake", output_uri=str(tmp_path / "lake"), options=options, metadata_uri=uri)

    for part in (2, 1):
        generate("transactions", writer(), params={"rows": 4000}, parts=2, part=part, workers=1)
    # Parts never touch the metadata database (they run concurrently, maybe elsewhere): it is still empty.
    assert pg_server.query(pg_database, "select count(*) from pg_tables where schemaname = 'public'")[0][0] == 0
    summary = commit_parts(writer())
    assert summary.rows == 4000
    single = tmp_path / "single"
    generate("transactions", create_writer("parquet", output_uri=str(single), options=options), params={"rows": 4000}, workers=1)
    con = _lake(pg_server, pg_database, tmp_path / "lake" / "data")
    snapshots = con.execute("select count(*) from ducklake_snapshots('lake') where commit_extra_info is not null").fetchone()[0]
    assert snapshots == 1  # the two parts land in one snapshot
    lake_rows = con.execute("select * from lake.main.transactions order by transaction_id").fetchall()
    parquet_rows = con.execute(
        f"select * from read_parquet('{single}/transactions/**/*.parquet', hive_partitioning=false) "
        "order by transaction_id"
    ).fetchall()
    con.close()
    assert lake_rows == parquet_rows


def test_failed_ducklake_commit_leaves_postgres_catalog_unchanged(
    pg_server: Any, pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = pg_server.ducklake_uri(pg_database)
    base = ["generate", "transactions", "--format", "ducklake", "-o", tmp_path, "--param", "rows=2000", "--metadata-uri", uri]
    first = run_cli(*base)
    assert first.exit_code == 0, first.output
    before = pg_server.query(pg_database, "select snapshot_id from ducklake_snapshot order by snapshot_id")
    files_before = pg_server.query(pg_database, "select path from ducklake_data_file order by path")
    failed = _failing_run(monkeypatch, "ducklake.before-commit", *base, "--mode", "overwrite", "--seed", "9")
    assert failed.exit_code != 0 and "injected fault" in failed.output, failed.output
    assert pg_server.query(pg_database, "select snapshot_id from ducklake_snapshot order by snapshot_id") == before
    assert pg_server.query(pg_database, "select path from ducklake_data_file order by path") == files_before
    on_disk = sorted(path.name for path in (tmp_path / "data").rglob("*.parquet"))
    assert on_disk == sorted(path.rsplit("/", 1)[-1] for (path,) in files_before)  # the failed run's files are gone


def test_iceberg_sql_catalog_in_postgres(
    pg_server: Any, pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = pg_server.sqlalchemy_uri(pg_database)
    base = ["generate", "transactions", "--format", "iceberg", "-o", tmp_path, "--param", "rows=3000", "--catalog-uri", uri]
    result = run_cli(*base)
    assert result.exit_code == 0, result.output
    assert f"Iceberg sql catalog {uri}" in result.output
    assert not (tmp_path / "_catalog").exists()
    rows = pg_server.query(pg_database, "select table_namespace, table_name, metadata_location from iceberg_tables")
    assert [(namespace, name) for namespace, name, _ in rows] == [("default", "transactions")]
    metadata = rows[0][2]
    con = connect_duckdb(["avro", "iceberg"])
    assert con.execute(f"select count(*) from iceberg_scan('{metadata}')").fetchone()[0] == 3000
    # A failed overwrite leaves the catalog pointing at the same metadata.
    failed = _failing_run(monkeypatch, "iceberg.before-commit", *base, "--mode", "overwrite", "--seed", "9")
    assert failed.exit_code != 0 and "injected fault" in failed.output, failed.output
    assert pg_server.query(pg_database, "select metadata_location from iceberg_tables")[0][0] == metadata
    assert con.execute(f"select count(*) from iceberg_scan('{tmp_path}/transactions')").fetchone()[0] == 3000
    con.close()
