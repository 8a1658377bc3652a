"""S3 storage through a fault-injecting proxy (tests/_s3_fault_proxy.py) in front of the moto server.

Transient faults (a few failed requests) on every operation the writers use give the exact bytes; persistent
faults give one line naming the S3 operation, the status and the object, typed as a failure of the environment
(StorageFailure, exit code 1); and after every test no multipart upload of ours is left open.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from _s3_fault_proxy import Fault, FaultProxy
from _s3_server import S3Server

from dataset_generator.contracts import TableInfo
from dataset_generator.errors import StorageError, StorageFailure
from dataset_generator.options import WriterOptions
from dataset_generator.storage.s3 import S3Storage
from dataset_generator.writers.parquet import ParquetWriter

MIB = 1024 * 1024
PART = 5 * MIB
INJECTED: list[int] = []  # faults injected per test, for the module's total


@pytest.fixture(scope="module", autouse=True)
def _report_faults() -> Iterator[None]:
    yield
    print(f"\nS3 faults injected in {len(INJECTED)} tests: {sum(INJECTED)}")


@pytest.fixture
def proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    faults = FaultProxy(s3_server.port, server=s3_server)
    try:
        yield faults
    finally:
        INJECTED.append(faults.total_injected)
        faults.close()


def _storage(proxy: FaultProxy, server: S3Server, bucket: str, attempts: int = 10) -> S3Storage:
    config = server.config(endpoint_url=proxy.endpoint_url, multipart_chunk_bytes=PART, max_attempts=attempts)
    return S3Storage(f"s3://{bucket}/prefix", config)


def _no_upload_left(server: S3Server, bucket: str) -> None:
    assert server.pending_uploads(bucket) == []


def _one_line(error: pytest.ExceptionInfo[Any], *needles: str) -> str:
    message = str(error.value)
    assert message and "\n" not in message
    for needle in needles:
        assert needle in message, (needle, message)
    assert "Errno" not in message
    return message


# -- transient faults: retried by botocore to the exact bytes ------------------------------------------------

TRANSIENT = ["status", "reset", "lose"]


@pytest.mark.parametrize("kind", TRANSIENT)
def test_put_object_transient(proxy: FaultProxy, s3_server: S3Server, s3_bucket: str, kind: str) -> None:
    storage = _storage(proxy, s3_server, s3_bucket)
    proxy.add(Fault("PutObject", times=2, kind=kind))
    storage.write_bytes(storage.join("_SUCCESS"), b"exact")
    assert proxy.injected == {"PutObject": 2}
    assert storage.read_bytes(storage.join("_SUCCESS")) == b"exact"


@pytest.mark.parametrize("operation", ["CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"])
@pytest.mark.parametrize("kind", TRANSIENT)
def test_multipart_transient(
    proxy: FaultProxy, s3_server: S3Server, s3_bucket: str, operation: str, kind: str
) -> None:
    storage = _storage(proxy, s3_server, s3_bucket)
    proxy.add(Fault(operation, times=2 if operation == "UploadPart" else 1, kind=kind, status=500, code="InternalError"))
    data = np.random.default_rng(7).bytes(3 * PART + 4321)
    with storage.open_write(storage.join("big.bin")) as sink:
        sink.write(data)
    assert proxy.total_injected >= 1
    assert storage.read_bytes(storage.join("big.bin")) == data
    # A CreateMultipartUpload whose response was lost opened a twin upload: it must be gone too.
    _no_upload_left(s3_server, s3_bucket)
    assert s3_server.keys(s3_bucket) == ["prefix/big.bin"]


@pytest.mark.parametrize("kind", TRANSIENT)
def test_listing_deleting_and_reading_transient(
    proxy: FaultProxy, s3_server: S3Server, s3_bucket: str, kind: str
) -> None:
    storage = _storage(proxy, s3_server, s3_bucket)
    paths = [storage.join("t", f"part-{index}.bin") for index in range(3)]
    for index, path in enumerate(paths):
        storage.write_bytes(path, bytes([index]) * 1000)
    for operation in ("ListObjectsV2", "HeadObject", "GetObject"):
        proxy.add(Fault(operation, times=1, kind=kind))
    assert storage.list_files(storage.join("t")) == paths
    assert storage.size(paths[1]) == 1000
    assert storage.read_bytes(paths[2]) == b"\2" * 1000
    proxy.add(Fault("DeleteObjects", times=1, kind=kind))
    storage.remove(paths[:2])
    assert proxy.injected == {"ListObjectsV2": 1, "HeadObject": 1, "GetObject": 1, "DeleteObjects": 1}
    assert s3_server.keys(s3_bucket) == ["prefix/t/part-2.bin"]


# -- persistent faults: one line naming the operation, no upload left ----------------------------------------


@pytest.mark.parametrize("kind", ["status", "reset", "lose"])
def test_put_object_persistent(proxy: FaultProxy, s3_server: S3Server, s3_bucket: str, kind: str) -> None:
    storage = _storage(proxy, s3_server, s3_bucket, attempts=3)
    proxy.add(Fault("PutObject", times=None, kind=kind))
    with pytest.raises(StorageFailure) as error:
        storage.write_bytes(storage.join("_SUCCESS"), b"x")
    message = _one_line(error, "PutObject", f"s3://{s3_bucket}/prefix/_SUCCESS", proxy.endpoint_url)
    if kind == "status":
        assert "HTTP 503 SlowDown after 3 attempts" in message
    assert proxy.injected["PutObject"] == 3


@pytest.mark.parametrize(
    ("operation", "kind"),
    [
        ("CreateMultipartUpload", "lose"),  # every attempt opens an upload whose id the client never hears
        ("CreateMultipartUpload", "status"),
        ("UploadPart", "status"),
        ("UploadPart", "reset"),
        ("UploadPart", "lose"),
        ("CompleteMultipartUpload", "status"),
        ("CompleteMultipartUpload", "reset"),
    ],
)
def test_multipart_persistent_leaves_no_upload(
    proxy: FaultProxy, s3_server: S3Server, s3_bucket: str, operation: str, kind: str
) -> None:
    storage = _storage(proxy, s3_server, s3_bucket, attempts=3)
    proxy.add(Fault(operation, times=None, kind=kind))
    with pytest.raises(StorageFailure) as error, storage.open_write(storage.join("dead.bin")) as sink:
        sink.write(b"\3" * (2 * PART + 10))
    _one_line(error, operation, f"s3://{s3_bucket}/prefix/dead.bin")
    assert proxy.injected[operation] >= 3
    _no_upload_left(s3_server, s3_bucket)
    assert s3_server.keys(s3_bucket) == []


@pytest.mark.parametrize("operation", ["ListObjectsV2", "DeleteObjects", "HeadObject", "GetObject"])
def test_other_operations_persistent(
    proxy: FaultProxy, s3_server: S3Server, s3_bucket: str, operation: str
) -> None:
    storage = _storage(proxy, s3_server, s3_bucket, attempts=3)
    path = storage.join("t", "part-0.bin")
    storage.write_bytes(path, b"data")
    proxy.add(Fault(operation, times=None))
    calls = {
        "ListObjectsV2": lambda: storage.list_files(storage.join("t")),
        "DeleteObjects": lambda: storage.remove([path]),
        "HeadObject": lambda: storage.size(path),
        "GetObject": lambda: storage.read_bytes(path),
    }
    with pytest.raises(StorageFailure) as error:
        calls[operation]()
    where = f"s3://{s3_bucket}" if operation in ("ListObjectsV2", "DeleteObjects") else f"s3://{s3_bucket}/prefix/t"
    _one_line(error, operation, where, "HTTP 503")
    assert proxy.injected[operation] == 3


def test_dead_s3_through_the_parquet_writer_leaves_no_upload(
    proxy: FaultProxy, s3_server: S3Server, s3_bucket: str
) -> None:
    """Issue 12: every UploadPart and CompleteMultipartUpload failing persistently left an open upload."""
    config = s3_server.config(endpoint_url=proxy.endpoint_url, multipart_chunk_bytes=PART, max_attempts=2)
    writer = ParquetWriter(
        f"s3://{s3_bucket}/data", s3=config, options=WriterOptions(file_rows_target=10_000_000, row_group_rows=100_000)
    )
    schema = pa.schema([("value", pa.float64())])
    handle = writer.open_table(TableInfo(name="t", schema=schema))

    def batches() -> Iterator[pa.RecordBatch]:
        rng = np.random.default_rng(9)
        for _ in range(16):  # ~13 MB of incompressible doubles: three parts
            yield pa.record_batch([pa.array(rng.random(100_000))], schema=schema)

    for operation in ("UploadPart", "CompleteMultipartUpload"):
        proxy.clear()
        proxy.add(Fault(operation, times=None, status=503, code="ServiceUnavailable"))
        with pytest.raises(StorageFailure, match=operation):
            writer.write_file(handle, (), 0, batches())
        _no_upload_left(s3_server, s3_bucket)
    proxy.clear()
    writer.abort(handle, [])
    assert s3_server.keys(s3_bucket) == []


# -- Ctrl-C, stale and own uploads ------------------------------------------------------------------------------


def test_keyboard_interrupt_mid_upload_aborts(s3_server: S3Server, s3_bucket: str) -> None:
    storage = S3Storage(f"s3://{s3_bucket}/prefix", s3_server.config(multipart_chunk_bytes=PART))
    with pytest.raises(KeyboardInterrupt), storage.open_write(storage.join("t.bin")) as sink:
        sink.write(b"\4" * (3 * PART))  # three parts in flight or landed
        raise KeyboardInterrupt
    _no_upload_left(s3_server, s3_bucket)
    assert s3_server.keys(s3_bucket) == []


def test_abort_stale_uploads_spares_this_run_and_claimed_ones(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    client.create_multipart_upload(Bucket=s3_bucket, Key="prefix/t/part-00000-killed.parquet")
    client.create_multipart_upload(Bucket=s3_bucket, Key="elsewhere/part-00000.parquet")
    storage = S3Storage(f"s3://{s3_bucket}/prefix", s3_server.config(multipart_chunk_bytes=PART))
    # (moto reports one fixed Initiated time for every upload, so a concurrent run is told apart by its key.)
    client.create_multipart_upload(Bucket=s3_bucket, Key="prefix/t/part-00000-concurrent.parquet")
    data = b"\5" * (PART + 1)
    with storage.open_write(storage.join("t", "part-00000-ours.parquet")) as sink:
        sink.write(data)  # our upload is open now
        assert storage.abort_stale_uploads(storage.join("t"), keep=lambda key: "concurrent" in key) == 1
        assert sorted(s3_server.pending_uploads(s3_bucket)) == [
            "elsewhere/part-00000.parquet",
            "prefix/t/part-00000-concurrent.parquet",
            "prefix/t/part-00000-ours.parquet",
        ]
    assert storage.read_bytes(storage.join("t", "part-00000-ours.parquet")) == data
    assert storage.abort_uploads(storage.join("t")) == 1
    assert s3_server.pending_uploads(s3_bucket) == ["elsewhere/part-00000.parquet"]


def test_abort_own_uploads(s3_server: S3Server, s3_bucket: str) -> None:
    # Two attempts: moto answers an UploadPart to an aborted upload with HTTP 500 (S3 with 404 NoSuchUpload),
    # which botocore's standard mode retries with backoff: ten attempts took a minute.
    config = s3_server.config(multipart_chunk_bytes=PART, max_attempts=2)
    storage = S3Storage(f"s3://{s3_bucket}/prefix", config)
    with pytest.raises(StorageError), storage.open_write(storage.join("t.bin")) as sink:
        sink.write(b"\6" * (PART + 1))
        assert storage.abort_own_uploads() == 1
        assert s3_server.pending_uploads(s3_bucket) == []
    # The upload was aborted under the writer: completing it fails with one line, and nothing is left.
    _no_upload_left(s3_server, s3_bucket)
    assert s3_server.keys(s3_bucket) == []


# -- secrets ---------------------------------------------------------------------------------------------------


def test_endpoint_password_is_never_echoed(
    s3_server: S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataset_generator.errors import ParameterError
    from dataset_generator.storage.config import S3Config

    password = "pw-7731-hidden"
    with pytest.raises(ParameterError) as error:
        S3Config(endpoint_url=f"http://u:{password}@127.0.0.1:9000")
    assert password not in str(error.value) and "***@127.0.0.1:9000" in str(error.value)

    # From the environment the credentials are dropped from the URL, and never shown.
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://u:{password}@127.0.0.1:{s3_server.port}")
    config = S3Config(key=s3_server.key, secret=s3_server.secret, region="us-east-1", max_attempts=2)
    storage = S3Storage(f"s3://{s3_bucket}/prefix", config)
    storage.write_bytes(storage.join("x"), b"1")
    assert storage.read_bytes(storage.join("x")) == b"1"
    shown = repr(storage) + repr(config) + str(config.resolved()) + config.duckdb_secret_sql()
    assert password not in shown + repr(config.object_store_options()) + repr(config.pyiceberg_properties())
    with pytest.raises(StorageError) as missing:
        S3Storage("s3://no-such-bucket-x/p", config).write_bytes("s3://no-such-bucket-x/p/x", b"1")
    assert password not in str(missing.value) and "NoSuchBucket" in str(missing.value)
    assert s3_server.secret not in str(missing.value)


# -- the CLI: a dead S3 ends in one line naming the operation, exit code 1 -----------------------------------


def test_cli_persistent_503_is_one_line_naming_the_operation(
    proxy: FaultProxy, s3_server: S3Server, s3_bucket: str
) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    proxy.add(Fault("PutObject", times=None, skip=1))  # the preflight's probe passes, the data files do not
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=root, AWS_MAX_ATTEMPTS="2")
    command = [
        sys.executable, "-c", "from dataset_generator.cli import main; main()",
        "generate", "transactions", "--output", f"s3://{s3_bucket}/tx", "--param", "rows=3000",
        "--file-rows-target", "1000", "--workers", "1", "--s3-endpoint-url", proxy.endpoint_url,
        "--s3-key", s3_server.key, "--s3-secret", s3_server.secret, "--s3-region", "us-east-1",
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "PutObject" in lines[0] and "HTTP 503 SlowDown" in lines[0] and f"s3://{s3_bucket}/tx/" in lines[0]
    assert "Errno" not in lines[0] and s3_server.secret not in result.stderr + result.stdout
    assert proxy.injected["PutObject"] >= 2
    _no_upload_left(s3_server, s3_bucket)
    assert not any(key.endswith("_SUCCESS") for key in s3_server.keys(s3_bucket))


def test_a_secret_inside_a_store_message_is_redacted() -> None:
    from botocore.exceptions import ClientError

    from dataset_generator.storage.config import S3Config
    from dataset_generator.storage.s3_errors import s3_error

    config = S3Config(key="AKIAVISIBLE", secret="s3cr3t-value-123", endpoint_url="http://127.0.0.1:9")
    response = {
        "Error": {"Code": "InvalidArgument", "Message": "header carried s3cr3t-value-123"},
        "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 0},
    }
    error = s3_error(ClientError(response, "PutObject"), config, "PutObject", "bkt", "a/b")  # type: ignore[arg-type]
    message = str(error)
    assert "s3cr3t-value-123" not in message and "***" in message
    assert "PutObject s3://bkt/a/b: HTTP 400 InvalidArgument after 1 attempt" in message
    assert type(error) is StorageError  # a problem of the request: exit code 2
