"""The DuckDB connection validation reads with: extensions loaded from their PyPI packages, never downloaded.

DuckDB is an optional extra, imported when a validation starts (so `import dataset_generator` stays light and
works without it). Extensions are loaded by absolute path from the `duckdb-extension-<name>` wheels with
auto-install and auto-load off, so DuckDB never reaches the network for them (see docs/validate.md).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import ValidationSetupError
from ..sql import sql_identifier, sql_literal
from ..storage import S3Config

# Extensions that must be loaded before another one (DuckDB's iceberg reads Avro manifests).
_PREREQUISITES: dict[str, tuple[str, ...]] = {"iceberg": ("avro",)}


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as exc:
        raise ValidationSetupError("validate reads with DuckDB, which is not installed: pip install 'dataset-generator[ducklake]'") from exc
    return duckdb


def extension_file(name: str, version: str) -> Path:
    """The `<name>.duckdb_extension` file of the `duckdb-extension-<name>` package for DuckDB `version`.

    Raises:
        ValidationSetupError: the package is not installed for this DuckDB release.
    """
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    for location in list(spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
        if candidate.is_file():
            return candidate
    raise ValidationSetupError(
        f"DuckDB extension {name!r} for duckdb {version} is not installed: pip install 'duckdb-extension-{name}=={version}'"
    )


@cache
def _extension_dir() -> str:
    # Private and empty: nothing cached from another DuckDB build can be picked up.
    return tempfile.mkdtemp(prefix="dsgen-validate-ext-")


def connect(extensions: list[str], s3: S3Config | None = None) -> Any:
    """An in-memory DuckDB connection with `extensions` loaded (and an S3 secret when `s3` is given).

    Raises:
        ValidationSetupError: DuckDB or an extension is not installed, or will not load.
    """
    duckdb = _duckdb()
    ordered: list[str] = []
    for name in extensions:
        for needed in (*_PREREQUISITES.get(name, ()), name):
            if needed not in ordered:
                ordered.append(needed)
    paths = [(name, extension_file(name, duckdb.__version__)) for name in ordered]
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "extension_directory": _extension_dir(),
        },
    )
    try:
        for name, path in paths:
            try:
                con.execute(f"LOAD {literal(os.fspath(path))}")
            except duckdb.Error as exc:
                raise ValidationSetupError(f"could not load DuckDB extension {name!r} from {path}: {exc}") from exc
        if s3 is not None:
            con.execute(s3.duckdb_secret_sql(name="dataset_generator_validate"))
    except BaseException:
        con.close()
        raise
    return con


def confine(con: Any, locations: list[str]) -> None:
    """Let the connection read only under `locations` from now on (and lock that): a spec's `checks:` run
    as SQL, and must not reach a file outside the output (`read_csv('/etc/passwd')` fails)."""
    directories = sorted({location.rstrip("/") + "/" for location in locations if location})
    con.execute(f"SET allowed_directories = [{', '.join(literal(directory) for directory in directories)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


literal = sql_literal  # the package's one quoting helper, under short names for the many queries here
ident = sql_identifier


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (DuckDB's carry context lines)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
