"""Where each format keeps a table, read with DuckDB and a file listing (never with the writer's code):
whether its commit landed, the data files the commit references, every file found beside them, and the
SQL relation a reader sees.

    parquet, csv, jsonl   `<output>/<table>/`: `_SUCCESS` is the commit; data files are what a Hive glob reads
    delta                 `<output>/<table>/_delta_log/*.json`: the log replayed with DuckDB's JSON reader
    iceberg               the metadata location the catalog gives; `iceberg_snapshots` / `iceberg_metadata`
    ducklake              ATTACH of the metadata (read only); `ducklake_list_files` and the metadata tables
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..errors import ValidationReadFailed
from ..storage import S3Config, is_s3_uri, open_storage
from .duck import first_line, ident, literal

SUCCESS = "_SUCCESS"
STAGING_NAMES = ("_temporary", "_staging", "_manifests")  # directories a run stages files in
TABLE_FORMATS = ("delta", "iceberg", "ducklake")
LAKE = "dsgen_lake"


@dataclass
class TableSource:
    """One table as found in the output.

    `files` are the data files the commit references (table formats) or, for file tables, the data files a
    reader's glob would read; `listed` says they come from the commit itself. `referenced` holds every data
    file any version of the table references (older versions keep theirs); `found` every file under the
    table's data location; `staged` the files under a staging directory or with a partial name; `unknown`
    the files that are neither data files nor the format's own metadata.
    """

    name: str
    location: str
    committed: bool = False
    commit_detail: str = ""
    scan: str | None = None
    files: list[str] = field(default_factory=list)
    listed: bool = False
    referenced: set[str] = field(default_factory=set)
    found: list[str] = field(default_factory=list)
    staged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    partition_from_path: bool = False
    parquet: bool = True
    suffix: str = ".parquet"
    error: str | None = None


def normalize(path: str) -> str:
    """A data file's path as listings give it: no `file://` scheme, `s3a://` as `s3://`."""
    if path.startswith("file://"):
        path = path[len("file://") :]
    if path.startswith("s3a://"):
        path = "s3://" + path[len("s3a://") :]
    return path


def join(base: str, *parts: str) -> str:
    """`base` joined with relative parts by '/' (local paths and URIs alike)."""
    return posixpath.join(base.rstrip("/"), *[part.strip("/") for part in parts if part])


def relative(location: str, path: str) -> str:
    """`path` relative to `location`."""
    prefix = location.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


def is_staged(relative_path: str) -> bool:
    """Under a staging directory, or a hidden/partial file a crashed write left behind."""
    parts = relative_path.split("/")
    return any(part.startswith(".") or part in STAGING_NAMES for part in parts) or relative_path.endswith(".partial")


def list_files(location: str, s3: S3Config | None) -> list[str]:
    """Every file under `location` (a local directory or an s3:// prefix), sorted."""
    return [normalize(path) for path in open_storage(location, s3).list_files(location)]


def file_table(
    con: Any, location: str, staging: str, name: str, suffix: str, fmt: str, s3: S3Config | None, columns: str
) -> TableSource:
    """A Parquet, CSV or JSON lines table directory: `_SUCCESS` commits it; data files end in `suffix`;
    whatever a run left in the table's `staging` directory (`<output>/_staging/<table>/`) counts as staged."""
    source = TableSource(name=name, location=location, parquet=fmt == "parquet", suffix=suffix, partition_from_path=True)
    found = list_files(location, s3)
    source.staged = list_files(staging, s3)
    manifest: dict[str, Any] | None = None
    for path in found:
        rel = relative(location, path)
        if rel == SUCCESS:
            try:
                manifest = json.loads(open_storage(location, s3).read_bytes(path).decode() or "{}")
            except (ValueError, UnicodeDecodeError) as exc:
                source.error = f"{SUCCESS} is not readable JSON ({exc})"
                manifest = {}
        elif is_staged(rel):
            source.staged.append(path)
        elif rel.endswith(suffix):
            source.files.append(path)
        else:
            source.unknown.append(path)
    source.found = list(source.files)
    source.committed = manifest is not None
    if manifest is None:
        source.commit_detail = f"no {SUCCESS} in {location}"
    else:
        source.commit_detail = f"{SUCCESS}: " + ", ".join(f"{key} {manifest[key]}" for key in ("rows", "run_id") if key in manifest)
        listed = manifest.get("data_files", manifest.get("files"))
        if isinstance(listed, list):  # a manifest that names its files
            source.listed = True
            source.files = [_listed_path(location, entry) for entry in listed]
    source.referenced = set(source.files)
    readable = source.found  # what a reader's glob of the table reads: stray files included
    if fmt == "parquet":
        reader = "read_parquet"
        options = "hive_partitioning = false, filename = true"
    elif fmt == "csv":
        reader = "read_csv"
        options = f"header = true, hive_partitioning = false, filename = true, columns = {columns}"
    else:
        reader = "read_json"
        options = f"format = 'newline_delimited', hive_partitioning = false, filename = true, columns = {columns}"
    if readable:
        source.scan = f"{reader}([{', '.join(literal(path) for path in readable)}], {options})"
    return source


