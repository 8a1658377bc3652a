"""Apache Iceberg tables through pyiceberg, one snapshot per table per run.

Catalog: by default an embedded SQL catalog in a SQLite file inside the output (`<output>/_catalog/catalog.db`,
warehouse = output, tables at `<output>/<table>`), so the output directory is self-contained. Any other
catalog is reachable through `catalog_uri` (`sqlite:///…`, `postgresql+psycopg2://…`, or `http(s)://…` for a
REST catalog), `catalog_name`, `namespace` and `catalog_properties` (passed verbatim to pyiceberg's
`load_catalog`, overriding everything else).

Protocol: `open_table` only checks (a new table is created by `commit`, in the same catalog commit as its
first snapshot: a crash never leaves an empty table, and of two concurrent creators the catalog refuses one);
workers write plain Parquet data files with pyarrow into `<table location>/data/...`; `commit` registers all
of them in ONE snapshot: a fast append (new table, `append` mode) or an overwrite snapshot that removes the
previous files (`overwrite` mode; older snapshots stay readable). pyiceberg is used only on the client. An
append whose spec changed evolves the schema (`update_schema().union_by_name`) in that same catalog commit
(`evolution.py`, docs/writers/evolution.md).

Partitioning: a table partitioned by its own time column uses Iceberg hidden partitioning with ONE transform
on that column (`day(ts)` for year/month/day, `month(ts)` for year/month, `year(ts)` for year): pyiceberg
rejects two time transforms on one column. Readers then filter on the timestamp and Iceberg prunes; there are
no year/month/day columns. A child table whose partition values derive from its parent's time (no time
column of its own) gets year/month/day STRING columns, written into its files, with identity partitions:
the same shape as the Delta and Hive outputs of that table.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, ClassVar

import pyarrow as pa
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError, TableAlreadyExistsError
from pyiceberg.io.pyarrow import parquet_files_to_data_files
from pyiceberg.table import Table, TableProperties, Transaction
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.transforms import DayTransform, IdentityTransform, MonthTransform, Transform, YearTransform

from ..contracts import CommitInfo, FileInfo, PartitionValues, TableHandle, TableInfo
from ..errors import TableExistsError, WriterError
from ..faults import fault_point
from ..options import WriterOptions
from ..storage import S3Config, is_s3_uri
from .base import new_run_id
from .descriptions import with_field_descriptions
from .evolution import Evolution, Rules, plan_evolution
from .iceberg_catalog import (
    catalog_config,
    catalog_kind,
    ensure_version_hint,
    has_version_hint,
    write_version_hint,
)
from .partitions import schema_with_partition_columns
from .table_format import TableFormatWriter, after_commit, commit_failure
from .targets import IcebergTarget
from .types import micros_utc_only, no_duration, no_unsigned

DEFAULT_CATALOG_NAME = "dataset_generator"
DEFAULT_NAMESPACE = "default"
_TIME_TRANSFORMS: dict[tuple[str, ...], tuple[Transform[Any, Any], str]] = {
    ("year",): (YearTransform(), "year"),
    ("year", "month"): (MonthTransform(), "month"),
    ("year", "month", "day"): (DayTransform(), "day"),
}
# WriterOptions codec -> Iceberg's `write.parquet.compression-codec` value.
_ICEBERG_CODECS = {"none": "uncompressed"}
_RUN_PROPERTY = "dataset-generator.run-id"
_FINGERPRINT_PROPERTY = "dataset-generator.fingerprint"
# pyiceberg 0.12's promotions (`pyiceberg.schema.promote`): int -> long, float -> double, decimal precision
# widening at the same scale (int8/int16 are Iceberg ints already); no date -> timestamp (a v3 rule).
ICEBERG_RULES = Rules("Iceberg", widen_decimals=True, note="no date -> timestamp (pyiceberg 0.12 lacks that promotion)")


class IcebergWriter(TableFormatWriter):
    """Iceberg tables; the target (`IcebergTarget`): `catalog_uri`, `catalog_name`, `namespace`,
    `catalog_properties`."""

    name: ClassVar[str] = "iceberg"
    description: ClassVar[str] = "Apache Iceberg tables (pyiceberg), one snapshot per table per run"
    target_spec: ClassVar[type[IcebergTarget]] = IcebergTarget
    target: IcebergTarget

    def unsupported_type(self, data_type: pa.DataType, nested: bool) -> str | None:
        # pyiceberg stores uint8/uint16 as Iceberg int (lossless); uint32/uint64 do not fit int/long.
        if pa.types.is_unsigned_integer(data_type) and data_type.bit_width <= 16:
            return None
        return no_unsigned("Iceberg", data_type) or no_duration("Iceberg", data_type) or micros_utc_only("Iceberg", data_type)

    def __init__(
        self, output_uri: str, s3: S3Config | None = None, options: WriterOptions | None = None, **target: Any
    ) -> None:
        if target.get("catalog_properties") is None:
            target.pop("catalog_properties", None)
        super().__init__(output_uri, s3=s3, options=options, **target)
        self.catalog_uri = self.target.catalog_uri
        self.catalog_name = self.target.catalog_name or DEFAULT_CATALOG_NAME
        self.namespace = self.target.namespace or DEFAULT_NAMESPACE
        self.catalog_properties = dict(self.target.catalog_properties)
        self.catalog_kind = catalog_kind(self.target.catalog_type, self.catalog_uri, self.catalog_properties)

    # ------------------------------------------------------------------ catalog (client only)

    def _is_rest(self) -> bool:
        return self.catalog_kind == "rest"

    def _catalog_config(self) -> dict[str, str]:
        return catalog_config(
            self.catalog_kind, self.catalog_uri, self.catalog_properties,
            storage=self.storage, output_uri=self.output_uri, s3=self.s3,
        )  # fmt: skip

    def describe_catalog(self) -> str:
        """The catalog, for the run summary (no secrets: a URI's password is masked)."""
        config = self._catalog_config()
        where = config.get("uri") or config.get("glue.endpoint") or ("AWS Glue" if self.catalog_kind == "glue" else "")
        return f"Iceberg {self.catalog_kind} catalog {_mask_password(where)}, namespace {self.namespace!r}".replace("  ", " ")

    @property
    def catalog(self) -> Catalog:
        catalog = self.__dict__.get("_catalog")
        if catalog is None:
            for attempt in range(3):
                try:
                    catalog = load_catalog(self.catalog_name, **self._catalog_config())
                    break
                except Exception as exc:  # pyiceberg raises many unrelated types for a bad catalog setting
                    # Two runs opening a new SQL catalog race to create its tables: the loser opens it again.
                    if "already exists" in str(exc) and attempt < 2:
                        continue
                    raise WriterError(f"cannot open Iceberg catalog {self.catalog_name!r}: {exc}") from exc
            self.__dict__["_catalog"] = catalog
        assert catalog is not None  # the loop either broke with a catalog or raised
        return catalog

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_catalog", None)  # database connections do not travel to workers
        return state

    def _identifier(self, table: TableInfo) -> tuple[str, str]:
        return (self.namespace, table.name)

    def _table_properties(self) -> dict[str, str]:
        codec = self.options.compression
        properties = {TableProperties.PARQUET_COMPRESSION: _ICEBERG_CODECS.get(codec, codec)}
        if self.options.compression_level is not None:
            properties[TableProperties.PARQUET_COMPRESSION_LEVEL] = str(self.options.compression_level)
        properties[TableProperties.PARQUET_ROW_GROUP_LIMIT] = str(self.options.effective_row_group_rows)
        return properties

    def _check_location(self, location: str) -> None:
        # Only an earlier Iceberg run of ours may have left files here (data/, metadata/); anything else,
        # a Delta log or plain Parquet files, belongs to someone else: never mix two tables in one place.
        strangers = [
            path[len(location) :].lstrip("/")
            for path in self.storage.list_files(location)
            if not path[len(location) :].lstrip("/").startswith(("data/", "metadata/"))
        ]
        if strangers:
            raise WriterError(
                f"output {location} is not empty and is not an Iceberg table of this catalog "
                f"(found {strangers[0]}); choose an empty location"
            )
        if self.options.mode != "overwrite" and has_version_hint(self.storage, location):
            raise WriterError(
                f"{location} holds a committed Iceberg table that catalog {self.catalog_name!r} does not list "
                "(another catalog's, or a lost catalog file); pass that `catalog_uri`, or `mode=\"overwrite\"`"
            )

    def _stage_create(self, table: TableInfo) -> Transaction:
        """The transaction that creates the table (not committed): committed with the first snapshot, so a
        table never exists without its data, and a concurrent creator makes the catalog refuse one of them."""
        catalog = self.catalog
        _ensure_namespace(catalog, self.namespace)
        # The spec's descriptions: each field's `doc`, and the table property `comment`.
        schema = with_field_descriptions(schema_with_partition_columns(table), table, "doc")
        properties = self._table_properties()
        if table.description:
            properties["comment"] = table.description
        location = None if self._is_rest() else self.storage.join(table.name)
        if location is not None and not is_s3_uri(location):
            location = f"file://{location}"
        transaction = catalog.create_table_transaction(
            self._identifier(table), schema=schema, location=location, properties=properties
        )
        fields = partition_fields(table)
        if fields:
            with transaction.update_spec() as spec:
                for source, transform, name in fields:
                    spec.add_field(source, transform, name)
        # Files come from pyarrow without Iceberg field ids: readers map columns by name.
        transaction.set_properties(
            {
                TableProperties.DEFAULT_NAME_MAPPING: transaction.table_metadata.schema().name_mapping.model_dump_json()
            }
        )
        return transaction

    # ------------------------------------------------------------------ protocol

    def is_committed(self, table: TableInfo) -> bool:
        """Whether the table's current snapshot was committed by an identical run (its summary fingerprint).
        Such a table is skipped; its version hint is brought up to date first (a run that died between its
        commit and the hint left it behind)."""
        if not table.fingerprint:
            return False
        try:
            iceberg_table = self.catalog.load_table(self._identifier(table))
        except NoSuchTableError:
            return False
        snapshot = iceberg_table.current_snapshot()
        summary = snapshot.summary if snapshot is not None else None
        committed = summary is not None and summary.get(_FINGERPRINT_PROPERTY) == table.fingerprint
        if committed and not self._is_rest():
            ensure_version_hint(self.storage, iceberg_table.metadata_location)
        return committed

    def open_table(self, table: TableInfo, *, run_id: str | None = None) -> TableHandle:
        identifier = self._identifier(table)
        mode = self.options.mode
        existing: Table | None
        try:
            existing = self.catalog.load_table(identifier)
        except NoSuchTableError:
            existing = None
        # A table with no snapshot holds nothing readable (left by an older version's crash): it is written
        # into as if new, never dropped (it might be another run's).
        if existing is not None:
            snapshot = existing.current_snapshot()
            if mode == "error" and snapshot is not None:
                raise TableExistsError(
                    ".".join(identifier), existing.location(), str(snapshot.snapshot_id), kind="Iceberg table"
                )
            current = existing.schema().as_arrow()
            wanted = schema_with_partition_columns(table)
            if mode == "append":
                _plan_evolution(existing, table)  # refused here, before any file is written
            elif list(current.names) != list(wanted.names):
                raise WriterError(
                    f"cannot {mode} Iceberg table {'.'.join(identifier)!r}: its columns differ from this dataset's "
                    f"({', '.join(current.names)}); drop it or write to another namespace"
                )
            location, created, new = existing.location(), False, False
        elif self._is_rest():
            # A REST catalog chooses the location: the table must exist before files are written.
            location, created, new = self._stage_create(table).commit_transaction().location(), True, False
        else:
            location = self.storage.join(table.name)
            self._check_location(location)
            location = location if is_s3_uri(location) else f"file://{location}"
            created, new = False, True
        return TableHandle(
            table=table,
            run_id=run_id or new_run_id(),
            location=_local_or_uri(location),
            mode=mode,
            extra={"created": created, "new": new, "identifier": identifier, "file_scheme": _scheme(location)},
        )
    def part_handle(self, table: TableInfo, run_id: str) -> TableHandle:
        """Where a `--parts` part writes: `<output>/<table>` (the location `open_table` gives a new table with a
        SQL catalog), or, with a REST catalog that picks locations itself, the existing table's location."""
        if not self._is_rest():
            return super().part_handle(table, run_id)
        try:
            location = self.catalog.load_table(self._identifier(table)).location()
        except NoSuchTableError:
            raise WriterError(
                f"`parts` with a REST catalog needs Iceberg table {'.'.join(self._identifier(table))!r} to exist "
                "(its location is chosen by the catalog); run once without `parts` first"
            ) from None
        return TableHandle(
            table=table, run_id=run_id, location=_local_or_uri(location), mode=self.options.mode
        )

    def write_file(
        self,
        handle: TableHandle,
        partition: PartitionValues,
        file_index: int,
        batches: Iterable[pa.RecordBatch],
        *,
        only_file: bool = False,
    ) -> FileInfo:
        return self.write_run_file(handle, partition, file_index, batches, subdirectory="data", identity_columns=True)

    def commit(self, handle: TableHandle, files: list[FileInfo]) -> CommitInfo:
        identifier = handle.extra["identifier"]
        name = ".".join(identifier)
        scheme = handle.extra["file_scheme"]
        paths = [scheme + info.path for info in files]
        snapshot_properties = {_RUN_PROPERTY: handle.run_id, _FINGERPRINT_PROPERTY: handle.table.fingerprint}
        fault_point("iceberg.before-commit", handle.table.name)
        try:
            if handle.extra.get("new"):
                transaction = self._stage_create(handle.table)
                previous: Snapshot | None = None
            else:
                iceberg_table = self.catalog.load_table(identifier)
                previous = iceberg_table.current_snapshot()
                if handle.mode == "error" and previous is not None:
                    raise TableExistsError(name, iceberg_table.location(), str(previous.snapshot_id), kind="Iceberg table")
                transaction = iceberg_table.transaction()
                if handle.mode == "append" and _plan_evolution(iceberg_table, handle.table).changed:
                    # In the same catalog commit as the snapshot: the new schema and its rows land together.
                    # pyiceberg updates the name mapping (files carry no field ids) with the new columns.
                    with transaction.update_schema() as update:
                        update.union_by_name(with_field_descriptions(schema_with_partition_columns(handle.table), handle.table, "doc"))
                wanted = self._table_properties()
                if any(iceberg_table.properties.get(key) != value for key, value in wanted.items()):
                    transaction.set_properties(wanted)
            io = transaction._table.io  # the staged table's FileIO for a new table
            data_files = list(parquet_files_to_data_files(io, transaction.table_metadata, iter(paths)))
            if handle.mode == "overwrite" and previous is not None:
                with transaction.update_snapshot(snapshot_properties).overwrite() as producer:
                    for task in iceberg_table.scan().plan_files():
                        producer.delete_data_file(task.file)
                    for data_file in data_files:
                        producer.append_data_file(data_file)
            else:
                with transaction.update_snapshot(snapshot_properties).fast_append() as producer:
                    for data_file in data_files:
                        producer.append_data_file(data_file)
            committed = transaction.commit_transaction()
        except WriterError:
            raise
        except TableAlreadyExistsError:
            raise TableExistsError(name, handle.location, kind="Iceberg table") from None
        except CommitFailedException as exc:
            if self._landed(handle):
                return CommitInfo.from_files(handle.table.name, handle.location, files)
            if handle.extra.get("new"):  # the SQL catalog's word for "created by another run meanwhile"
                raise TableExistsError(name, handle.location, kind="Iceberg table") from None
            raise WriterError(
                f"Iceberg commit of table {name!r} failed: another run committed to it meanwhile ({exc}); "
                "run again"
            ) from exc
        except Exception as exc:  # catalog and validation errors come in many types
            if self._landed(handle):  # the metadata swap happened, the error came after it
                return CommitInfo.from_files(handle.table.name, handle.location, files)
            raise commit_failure(f"Iceberg commit of table {name!r} failed", exc) from exc
        # The catalog points at the new metadata: from here on nothing may raise or delete its files.
        version = after_commit("iceberg", handle.table.name, lambda: self._after_commit(committed))
        return CommitInfo.from_files(handle.table.name, handle.location, files, version=version)

    def _after_commit(self, committed: Table) -> str | None:
        if not self._is_rest():  # this tool chose the location: make the table readable by path
            write_version_hint(self.storage, committed.metadata_location)
        return _snapshot_id(committed)

    def _landed(self, handle: TableHandle) -> bool:
        """Whether a snapshot of the table was committed by this run (its run id in the summary)."""
        try:
            snapshots = self.catalog.load_table(handle.extra["identifier"]).snapshots()
        except Exception:  # absent or unreadable: nothing can be shown to be ours
            return False
        return any(snapshot.summary is not None and snapshot.summary.get(_RUN_PROPERTY) == handle.run_id for snapshot in snapshots)

    def abort(self, handle: TableHandle, files: list[FileInfo]) -> None:
        """Remove this run's data files unless a snapshot of this run references them; drop a table this run
        created (REST catalogs only) while it has no snapshot; remove a new table's directory when empty."""
        if self._landed(handle):
            return
        storage = self.storage
        storage.remove(info.path for info in files)
        if handle.extra.get("created", False):
            with contextlib.suppress(NoSuchTableError):
                if self.catalog.load_table(handle.extra["identifier"]).current_snapshot() is None:
                    self.catalog.drop_table(handle.extra["identifier"])
        elif handle.extra.get("new", False) and not storage.list_files(handle.location):
            storage.remove_tree(handle.location)


def _plan_evolution(existing: Table, table: TableInfo) -> Evolution:
    """What appending this spec's table changes in the Iceberg table's schema (refused: `SchemaEvolutionError`).
    Both sides are rendered by pyiceberg (the spec's through the conversion `union_by_name` itself uses)."""
    current = existing.schema().as_arrow()
    wanted = Catalog._convert_schema_if_needed(schema_with_partition_columns(table)).as_arrow()
    fixed = [*table.partition_columns, *([table.time_column] if table.time_column and table.partition_columns else [])]
    name = ".".join(existing.name())
    return plan_evolution(ICEBERG_RULES, f"Iceberg table {name!r}", current, wanted, fixed=fixed)


def _mask_password(uri: str) -> str:
    scheme, sep, rest = uri.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return uri
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def _snapshot_id(table: Table) -> str | None:
    snapshot = table.current_snapshot()
    return str(snapshot.snapshot_id) if snapshot else None


def partition_fields(table: TableInfo) -> list[tuple[str, Transform[Any, Any], str]]:
    """(source column, transform, partition field name) for the table's Iceberg partition spec."""
    columns = tuple(table.partition_columns)
    if not columns:
        return []
    if table.time_column is not None:
        if columns not in _TIME_TRANSFORMS:
            raise WriterError(f"table {table.name!r}: cannot partition by {','.join(columns)} in Iceberg")
        transform, suffix = _TIME_TRANSFORMS[columns]
        return [(table.time_column, transform, f"{table.time_column}_{suffix}")]
    return [(name, IdentityTransform(), name) for name in columns]


def _scheme(location: str) -> str:
    return "file://" if location.startswith("file://") else ""


def _local_or_uri(location: str) -> str:
    return location[len("file://") :] if location.startswith("file://") else location


def _ensure_namespace(catalog: Catalog, namespace: str) -> None:
    """Create the namespace unless it exists. Two runs creating it at once race inside the catalog (the SQL
    catalog's loser gets the database's unique-constraint error, not NamespaceAlreadyExistsError): a failure
    after which the namespace exists is the other run's success."""
    if catalog.namespace_exists(namespace):
        return
    try:
        catalog.create_namespace_if_not_exists(namespace)
    except Exception:
        if not catalog.namespace_exists(namespace):
            raise
