"""Partition helpers shared by the table formats: year/month/day as real columns where a format needs them.

A table partitioned by its own time column derives year/month/day from it (Hive directories, Iceberg and
DuckLake transforms). A child table partitioned by its parent's time has no such column: Iceberg and DuckLake
then store the values as STRING columns in its files, and Delta as STRING partition columns of its schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

from ..contracts import PartitionValues, TableInfo


def identity_partitioned(table: TableInfo) -> bool:
    """True when partition values do not derive from a column of the table (a child partitioned by its
    parent's time): table formats then store year/month/day as real string columns."""
    return bool(table.partition_columns) and table.time_column is None


def schema_with_partition_columns(table: TableInfo) -> pa.Schema:
    """The table's schema, plus year/month/day string columns when it is identity-partitioned."""
    if not identity_partitioned(table):
        return table.schema
    present = set(table.schema.names)
    extra = [pa.field(name, pa.string()) for name in table.partition_columns if name not in present]
    return pa.schema(list(table.schema) + extra)


def add_partition_columns(
    batches: Iterable[pa.RecordBatch], partition: PartitionValues, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """Append the partition values as constant columns, to match `schema_with_partition_columns`.

    Args:
        batches: rows of the table's own schema.
        partition: the file's partition values.
        schema: the widened schema (`schema_with_partition_columns`).
    Returns:
        The same rows with the partition columns appended.
    """
    values = dict(partition)
    for batch in batches:
        constants = [
            pa.repeat(pa.scalar(values.get(field.name), pa.string()), batch.num_rows)
            for field in schema
            if field.name not in batch.schema.names
        ]
        yield pa.RecordBatch.from_arrays([*batch.columns, *constants], schema=schema)