def _listed_path(location: str, entry: Any) -> str:
    # A manifest entry: a path relative to the table (or absolute, or a URI), or an object with a "path".
    path = str(entry.get("path", "")) if isinstance(entry, dict) else str(entry)
    if "://" in path or path.startswith("/"):
        return normalize(path)
    return join(location, path)


def delta_table(con: Any, location: str, name: str, s3: S3Config | None) -> TableSource:
    """A Delta table: the log's latest version commits it; the log, replayed, names its current files."""
    source = TableSource(name=name, location=location, listed=True)  # no commit: it lists no file
    found = list_files(location, s3)
    logs = [path for path in found if re.fullmatch(r"_delta_log/\d{20}\.json", relative(location, path))]
    source.found = [path for path in found if not relative(location, path).startswith("_delta_log/")]
    if not logs:
        source.commit_detail = f"no Delta log in {location}/_delta_log"
        _classify(source, location)
        return source
    rows = con.execute(
        "SELECT CAST(regexp_extract(filename, '(\\d+)\\.json$', 1) AS BIGINT) AS version, "
        "json_extract_string(json, '$.add.path') AS added, json_extract_string(json, '$.remove.path') AS removed "
        f"FROM read_ndjson_objects([{', '.join(literal(path) for path in logs)}], filename = true) "
        "WHERE added IS NOT NULL OR removed IS NOT NULL ORDER BY version"
    ).fetchall()
    current: dict[str, bool] = {}
    for _version, added, removed in rows:
        path = join(location, unquote(added if added is not None else removed))
        current[path] = added is not None
        if added is not None:
            source.referenced.add(path)
    version = max(int(relative(location, path).removeprefix("_delta_log/")[:20]) for path in logs)
    checkpointed = any(relative(location, path) == "_delta_log/_last_checkpoint" for path in found)
    source.committed = True
    source.commit_detail = f"Delta version {version}" + (" (checkpointed: files before it not replayed)" if checkpointed else "")
    source.listed = not checkpointed
    source.files = sorted(path for path, live in current.items() if live)
    source.scan = f"delta_scan({literal(location)})"
    _classify(source, location)
    return source


def iceberg_table(con: Any, metadata_location: str | None, location: str, name: str, s3: S3Config | None) -> TableSource:
    """An Iceberg table at the metadata location its catalog gives: a current snapshot commits it."""
    source = TableSource(name=name, location=location, listed=True)
    data_location = join(location, "data")
    source.found = list_files(data_location, s3)
    if metadata_location is None:
        source.commit_detail = "not in the catalog"
        _classify(source, data_location)
        return source
    meta = literal(metadata_location)
    snapshots = [row[0] for row in con.execute(f"SELECT snapshot_id FROM iceberg_snapshots({meta})").fetchall()]
    if not snapshots:
        source.commit_detail = f"no snapshot in {metadata_location}"
        _classify(source, data_location)
        return source
    source.committed = True
    source.commit_detail = f"{len(snapshots)} snapshot(s), metadata {posixpath.basename(metadata_location)}"
    source.files = sorted(
        normalize(row[0])
        for row in con.execute(
            f"SELECT file_path FROM iceberg_metadata({meta}) WHERE manifest_content = 'DATA' AND status <> 'DELETED'"
        ).fetchall()
    )
    source.listed = True
    source.referenced = set(source.files)
    for snapshot in snapshots:
        rows = con.execute(f"SELECT file_path FROM iceberg_metadata({meta}, snapshot_from_id = {int(snapshot)})").fetchall()
        source.referenced.update(normalize(row[0]) for row in rows)
    source.scan = f"iceberg_scan({meta})"
    _classify(source, data_location)
    return source


