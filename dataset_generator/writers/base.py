"""The writer protocol: two-phase, so that any engine (a local pool, a Dask cluster) can drive it.

    check()                                   on the client, before anything is generated
    open_table(table, run_id=None)            -> TableHandle   on the client, checks the mode
    write_file(handle, partition, i, batches) -> FileInfo      in any worker, one data file, not yet visible
    commit(handle, files)                     -> CommitInfo    on the client, one atomic step per table
    abort(handle, files)                                       removes what this run wrote, nothing else

Handles and FileInfos are small picklable values; writers hold no open resources between calls (a writer is
pickled to worker processes and Dask workers, which rebuild their own storage client).

Where the pieces live: `file_table.py` (plain files with a `_SUCCESS` manifest: Parquet, CSV, JSON lines),
`table_format.py` (Parquet data files committed by a table format: Delta, Iceberg, DuckLake), the encoders
(`parquet_encoding.py`, `text.py`), the partition helpers (`partitions.py`), and each writer's typed target
configuration (`targets.py`).
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from ..contracts import CommitInfo, FileInfo, PartitionValues, TableHandle, TableInfo
from ..errors import WriterError
from ..options import WriterOptions
from ..storage import S3Config, Storage, open_storage
from .targets import WriterTarget, build_target
from .types import check_table_types

if TYPE_CHECKING:  # annotations only: importing the writers' protocol must not load pyarrow (fast CLI start)
    import pyarrow as pa

SUCCESS_MARKER = "_SUCCESS"
"""The manifest a file table's commit writes last, inside the table directory."""
STAGING_DIR = "_staging"
"""Where file tables stage a run, beside the tables: `<output>/_staging/<table>/<run id>/` (outside every
table's glob, so `read_parquet('<table>/**/*.parquet')` never sees a staged or crashed run's files)."""


def new_run_id() -> str:
    """A fresh run id: UTC-free local time to the second and 8 random hex digits (`20240101T120000-1a2b3c4d`)."""
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


