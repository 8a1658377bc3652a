"""`validate(dataset, writer)`: read a written dataset back with DuckDB and check it against its plan."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import DatasetGeneratorError, ParameterError, ValidationSetupError
from ..schemas.loader import load_schema
from ..schemas.models import DatasetSpec
from ..storage import S3Config, is_s3_uri
from ..writers.base import STAGING_DIR as STAGING
from ..writers.base import TableWriter
from ..writers.sizing import sized_plan
from . import checks, sources
from .duck import confine, connect, first_line, ident, literal
from .expected import ExpectedDataset, ExpectedTable, expected_dataset
from .report import ValidationReport

FORMATS = ("parquet", "csv", "jsonl", "delta", "iceberg", "ducklake")
# The Iceberg writer's embedded SQLite catalog inside the output (writers/iceberg.py, which imports pyiceberg).
DEFAULT_ICEBERG_CATALOG = ("_catalog", "catalog.db")
_TEXT_CODECS = {"gzip": ".gz", "zstd": ".zst"}
_EXTENSIONS = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl"}


def validate(
    dataset: str | Path | DatasetSpec | None,
    writer: TableWriter,
    *,
    scale: float = 1.0,
    seed: int = 42,
    params: Mapping[str, Any] | None = None,
    schema_file: str | Path | None = None,
    tables: list[str] | None = None,
    force: bool = False,
    as_of: dt.date | dt.datetime | str | None = None,
) -> ValidationReport:
    """Check what `writer`'s output holds against the plan of `dataset`, reading it with DuckDB.

    The plan needs what the generating run was given: the same dataset, scale, params, seed and the writer's
    options (file_rows_target, partition, compression). Checks (see docs/validate.md): every table committed,
    rows per table and partition, no missing, stray, staged or unknown file, file row counts, codecs, unique
    keys, resolving foreign keys, and the spec's `checks:`.

    Args:
        dataset: a built-in name, a YAML path or a `load_schema(...)` result (None with `schema_file`).
        writer: from `create_writer(...)` with the generating run's format, output, S3 and catalog settings.
        scale, seed, params, schema_file, tables: as given to `generate`.
        force: plan a run beyond the size bound (as `generate --force` wrote it).
        as_of: the snapshot time the run was given (`generate --as-of`): rows and checks of that snapshot.
    Returns:
        A ValidationReport: its `checks` (name, ok, detail) and `ok` when none failed.
    Raises:
        SpecError, ParameterError: an invalid spec, parameter, seed or table name, or an unknown format.
        ValidationSetupError: the output does not exist, or DuckDB or an extension the format needs is not
            installed.
        ValidationReadFailed: a DuckLake metadata database does not open.
        StorageError: the output cannot be listed.
    """
    fmt = writer.name
    if fmt not in FORMATS:
        raise ParameterError(f"validate reads {', '.join(FORMATS)}; format {fmt!r} writes nothing to read back")
    if seed < 0:
        raise ParameterError(f"seed must be >= 0 (got {seed})")
    spec = dataset if isinstance(dataset, DatasetSpec) else load_schema(dataset or "", schema_file=schema_file, scale=scale, params=params)
    if tables is not None:
        unknown = [name for name in tables if name not in spec.tables]
        if unknown or not tables:
            raise ParameterError(f"unknown table {unknown[0]!r}; {spec.name} has {', '.join(spec.tables)}" if unknown else "the table list is empty")
    expected = expected_dataset(
        sized_plan(
            spec, seed=seed, options=writer.options, tables=tables, force=force, encoder=getattr(writer, "encoder", None),
            window={"as_of": as_of},
        ),
        writer.options,
    )
    root = writer.storage.join("")
    if not is_s3_uri(root) and not Path(root).is_dir():
        raise ValidationSetupError(f"output {root.rstrip('/') or root} does not exist; give the output location the dataset was generated to")
    report = ValidationReport(dataset=spec.name, format=fmt, location=writer.output_uri)
    target = writer.target
    metadata = _ducklake_metadata(writer) if fmt == "ducklake" else None
    on_s3 = sources.needs_s3(writer.output_uri, getattr(target, "data_path", None))
    s3 = (writer.s3 or S3Config()) if on_s3 else None
    con = connect(_extensions(fmt, metadata, on_s3), s3)
    try:
        found = _sources(con, writer, expected, fmt, s3, metadata)
        confine(con, [writer.storage.join(""), *(source.location for source in found.values())])
        errors = {table.name: checks.create_views(con, table, found[table.name], _empty_columns(table.schema)) for table in expected.tables}
        validated = {table.name for table in expected.tables}
        for table in expected.tables:
            _check_table(report, con, table, found[table.name], expected, errors[table.name], validated, list(spec.tables))
        if fmt in _EXTENSIONS:
            _check_output_staging(report, writer, s3, validated)
        for number, query in enumerate(expected.checks, start=1):
            if set(_tables_named(query, list(spec.tables))) <= validated:
                checks.check_query(report, con, number, query)
            else:
                report.skip(f"check[{number}]", f"{checks.short(query)}: refers to a table not validated here")
    finally:
        con.close()
    return report


def _check_table(
    report: ValidationReport,
    con: Any,
    table: ExpectedTable,
    source: sources.TableSource,
    expected: ExpectedDataset,
    error: str | None,
    validated: set[str],
    spec_tables: list[str],
) -> None:
    report.add(f"{table.name}.committed", source.committed, source.commit_detail)
    if source.error:
        report.add(f"{table.name}.commit", False, source.error)
    checks.check_files(report, table, source)
    checks.check_rows(report, con, table, error)
    if error is not None:
        return
    present = [path for path in source.files if path in set(source.found)]
    steps: list[tuple[str, Callable[[], None]]] = [
        ("schema", lambda: checks.check_schema(report, con, table)),
        ("partitions", lambda: checks.check_partitions(report, con, table, source)),
        ("file_rows", lambda: checks.check_file_rows(report, con, table, source, expected.options, present)),
        ("codec", lambda: checks.check_codec(report, con, table, source, expected.options, present)),
        ("keys", lambda: checks.check_keys(report, con, table)),
        ("refs", lambda: checks.check_references(report, con, table, validated)),
    ]
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # duckdb.Error: a file that cannot be read (the other checks still run)
            report.add(f"{table.name}.{name}", False, f"cannot read: {first_line(exc)}")
    for number, predicate in enumerate(table.checks, start=1):
        if set(_tables_named(predicate, spec_tables)) <= validated:
            checks.check_predicate(report, con, table.name, number, predicate)
        else:
            report.skip(f"{table.name}.check[{number}]", f"{checks.short(predicate)}: refers to a table not validated here")


def _sources(
    con: Any, writer: TableWriter, expected: ExpectedDataset, fmt: str, s3: S3Config | None, metadata: str | None
) -> dict[str, sources.TableSource]:
    storage = writer.storage
    found: dict[str, sources.TableSource] = {}
    if fmt in _EXTENSIONS:
        codec = _TEXT_CODECS.get(expected.options.compression, "") if fmt != "parquet" else ""
        suffix = _EXTENSIONS[fmt] + codec
        for table in expected.tables:
            json_cells = _json_cells(table.schema) if fmt == "csv" else []
            columns = _columns_struct(table.schema, json_cells)
            location, staging = storage.join(table.name), storage.join(STAGING, table.name)
            build = partial(sources.file_table, con, location, staging, table.name, suffix, fmt, s3, columns)
            found[table.name] = source = _guarded(table.name, location, build)
            if json_cells and source.scan is not None:  # CSV holds lists and structs as JSON text
                casts = ", ".join(f"{ident(name)}::JSON::{kind} AS {ident(name)}" for name, kind in json_cells)
                source.scan = f"(SELECT * REPLACE ({casts}) FROM {source.scan})"
    elif fmt == "delta":
        for table in expected.tables:
            location = storage.join(table.name)
            found[table.name] = _guarded(table.name, location, partial(sources.delta_table, con, location, table.name, s3))
    elif fmt == "iceberg":
        namespace = getattr(writer.target, "namespace", None) or "default"
        for table in expected.tables:
            given, metadata_location = _iceberg_location(writer, namespace, table.name)
            where = given or storage.join(table.name)
            found[table.name] = _guarded(table.name, where, partial(sources.iceberg_table, con, metadata_location, where, table.name, s3))
    else:
        assert metadata is not None
        data_path = sources.attach_ducklake(con, metadata)
        schema = getattr(writer.target, "schema", None) or "main"
        for table in expected.tables:
            if data_path is None:
                found[table.name] = sources.TableSource(table.name, storage.join(table.name), listed=True)
                found[table.name].commit_detail = f"no DuckLake metadata at {metadata}"
            else:
                build = partial(sources.ducklake_table, con, data_path, schema, table.name, s3)
                found[table.name] = _guarded(table.name, sources.join(data_path, schema, table.name), build)
    return found


def _guarded(name: str, location: str, build: Callable[[], sources.TableSource]) -> sources.TableSource:
    """The table's source, or an uncommitted one naming why its metadata could not be read (a corrupt log)."""
    try:
        return build()
    except DatasetGeneratorError:
        raise
    except Exception as exc:  # duckdb.Error, pyiceberg and JSON errors of a damaged table
        return sources.TableSource(name, location, listed=True, commit_detail=f"cannot read its metadata: {first_line(exc)}")