def attach_ducklake(con: Any, metadata: str) -> str | None:
    """ATTACH the lake read-only and return its DATA_PATH; None when a local metadata file does not exist.

    Raises:
        ValidationReadFailed: the metadata database does not open.
    """
    local = None if ":" in metadata.split("/")[0] else metadata  # sqlite:..., postgres:... are not local files
    if local is not None and not Path(local).is_file():
        return None
    try:
        con.execute(f"ATTACH {literal('ducklake:' + metadata)} AS {LAKE} (READ_ONLY)")
    except Exception as exc:  # duckdb.Error: a broken or unreachable metadata database
        raise ValidationReadFailed(f"cannot open the DuckLake metadata at {metadata}: {first_line(exc)}") from exc
    row = con.execute(f"SELECT value FROM __ducklake_metadata_{LAKE}.ducklake_metadata WHERE key = 'data_path'").fetchone()
    return normalize(str(row[0])) if row and row[0] else ""


def ducklake_table(con: Any, data_path: str, schema: str, name: str, s3: S3Config | None) -> TableSource:
    """A DuckLake table: present in the lake's current snapshot; its files from the metadata tables."""
    meta = f"__ducklake_metadata_{LAKE}"
    located = con.execute(
        f"SELECT s.path, s.path_is_relative, t.path, t.path_is_relative, t.table_id FROM {meta}.ducklake_table t "
        f"JOIN {meta}.ducklake_schema s USING (schema_id) WHERE t.table_name = ? AND s.schema_name = ? "
        "AND t.end_snapshot IS NULL AND s.end_snapshot IS NULL",
        [name, schema],
    ).fetchone()
    if located is None:
        source = TableSource(name=name, location=join(data_path, schema, name), listed=True)
        source.found = list_files(source.location, s3)
        source.commit_detail = f"table {schema}.{name} is not in the lake"
        _classify(source, source.location)
        return source
    schema_path, schema_relative, table_path, table_relative, table_id = located
    base = join(data_path, schema_path) if schema_relative else normalize(schema_path)
    location = join(base, table_path) if table_relative else normalize(table_path)
    source = TableSource(name=name, location=location, committed=True)
    source.found = list_files(location, s3)
    files = con.execute(
        f"SELECT path, path_is_relative, end_snapshot FROM {meta}.ducklake_data_file WHERE table_id = ?", [table_id]
    ).fetchall()
    for path, is_relative, end in files:
        full = join(location, path) if is_relative else normalize(path)
        source.referenced.add(full)
        if end is None:
            source.files.append(full)
    source.files.sort()
    source.listed = True
    snapshot = con.execute(f"SELECT max(snapshot_id) FROM {meta}.ducklake_snapshot").fetchone()
    source.commit_detail = f"in the lake at snapshot {snapshot[0] if snapshot else '?'}"
    source.scan = f"{LAKE}.{ident(schema)}.{ident(name)}"
    _classify(source, location)
    return source


def _classify(source: TableSource, data_location: str) -> None:
    # Table formats: staged and unknown files beside the data files (their own metadata is excluded already).
    kept = []
    for path in source.found:
        rel = relative(data_location, path)
        if is_staged(rel):
            source.staged.append(path)
        elif not rel.endswith(source.suffix):
            source.unknown.append(path)
        else:
            kept.append(path)
    source.found = kept


def describe_error(exc: BaseException) -> str:
    """One line for a DuckDB error while reading a table."""
    return first_line(exc)


def needs_s3(*locations: str | None) -> bool:
    """Whether any of the locations is on S3."""
    return any(location is not None and is_s3_uri(location) for location in locations)
