"""The runs layer: drive one run of a plan through an engine into a writer, and commit or abort its tables.

    open every table -> engine.run(tasks) -> commit each table once  (or abort every uncommitted table)

The caller owns the list of written files: it is collected through the engine's `on_file` callback, so a
failure never loses track of a file that must be removed. A commit is the point of no return: once a table's
commit returned it is never aborted, and Ctrl-C during a commit waits for it to finish (signals deferred).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from .contracts import CommitInfo, FileInfo, FileTask, TableHandle, TableInfo
from .engine import Engine, WorkerContext
from .errors import WriterError
from .faults import fault_point
from .generation.planner import Plan
from .writers.base import TableWriter

ProgressCallback = Callable[[FileTask, FileInfo], None]
"""Called once per written file. An object with an `on_plan(plan)` method also learns the planned sizes."""


@dataclass(frozen=True)
class TableSummary:
    """One table of a run: rows, files and bytes written, where, and the format's version if committed."""

    name: str
    rows: int
    files: int
    bytes: int
    location: str
    version: str | None = None

    @classmethod
    def from_commit(cls, commit: CommitInfo) -> TableSummary:
        return cls(commit.table, commit.rows, commit.files, commit.bytes, commit.location, commit.version)


@dataclass(frozen=True)
class GenerateSummary:
    """What a run did: its tables, the wall time, the workers, and run details (`extra`: parts, run id)."""

    dataset: str
    writer: str
    seed: int
    tables: tuple[TableSummary, ...]
    seconds: float
    workers: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)

    @property
    def bytes(self) -> int:
        return sum(table.bytes for table in self.tables)

    @property
    def files(self) -> int:
        return sum(table.files for table in self.tables)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run; `committed` names the tables whose commit had already landed (kept as they are)."""

    def __init__(self, committed: Sequence[str] = ()) -> None:
        super().__init__()
        self.committed = tuple(committed)


class Collector:
    """The files a run wrote, collected through the engine's `on_file` and forwarded to `progress`."""

    def __init__(self, progress: ProgressCallback | None = None) -> None:
        self.files: list[FileInfo] = []
        self._progress = progress
        self._lock = threading.Lock()

    def __call__(self, task: FileTask, info: FileInfo) -> None:
        with self._lock:
            self.files.append(info)
        if self._progress is not None:
            self._progress(task, info)


def run_tasks(
    engine: Engine,
    context: WorkerContext,
    tasks: Sequence[FileTask],
    progress: ProgressCallback | None = None,
) -> list[FileInfo]:
    """Run `tasks` on `engine`; return the written files. On failure, remove what was written and re-raise.

    Only the files this call wrote are removed (not the tables' other staging): `--parts` runs share it.
    """
    collector = Collector(progress)
    try:
        engine.run(context, tasks, collector)
    except BaseException:
        with contextlib.suppress(Exception):  # cleanup must not hide the original error
            context.writer.storage.remove(info.staged_path for info in collector.files)
        raise
    return collector.files


def run_plan(
    plan: Plan,
    writer: TableWriter,
    engine: Engine,
    *,
    chunk_rows: int,
    progress: ProgressCallback | None = None,
    started: float | None = None,
) -> GenerateSummary:
    """Write every table of `plan` with `engine` and commit each table once.

    Tables that an identical earlier run already committed (see `fingerprinted`) are skipped in mode
    "error" and named in the summary's `extra["skipped"]`.

    Returns:
        The summary of the committed tables.
    Raises:
        GenerationFailed: a worker failed; no table was committed and written files were removed.
        RunInterrupted: Ctrl-C; tables committed before it are kept, the others aborted.
        DatasetGeneratorError: a table could not be opened or committed (tables committed before it are kept).
    """
    started = time.perf_counter() if started is None else started
    infos = fingerprinted(plan, writer)
    # Re-running a command after a crash between two tables' commits: the tables already committed by an
    # identical run are skipped, not refused ("error" mode) and not written twice.
    skipped = [name for name, info in infos.items() if writer.options.mode == "error" and writer.is_committed(info)]
    handles: dict[str, TableHandle] = {}
    try:
        for name, info in infos.items():
            if name not in skipped:
                handles[name] = writer.open_table(info)
    except BaseException:
        abort_tables(writer, handles, [])
        raise
    context = WorkerContext(writer=writer, runtime=plan.runtime, handles=handles, chunk_rows=chunk_rows)
    collector = Collector(progress)
    try:
        engine.run(context, [task for task in plan.tasks if task.table in handles], collector)
    except KeyboardInterrupt:
        abort_tables(writer, handles, collector.files)
        raise RunInterrupted() from None
    except BaseException:
        abort_tables(writer, handles, collector.files)
        raise
    commits = commit_tables(writer, handles, collector.files)
    return GenerateSummary(
        dataset=plan.dataset,
        writer=writer.name,
        seed=plan.seed,
        tables=tuple(TableSummary.from_commit(commit) for commit in commits),
        seconds=time.perf_counter() - started,
        workers=engine.worker_count(plan.total_rows),
        extra={"skipped": skipped} if skipped else {},
    )