def _iceberg_location(writer: TableWriter, namespace: str, table: str) -> tuple[str | None, str | None]:
    """(table location, metadata location) as the catalog gives them; (None, None) when it has no such table."""
    default = writer.storage.join(*DEFAULT_ICEBERG_CATALOG)
    if getattr(writer.target, "catalog_uri", None) is None and not is_s3_uri(default) and not Path(default).is_file():
        return None, None  # no catalog yet: opening it would create one, and validate writes nothing
    catalog: Any = getattr(writer, "catalog")  # noqa: B009 - the Iceberg writer's catalog, built from its target
    try:
        loaded = catalog.load_table((namespace, table))
    except Exception:  # pyiceberg's NoSuchTableError, NoSuchNamespaceError, or an empty SQL catalog
        return None, None
    return sources.normalize(loaded.location()), loaded.metadata_location


def _ducklake_metadata(writer: TableWriter) -> str:
    given = getattr(writer.target, "metadata_uri", None)
    if given:
        return str(given).removeprefix("ducklake:")
    return writer.storage.join("catalog.ducklake")


def _extensions(fmt: str, metadata: str | None, on_s3: bool) -> list[str]:
    extensions = {"delta": ["delta"], "iceberg": ["iceberg"], "ducklake": ["ducklake"]}.get(fmt, [])
    if metadata is not None and metadata.startswith("sqlite:"):
        extensions.append("sqlite_scanner")
    if metadata is not None and metadata.startswith("postgres:"):
        extensions.append("postgres_scanner")
    if on_s3:
        extensions.append("httpfs")
    return extensions


