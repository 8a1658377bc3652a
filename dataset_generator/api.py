"""The Python API: `generate(dataset, writer)` runs spec -> plan -> engine -> writer commit.

`generate` resolves the dataset and the engine, plans, and hands the run to the runs layer (one run) or to
`parts` (one part of a `parts=N` run); `commit_parts` commits a parts run once all its parts are written.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .engine import Engine, LocalEngine, engine_for
from .errors import DatasetGeneratorError, GenerationFailed, ParameterError
from .feeds import FeedWindow, run_changes, scd2_plan
from .generation.history import Moment
from .generation.planner import DEFAULT_CHUNK_ROWS, Plan
from .options import WriterOptions
from .parts import commit_parts as commit_staged_parts
from .parts import generate_part
from .runs import GenerateSummary, ProgressCallback, RunInterrupted, TableSummary, run_plan
from .schemas.loader import load_schema
from .schemas.models import DatasetSpec
from .validation import ValidationReport, validate
from .writers.base import TableWriter
from .writers.sizing import sized_plan


def resolve_dataset(
    dataset: str | Path | DatasetSpec,
    *,
    scale: float = 1.0,
    params: Mapping[str, Any] | None = None,
    schema_file: str | Path | None = None,
) -> DatasetSpec:
    """A DatasetSpec from a built-in name, a YAML path or a spec (returned as it is).

    Raises:
        SpecError: the spec is invalid (the message names file, line, table, column and field).
        ParameterError: a parameter or the scale is invalid.
    """
    if isinstance(dataset, DatasetSpec):
        return dataset
    return load_schema(dataset, schema_file=schema_file, scale=scale, params=params)


def plan_dataset(
    dataset: str | Path | DatasetSpec | None,
    writer: TableWriter | WriterOptions,
    *,
    scale: float = 1.0,
    seed: int = 42,
    params: Mapping[str, Any] | None = None,
    schema_file: str | Path | None = None,
    tables: list[str] | None = None,
    force: bool = False,
    since: Moment | None = None,
    until: Moment | None = None,
    as_of: Moment | None = None,
) -> Plan:
    """The plan of a run: every table's files, partitions and row ranges, before any data exists.

    `writer` may be the writer or just its `WriterOptions`: planning reads the options only, and builds
    no catalog or storage client. `force` lifts the size bound (more than 1 PB or 10^7 files).
    `since`/`until` (days, inclusive) and `as_of` (a day's end or a moment): see `generate`.

    Raises:
        SpecError, ParameterError: an invalid spec, parameter, seed or table name.
        SizeLimitError: the run's estimate passes the size bound and `force` is False.
    """
    if seed < 0:
        raise ParameterError(f"seed must be >= 0 (got {seed})")
    spec = resolve_dataset(dataset or "", scale=scale, params=params, schema_file=schema_file)
    if tables is not None:
        if not tables:
            raise ParameterError("the table list is empty; name at least one table")
        unknown = [name for name in tables if name not in spec.tables]
        if unknown:
            raise ParameterError(f"unknown table {unknown[0]!r}; {spec.name} has {', '.join(spec.tables)}")
    options = writer if isinstance(writer, WriterOptions) else writer.options
    encoder = None if isinstance(writer, WriterOptions) else getattr(writer, "encoder", None)
    window = {"since": since, "until": until, "as_of": as_of}
    return sized_plan(spec, seed=seed, options=options, tables=tables, force=force, encoder=encoder, window=window)


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
    engine: str | Engine = "local",
    dask_address: str | None = None,
    parts: int | None = None,
    part: int | None = None,
    run_id: str | None = None,
    worker_type: str = "thread",
    force: bool = False,
    since: Moment | None = None,
    until: Moment | None = None,
    as_of: Moment | None = None,
    changes: bool = False,
    scd2: bool = False,
) -> GenerateSummary:
    """Generate `dataset` into `writer` and commit each table once.

    Args:
        dataset: a built-in name (`list_datasets()`), a YAML path, or a `load_schema(...)` result.
        writer: from `create_writer(...)`; its `WriterOptions` decide files, codecs, partitioning and mode.
        scale: multiplies the dataset's default sizes; `params` set parameters exactly.
        seed: same seed, same data, whatever the engine, `workers` or `chunk_rows`.
        workers, worker_type: for the local engine: count (default: all cores, one for small runs) and
            "thread" or "process".
        engine: "local", "dask" (a LocalCluster, or the scheduler at `dask_address`), or an `Engine` object
            (`LocalEngine(...)`, `DaskEngine(...)`), whose own settings then apply.
        tables: a subset of the dataset's tables.
        chunk_rows: rows generated per batch (memory only; output is identical).
        progress: called with (task, FileInfo) once per written file; may have `on_plan(plan)`.
        parts, part, run_id: write only part `part` of `parts` (staged, with a manifest, not committed);
            `commit_parts` commits them all at once (see docs/distributed.md).
        force: run even when the estimate passes the size bound (1 PB or 10^7 files).
        since, until: a time slice (dates or "YYYY-MM-DD", inclusive, inside the dataset's range): only the
            rows created in it (time-driven rows of those days, entities that appeared then; a slice from
            the range start also holds everything created before it). Consecutive slices add up to one run.
        as_of: the snapshot time (a date: the end of that day; a datetime: that moment; default the range
            end): entities not created yet or deleted are absent, changing columns hold their value then.
        changes: write the change feed of days `since`..`until` (both required, inclusive; they may pass the
            range end) instead of a snapshot: `<table>_changes` tables for files, one commit per table per day
            applied to the existing Delta/Iceberg/DuckLake tables (docs/changes.md). Takes no `as_of`.
        scd2: dimensions (rows that change, no time column, no parent) as SCD type 2 version histories
            (`valid_from`, `valid_to`, `is_current`): in a snapshot run their history up to `as_of`; with
            `changes` into Delta or DuckLake, a change closes the current version and opens the new one.

    Returns:
        A GenerateSummary: rows, files and bytes per table, seconds, workers.

    Raises:
        SpecError, ParameterError: bad input, before anything is written.
        WriterError, StorageError: the output cannot be written, or a table already exists (mode "error").
        GenerationFailed: a worker failed; nothing was committed and written files were removed.
        RunInterrupted (a KeyboardInterrupt): Ctrl-C; only tables whose commit had landed are kept.
    """
    if chunk_rows < 1:
        raise ParameterError(f"chunk_rows must be >= 1 (got {chunk_rows})")
    if isinstance(engine, str):
        engine = engine_for(engine, workers=workers, worker_type=worker_type, dask_address=dask_address)
    started = time.perf_counter()
    window = None
    if changes:  # since/until are the feed's days, not a slice: the plan is of the whole dataset
        if as_of is not None:
            raise ParameterError("`changes=True` takes `since` and `until`, not `as_of`")
        if parts is not None or part is not None:
            raise ParameterError("`changes=True` does not take `parts` (a feed's days are committed one by one)")
        window = FeedWindow(_day(since, "since"), _day(until, "until"))
        since = until = None
    plan = plan_dataset(
        dataset, writer, scale=scale, seed=seed, params=params, schema_file=schema_file, tables=tables, force=force,
        since=since, until=until, as_of=as_of,
    )
    on_plan = getattr(progress, "on_plan", None)  # a progress display may want the planned sizes
    if on_plan is not None:
        on_plan(plan)
    if isinstance(engine, LocalEngine) and engine.workers is None:
        engine = LocalEngine(workers=engine.worker_count(plan.total_rows), worker_type=engine.worker_type)
    for table in plan.tables:
        writer.check_types(table.info)
    writer.check()
    if window is not None:
        return run_changes(
            plan, writer, engine, window, chunk_rows=chunk_rows, progress=progress, started=started, scd2=scd2
        )
    if scd2:
        if parts is not None or part is not None:
            raise ParameterError("`scd2=True` does not take `parts`")
        plan = scd2_plan(plan)
    if parts is not None or part is not None:
        return generate_part(
            plan, writer, engine, scale=scale, params=params, parts=parts, part=part, run_id=run_id,
            chunk_rows=chunk_rows, progress=progress, started=started,
        )  # fmt: skip
    return run_plan(plan, writer, engine, chunk_rows=chunk_rows, progress=progress, started=started)


def _day(value: Moment | None, name: str) -> dt.date:
    """A feed's day: a date, or "YYYY-MM-DD"."""
    if value is None:
        raise ParameterError(f"a change feed needs --{name} YYYY-MM-DD")
    if isinstance(value, dt.datetime):
        raise ParameterError(f"--{name} of a change feed is a day (YYYY-MM-DD), not a moment")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"--{name} must be a date YYYY-MM-DD (got {value!r})") from None


def commit_parts(writer: TableWriter, *, run_id: str | None = None, discard: bool = False) -> GenerateSummary:
    """Commit a parts run: check every part's manifest is there, then commit each table once.

    `run_id` picks the run when several are pending; `discard` removes the run's staged files instead.

    Raises:
        DatasetGeneratorError: no pending run, or a part is missing (nothing is committed then).
    """
    return commit_staged_parts(writer, run_id=run_id, discard=discard)


__all__ = [
    "DatasetGeneratorError",
    "GenerateSummary",
    "GenerationFailed",
    "RunInterrupted",
    "TableSummary",
    "commit_parts",
    "generate",
    "plan_dataset",
    "resolve_dataset",
    "validate",
    "ValidationReport",
]