def fingerprinted(plan: Plan, writer: TableWriter) -> dict[str, TableInfo]:
    """Each table's TableInfo with its fingerprint: a digest of everything that decides the table's rows and
    files (the resolved spec, the seed, the table, the writer and its options but the mode)."""
    options = {key: value for key, value in dataclasses.asdict(writer.options).items() if key != "mode"}
    common = {"spec": plan.runtime.spec.model_dump(mode="json"), "seed": plan.seed, "writer": writer.name, "options": options}
    view = plan.runtime.view
    if (view.as_of, view.since, view.until) != (None, None, None):
        # A slice or a snapshot is another output: a second slice is never skipped as already committed.
        common["view"] = {"as_of": view.as_of, "since": view.since, "until": view.until}
    common.update(getattr(plan.runtime, "fingerprint_extra", {}))  # a change feed's window (generation/changes.py)
    return {
        table.name: dataclasses.replace(table.info, fingerprint=identity_digest({**common, "table": table.name})[:32])
        for table in plan.tables
    }


def identity_digest(identity: dict[str, Any]) -> str:
    """The SHA-256 (hex) of a JSON description of what decides a run's output: fingerprints and run ids."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def commit_tables(writer: TableWriter, handles: dict[str, TableHandle], written: list[FileInfo]) -> list[CommitInfo]:
    """Commit each table of `handles` with its files (in path order, so commits do not depend on which
    worker finished first). A table whose commit raised, and every table after it, is aborted; tables
    committed before it stay committed, and the error says which they are.

    Raises:
        RunInterrupted: Ctrl-C (deferred while a commit runs, honoured between commits).
        WriterError: a commit failed after other tables had been committed (the cause chained).
    """
    by_table: dict[str, list[FileInfo]] = {name: [] for name in handles}
    for info in written:
        by_table[info.table].append(info)
    commits: list[CommitInfo] = []
    names = list(handles)
    for name in names:
        files = sorted(by_table[name], key=lambda info: info.path)
        try:
            fault_point("commit.before", name)
            with deferred_interrupts():
                commits.append(writer.commit(handles[name], files))
            fault_point("commit.after", name)
        except BaseException as exc:
            # A commit that returned has landed (an interrupt held during it is raised after it): never abort it.
            uncommitted = names[len(commits) :]
            abort_tables(writer, {other: handles[other] for other in uncommitted}, written)
            done = [commit.table for commit in commits]
            if isinstance(exc, KeyboardInterrupt):
                raise RunInterrupted(done) from None
            if done and not isinstance(exc, RunInterrupted):
                raise WriterError(f"{exc} (committed before this failure: {', '.join(done)}; the others were not)") from exc
            raise
    return commits


def abort_tables(writer: TableWriter, handles: dict[str, TableHandle], written: list[FileInfo]) -> None:
    """Abort every table of `handles` with the files written for it, and any upload this process left
    unfinished (object stores); errors of the cleanup are swallowed so that they never hide the error that
    made the run fail."""
    for name, handle in handles.items():
        with contextlib.suppress(Exception):
            writer.abort(handle, [info for info in written if info.table == name])
    with contextlib.suppress(Exception):
        writer.storage.abort_own_uploads()


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold SIGINT until the block ends, then raise KeyboardInterrupt: a commit either lands or fails as a
    whole. Outside the main thread signals cannot be handled, and the block just runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
