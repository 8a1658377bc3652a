"""Change feeds: per table and per day D, the net difference between the snapshot at the end of D-1 and the
snapshot at the end of D (docs/changes.md).

    candidates = history.event_rows(runtime, table, D 00:00, D+1 00:00)      rows with any event in D
    exists0, before = history.snapshot(runtime, table, candidates, end of D-1)
    exists1, after  = history.snapshot(runtime, table, candidates, end of D)

A row that exists only after is an `insert`, only before a `delete`; one that exists at both ends and differs in
some visible column gives an `update_preimage` (its values before) followed by an `update_postimage`. Rows are
compared by position: both snapshots are of the same row indices, and a table's key is a function of the row
index, so this is the comparison by `table_key` without a join. Several events of a row in one day collapse to
the net change; a row inserted and deleted within the day gives nothing.

Every change row carries the table's visible columns and `_change_type` (string), `_commit_version` (int64: 1
for the first day of the feed, 2 for the next...) and `_commit_timestamp` (the end of D: D+1 00:00 minus 1 µs).
Everything is vectorized over the candidate rows (numpy masks, Arrow takes, Polars comparisons), in chunks of
`chunk_rows` candidates so memory stays bounded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from . import history
from .layout import EPOCH
from .runtime import DatasetRuntime

CHANGE_TYPE = "_change_type"
COMMIT_VERSION = "_commit_version"
COMMIT_TIMESTAMP = "_commit_timestamp"
CHANGE_COLUMNS = (CHANGE_TYPE, COMMIT_VERSION, COMMIT_TIMESTAMP)
INSERT, DELETE, PREIMAGE, POSTIMAGE = "insert", "delete", "update_preimage", "update_postimage"
DAY_US = 86_400_000_000
_CHANGE_FIELDS = [
    pa.field(CHANGE_TYPE, pa.string()),
    pa.field(COMMIT_VERSION, pa.int64()),
    pa.field(COMMIT_TIMESTAMP, pa.timestamp("us")),
]


def change_schema(schema: pa.Schema) -> pa.Schema:
    """The schema of a table's change feed: its visible columns and the three change columns."""
    return pa.schema(list(schema) + _CHANGE_FIELDS)


def day_start(day: dt.date) -> int:
    """Microseconds since the epoch of `day` 00:00:00 UTC."""
    return (day - EPOCH).days * DAY_US


