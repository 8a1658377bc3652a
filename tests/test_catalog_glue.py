"""Iceberg tables in AWS Glue (pyiceberg's GlueCatalog) served by the moto server the suite runs for S3, with the
warehouse in a bucket of the same server; DuckDB reads each table through the metadata location Glue returns
(issue 15 item 2)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from dataset_generator import S3Config
from dataset_generator.writers.duckdb_extensions import connect_duckdb

from helpers import run_cli

pytest.importorskip("boto3")
TABLES = ("customers", "orders")


def _glue(server: Any) -> Any:
    import boto3

    return boto3.client(
        "glue", endpoint_url=server.endpoint_url, region_name=server.region,
        aws_access_key_id=server.key, aws_secret_access_key=server.secret,
    )  # fmt: skip


def test_iceberg_in_glue_reads_back_through_glue_metadata_location(s3_server: Any, s3_bucket: str) -> None:
    output = f"s3://{s3_bucket}/lake"
    database = f"db_{uuid.uuid4().hex[:10]}"
    command = [
        "generate", "ecommerce", "--format", "iceberg", "--output", output, "--scale", "0.0002",
        "--tables", ",".join(TABLES), "--catalog-type", "glue", "--catalog-uri", s3_server.endpoint_url,
        "--namespace", database, "--s3-endpoint-url", s3_server.endpoint_url, "--s3-key", s3_server.key,
        "--s3-secret", s3_server.secret,
    ]  # fmt: skip
    result = run_cli(*command)
    assert result.exit_code == 0, result.output
    assert f"Iceberg glue catalog {s3_server.endpoint_url}" in result.output
    glue = _glue(s3_server)
    con = connect_duckdb(["httpfs", "avro", "iceberg"])
    con.execute(S3Config(key=s3_server.key, secret=s3_server.secret, endpoint_url=s3_server.endpoint_url).duckdb_secret_sql())
    locations = {}
    for table in TABLES:
        found = glue.get_table(DatabaseName=database, Name=table)["Table"]
        assert found["Parameters"]["table_type"].upper() == "ICEBERG"
        metadata = found["Parameters"]["metadata_location"]
        assert metadata.startswith(f"{output}/{table}/metadata/")
        locations[table] = metadata
        count = con.execute(f"select count(*) from iceberg_scan('{metadata}')").fetchone()[0]
        assert count > 0
        assert con.execute(f"select count(*) from iceberg_scan('{output}/{table}')").fetchone()[0] == count
    # The same command again: Glue's current snapshots carry this run's fingerprint, nothing is rewritten.
    again = run_cli(*command)
    assert again.exit_code == 0 and "skipped, already committed by an identical run" in again.output, again.output
    for table in TABLES:
        assert glue.get_table(DatabaseName=database, Name=table)["Table"]["Parameters"]["metadata_location"] == locations[table]
    con.close()