def _check_output_staging(report: ValidationReport, writer: TableWriter, s3: S3Config | None, tables: set[str]) -> None:
    # Runs stage beside the tables (a parts run's manifests, `_staging/<table>/`); a validated table's own
    # staging directory is reported with its files already.
    root = writer.storage.join("")
    own = tuple(sources.join(root, STAGING, table) + "/" for table in tables)
    leftovers = []
    for name in sources.STAGING_NAMES:
        location = sources.join(root, name)
        if is_s3_uri(location) or Path(location).exists():
            leftovers += [path for path in sources.list_files(location, s3) if not path.startswith(own)]
    detail = f"{len(leftovers)} staged files left at the output root (e.g. {leftovers[0]})" if leftovers else "nothing staged at the output root"
    report.add("output.staging", not leftovers, detail)


def _tables_named(query: str, tables: list[str]) -> list[str]:
    """The dataset's tables a SQL text names (as words: `FROM orders o`, `"orders"`)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", query.lower()))
    return [name for name in tables if name.lower() in words]


def _json_cells(schema: pa.Schema) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the list and struct columns, which CSV writes as JSON text."""
    return [
        (field.name, checks.duckdb_type(field.type))
        for field in schema
        if pa.types.is_list(field.type) or pa.types.is_struct(field.type)
    ]


def _columns_struct(schema: pa.Schema, as_text: list[tuple[str, str]] | None = None) -> str:
    """The `columns = {...}` argument of DuckDB's CSV/JSON readers: the planned types, not guessed ones
    (VARCHAR for the columns in `as_text`, cast after reading)."""
    text = {name for name, _ in as_text or []}
    kinds = {field.name: "VARCHAR" if field.name in text else checks.duckdb_type(field.type) for field in schema}
    return "{" + ", ".join(f"{literal(name)}: {literal(kind)}" for name, kind in kinds.items()) + "}"


def _empty_columns(schema: pa.Schema) -> str:
    return ", ".join(f"NULL::{checks.duckdb_type(field.type)} AS {ident(field.name)}" for field in schema)
