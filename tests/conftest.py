"""Shared fixtures. Servers the tests need (the S3 server) are started here, on 127.0.0.1 only."""

from __future__ import annotations

import compileall
import os
import tempfile
from pathlib import Path

# No client may probe the cloud metadata address or real AWS: tests stay on loopback.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
# Polars plans Iceberg scans with pyiceberg (its optional planner plugin is not a dependency).
os.environ.setdefault("POLARS_ICEBERG_PLANNER", "pyiceberg")

# Default catalogs of S3 outputs (writers/catalog_home.py) go to a private directory, never the user's home.
os.environ.setdefault("DATASET_GENERATOR_CATALOG_DIR", tempfile.mkdtemp(prefix="dsgen-catalogs-"))


def pytest_configure() -> None:
    """Byte-compile the package once: with PYTHONDONTWRITEBYTECODE set (as on this machine) every one of
    the suite's hundreds of CLI subprocesses would otherwise compile all its modules again (~0.3 s each)."""
    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "dataset_generator"), quiet=1)


pytest_plugins = ["_s3_server", "_duckdb_reader", "_pg_server"]
