"""The spec's table and column descriptions, in the shape each format stores them.

- Delta: the table's `description` (metaData) and each column's `comment` field metadata in the schema.
- Iceberg: the table property `comment` and each field's `doc`.
- DuckLake: `COMMENT ON TABLE` / `COMMENT ON COLUMN`.
- Parquet (with the parquet format's `descriptions` option): file key-value metadata
  `dataset_generator.description` (the table's) and `dataset_generator.description.<column>` (each described
  column's), and a `description` in each described column's Arrow field metadata.

Only the catalogs' metadata carries them for the table formats: their data files' bytes do not depend on them.
"""

from __future__ import annotations

import pyarrow as pa

from ..contracts import TableInfo

TABLE_KEY = "dataset_generator.description"
COLUMN_KEY_PREFIX = TABLE_KEY + "."


def with_field_descriptions(schema: pa.Schema, table: TableInfo, key: str) -> pa.Schema:
    """`schema` with metadata `{key: description}` on each described column (other fields unchanged)."""
    described = dict(table.column_descriptions)
    if not described:
        return schema
    fields = [
        field.with_metadata({**(field.metadata or {}), key.encode(): described[field.name].encode()})
        if field.name in described
        else field
        for field in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


def parquet_metadata(table: TableInfo) -> dict[str, str]:
    """The Parquet file key-value metadata of a table's descriptions (empty when it has none)."""
    metadata = {TABLE_KEY: table.description} if table.description else {}
    metadata.update({COLUMN_KEY_PREFIX + name: text for name, text in table.column_descriptions})
    return metadata


def described_parquet_schema(table: TableInfo) -> pa.Schema:
    """The Arrow schema a Parquet file of `table` is written with when descriptions are on."""
    schema = with_field_descriptions(table.schema, table, "description")
    extra = parquet_metadata(table)
    if not extra:
        return schema
    return schema.with_metadata({**(schema.metadata or {}), **{k.encode(): v.encode() for k, v in extra.items()}})
