"""The neutral contracts every layer may import: small, picklable values that travel between planning,
engines, writers and the runs layer. Nothing here knows a format, an engine or a storage.

    TableInfo      what a writer needs to know about one output table (planned)
    FileTask       one output file to generate: table, partition, row range (planned)
    TableHandle    a table opened by a writer for one run
    FileInfo       one data file written, not yet visible
    CommitInfo     one table committed
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the contracts must not load pyarrow (fast CLI start)
    import pyarrow as pa

PartitionValues = tuple[tuple[str, str], ...]
"""Hive partition values of one file, in partition-column order: (("year", "2024"), ("month", "01"))."""


def partition_path(partition: PartitionValues) -> str:
    """`year=2024/month=01` for (("year", "2024"), ("month", "01")); "" when unpartitioned."""
    return "/".join(f"{name}={value}" for name, value in partition)


@dataclass(frozen=True)
class TableInfo:
    """What a writer needs to know about one output table.

    `schema` holds the visible columns; `partition_columns` the Hive partition columns (year/month/day);
    `time_column` the timestamp they derive from, or None when they are inherited from a parent table;
    `dictionary_columns` low-cardinality columns worth dictionary encoding; `expected_rows` the planned count;
    `fingerprint` identifies what a run writes into the table (dataset, seed, options): writers record it with
    the commit, so that re-running the same command can skip a table an earlier run already committed;
    `description` and `column_descriptions` are the spec's, which table formats store as comments.
    """

    name: str
    schema: pa.Schema
    partition_columns: tuple[str, ...] = ()
    time_column: str | None = None
    dictionary_columns: tuple[str, ...] = ()
    expected_rows: int = 0
    fingerprint: str = ""
    description: str = ""  # the spec's table description (a table comment where the format has one)
    column_descriptions: tuple[tuple[str, str], ...] = ()  # (column, description) of the described columns


@dataclass(frozen=True)
class FileTask:
    """One output file: rows `first_row .. first_row + rows` of `table`, all in `partition`.

    `only_file` marks the single file of an unpartitioned table (named after the table, seed 002's layout).
    """

    table: str
    partition: PartitionValues
    file_index: int
    first_row: int
    rows: int
    only_file: bool = False


@dataclass(frozen=True)
class TableHandle:
    """A table opened by a writer for one run: where its files go and how the mode was resolved.

    `previous_files` are the files a commit replaces (overwrite) or keeps (append); `extra` is the writer's own.
    """

    table: TableInfo
    run_id: str
    location: str
    mode: str
    previous_files: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileInfo:
    """One data file written by `write_file`: where it is staged, where it goes, and what it holds."""

    table: str
    path: str
    staged_path: str
    rows: int
    bytes: int
    partition: PartitionValues = ()
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CommitInfo:
    """One committed table: its location, totals and the format's version (Delta version, snapshot id)."""

    table: str
    location: str
    files: int
    rows: int
    bytes: int
    version: str | None = None

    @classmethod
    def from_files(cls, table: str, location: str, files: Sequence[FileInfo], version: str | None = None) -> CommitInfo:
        """The totals of `files`, committed as `table` at `location`."""
        return cls(
            table=table,
            location=location,
            files=len(files),
            rows=sum(info.rows for info in files),
            bytes=sum(info.bytes for info in files),
            version=version,
        )