class TableWriter(ABC):
    """Base class of every writer.

    A subclass sets `name` (the format name), `description`, and, when it takes options beyond the output
    location, S3 and `WriterOptions`, `target_spec`: a `WriterTarget` dataclass whose fields are the keyword
    arguments of its constructor and, through the CLI, its format flags. It implements `open_table`,
    `write_file`, `commit` and `abort`.

    Args:
        output_uri: a local directory or `s3://bucket/prefix`.
        s3: credentials and endpoint for an S3 output (None: the environment's).
        options: layout and encoding (`WriterOptions()` when None).
        **target: the fields of `target_spec`.
    Raises:
        WriterError: no output location, or a keyword the format does not take.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    target_spec: ClassVar[type[WriterTarget]] = WriterTarget
    # Whether `commit` can take files written elsewhere (by Dask workers or `--parts` runs).
    supports_external_commit: ClassVar[bool] = True

    def __init__(
        self, output_uri: str, s3: S3Config | None = None, options: WriterOptions | None = None, **target: Any
    ) -> None:
        if not output_uri:
            raise WriterError("an output location is required (a directory or s3://bucket/prefix)")
        self.output_uri = output_uri
        self.s3 = s3
        self.options = options or WriterOptions()
        self.target = build_target(self.target_spec, self.name, target)

    @property
    def storage(self) -> Storage:
        """The output's storage, built on first use and never pickled: workers rebuild their own."""
        storage = self.__dict__.get("_storage")
        if storage is None:
            storage = open_storage(self.output_uri, self.s3)
            self.__dict__["_storage"] = storage
        return storage

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_storage", None)
        return state

    def __repr__(self) -> str:
        return f"{type(self).__name__}(output_uri={self.output_uri!r}, options={self.options!r})"

    def check(self) -> None:
        """Fail fast, before any data is generated, when the output cannot be written.

        Raises:
            StorageError: the output location cannot be reached or written.
        """
        self.storage.check_writable()

    def unsupported_type(self, data_type: pa.DataType, nested: bool) -> str | None:
        """Why the format cannot store values of `data_type` and what to use instead, or None when it can
        (every Arrow type the spec language makes, by default). Lists and structs are asked part by part,
        with `nested` true for the parts."""
        return None

    def check_types(self, table: TableInfo) -> None:
        """Refuse, before anything is generated, a column whose type the format cannot store.

        Raises:
            WriterError: one line naming the table, the column, its type and what to use instead.
        """
        check_table_types(self.name, table, self.unsupported_type)

    def is_committed(self, table: TableInfo) -> bool:
        """Whether the table's latest commit was made by an identical run: it records `table.fingerprint`.

        The runs layer skips such a table in mode "error", so re-running a command after a crash between two
        tables' commits works. Writers that record the fingerprint with each commit override this; the
        default (False) keeps the old behaviour: the table exists, and "error" mode refuses it.
        """
        return False

    @abstractmethod
    def open_table(self, table: TableInfo, *, run_id: str | None = None) -> TableHandle:
        """Check the mode against what the target holds and prepare the table for one run (client only).

        Args:
            table: the planned table.
            run_id: the run id to write under; None draws a new one. A `--parts` commit passes the run id the
                parts wrote their files under.
        Returns:
            The handle every `write_file` and the `commit` or `abort` of this table take.
        Raises:
            TableExistsError: mode "error" and the table already exists.
            WriterError: the target holds something else (another format, files not written by this tool), a
                concurrent run holds the table, or an append does not fit the existing table.
        """

    def part_handle(self, table: TableInfo, run_id: str) -> TableHandle:
        """The handle one part of a `--parts` run writes its files with.

        No checks that write and no side effects: parts run uncoordinated, concurrently, in any order; the
        commit re-opens the table with `open_table(table, run_id=run_id)` and checks the mode. The location
        must equal the one `open_table` gives. Writers whose files do not live under `<output>/<table>` override it.

        Raises:
            TableExistsError: the writer can tell without side effects that an "error" run must fail.
        """
        return TableHandle(table=table, run_id=run_id, location=self.storage.join(table.name), mode=self.options.mode)

    @abstractmethod
    def write_file(
        self,
        handle: TableHandle,
        partition: PartitionValues,
        file_index: int,
        batches: Iterable[pa.RecordBatch],
        *,
        only_file: bool = False,
    ) -> FileInfo:
        """Write one data file, invisible to readers until `commit` (any worker, any process).

        Args:
            handle: from `open_table` or `part_handle`.
            partition: the Hive partition values of every row of the file.
            file_index: the file's number within its partition (names are derived from it, never from timing).
            batches: the rows, as record batches of the table's schema.
            only_file: the single file of an unpartitioned table (named after the table where the format can).
        Returns:
            Where the file is staged and goes, its rows, bytes and the format's per-file stats.
        Raises:
            StorageError, OSError: the file could not be written; nothing of it is left behind.
        """

    @abstractmethod
    def commit(self, handle: TableHandle, files: list[FileInfo]) -> CommitInfo:
        """Make `files` the table's new content (overwrite) or add them (append, and a new table), in one step.

        Once the format's commit has landed (the `_SUCCESS` manifest, the Delta log entry, the Iceberg
        metadata swap, the DuckLake transaction), nothing may delete its files.

        Args:
            handle: from `open_table` (with the parts' run id for a `--parts` commit).
            files: every file written for the table in this run, in path order.
        Returns:
            The committed totals and the format's version.
        Raises:
            WriterError: the commit failed before landing (or conflicted with another writer); nothing is visible.
        """

    @abstractmethod
    def abort(self, handle: TableHandle, files: list[FileInfo]) -> None:
        """Remove what this run wrote for the table (its staged files, a table it created and never
        committed); never a file of another run or a foreign file. Safe to call more than once."""
