"""The Python API: `generate(dataset, writer)` runs spec -> plan -> engine -> writer commit."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contracts import CommitInfo, FileInfo, FileTask, TableHandle
from .errors import DatasetGeneratorError, GenerationFailed
from .generation.planner import DEFAULT_CHUNK_ROWS, Plan, make_plan
from .schemas.loader import load_schema
from .schemas.models import DatasetSpec
from .writers.base import TableWriter


@dataclass(frozen=True)
class TableSummary:
    name: str
    rows: int
    files: int
    bytes: int
    location: str
    version: str | None = None


@dataclass(frozen=True)
class GenerateSummary:
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


ProgressCallback = Callable[[FileTask, FileInfo], None]


def resolve_dataset(
    dataset: str | Path | DatasetSpec,
    *,
    scale: float = 1.0,
    params: Mapping[str, Any] | None = None,
    schema_file: str | Path | None = None,
) -> DatasetSpec:
    if isinstance(dataset, DatasetSpec):
        return dataset
    return load_schema(dataset, schema_file=schema_file, scale=scale, params=params)


def plan_dataset(
    dataset: str | Path | DatasetSpec | None,
    writer: TableWriter,
    *,
    scale: float = 1.0,
    seed: int = 42,
    params: Mapping[str, Any] | None = None,
    schema_file: str | Path | None = None,
    tables: list[str] | None = None,
) -> Plan:
    spec = resolve_dataset(dataset or "", scale=scale, params=params, schema_file=schema_file)
    if tables:
        unknown = [name for name in tables if name not in spec.tables]
        if unknown:
            raise DatasetGeneratorError(f"unknown table {unknown[0]!r}; {spec.name} has {', '.join(spec.tables)}")
    return make_plan(spec, seed=seed, options=writer.options, tables=tables)


def generate(
    dataset: str | Path | DatasetSpec,
    writer: TableWriter,
    *,
    scale: float = 1.0,
    seed: int = 42,
    params: Mapping[str, Any] | None = None,
    workers: int | None = None,
    schema_file: str | Path | None = None,
    tables: list[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: ProgressCallback | None = None,
    engine: str = "local",
    dask_address: str | None = None,
    parts: int | None = None,
    part: int | None = None,
    run_id: str | None = None,
    worker_type: str = "thread",
) -> GenerateSummary:
    """Generate `dataset` (a built-in name, a YAML path, or a DatasetSpec) into `writer`.

    `engine` is "local" (`workers` threads, or processes with `worker_type="process"`) or "dask" (a
    LocalCluster, or the scheduler at `dask_address`).
    With `parts`/`part`, only part `part` of `parts` is written, staged and not committed, plus a manifest;
    `commit_parts` commits all parts at once (see docs/distributed.md).

    Same seed, same data: output does not depend on `workers` or `chunk_rows`. Each table is committed
    once, after all its files are written; on failure nothing is committed and written files are removed.
    """
    from .engine.local import WorkerContext, check_worker_type, default_workers
    from .engine.run import check_engine, run_tasks

    check_engine(engine, dask_address)
    check_worker_type(worker_type)
    if seed < 0:
        raise DatasetGeneratorError(f"seed must be >= 0 (got {seed})")
    if chunk_rows < 1:
        raise DatasetGeneratorError(f"chunk_rows must be >= 1 (got {chunk_rows})")
    if workers is not None and workers < 1:
        raise DatasetGeneratorError(f"workers must be >= 1 (got {workers})")
    started = time.perf_counter()
    plan = plan_dataset(dataset, writer, scale=scale, seed=seed, params=params, schema_file=schema_file, tables=tables)
    on_plan = getattr(progress, "on_plan", None)  # a progress display may want the planned sizes
    if on_plan is not None:
        on_plan(plan)
    worker_count = workers if workers is not None else default_workers(plan.total_rows if engine == "local" else None)
    writer.check()
    if parts is not None or part is not None:
        from .parts import generate_part

        return generate_part(
            plan, writer, scale=scale, params=params, parts=parts, part=part, run_id=run_id, engine=engine,
            dask_address=dask_address, workers=worker_count, chunk_rows=chunk_rows, progress=progress, started=started,
            worker_type=worker_type,
        )  # fmt: skip
    handles: dict[str, TableHandle] = {}
    for table in plan.tables:
        handles[table.name] = writer.open_table(table.info)
    context = WorkerContext(writer=writer, runtime=plan.runtime, handles=handles, chunk_rows=chunk_rows)
    try:
        written = run_tasks(
            context, plan.tasks, engine=engine, workers=worker_count, dask_address=dask_address,
            on_file=progress, worker_type=worker_type,
        )  # fmt: skip
    except BaseException as exc:
        _abort_all(writer, handles, getattr(exc, "written", []))
        raise
    commits = commit_tables(writer, handles, written)
    return GenerateSummary(
        dataset=plan.dataset,
        writer=writer.name,
        seed=seed,
        tables=tuple(_table_summary(commit) for commit in commits),
        seconds=time.perf_counter() - started,
        workers=worker_count,
    )


def commit_tables(writer: TableWriter, handles: dict[str, TableHandle], written: list[FileInfo]) -> list[CommitInfo]:
    by_table: dict[str, list[FileInfo]] = {name: [] for name in handles}
    for info in written:
        by_table[info.table].append(info)
    commits = []
    for name, handle in handles.items():
        # Files in plan order: the commit (and any manifest) does not depend on which worker finished first.
        files = sorted(by_table[name], key=lambda info: info.path)
        try:
            commits.append(writer.commit(handle, files))
        except BaseException:
            remaining = {other: handles[other] for other in list(handles)[len(commits) + 1 :]}
            _abort_all(writer, {name: handle, **remaining}, written)
            raise
    return commits


def commit_parts(writer: TableWriter, *, run_id: str | None = None, discard: bool = False) -> GenerateSummary:
    """Commit a `--parts` run: check every part's manifest is there, then commit each table once."""
    from .parts import commit_parts as commit_staged_parts

    return commit_staged_parts(writer, run_id=run_id, discard=discard)


def _abort_all(writer: TableWriter, handles: dict[str, TableHandle], written: list[FileInfo]) -> None:
    for name, handle in handles.items():
        with contextlib.suppress(Exception):  # cleanup must not hide the original error
            writer.abort(handle, [info for info in written if info.table == name])


def _table_summary(commit: CommitInfo) -> TableSummary:
    return TableSummary(
        name=commit.table, rows=commit.rows, files=commit.files, bytes=commit.bytes, location=commit.location, version=commit.version
    )


__all__ = ["GenerateSummary", "GenerationFailed", "TableSummary", "commit_parts", "generate", "plan_dataset", "resolve_dataset"]
