"""S3 storage against a real S3 server (moto in its own process on 127.0.0.1), and Parquet written through it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _s3_fault_proxy import Fault, FaultProxy
from _s3_server import S3Server

from dataset_generator.contracts import TableInfo
from dataset_generator.errors import ParameterError, StorageError, WriterError
from dataset_generator.options import WriterOptions
from dataset_generator.storage import open_storage
from dataset_generator.storage.config import S3Config, split_s3_uri
from dataset_generator.storage.s3 import S3Storage
from dataset_generator.writers.parquet import ParquetWriter

MIB = 1024 * 1024
PART = 5 * MIB  # S3's (and moto's) smallest allowed non-final part


@pytest.fixture
def storage(s3_server: S3Server, s3_bucket: str) -> S3Storage:
    return S3Storage(f"s3://{s3_bucket}/prefix", s3_server.config(multipart_chunk_bytes=PART))


# -- URIs and configuration ------------------------------------------------------------------------------


def test_output_uri_is_never_prefixed_twice() -> None:
    config = S3Config(uri="s3://bucket", key="k", secret="s", endpoint_url="http://127.0.0.1:1")
    storage = S3Storage("s3://bucket/prefix", config)
    assert storage.root == "s3://bucket/prefix"
    assert storage.join("orders", "part-00000.parquet") == "s3://bucket/prefix/orders/part-00000.parquet"
    assert storage.join(storage.root, "orders/") == "s3://bucket/prefix/orders"
    assert storage.join("s3://bucket/prefix/orders", "_SUCCESS") == "s3://bucket/prefix/orders/_SUCCESS"
    assert config.resolve_output("s3://bucket/prefix/") == "s3://bucket/prefix"
    assert config.resolve_output("prefix") == "s3://bucket/prefix"
    assert S3Config(uri="s3://bucket/base").resolve_output("x/y") == "s3://bucket/base/x/y"
    assert S3Storage("s3a://bucket/p", config).root == "s3://bucket/p"
    assert S3Storage("s3://bucket", config).join("t") == "s3://bucket/t"
    assert isinstance(open_storage("s3://bucket/prefix", config), S3Storage)


@pytest.mark.parametrize(
    "bad",
    [
        "s3://bucket/s3://bucket/prefix",
        "s3://bucket/prefix/s3:/bucket",
        "s3://",
        "s3://b",
        "/local/path",
        "s3:bucket",
    ],
)
def test_malformed_uris_are_refused(bad: str) -> None:
    with pytest.raises(StorageError):
        split_s3_uri(bad)


def test_joining_a_uri_after_the_root_is_refused() -> None:
    storage = S3Storage("s3://bucket/prefix", S3Config())
    with pytest.raises(StorageError, match="only relative parts"):
        storage.join("orders", "s3://bucket/prefix")
    with pytest.raises(StorageError, match="outside the S3 root"):
        S3Storage("s3://other/prefix", S3Config(uri="s3://bucket"))
    with pytest.raises(StorageError, match="outside the S3 root"):
        S3Config(uri="s3://bucket/base").resolve_output("s3://bucket/based")
    with pytest.raises(StorageError):
        S3Config().resolve_output("relative/without/root")


def test_a_path_cannot_climb_out_of_the_output() -> None:
    """Issue 12.7: every path a writer builds stays under the output root ('..' refused, not resolved)."""
    storage = S3Storage("s3://bucket/prefix", S3Config())
    for part in ("..", "../escape", "orders/../../escape"):
        with pytest.raises(StorageError, match="would leave s3://bucket/prefix"):
            storage.join(part, "_SUCCESS")
    assert storage.join("orders", "..data", "part-0.parquet") == "s3://bucket/prefix/orders/..data/part-0.parquet"


def test_repr_and_str_never_show_secrets() -> None:
    config = S3Config(
        uri="s3://bucket", key="AKIAVISIBLE", secret="very-secret-value", session_token="tok-123456"
    )
    for text in (repr(config), str(config), repr(S3Storage("s3://bucket/x", config)), f"{config}"):
        assert "very-secret-value" not in text
        assert "tok-123456" not in text
        assert "AKIAVISIBLE" in text
    assert "secret='***'" in repr(config)
    writer = ParquetWriter("s3://bucket/x", s3=config)
    assert "very-secret-value" not in repr(writer)


def test_part_size_must_be_valid_for_s3() -> None:
    with pytest.raises(ParameterError, match="5 MiB"):
        S3Config(multipart_chunk_bytes=1024)
    with pytest.raises(ParameterError, match="endpoint"):
        S3Config(endpoint_url="localhost:9000")


def test_region_and_addressing_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    custom = S3Config(endpoint_url="http://minio.local:9000")
    assert custom.effective_region() == "us-east-1"
    assert custom.path_style and not custom.use_ssl
    aws = S3Config(endpoint_url="https://s3.us-west-2.amazonaws.com")
    assert aws.effective_region() == "us-west-2"
    assert not aws.path_style and aws.use_ssl
    assert S3Config(region="eu-central-1", endpoint_url="http://x:1").effective_region() == "eu-central-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert S3Config().effective_region() == "ap-south-1"


def test_credentials_fall_back_to_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9999")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    resolved = S3Config().resolved()
    assert (resolved.key, resolved.secret, resolved.endpoint_url) == (
        "env-key",
        "env-secret",
        "http://127.0.0.1:9999",
    )
    assert resolved.region == "us-east-1"
    explicit = S3Config(key="flag-key", secret="flag-secret").resolved()
    assert (explicit.key, explicit.secret) == ("flag-key", "flag-secret")


def test_settings_for_other_engines() -> None:
    config = S3Config(key="k", secret="s'quote", endpoint_url="http://127.0.0.1:9000", region="us-east-1")
    delta = config.delta_storage_options()
    assert delta["AWS_ACCESS_KEY_ID"] == "k" and delta["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert delta["AWS_ALLOW_HTTP"] == "true" and delta["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] == "false"
    iceberg = config.pyiceberg_properties()
    assert iceberg["s3.endpoint"] == "http://127.0.0.1:9000" and iceberg["s3.secret-access-key"] == "s'quote"
    sql = config.duckdb_secret_sql()
    assert "ENDPOINT '127.0.0.1:9000'" in sql and "USE_SSL false" in sql and "URL_STYLE 'path'" in sql
    assert "SECRET 's''quote'" in sql
    fsspec = config.to_fsspec_kwargs()
    assert fsspec["config_kwargs"]["s3"] == {"addressing_style": "path"}
    assert fsspec["config_kwargs"]["retries"]["mode"] == "standard"


# -- the Storage surface -----------------------------------------------------------------------------------


def test_write_list_move_remove(storage: S3Storage, s3_server: S3Server, s3_bucket: str) -> None:
    table = storage.join("orders")
    first = storage.join(table, "part-00000.parquet")
    storage.write_bytes(first, b"hello")
    with storage.open_write(storage.join(table, "day=1", "part-00001.parquet")) as sink:
        sink.write(b"abc")
        sink.write(memoryview(b"def"))
    storage.write_bytes(storage.join("orders2", "x"), b"sibling")

    assert storage.read_bytes(first) == b"hello"
    assert storage.size(first) == 5
    assert storage.exists(first) and storage.exists(table) and not storage.exists(storage.join("missing"))
    assert storage.list_files(table) == sorted([first, storage.join(table, "day=1", "part-00001.parquet")])
    assert storage.list_files(storage.join("missing")) == []
    assert storage.list_files(first) == [first]

    moved = storage.join(table, "moved", "part.parquet")
    storage.move(first, moved)
    assert not storage.exists(first) and storage.read_bytes(moved) == b"hello"

    storage.remove([moved, storage.join(table, "never-existed")])
    assert storage.list_files(table) == [storage.join(table, "day=1", "part-00001.parquet")]
    storage.remove_tree(table)
    storage.remove_tree(storage.join("missing"))
    assert storage.list_files(table) == []
    assert s3_server.keys(s3_bucket) == ["prefix/orders2/x"]
    with pytest.raises(FileNotFoundError):
        storage.read_bytes(first)
    with pytest.raises(FileNotFoundError):
        storage.size(first)


def test_listing_more_than_one_page(storage: S3Storage) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # More than one 1,000-key page to list, and more than one 1,000-key DeleteObjects batch to remove.
    paths = [storage.join("many", f"f{index:04d}") for index in range(1_050)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda path: storage.write_bytes(path, b""), paths))
    assert storage.list_files(storage.join("many")) == sorted(paths)
    storage.remove(paths)
    assert storage.list_files(storage.join("many")) == []


def test_large_file_goes_up_as_multipart(storage: S3Storage, s3_server: S3Server, s3_bucket: str) -> None:
    data = np.random.default_rng(1).bytes(12 * MIB + 123)
    path = storage.join("big.bin")
    with storage.open_write(path) as sink:
        sink.write(data)  # one write larger than two parts: sliced into 5 MiB parts
    head = s3_server.client().head_object(Bucket=s3_bucket, Key="prefix/big.bin")
    assert head["ETag"].strip('"').endswith("-3")
    assert head["ContentLength"] == len(data)
    assert storage.read_bytes(path) == data

    small = storage.join("small.bin")
    with storage.open_write(small) as sink:
        for _ in range(100):
            sink.write(b"x" * 1000)
    assert "-" not in s3_server.client().head_object(Bucket=s3_bucket, Key="prefix/small.bin")["ETag"]
    assert s3_server.pending_uploads(s3_bucket) == []


def test_many_small_writes_form_exact_parts(storage: S3Storage, s3_server: S3Server, s3_bucket: str) -> None:
    rng = np.random.default_rng(2)
    chunks = [rng.bytes(int(size)) for size in rng.integers(1, 300_000, size=80)]
    path = storage.join("pieces.bin")
    with storage.open_write(path) as sink:
        for chunk in chunks:
            sink.write(chunk)
        assert sink.tell() == sum(map(len, chunks))
    data = b"".join(chunks)
    expected_parts = -(-len(data) // PART)
    head = s3_server.client().head_object(Bucket=s3_bucket, Key="prefix/pieces.bin")
    assert head["ETag"].strip('"').endswith(f"-{expected_parts}")
    assert storage.read_bytes(path) == data


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("written", [100, 11 * MIB])
def test_exception_mid_upload_leaves_nothing(
    storage: S3Storage, s3_server: S3Server, s3_bucket: str, written: int
) -> None:
    with pytest.raises(Boom), storage.open_write(storage.join("t", "part-00000.parquet")) as sink:
        sink.write(b"\0" * written)
        raise Boom()
    assert s3_server.keys(s3_bucket) == []
    assert s3_server.pending_uploads(s3_bucket) == []


def test_transient_errors_are_retried(
    s3_fault_proxy: FaultProxy, s3_bucket: str, s3_server: S3Server
) -> None:
    storage = S3Storage(f"s3://{s3_bucket}/prefix", s3_fault_proxy.config(multipart_chunk_bytes=PART))
    s3_fault_proxy.add(Fault("UploadPart", times=2, status=503, code="SlowDown"))
    s3_fault_proxy.add(Fault("CompleteMultipartUpload", times=1, status=500, code="InternalError"))
    s3_fault_proxy.add(Fault("PutObject", times=1, kind="drop"))
    data = np.random.default_rng(3).bytes(11 * MIB)
    with storage.open_write(storage.join("flaky.bin")) as sink:
        sink.write(data)
    storage.write_bytes(storage.join("_SUCCESS"), b"{}")
    assert s3_fault_proxy.injected == {"UploadPart": 2, "CompleteMultipartUpload": 1, "PutObject": 1}
    assert s3_fault_proxy.counts["UploadPart"] == 3 + 2
    assert storage.read_bytes(storage.join("flaky.bin")) == data
    assert s3_server.keys(s3_bucket) == ["prefix/_SUCCESS", "prefix/flaky.bin"]


def test_completion_whose_response_was_lost(
    s3_fault_proxy: FaultProxy, s3_bucket: str, s3_server: S3Server
) -> None:
    storage = S3Storage(f"s3://{s3_bucket}/prefix", s3_fault_proxy.config(multipart_chunk_bytes=PART))
    s3_fault_proxy.add(Fault("CompleteMultipartUpload", times=1, kind="lose"))
    data = np.random.default_rng(5).bytes(6 * MIB)
    with storage.open_write(storage.join("lost.bin")) as sink:
        sink.write(data)
    assert s3_fault_proxy.counts["CompleteMultipartUpload"] >= 2
    assert storage.read_bytes(storage.join("lost.bin")) == data
    assert s3_server.pending_uploads(s3_bucket) == []


def test_failed_part_upload_aborts(s3_fault_proxy: FaultProxy, s3_bucket: str, s3_server: S3Server) -> None:
    storage = S3Storage(f"s3://{s3_bucket}/prefix", s3_fault_proxy.config(multipart_chunk_bytes=PART))
    s3_fault_proxy.add(Fault("UploadPart", times=1, skip=1, status=403, code="AccessDenied"))
    # One line naming the operation, the status and code, and the object (it was s3fs's bare PermissionError).
    with (
        pytest.raises(StorageError, match=r"UploadPart s3://.*/prefix/t\.bin: HTTP 403 AccessDenied") as error,
        storage.open_write(storage.join("t.bin")) as sink,
    ):
        sink.write(b"\1" * (12 * MIB))
    assert "\n" not in str(error.value)
    assert s3_server.keys(s3_bucket) == []
    assert s3_server.pending_uploads(s3_bucket) == []


def test_remove_tree_clears_abandoned_uploads(
    storage: S3Storage, s3_server: S3Server, s3_bucket: str
) -> None:
    client = s3_server.client()
    client.create_multipart_upload(Bucket=s3_bucket, Key="prefix/t/part-00000.parquet")
    client.create_multipart_upload(Bucket=s3_bucket, Key="prefix/other/part-00000.parquet")
    assert storage.pending_uploads(storage.join("t")) == [
        ("prefix/t/part-00000.parquet", storage.pending_uploads(storage.join("t"))[0][1])
    ]
    storage.remove_tree(storage.join("t"))
    assert s3_server.pending_uploads(s3_bucket) == ["prefix/other/part-00000.parquet"]


# -- preflight errors: one clear line ------------------------------------------------------------------------


def _one_line(error: pytest.ExceptionInfo[StorageError]) -> str:
    message = str(error.value)
    assert "\n" not in message and message
    return message


def test_check_writable_ok_leaves_no_probe(storage: S3Storage, s3_server: S3Server, s3_bucket: str) -> None:
    storage.check_writable()
    assert s3_server.keys(s3_bucket) == []


def test_missing_bucket(s3_server: S3Server) -> None:
    with pytest.raises(StorageError) as error:
        S3Storage("s3://no-such-bucket/prefix", s3_server.config()).check_writable()
    assert "'no-such-bucket' does not exist" in _one_line(error)


def test_unreachable_endpoint() -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = S3Config(key="k", secret="s", endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(StorageError) as error:
        S3Storage("s3://bucket/prefix", config).check_writable()
    assert f"cannot reach S3 endpoint http://127.0.0.1:{port}" in _one_line(error)


def test_bad_credentials(s3_auth_server: S3Server) -> None:
    bucket = s3_auth_server.create_bucket()
    S3Storage(f"s3://{bucket}/p", s3_auth_server.config()).check_writable()

    with pytest.raises(StorageError) as error:
        S3Storage(f"s3://{bucket}/p", s3_auth_server.config(key="AKIAUNKNOWN0000000")).check_writable()
    assert "unknown key" in _one_line(error)

    wrong = "definitely-not-the-secret"
    with pytest.raises(StorageError) as error:
        S3Storage(f"s3://{bucket}/p", s3_auth_server.config(secret=wrong)).check_writable()
    message = _one_line(error)
    assert "secret key does not match" in message and wrong not in message


def test_credentials_from_environment_and_profile(
    s3_auth_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bucket = s3_auth_server.create_bucket()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    no_flags = S3Config(endpoint_url=s3_auth_server.endpoint_url)

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_auth_server.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_auth_server.secret)
    storage = S3Storage(f"s3://{bucket}/env", no_flags)
    storage.check_writable()
    storage.write_bytes(storage.join("a"), b"1")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[seed]\naws_access_key_id = {s3_auth_server.key}\naws_secret_access_key = {s3_auth_server.secret}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    S3Storage(
        f"s3://{bucket}/profile", S3Config(endpoint_url=s3_auth_server.endpoint_url, profile="seed")
    ).write_bytes(f"s3://{bucket}/profile/b", b"2")
    monkeypatch.setenv("AWS_PROFILE", "seed")
    S3Storage(f"s3://{bucket}/profile", no_flags).write_bytes(f"s3://{bucket}/profile/c", b"3")
    monkeypatch.delenv("AWS_PROFILE")
    assert s3_auth_server.keys(bucket) == ["env/a", "profile/b", "profile/c"]


# -- Parquet end to end -------------------------------------------------------------------------------------

SCHEMA = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("datetime", pa.timestamp("us")),
        ("customer_id", pa.int64()),
        ("order_qty", pa.int32()),
        ("order_amount", pa.float64()),
    ]
)


def _batches(first: int, rows: int, batch_rows: int = 1_000) -> Iterator[pa.RecordBatch]:
    for start in range(first, first + rows, batch_rows):
        count = min(batch_rows, first + rows - start)
        index = np.arange(start, start + count, dtype=np.int64)
        yield pa.record_batch(
            [
                pa.array([f"tx-{value:08d}" for value in index]),
                pa.array(np.datetime64("2024-01-01T00:00:00", "us") + index * 1_000_000),
                pa.array(index % 977),
                pa.array((index % 7 + 1).astype(np.int32)),
                pa.array(index * 0.25),
            ],
            schema=SCHEMA,
        )


def _write_table(output: str, config: S3Config, total_rows: int, file_rows: int, mode: str = "error") -> Any:
    writer = ParquetWriter(output, s3=config, options=WriterOptions(file_rows_target=file_rows, mode=mode))
    writer.check()
    handle = writer.open_table(TableInfo(name="transactions", schema=SCHEMA, expected_rows=total_rows))
    files = [
        writer.write_file(handle, (), index, _batches(start, min(file_rows, total_rows - start)))
        for index, start in enumerate(range(0, total_rows, file_rows))
    ]
    return writer.commit(handle, files)


def _duckdb_with_s3(config: S3Config) -> Any:
    from dataset_generator.writers.duckdb_extensions import connect_duckdb

    connection = connect_duckdb(["httpfs"])
    connection.execute(config.duckdb_secret_sql())
    return connection


def test_parquet_to_s3_end_to_end(
    s3_server: S3Server, s3_bucket: str, s3_config: S3Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run from an empty directory: a path bug that writes a local "s3:" folder would show up here.
    monkeypatch.chdir(tmp_path)
    config = S3Config(
        uri=f"s3://{s3_bucket}",
        key=s3_config.key,
        secret=s3_config.secret,
        endpoint_url=s3_config.endpoint_url,
    )
    commit = _write_table(f"s3://{s3_bucket}/prefix", config, total_rows=25_000, file_rows=10_000)
    assert (commit.files, commit.rows) == (3, 25_000)
    assert list(tmp_path.iterdir()) == []
    assert s3_server.keys(s3_bucket) == [
        "prefix/transactions/_SUCCESS",
        "prefix/transactions/part-00000.parquet",
        "prefix/transactions/part-00001.parquet",
        "prefix/transactions/part-00002.parquet",
    ]
    marker = json.loads(
        s3_server.client().get_object(Bucket=s3_bucket, Key="prefix/transactions/_SUCCESS")["Body"].read()
    )
    assert marker["rows"] == 25_000 and marker["files"] == 3

    glob = f"s3://{s3_bucket}/prefix/transactions/*.parquet"
    connection = _duckdb_with_s3(config)
    count, distinct, total_qty, last = connection.execute(
        f"SELECT count(*), count(DISTINCT transaction_id), sum(order_qty), max(datetime) FROM read_parquet('{glob}')"
    ).fetchone()
    assert (count, distinct) == (25_000, 25_000)
    assert total_qty == sum(int(v) % 7 + 1 for v in range(25_000))
    assert str(last) == "2024-01-01 06:56:39"
    connection.close()

    from pyarrow import fs as pafs

    arrow_fs = pafs.S3FileSystem(
        access_key=s3_config.key,
        secret_key=s3_config.secret,
        endpoint_override=f"127.0.0.1:{s3_server.port}",
        scheme="http",
        region="us-east-1",
    )
    table = pq.read_table(f"{s3_bucket}/prefix/transactions/part-00001.parquet", filesystem=arrow_fs)
    assert table.schema == SCHEMA and table.num_rows == 10_000
    assert table.column("transaction_id")[0].as_py() == "tx-00010000"

    import polars as pl

    frame = pl.read_parquet(glob, storage_options=config.object_store_options())
    assert frame.height == 25_000 and frame["customer_id"].max() == 976


def test_parquet_modes_on_s3(s3_server: S3Server, s3_bucket: str, s3_config: S3Config) -> None:
    output = f"s3://{s3_bucket}/data"
    _write_table(output, s3_config, total_rows=3_000, file_rows=1_000)
    with pytest.raises(WriterError, match="already exists"):
        _write_table(output, s3_config, total_rows=3_000, file_rows=1_000)

    _write_table(output, s3_config, total_rows=1_500, file_rows=1_000, mode="overwrite")
    keys = s3_server.keys(s3_bucket)
    # Files go straight to their keys on S3, so an overwrite never reuses a live file's name: the old files
    # stay untouched until the commit removes them (none stale afterwards).
    assert keys[0] == "data/transactions/_SUCCESS" and len(keys) == 3
    assert [key.split("-")[0:2] for key in keys[1:]] == [["data/transactions/part", "00000"], ["data/transactions/part", "00001"]]
    assert all(key.endswith(".parquet") and key.count("-") > 2 for key in keys[1:])

    _write_table(output, s3_config, total_rows=500, file_rows=1_000, mode="append")
    keys = s3_server.keys(s3_bucket)
    assert len(keys) == 4 and sum(key.startswith("data/transactions/part-00000-") for key in keys) == 2
    connection = _duckdb_with_s3(s3_config)
    rows = connection.execute(f"SELECT count(*) FROM '{output}/transactions/*.parquet'").fetchone()
    assert rows == (2_000,)
    connection.close()


def test_parquet_upload_failure_leaves_no_file_and_no_success(
    s3_server: S3Server, s3_bucket: str, s3_config: S3Config
) -> None:
    output = f"s3://{s3_bucket}/data"
    _write_table(output, s3_config, total_rows=1_000, file_rows=1_000)  # a complete earlier run
    config = s3_server.config(multipart_chunk_bytes=PART)
    writer = ParquetWriter(
        output,
        s3=config,
        options=WriterOptions(file_rows_target=2_000_000, row_group_rows=100_000, mode="overwrite"),
    )
    schema = pa.schema([("value", pa.float64())])
    handle = writer.open_table(TableInfo(name="transactions", schema=schema))

    def failing_batches() -> Iterator[pa.RecordBatch]:
        rng = np.random.default_rng(4)
        for _ in range(10):  # ~8 MB of incompressible doubles: at least one 5 MiB part is already uploaded
            yield pa.record_batch([pa.array(rng.random(100_000))], schema=schema)
        raise Boom("generator failed mid-file")

    with pytest.raises(Boom):
        writer.write_file(handle, (), 0, failing_batches())
    keys = [key for key in s3_server.keys(s3_bucket) if not key.startswith("data/_staging/")]  # the run's lock
    # The earlier run's data file is still there until commit replaces it, but the table no longer looks complete.
    assert keys == ["data/transactions/part-00000.parquet"]
    assert s3_server.pending_uploads(s3_bucket) == []
    writer.abort(handle, [])
    assert s3_server.pending_uploads(s3_bucket) == []
    assert s3_server.keys(s3_bucket) == ["data/transactions/part-00000.parquet"]


def test_writer_pickles_without_storage(s3_bucket: str, s3_config: S3Config) -> None:
    import pickle

    writer = ParquetWriter(f"s3://{s3_bucket}/p", s3=s3_config)
    assert isinstance(writer.storage, S3Storage)
    writer.storage.write_bytes(writer.storage.join("x"), b"1")
    clone = pickle.loads(pickle.dumps(writer))
    assert clone.storage.read_bytes(clone.storage.join("x")) == b"1"
    storage_clone = pickle.loads(pickle.dumps(writer.storage))
    assert storage_clone.exists(storage_clone.join("x"))
    assert os.environ.get("AWS_EC2_METADATA_DISABLED") == "true"


# -- the CLI, as in the user's docs ------------------------------------------------------------------------


def _cli(args: list[str], env: dict[str, str]) -> Any:
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parents[1])
    full_env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""), **env)
    command = [sys.executable, "-c", "from dataset_generator.cli import main; main()", *args]
    return subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=300)


def test_cli_writes_parquet_to_s3_with_flags(s3_server: S3Server, s3_bucket: str) -> None:
    result = _cli(
        [
            "generate", "transactions", "--format", "parquet", "--output", f"s3://{s3_bucket}/transactions",
            "--s3-uri", f"s3://{s3_bucket}", "--s3-key", s3_server.key, "--s3-secret", s3_server.secret,
            "--s3-endpoint-url", s3_server.endpoint_url, "--s3-region", "us-east-1",
            "--param", "rows=30000", "--file-rows-target", "10000", "--compression", "zstd", "--workers", "1",
        ],
        env={},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert s3_server.secret not in result.stdout + result.stderr
    keys = s3_server.keys(s3_bucket)
    assert "transactions/transactions/_SUCCESS" in keys and len(keys) == 4
    connection = _duckdb_with_s3(s3_server.config())
    rows = connection.execute(f"SELECT count(*) FROM 's3://{s3_bucket}/transactions/**/*.parquet'").fetchone()
    assert rows == (30_000,)
    connection.close()


def test_cli_credentials_from_environment_and_clear_error(s3_server: S3Server, s3_bucket: str) -> None:
    env = {"AWS_ACCESS_KEY_ID": s3_server.key, "AWS_SECRET_ACCESS_KEY": s3_server.secret}
    args = ["generate", "transactions", "--param", "rows=1000", "--s3-endpoint-url", s3_server.endpoint_url]
    result = _cli([*args, "--output", f"s3://{s3_bucket}/env"], env=env)
    assert result.returncode == 0, result.stderr
    assert "env/transactions/_SUCCESS" in s3_server.keys(s3_bucket)

    missing = _cli([*args, "--output", "s3://no-such-bucket-here/x"], env=env)
    assert missing.returncode == 2
    assert "'no-such-bucket-here' does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_settings_drive_deltalake_pyiceberg_and_polars(
    s3_server: S3Server, s3_bucket: str, s3_config: S3Config, tmp_path: Path
) -> None:
    deltalake = pytest.importorskip("deltalake")
    sql_catalog = pytest.importorskip("pyiceberg.catalog.sql")
    import polars as pl

    table = pa.table({"a": [1, 2, 3]})
    deltalake.write_deltalake(
        f"s3://{s3_bucket}/delta", table, storage_options=s3_config.delta_storage_options()
    )
    assert (
        pl.read_delta(f"s3://{s3_bucket}/delta", storage_options=s3_config.object_store_options()).height == 3
    )

    catalog = sql_catalog.SqlCatalog(
        "test", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=f"s3://{s3_bucket}/warehouse",
        **s3_config.pyiceberg_properties(),
    )  # fmt: skip
    catalog.create_namespace("ns")
    iceberg = catalog.create_table("ns.t", schema=table.schema)
    iceberg.append(table)
    assert iceberg.scan().to_arrow().num_rows == 3
    assert any(key.startswith("warehouse/ns/t/metadata/") for key in s3_server.keys(s3_bucket))
