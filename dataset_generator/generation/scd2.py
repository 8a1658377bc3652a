"""Slowly changing dimensions, type 2 (`--scd2`): a dimension written as its version history.

A dimension here is a table whose rows change after creation and that has no time column and no parent
(ecommerce: customers, products). Its SCD2 form has one row per version: the visible columns plus `valid_from`,
`valid_to` (null for the current version) and `is_current`. Versions follow the day-by-day change feed
(generation/changes.py): a change on day D closes the current version at the end of D (`valid_to`, `is_current`
false) and opens the new one there (`valid_from`); a delete closes it; an insert opens the first one. The
history starts at the range start: the versions current then have a null `valid_from` (their earlier history is
not listed). So `valid_to` of a version equals `valid_from` of the key's next one, at most one version per key
is current, and the current versions are the snapshot at the end of the last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ..schemas.dataset import DatasetSpec
from . import history
from .changes import (
    CHANGE_TYPE,
    COMMIT_TIMESTAMP,
    DELETE,
    INSERT,
    POSTIMAGE,
    PREIMAGE,
    change_schema,
    day_changes,
    day_of,
    day_start,
    feed_days,
)
from .runtime import DatasetRuntime

if TYPE_CHECKING:
    import polars as pl

VALID_FROM, VALID_TO, IS_CURRENT = "valid_from", "valid_to", "is_current"
SCD2_COLUMNS = (VALID_FROM, VALID_TO, IS_CURRENT)


def scd2_schema(schema: pa.Schema) -> pa.Schema:
    """A dimension's SCD2 schema: its visible columns and the three version columns."""
    return pa.schema(
        [*schema, pa.field(VALID_FROM, pa.timestamp("us")), pa.field(VALID_TO, pa.timestamp("us")), pa.field(IS_CURRENT, pa.bool_())]
    )


def scd2_tables(spec: DatasetSpec) -> list[str]:
    """The tables `--scd2` writes as version histories: rows that change, no time column, no parent."""
    return [
        name
        for name, table in spec.tables.items()
        if table.time is None and table.parent is None and history.changes_after_creation(spec, name)
    ]


def close_and_open(versions: pl.DataFrame, changes: pl.DataFrame, key: list[str], columns: list[str]) -> pl.DataFrame:
    """`versions` after one day's `changes`: the current version of every deleted or updated key closed at the
    change's commit time, a version opened for every insert and postimage."""
    import polars as pl  # on first use: a plain run never pays Polars' import (fast start)

    closing = changes.filter(pl.col(CHANGE_TYPE).is_in([DELETE, PREIMAGE])).select(
        [*key, pl.col(COMMIT_TIMESTAMP).alias("_closed_at")]
    )
    if closing.height:
        versions = versions.join(closing, on=key, how="left", maintain_order="left", nulls_equal=True)
        closed = pl.col(IS_CURRENT) & pl.col("_closed_at").is_not_null()
        versions = versions.with_columns(
            pl.when(closed).then(pl.col("_closed_at")).otherwise(pl.col(VALID_TO)).alias(VALID_TO),
            pl.when(closed).then(False).otherwise(pl.col(IS_CURRENT)).alias(IS_CURRENT),
        ).drop("_closed_at")
    opened = changes.filter(pl.col(CHANGE_TYPE).is_in([INSERT, POSTIMAGE])).select(
        [
            *columns,
            pl.col(COMMIT_TIMESTAMP).alias(VALID_FROM),
            pl.lit(None, pl.Datetime("us")).alias(VALID_TO),
            pl.lit(True).alias(IS_CURRENT),
        ]
    )
    return pl.concat([versions, opened])


def version_history(runtime: DatasetRuntime, table: str, last_day: dt.date, chunk_rows: int = 65_536) -> pa.Table:
    """The SCD2 history of `table` from the range start to the end of `last_day`, ordered by key and
    `valid_from` (the versions current at the range start first)."""
    import polars as pl  # on first use: a plain run never pays Polars' import (fast start)

    spec = runtime.spec
    key = history.table_key(spec, table)
    schema = runtime.arrow_schema(table)
    columns = list(schema.names)
    start, _end = history.range_bounds(runtime)
    first_day = day_of(start)
    rows = runtime.layouts[table].rows
    parts = []
    for first in range(0, rows, chunk_rows):
        index = np.arange(first, min(first + chunk_rows, rows), dtype=np.int64)
        exists, batch = history.snapshot(runtime, table, index, day_start(first_day) - 1)
        parts.append(pa.table(batch).filter(pa.array(exists)))
    initial = pl.from_arrow(pa.concat_tables(parts) if parts else schema.empty_table())
    assert isinstance(initial, pl.DataFrame)
    versions = initial.with_columns(
        pl.lit(None, pl.Datetime("us")).alias(VALID_FROM),
        pl.lit(None, pl.Datetime("us")).alias(VALID_TO),
        pl.lit(True).alias(IS_CURRENT),
    )
    for number, day in enumerate(feed_days(first_day, last_day), start=1):
        batches = list(day_changes(runtime, table, day, number, chunk_rows))
        if not batches:
            continue
        changes = pl.from_arrow(pa.Table.from_batches(batches, schema=change_schema(schema)))
        assert isinstance(changes, pl.DataFrame)
        versions = close_and_open(versions, changes, key, columns)
    ordered = versions.sort([*key, VALID_FROM], nulls_last=False, maintain_order=True)
    return ordered.to_arrow().cast(scd2_schema(schema))


class Scd2Runtime(DatasetRuntime):
    """A snapshot run's runtime whose dimension tables (`tables`) are written as their version history up to
    the end of `last_day`, in one task (rows 0..1); every other table as the base runtime writes it."""

    def __init__(self, base: DatasetRuntime, tables: list[str], last_day: dt.date) -> None:
        super().__init__(base.spec, base.seed, base.layouts, base.view)
        self.scd2 = tuple(tables)
        self.last_day = last_day

    @property
    def fingerprint_extra(self) -> dict[str, str]:
        return {"scd2": ",".join(self.scd2), "scd2_until": self.last_day.isoformat()}

    def batches(self, table: str, first_row: int, n_rows: int, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        if table not in self.scd2:
            yield from super().batches(table, first_row, n_rows, chunk_rows)
            return
        yield from version_history(self, table, self.last_day, chunk_rows).to_batches(max_chunksize=chunk_rows)
