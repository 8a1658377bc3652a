"""Every table format written to the S3 test server through the CLI, read back by DuckDB over httpfs, holding the
same rows as the local Parquet run with the same seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dataset_generator import S3Config, create_writer
from dataset_generator.writers.duckdb_extensions import connect_duckdb

from helpers import parquet_glob, query, run_cli

SCALE = "0.0005"
TABLES = ("customers", "products", "orders", "order_items")


@pytest.fixture(scope="module")
def local_counts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    out = tmp_path_factory.mktemp("local")
    assert run_cli("generate", "ecommerce", "-o", out, "--scale", SCALE, "--workers", "1").exit_code == 0
    return {table: query(f"select count(*) from read_parquet('{parquet_glob(out, table)}')")[0][0] for table in TABLES}


def s3_flags(server: Any) -> list[str]:
    return ["--s3-endpoint-url", server.endpoint_url, "--s3-key", server.key, "--s3-secret", server.secret]


def reader(server: Any) -> Any:
    con = connect_duckdb(["httpfs", "delta", "avro", "iceberg", "ducklake"])
    con.execute(S3Config(key=server.key, secret=server.secret, endpoint_url=server.endpoint_url).duckdb_secret_sql())
    return con


@pytest.mark.parametrize("format_name", ["parquet", "delta", "iceberg", "ducklake"])
def test_ecommerce_to_s3_equals_the_local_run(
    s3_server: Any, s3_bucket: str, tmp_path: Path, local_counts: dict[str, int], format_name: str
) -> None:
    output = f"s3://{s3_bucket}/ecommerce"
    extra = {
        "iceberg": ["--catalog-uri", f"sqlite:///{tmp_path}/catalog.db"],
        "ducklake": ["--metadata-uri", str(tmp_path / "lake.ducklake")],
    }.get(format_name, [])
    result = run_cli(
        "generate", "ecommerce", "--format", format_name, "--output", output, "--scale", SCALE,
        "--compression", "zstd", "--file-rows-target", "1000", "--workers", "2", *s3_flags(s3_server), *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert s3_server.secret not in result.output
    assert s3_server.pending_uploads(s3_bucket) == []
    con = reader(s3_server)
    counts: dict[str, int] = {}
    if format_name == "parquet":
        for table in TABLES:
            counts[table] = con.execute(f"select count(*) from read_parquet('{output}/{table}/**/*.parquet')").fetchone()[0]
    elif format_name == "delta":
        for table in TABLES:
            counts[table] = con.execute(f"select count(*) from delta_scan('{output}/{table}')").fetchone()[0]
    elif format_name == "iceberg":
        writer = create_writer("iceberg", output_uri=output, s3=S3Config(key=s3_server.key, secret=s3_server.secret, endpoint_url=s3_server.endpoint_url), catalog_uri=f"sqlite:///{tmp_path}/catalog.db")
        for table in TABLES:
            metadata = writer.catalog.load_table((writer.namespace, table)).metadata_location
            assert metadata.startswith(f"{output}/")
            counts[table] = con.execute(f"select count(*) from iceberg_scan('{metadata}')").fetchone()[0]
    else:
        con.execute(f"ATTACH 'ducklake:{tmp_path / 'lake.ducklake'}' AS lake (READ_ONLY)")
        for table in TABLES:
            counts[table] = con.execute(f"select count(*) from lake.main.{table}").fetchone()[0]
        paths = [row[0] for row in con.execute("select data_file from ducklake_list_files('lake', 'orders')").fetchall()]
        assert paths and all(path.startswith(f"{output}/") for path in paths)
    con.close()
    assert counts == local_counts
    assert any(key.endswith(".parquet") for key in s3_server.keys(s3_bucket, "ecommerce/"))


def test_failed_overwrite_on_s3_leaves_the_old_files_untouched(s3_server: Any, s3_bucket: str) -> None:
    from collections.abc import Iterable
    from typing import BinaryIO

    import pyarrow as pa

    from dataset_generator import GenerationFailed, WriterOptions, generate
    from dataset_generator.contracts import TableInfo
    from dataset_generator.writers.parquet import ParquetWriter

    class FailsOnSecondFile(ParquetWriter):
        def _encode(self, sink: BinaryIO, table: TableInfo, batches: Iterable[pa.RecordBatch]) -> tuple[int, dict]:
            rows, stats = super()._encode(sink, table, batches)
            if rows and self.__dict__.setdefault("files", 0) >= 1:
                raise OSError("network gone (injected)")
            self.__dict__["files"] += 1
            return rows, stats

    config = S3Config(key=s3_server.key, secret=s3_server.secret, endpoint_url=s3_server.endpoint_url)
    output = f"s3://{s3_bucket}/tx"
    generate("transactions", ParquetWriter(output, s3=config, options=WriterOptions(file_rows_target=1_000)), params={"rows": 3_000}, workers=1)
    client = s3_server.client()
    before = {key: client.get_object(Bucket=s3_bucket, Key=key)["Body"].read() for key in s3_server.keys(s3_bucket)}
    failing = FailsOnSecondFile(output, s3=config, options=WriterOptions(file_rows_target=1_000, mode="overwrite"))
    with pytest.raises(GenerationFailed, match="network gone"):
        generate("transactions", failing, params={"rows": 3_000}, seed=7, workers=1)
    after = {key: client.get_object(Bucket=s3_bucket, Key=key)["Body"].read() for key in s3_server.keys(s3_bucket)}
    # Every old data file is still there, byte for byte; only the completeness marker is gone.
    assert {key: data for key, data in before.items() if not key.endswith("_SUCCESS")} == after
    assert s3_server.pending_uploads(s3_bucket) == []


def test_seed_002_s3_snippet_with_the_test_endpoint(s3_server: Any, s3_bucket: str, local_counts: dict[str, int]) -> None:
    """The user's docs, word for word but for the bucket name and the endpoint, then passed to generate."""
    from dataset_generator import generate

    writer = create_writer(
        "parquet",
        output_uri=f"s3://{s3_bucket}/data",
        s3=S3Config(
            uri=f"s3://{s3_bucket}",
            key=s3_server.key,
            secret=s3_server.secret,
            endpoint_url=s3_server.endpoint_url,
        ),
    )
    generate("ecommerce", writer, scale=float(SCALE), workers=1)
    con = reader(s3_server)
    counts = {
        table: con.execute(f"select count(*) from read_parquet('s3://{s3_bucket}/data/{table}/**/*.parquet')").fetchone()[0]
        for table in TABLES
    }
    con.close()
    assert counts == local_counts
    assert "data/orders/year=2024/month=01/day=01/part-00000.parquet" in s3_server.keys(s3_bucket, "data/")
