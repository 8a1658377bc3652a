"""Iceberg and DuckLake on S3 with only the S3 flags (issue 15 item 3): a default local catalog file at the place
writers/catalog_home.py names (shown in the run summary), Iceberg tables readable by path through their
`metadata/version-hint.text`, and re-running the same command stays safe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dataset_generator import S3Config
from dataset_generator.writers.catalog_home import default_catalog_file
from dataset_generator.writers.duckdb_extensions import connect_duckdb

from helpers import run_cli

SCALE = "0.0002"
TABLES = ("customers", "orders", "order_items")  # all four: tests/test_docs_s3.py runs the documented commands


def s3_flags(server: Any) -> list[str]:
    return ["--s3-endpoint-url", server.endpoint_url, "--s3-key", server.key, "--s3-secret", server.secret]


def reader(server: Any) -> Any:
    con = connect_duckdb(["httpfs", "avro", "iceberg", "ducklake"])
    con.execute(S3Config(key=server.key, secret=server.secret, endpoint_url=server.endpoint_url).duckdb_secret_sql())
    return con


def _rows(output: str) -> dict[str, int]:
    return {table: int(count) for table, count in re.findall(r"^(\w+)\s+([\d,]+)\s", output.replace(",", ""), re.M)
            if table in TABLES}  # fmt: skip


def test_iceberg_on_s3_needs_no_catalog_flag_and_reads_by_path(s3_server: Any, s3_bucket: str) -> None:
    output = f"s3://{s3_bucket}/lake"
    command = ["generate", "ecommerce", "--format", "iceberg", "--output", output, "--scale", SCALE,
               "--tables", ",".join(TABLES), *s3_flags(s3_server)]  # fmt: skip
    result = run_cli(*command)
    assert result.exit_code == 0, result.output
    catalog = default_catalog_file(output, "iceberg.db")
    assert f"sqlite:///{catalog}" in result.output and Path(catalog).is_file()
    assert s3_server.secret not in result.output
    written = _rows(result.output)
    con = reader(s3_server)
    for table in TABLES:
        assert f"lake/{table}/metadata/version-hint.text" in " ".join(s3_server.keys(s3_bucket, f"lake/{table}/"))
        count = con.execute(f"select count(*) from iceberg_scan('{output}/{table}')").fetchone()[0]
        assert count == written[table] > 0
    # The same command again: every table is already committed by an identical run, nothing changes.
    again = run_cli(*command)
    assert again.exit_code == 0, again.output
    assert "skipped, already committed by an identical run" in again.output
    assert con.execute(f"select count(*) from iceberg_scan('{output}/orders')").fetchone()[0] == written["orders"]
    # An overwrite moves the hint to the new version; the table still reads by path, with the same rows.
    overwrite = run_cli(*command, "--mode", "overwrite", "--seed", "7")
    assert overwrite.exit_code == 0, overwrite.output
    hint = s3_server.client().get_object(Bucket=s3_bucket, Key="lake/orders/metadata/version-hint.text")["Body"].read()
    assert int(hint) >= 1
    assert con.execute(f"select count(*) from iceberg_scan('{output}/orders')").fetchone()[0] == _rows(overwrite.output)["orders"]
    con.close()


def test_iceberg_table_without_its_catalog_is_not_silently_replaced(
    s3_server: Any, s3_bucket: str, tmp_path: Path
) -> None:
    output = f"s3://{s3_bucket}/lake"
    command = ["generate", "ecommerce", "--format", "iceberg", "--output", output, "--scale", SCALE,
               "--tables", "customers", *s3_flags(s3_server)]  # fmt: skip
    assert run_cli(*command).exit_code == 0
    other = run_cli(*command, "--catalog-uri", f"sqlite:///{tmp_path}/other.db")
    assert other.exit_code != 0
    assert "does not list" in other.output


def test_a_run_that_died_before_its_version_hint_gets_it_on_the_next_run(
    s3_server: Any, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = f"s3://{s3_bucket}/lake"
    command = ["generate", "ecommerce", "--format", "iceberg", "--output", output, "--scale", SCALE,
               "--tables", "customers", *s3_flags(s3_server)]  # fmt: skip
    with monkeypatch.context() as patch:  # the catalog commit lands, then the post-commit work fails
        patch.setenv("DATASET_GENERATOR_FAULT", "iceberg.after-commit@raise")
        first = run_cli(*command)
        assert first.exit_code == 0, first.output
    hint = "lake/customers/metadata/version-hint.text"
    assert hint not in s3_server.keys(s3_bucket, "lake/")
    again = run_cli(*command)
    assert again.exit_code == 0 and "skipped, already committed by an identical run" in again.output, again.output
    assert hint in s3_server.keys(s3_bucket, "lake/")
    con = reader(s3_server)
    assert con.execute(f"select count(*) from iceberg_scan('{output}/customers')").fetchone()[0] == _rows(first.output)["customers"]
    con.close()


def test_ducklake_on_s3_needs_no_metadata_flag(s3_server: Any, s3_bucket: str) -> None:
    output = f"s3://{s3_bucket}/lake"
    command = ["generate", "ecommerce", "--format", "ducklake", "--output", output, "--scale", SCALE,
               "--tables", ",".join(TABLES), *s3_flags(s3_server)]  # fmt: skip
    result = run_cli(*command)
    assert result.exit_code == 0, result.output
    metadata = default_catalog_file(output, "catalog.ducklake")
    assert f"DuckLake metadata {metadata}, DATA_PATH {output}/data/" in result.output
    written = _rows(result.output)
    again = run_cli(*command)
    assert again.exit_code == 0 and "skipped, already committed by an identical run" in again.output, again.output
    con = reader(s3_server)
    con.execute(f"ATTACH 'ducklake:{metadata}' AS lake (READ_ONLY)")
    for table in TABLES:
        assert con.execute(f"select count(*) from lake.main.{table}").fetchone()[0] == written[table] > 0
    paths = [row[0] for row in con.execute("select data_file from ducklake_list_files('lake', 'orders')").fetchall()]
    assert paths and all(path.startswith(f"{output}/data/") for path in paths)
    con.close()


def test_local_iceberg_output_is_readable_by_path_too(tmp_path: Path) -> None:
    result = run_cli("generate", "ecommerce", "--format", "iceberg", "-o", tmp_path, "--scale", SCALE, "--tables", "customers")
    assert result.exit_code == 0, result.output
    assert f"sqlite:///{tmp_path}/_catalog/catalog.db" in result.output
    con = connect_duckdb(["avro", "iceberg"])
    assert con.execute(f"select count(*) from iceberg_scan('{tmp_path}/customers')").fetchone()[0] == _rows(result.output)["customers"]
    con.close()
