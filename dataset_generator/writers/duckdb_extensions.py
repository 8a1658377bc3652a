"""DuckDB connections that load extensions from their PyPI packages and never download anything.

DuckDB extensions are built for one DuckDB release; the `duckdb-extension-<name>` wheels ship the binary for
the matching release. Loading that file by absolute path, with auto-install and auto-load off, keeps DuckDB
from reaching the network (which is slow, may be blocked, and may fetch a binary for a different build).

DuckDB is an optional extra, imported on the first connection: `import dataset_generator` and the layers that
only may use DuckDB (validation) stay importable without it.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import DatasetGeneratorError, WriterError
from ..sql import sql_literal

INSTALL_HINT = "pip install 'dataset-generator[ducklake]'"

# Extensions that must be loaded before another one (DuckDB's iceberg reads Avro manifests).
_PREREQUISITES: dict[str, tuple[str, ...]] = {"iceberg": ("avro",)}


def import_duckdb(error: type[DatasetGeneratorError] = WriterError) -> Any:
    """The `duckdb` module; `error` (with the install hint) when it is not installed."""
    try:
        import duckdb
    except ImportError as exc:
        raise error(f"DuckDB is not installed: {INSTALL_HINT}") from exc
    return duckdb


def extension_path(name: str, version: str, error: type[DatasetGeneratorError] = WriterError) -> Path:
    """Absolute path of the `<name>.duckdb_extension` shipped by the `duckdb-extension-<name>` package for
    DuckDB `version`.

    Raises:
        `error`: the package is not installed for this DuckDB release.
    """
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
        if candidate.is_file():
            return candidate
    raise error(
        f"DuckDB extension {name!r} for duckdb {version} is not installed: "
        f"pip install 'duckdb-extension-{name}=={version}'"
    )


def _ordered(extensions: list[str]) -> list[str]:
    ordered: list[str] = []
    for name in extensions:
        for needed in (*_PREREQUISITES.get(name, ()), name):
            if needed not in ordered:
                ordered.append(needed)
    return ordered


def connect_duckdb(
    extensions: list[str], database: str = ":memory:", *, error: type[DatasetGeneratorError] = WriterError
) -> Any:
    """Connect to `database` with each extension loaded from its PyPI package; never downloads.

    Raises:
        `error`: DuckDB or an extension package is not installed, or an extension does not load.
    """
    duckdb = import_duckdb(error)
    paths = [(name, extension_path(name, duckdb.__version__, error)) for name in _ordered(list(extensions))]
    extension_dir = _private_extension_dir()
    con = duckdb.connect(
        database,
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "extension_directory": extension_dir,
        },
    )
    try:
        for name, path in paths:
            try:
                con.execute(f"LOAD {sql_literal(os.fspath(path))}")
            except duckdb.Error as exc:
                raise error(f"could not load DuckDB extension {name!r} from {path}: {exc}") from exc
    except BaseException:
        con.close()
        raise
    return con


@cache
def _private_extension_dir() -> str:
    # Private and empty (one per process): nothing cached from another DuckDB build can be picked up.
    return tempfile.mkdtemp(prefix="dsgen-duckdb-ext-")
