"""The DuckDB connection validation reads with: extensions loaded from their PyPI packages, never downloaded.

The connection is the writers' (writers/duckdb_extensions.py: DuckDB imported on first use, extensions loaded
by absolute path from the `duckdb-extension-<name>` wheels with auto-install and auto-load off), with an S3
secret, and confined to the output's locations before a spec's `checks:` run.
"""

from __future__ import annotations

from typing import Any

from ..errors import ValidationSetupError
from ..sql import sql_identifier, sql_literal
from ..storage import S3Config
from ..writers.duckdb_extensions import connect_duckdb


def connect(extensions: list[str], s3: S3Config | None = None) -> Any:
    """An in-memory DuckDB connection with `extensions` loaded (and an S3 secret when `s3` is given).

    Raises:
        ValidationSetupError: DuckDB or an extension is not installed, or will not load.
    """
    con = connect_duckdb(extensions, error=ValidationSetupError)
    try:
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
