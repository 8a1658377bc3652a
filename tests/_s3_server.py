"""Fixtures for a real S3-compatible server (moto in server mode) on 127.0.0.1. Owned by the S3 work.

`s3_server`       session-wide moto server in its own process; anything goes (no request authentication).
`s3_auth_server`  a second moto process that authenticates requests (real IAM access keys), for the tests of
                  bad credentials; started only by the tests that ask for it.
`s3_bucket`       a fresh, empty bucket per test on `s3_server`.
`s3_config`       an `S3Config` for `s3_server`.
`s3_fault_proxy`  a fault-injecting proxy in front of `s3_server` (see _s3_fault_proxy.py).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _s3_fault_proxy import FaultProxy

if TYPE_CHECKING:
    from dataset_generator.storage.config import S3Config

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
LOOPBACK = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _moto_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("moto_server")
    if script.exists():
        return [str(script), "-H", LOOPBACK, "-p", str(port)]
    found = shutil.which("moto_server")
    if found:
        return [found, "-H", LOOPBACK, "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]


@dataclass
class S3Server:
    """A running moto server and credentials that work on it."""

    endpoint_url: str
    port: int
    key: str
    secret: str
    region: str = "us-east-1"
    process: subprocess.Popen[bytes] | None = None

    @property
    def host_port(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def client(self, key: str | None = None, secret: str | None = None) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=key or self.key,
            aws_secret_access_key=secret or self.secret,
        )

    def config(self, **overrides: Any) -> S3Config:
        # Imported here so that loading this plugin never depends on how the package is installed.
        from dataset_generator.storage.config import S3Config

        fields: dict[str, Any] = {
            "key": self.key,
            "secret": self.secret,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
        }
        fields.update(overrides)
        return S3Config(**fields)

    def create_bucket(self, name: str | None = None) -> str:
        name = name or f"test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        client = self.client()
        found: list[str] = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)

    def pending_uploads(self, bucket: str) -> list[str]:
        return [
            upload["Key"] for upload in self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        ]

    def duckdb_secret_sql(self) -> str:
        return (
            f"CREATE OR REPLACE SECRET moto_s3 (TYPE s3, KEY_ID '{self.key}', SECRET '{self.secret}', "
            f"REGION '{self.region}', ENDPOINT '{self.host_port}', URL_STYLE 'path', USE_SSL false)"
        )


def _start_moto(extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    last_error = "not started"
    for _attempt in range(5):
        port = _free_port()
        env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true", **(extra_env or {}))
        # moto logs every request: a file, not a pipe nobody drains (a full pipe would stall the server).
        log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server process
        process = subprocess.Popen(_moto_command(port), env=env, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                last_error = log.read().decode(errors="replace")[-500:]
                break
            try:
                socket.create_connection((LOOPBACK, port), timeout=0.2).close()
                return process, port
            except OSError:
                time.sleep(0.05)
        else:
            process.kill()
            last_error = "moto_server did not open its port in 30 s"
    raise RuntimeError(f"could not start moto_server: {last_error}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    process, port = _start_moto()
    try:
        # moto accepts any credentials unless authentication is enabled; these are still sent and signed.
        yield S3Server(
            endpoint_url=f"http://{LOOPBACK}:{port}",
            port=port,
            key="testing-key",
            secret="testing-secret",
            process=process,
        )
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def s3_auth_server() -> Iterator[S3Server]:
    # The first three requests are unauthenticated: just enough to create a user with an access key.
    process, port = _start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "3"})
    try:
        import boto3

        endpoint = f"http://{LOOPBACK}:{port}"
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="dataset-generator-test")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_user_policy(
            UserName="dataset-generator-test", PolicyName="all", PolicyDocument=json.dumps(policy)
        )
        access = iam.create_access_key(UserName="dataset-generator-test")["AccessKey"]
        yield S3Server(
            endpoint_url=endpoint,
            port=port,
            key=access["AccessKeyId"],
            secret=access["SecretAccessKey"],
            process=process,
        )
    finally:
        _stop(process)


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    return s3_server.create_bucket()


@pytest.fixture
def s3_config(s3_server: S3Server) -> S3Config:
    return s3_server.config()


# -- a fault-injecting proxy in front of moto (tests/_s3_fault_proxy.py) ------------------------------------------


@pytest.fixture
def s3_fault_proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    """A FaultProxy in front of `s3_server`; `s3_fault_proxy.config(...)` is an S3Config pointing at it."""
    proxy = FaultProxy(s3_server.port, server=s3_server)
    try:
        yield proxy
    finally:
        proxy.close()