def day_of(micros: int) -> dt.date:
    """The UTC day holding the instant `micros`."""
    return EPOCH + dt.timedelta(days=micros // DAY_US)


def feed_days(since: dt.date, until: dt.date) -> list[dt.date]:
    """The days of a feed, in order (both ends inclusive); day i has `_commit_version` i + 1."""
    return [since + dt.timedelta(days=offset) for offset in range((until - since).days + 1)]


def day_changes(
    runtime: DatasetRuntime, table: str, day: dt.date, version: int, chunk_rows: int = 65_536
) -> Iterator[pa.RecordBatch]:
    """The net changes of `table` during `day`, as record batches of `change_schema` (candidate-row order:
    each changed row's preimage just before its postimage)."""
    start = day_start(day)
    stop = start + DAY_US
    candidates = history.event_rows(runtime, table, start, stop)
    for first in range(0, len(candidates), chunk_rows):
        index = candidates[first : first + chunk_rows]
        exists_before, before = history.snapshot(runtime, table, index, start - 1)
        exists_after, after = history.snapshot(runtime, table, index, stop - 1)
        batch = diff_rows(exists_before, before, exists_after, after, version, stop - 1)
        if batch.num_rows:
            yield batch


def differs(before: pa.RecordBatch | pa.Table, after: pa.RecordBatch | pa.Table) -> np.ndarray:
    """Per row, whether any column differs between `before` and `after` (same schema, same length; two nulls
    are equal, a null and a value differ). Polars compares every type, lists and structs included."""
    import polars as pl  # on first use: a plain run never pays Polars' import (fast start)

    changed = np.zeros(before.num_rows, dtype=bool)
    if not before.num_rows:
        return changed
    left = pl.from_arrow(pa.table(before) if isinstance(before, pa.RecordBatch) else before)
    right = pl.from_arrow(pa.table(after) if isinstance(after, pa.RecordBatch) else after)
    assert isinstance(left, pl.DataFrame) and isinstance(right, pl.DataFrame)
    for name in left.columns:
        changed |= left.get_column(name).ne_missing(right.get_column(name)).to_numpy()
    return changed


def diff_rows(
    exists_before: np.ndarray,
    before: pa.RecordBatch,
    exists_after: np.ndarray,
    after: pa.RecordBatch,
    version: int,
    commit_micros: int,
) -> pa.RecordBatch:
    """The change rows between two snapshots of the same rows (position i is the same row in both)."""
    exists_before = np.asarray(exists_before, dtype=bool)
    exists_after = np.asarray(exists_after, dtype=bool)
    rows = len(exists_before)
    both = np.flatnonzero(exists_before & exists_after)
    updated = np.zeros(rows, dtype=bool)
    if len(both):
        picks = pa.array(both)
        updated[both] = differs(before.take(picks), after.take(picks))
    inserted = ~exists_before & exists_after
    deleted = exists_before & ~exists_after
    positions = np.flatnonzero(inserted | deleted | updated)
    copies = np.where(updated[positions], 2, 1)
    position = np.repeat(positions, copies)
    # Within an update's pair, the first copy is the preimage (from `before`), the second the postimage.
    second = np.zeros(len(position), dtype=bool)
    second[np.cumsum(copies)[copies == 2] - 1] = True
    from_after = inserted[position] | second
    take = np.where(from_after, position + rows, position)
    kinds = np.where(
        inserted[position], INSERT, np.where(deleted[position], DELETE, np.where(second, POSTIMAGE, PREIMAGE))
    )
    both_images = pa.concat_tables([pa.table(before), pa.table(after.cast(before.schema))])
    values = both_images.take(pa.array(take, pa.int64())).combine_chunks()
    count = len(position)
    columns = [*values.columns]
    columns += [
        pa.array(kinds.tolist() if count else [], pa.string()),
        pa.array(np.full(count, version, dtype=np.int64)),
        pa.array(np.full(count, commit_micros, dtype=np.int64)).cast(pa.timestamp("us")),
    ]
    schema = change_schema(before.schema)
    if not count:
        return pa.RecordBatch.from_arrays([pa.array([], field.type) for field in schema], schema=schema)
    return pa.Table.from_arrays(columns, schema=schema).combine_chunks().to_batches()[0]


def apply_changes(snapshot: pa.Table, changes: pa.Table, key: list[str]) -> pa.Table:
    """`snapshot` with `changes` applied in `_commit_version` order (deletes and preimages remove the key's
    row, inserts and postimages add theirs): what a reader of the feed rebuilds. Polars anti-joins by `key`;
    the result has `snapshot`'s schema."""
    import polars as pl  # on first use: a plain run never pays Polars' import (fast start)

    current = pl.from_arrow(snapshot)
    feed = pl.from_arrow(changes)
    assert isinstance(current, pl.DataFrame) and isinstance(feed, pl.DataFrame)
    columns = current.columns
    for version in sorted(feed.get_column(COMMIT_VERSION).unique().to_list()):
        day = feed.filter(pl.col(COMMIT_VERSION) == version)
        gone = day.filter(pl.col(CHANGE_TYPE).is_in([DELETE, PREIMAGE])).select(key)
        added = day.filter(pl.col(CHANGE_TYPE).is_in([INSERT, POSTIMAGE])).select(columns)
        current = pl.concat([current.join(gone, on=key, how="anti", nulls_equal=True), added])
    return current.to_arrow().cast(snapshot.schema)


FEED_SUFFIX = "_changes"


class FeedRuntime(DatasetRuntime):
    """The runtime of a change-feed run into files: table `<t>_changes` row `i` is day `since + i` of `t`'s
    feed, so a `FileTask(first_row=i, rows=1)` writes that day's changes (any worker, any engine: the file is
    a pure function of the day)."""

    def __init__(self, base: DatasetRuntime, since: dt.date, until: dt.date) -> None:
        super().__init__(base.spec, base.seed, base.layouts)
        self.since = since
        self.until = until

    @property
    def fingerprint_extra(self) -> dict[str, str]:
        """What, beyond the spec and seed, decides the feed's files (in the tables' fingerprints)."""
        return {"changes_since": self.since.isoformat(), "changes_until": self.until.isoformat()}

    def batches(self, table: str, first_row: int, n_rows: int, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        source = table.removesuffix(FEED_SUFFIX)
        for offset in range(first_row, first_row + n_rows):
            day = self.since + dt.timedelta(days=offset)
            yield from day_changes(self, source, day, offset + 1, chunk_rows)
