"""Which Iceberg catalog a run talks to, and what it leaves beside each table for engines that read by path.

Catalog kinds (`catalog_type`, else the `type` catalog property, else `rest` for an http(s) `catalog_uri`, else
`sql`):

- `sql`: pyiceberg's SQL catalog. Without `catalog_uri`, a SQLite file: `<output>/_catalog/catalog.db` for a
  local output, `catalog_home.default_catalog_file(<output>, "iceberg.db")` for an S3 output. Any SQLAlchemy
  URI otherwise (`sqlite:///…`, `postgresql+psycopg2://…`).
- `rest`: pyiceberg's REST client (`catalog_uri` is the server; it chooses table locations).
- `glue`: AWS Glue (pyiceberg's GlueCatalog); `catalog_uri`, when given, is the Glue endpoint (e.g. a local
  moto server); the Glue client takes the S3 credentials and region unless `glue.*` properties say otherwise.

`catalog_properties` go to `load_catalog` verbatim and override all of the above.

Read by path: after each commit to a table whose location this tool chose (sql and glue), its metadata directory
gets `v<N>.metadata.json` (a copy of the new current metadata file, N its sequence number) and then
`version-hint.text` holding N: DuckDB's `iceberg_scan('<location>')` and Hadoop-style readers by path (Spark's
`load('<location>')`) read the table without the catalog. A table without a hint has never been committed.
"""

from __future__ import annotations

import os

from ..errors import WriterError
from ..storage import S3Config, Storage, is_s3_uri
from .catalog_home import default_catalog_file

CATALOG_KINDS = ("sql", "rest", "glue")
LOCAL_CATALOG_DIR = "_catalog"
LOCAL_CATALOG_FILE = "catalog.db"
S3_CATALOG_FILE = "iceberg.db"
VERSION_HINT = "version-hint.text"


def catalog_kind(catalog_type: str | None, catalog_uri: str | None, properties: dict[str, str]) -> str:
    """`sql`, `rest` or `glue` (see the module docstring).

    Raises:
        WriterError: an unknown catalog type.
    """
    kind = catalog_type or properties.get("type")
    if kind is None:
        uri = catalog_uri or properties.get("uri", "")
        kind = "rest" if uri.startswith(("http://", "https://")) else "sql"
    if kind not in CATALOG_KINDS:
        raise WriterError(f"unknown Iceberg catalog type {kind!r}: use one of {', '.join(CATALOG_KINDS)}")
    return kind


def default_sqlite_file(storage: Storage, output_uri: str) -> str:
    """The SQLite catalog file used when no catalog is named (its directory is created)."""
    if is_s3_uri(output_uri):
        path = default_catalog_file(output_uri, S3_CATALOG_FILE)
    else:
        path = os.path.join(storage.join(LOCAL_CATALOG_DIR), LOCAL_CATALOG_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def catalog_config(
    kind: str,
    catalog_uri: str | None,
    properties: dict[str, str],
    *,
    storage: Storage,
    output_uri: str,
    s3: S3Config | None,
) -> dict[str, str]:
    """The `load_catalog` properties of a catalog of `kind` for this output."""
    config: dict[str, str] = {"type": kind}
    on_s3 = is_s3_uri(output_uri)
    if kind == "sql":
        if catalog_uri is None and "uri" not in properties:
            catalog_uri = "sqlite:///" + default_sqlite_file(storage, output_uri)
        if catalog_uri is not None:
            config["uri"] = catalog_uri
    elif kind == "rest" and catalog_uri is not None:
        config["uri"] = catalog_uri
    elif kind == "glue":
        if catalog_uri is not None:
            config["glue.endpoint"] = catalog_uri
        resolved = (s3 or S3Config()).resolved()
        aws = {
            "glue.region": resolved.region or "us-east-1",
            "glue.access-key-id": resolved.key,
            "glue.secret-access-key": resolved.secret,
            "glue.session-token": resolved.session_token,
        }
        config.update({key: value for key, value in aws.items() if value})
    if kind != "rest":
        root = storage.root
        config["warehouse"] = root if on_s3 else f"file://{root}"
    if on_s3:
        config.update((s3 or S3Config()).pyiceberg_properties())
    config.update(properties)
    return config


def metadata_number(metadata_location: str) -> int | None:
    """N of a metadata file named `<N>-<uuid>.metadata.json` (pyiceberg's naming) or `v<N>.metadata.json`."""
    name = metadata_location.rsplit("/", 1)[-1]
    head = name.split("-", 1)[0].split(".", 1)[0].removeprefix("v")
    return int(head) if head.isdigit() else None


def write_version_hint(storage: Storage, metadata_location: str) -> None:
    """`v<N>.metadata.json` (a copy of the current metadata) and then `version-hint.text` = N, beside it."""
    local = metadata_location.removeprefix("file://")
    number = metadata_number(local)
    if number is None:
        return
    directory = local.rsplit("/", 1)[0]
    storage.write_bytes(f"{directory}/v{number}.metadata.json", storage.read_bytes(local))
    storage.write_bytes(f"{directory}/{VERSION_HINT}", str(number).encode())


def ensure_version_hint(storage: Storage, metadata_location: str) -> None:
    """Write the version hint of `metadata_location` unless the table's hint already names it."""
    local = metadata_location.removeprefix("file://")
    hint = f"{local.rsplit('/', 1)[0]}/{VERSION_HINT}"
    try:
        current = storage.read_bytes(hint).decode().strip()
    except FileNotFoundError:
        current = None
    if current != str(metadata_number(local)):
        write_version_hint(storage, metadata_location)


def has_version_hint(storage: Storage, table_location: str) -> bool:
    """Whether a table at `table_location` was committed and is readable by path (its version hint)."""
    return storage.exists(f"{table_location.removeprefix('file://').rstrip('/')}/metadata/{VERSION_HINT}")
