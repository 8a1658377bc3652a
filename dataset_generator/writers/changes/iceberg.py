"""Change feeds into Iceberg tables: ONE overwrite snapshot per table per day, in one catalog commit.

pyiceberg's `delete` + `append` (or `overwrite`, `upsert`) make two snapshots (a delete, then an append), so
time travel would see a state between two days. Instead, one `overwrite` snapshot producer, copy-on-write:
the data files that hold a deleted or updated key (found by a scan filtered on the key, pruned by file stats)
are rewritten without those rows, and the day's new rows (inserts, and postimages with the partition values of
the rows they replace) are added, all in the same snapshot. A day without changes makes an empty overwrite
snapshot. The snapshot summary records the day (`dataset_generator.day`).
"""

from __future__ import annotations

import contextlib
import itertools
import uuid

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression, GreaterThanOrEqual, LessThanOrEqual
from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from ...contracts import TableInfo
from ...errors import WriterError
from ...generation.changes import CHANGE_TYPE, DELETE, INSERT, POSTIMAGE, PREIMAGE
from ..iceberg import IcebergWriter
from ..partitions import schema_with_partition_columns
from ..table_format import after_commit, commit_failure
from . import DAY_PROPERTY, RUN_PROPERTY, TABLE_PROPERTY, with_partition_values


def _load(writer: IcebergWriter, table: TableInfo) -> Table | None:
    try:
        return writer.catalog.load_table(writer._identifier(table))
    except NoSuchTableError:
        return None


def session(writer: IcebergWriter) -> contextlib.AbstractContextManager[IcebergWriter]:
    """What `applied_days` and `apply_day` take: the writer itself (its library holds no connection)."""
    return contextlib.nullcontext(writer)


def applied_days(writer: IcebergWriter, table: TableInfo) -> list[str] | None:
    """The days of change feeds applied to the table (None: no such table, or one without a snapshot)."""
    existing = _load(writer, table)
    if existing is None or existing.current_snapshot() is None:
        return None
    days = []
    for snapshot in existing.snapshots():
        summary = snapshot.summary
        if summary is not None and summary.get(DAY_PROPERTY) is not None and summary.get(TABLE_PROPERTY) == table.name:
            days.append(str(summary.get(DAY_PROPERTY)))
    return days


def _key_filter(keys: pa.Table) -> BooleanExpression:
    """A filter that keeps every file holding one of `keys`: the range of the first key column (cheap to
    bind for each file, unlike an IN list of thousands of literals, and pruned by the files' min/max)."""
    name = keys.column_names[0]
    low, high = pc.min_max(keys[name]).values()
    if low.as_py() is None:
        return AlwaysTrue()
    return And(GreaterThanOrEqual(name, low.as_py()), LessThanOrEqual(name, high.as_py()))  # type: ignore[call-arg]


def _matches(rows: pa.Table, keys: pa.Table) -> pa.Array:
    """Per row of `rows`, whether its key is among `keys`."""
    if keys.num_columns == 1:
        name = keys.column_names[0]
        return pc.is_in(rows[name], keys[name])
    marked = keys.append_column("_dataset_generator_hit", pa.repeat(pa.scalar(True), keys.num_rows))
    position = rows.select(keys.column_names).append_column("_dataset_generator_row", pa.array(range(rows.num_rows)))
    joined = position.join(marked, keys.column_names, join_type="left outer")
    hits = joined.sort_by("_dataset_generator_row")["_dataset_generator_hit"]
    return pc.fill_null(hits, False)


def apply_day(
    writer: IcebergWriter, table: TableInfo, key: list[str], changes: pa.Table, day: str, run_id: str
) -> str | None:
    """Apply one day's net changes to the Iceberg table in one snapshot; returns its id."""
    iceberg_table = _load(writer, table)
    if iceberg_table is None:
        raise WriterError(f"Iceberg table {table.name!r} disappeared while the change feed was applied")
    kinds = changes[CHANGE_TYPE]
    removed = changes.filter(pc.is_in(kinds, pa.array([DELETE, PREIMAGE]))).select(key)
    stored = schema_with_partition_columns(table).names
    extra = [name for name in stored if name not in table.schema.names]
    inserted = with_partition_values(changes.filter(pc.equal(kinds, INSERT)).select(table.schema.names), table, extra, day)
    updated = changes.filter(pc.equal(kinds, POSTIMAGE)).select(table.schema.names)
    properties = {DAY_PROPERTY: day, TABLE_PROPERTY: table.name, RUN_PROPERTY: run_id}
    try:
        transaction = iceberg_table.transaction()
        metadata = transaction.table_metadata
        io = iceberg_table.io
        write_uuid, counter = uuid.uuid4(), itertools.count(0)
        replaced: list[tuple[DataFile, list[DataFile]]] = []
        kept_images: list[pa.Table] = []  # the replaced rows' partition values, for the postimages
        if removed.num_rows:
            scan = ArrowScan(table_metadata=metadata, io=io, projected_schema=metadata.schema(), row_filter=AlwaysTrue())
            for task in iceberg_table.scan(row_filter=_key_filter(removed)).plan_files():
                rows = scan.to_table(tasks=[task])
                hit = _matches(rows, removed)
                if not pc.any(hit).as_py():
                    continue
                kept_images.append(rows.filter(hit).select([*key, *extra]))
                keep = rows.filter(pc.invert(hit))
                files = list(_dataframe_to_data_files(metadata, keep, io, write_uuid, counter)) if keep.num_rows else []
                replaced.append((task.file, files))
        if extra:
            image_schema = pa.schema([*(table.schema.field(name) for name in key), *(pa.field(name, pa.string()) for name in extra)])
            images = pa.concat_tables([image.cast(image_schema) for image in kept_images]) if kept_images else image_schema.empty_table()
            updated = updated.join(images, key, join_type="inner").select(stored)
        target = metadata.schema().as_arrow()
        additions = pa.concat_tables([inserted.select(stored).cast(target), updated.select(stored).cast(target)])
        with transaction.update_snapshot(properties).overwrite() as producer:
            producer.commit_uuid = write_uuid
            for original, files in replaced:
                producer.delete_data_file(original)
                for data_file in files:
                    producer.append_data_file(data_file)
            if additions.num_rows:
                for data_file in _dataframe_to_data_files(metadata, additions, io, write_uuid, counter):
                    producer.append_data_file(data_file)
        committed = transaction.commit_transaction()
    except WriterError:
        raise
    except Exception as exc:  # catalog, validation and IO errors come in many types
        if day in (applied_days(writer, table) or []):  # the metadata swap happened, the error came after it
            return None
        raise commit_failure(f"Iceberg change commit of table {table.name!r} for {day} failed", exc) from exc
    return after_commit("iceberg", table.name, lambda: writer._after_commit(committed))
