"""Change-feed runs: `generate --changes --since D1 --until D2` (docs/changes.md).

Into files (Parquet, CSV, JSON lines): a `<table>_changes` table per table, one file per day, written through
the normal runs path (two-phase, each table committed once, an identical re-run skipped).

Into Delta, Iceberg or DuckLake: each day's net changes applied to the existing table as exactly one commit
per table per day, day by day (every table's day D before any table's day D+1). Each commit records its day,
so a killed run leaves every table at a day boundary and the same command continues where it stopped (days
already applied are skipped; a feed that would leave a gap is refused with one line). The day's changes are
computed on the client, one table-day at a time (memory: one day of one table's changes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pyarrow as pa

from .contracts import FileTask, TableInfo
from .engine import Engine
from .errors import ParameterError, WriterError
from .faults import fault_point
from .generation import history
from .generation.changes import FEED_SUFFIX, FeedRuntime, change_schema, day_changes, day_of, feed_days
from .generation.planner import Plan, TablePlan
from .generation.scd2 import Scd2Runtime, scd2_schema, scd2_tables
from .runs import (
    GenerateSummary,
    ProgressCallback,
    RunInterrupted,
    TableSummary,
    deferred_interrupts,
    run_plan,
)
from .writers.base import TableWriter, new_run_id
from .writers.changes import applier_for, next_days


@dataclass(frozen=True)
class FeedWindow:
    """The days of a change feed, both inclusive."""

    since: dt.date
    until: dt.date

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise ParameterError(f"`until` {self.until} is before `since` {self.since}; a change feed needs since <= until")


def feed_plan(plan: Plan, window: FeedWindow) -> Plan:
    """The plan of a feed into files: table `<t>_changes` per table of `plan`, one file per day."""
    runtime = FeedRuntime(plan.runtime, window.since, window.until)
    days = len(feed_days(window.since, window.until))
    tables = []
    for table in plan.tables:
        name = table.name + FEED_SUFFIX
        info = TableInfo(
            name=name,
            schema=change_schema(table.info.schema),
            description=f"the change feed of {table.name}, {window.since} to {window.until}",
            column_descriptions=table.info.column_descriptions,
        )
        files = tuple(FileTask(name, (), day, day, 1) for day in range(days))
        tables.append(TablePlan(name=name, rows=days, info=info, files=files))
    return Plan(dataset=plan.dataset, seed=plan.seed, runtime=runtime, tables=tuple(tables))


def scd2_plan(plan: Plan) -> Plan:
    """A snapshot run's plan with its dimensions (generation/scd2.py) written as their version history up to
    the end of the snapshot's day, each in one unpartitioned file.

    Raises:
        ParameterError: the run is a slice, or the dataset has no dimension whose rows change.
    """
    runtime = plan.runtime
    if runtime.view.since is not None or runtime.view.until is not None:
        raise ParameterError("`scd2=True` writes whole histories: it takes `as_of`, not `since`/`until`")
    names = {table.name for table in plan.tables}
    dimensions = [name for name in scd2_tables(runtime.spec) if name in names]
    if not dimensions:
        raise ParameterError(
            f"`scd2=True`: {runtime.spec.name} has no dimension whose rows change (a table without time column or parent "
            "with changing columns); leave `scd2=True` out"
        )
    history_runtime = Scd2Runtime(runtime, dimensions, day_of(runtime.default_as_of))
    tables = []
    for table in plan.tables:
        if table.name in dimensions:
            info = dataclasses.replace(
                table.info, schema=scd2_schema(table.info.schema), partition_columns=(), time_column=None, expected_rows=0
            )
            table = TablePlan(name=table.name, rows=table.rows, info=info, files=(FileTask(table.name, (), 0, 0, 1, only_file=True),))
        tables.append(table)
    return Plan(dataset=plan.dataset, seed=plan.seed, runtime=history_runtime, tables=tuple(tables))


def run_changes(
    plan: Plan,
    writer: TableWriter,
    engine: Engine,
    window: FeedWindow,
    *,
    chunk_rows: int,
    progress: ProgressCallback | None = None,
    started: float | None = None,
    scd2: bool = False,
) -> GenerateSummary:
    """Write (files) or apply (table formats) the change feed of every table of `plan` over `window`; with
    `scd2`, the dimensions (generation/scd2.py) get their versions closed and opened instead.

    Raises:
        WriterError: a table format's table does not exist yet, or the feed does not continue its days.
        RunInterrupted: Ctrl-C; every day committed before it stays (the command continues on a re-run).
    """
    started = time.perf_counter() if started is None else started
    applier = applier_for(writer)
    if applier is None:
        if scd2:
            raise ParameterError(
                "`scd2=True` with `changes=True` applies to Delta and DuckLake tables; a feed into files already holds every "
                "version (before and after images with _commit_timestamp): leave `scd2=True` out"
            )
        return run_plan(feed_plan(plan, window), writer, engine, chunk_rows=chunk_rows, progress=progress, started=started)
    dimensions = scd2_tables(plan.runtime.spec) if scd2 else []
    if dimensions and not hasattr(applier, "apply_scd2_day"):
        raise ParameterError(f"`scd2=True` with `changes=True` is not implemented for {writer.name} tables (Delta and DuckLake are)")
    with applier.session(writer) as session:
        return _apply(plan, writer, applier, session, window, chunk_rows, started, dimensions)


def _apply(
    plan: Plan,
    writer: TableWriter,
    applier: ModuleType,
    session: Any,
    window: FeedWindow,
    chunk_rows: int,
    started: float,
    dimensions: list[str],
) -> GenerateSummary:
    spec = plan.runtime.spec
    infos = {
        table.name: dataclasses.replace(table.info, schema=scd2_schema(table.info.schema))
        if table.name in dimensions
        else table.info
        for table in plan.tables
    }
    days = feed_days(window.since, window.until)
    iso_days = [day.isoformat() for day in days]
    todo: dict[str, list[str]] = {}
    for table in plan.tables:
        applied = applier.applied_days(session, infos[table.name])
        if applied is None:
            before = window.since - dt.timedelta(days=1)
            raise WriterError(
                f"{writer.name} table {table.name!r} does not exist in {writer.output_uri}; create it first with the "
                f"same command without `changes=True`/`since`/`until` and with `as_of` {before}"
            )
        todo[table.name] = next_days(applied, iso_days, table.name)
    run_id = new_run_id()
    rows = {table.name: 0 for table in plan.tables}
    commits = {table.name: 0 for table in plan.tables}
    versions: dict[str, str | None] = {table.name: None for table in plan.tables}
    done: list[str] = []
    try:
        for number, (day, iso) in enumerate(zip(days, iso_days, strict=True), start=1):
            for table in plan.tables:
                if iso not in todo[table.name]:
                    continue
                schema = change_schema(table.info.schema)
                batches = list(day_changes(plan.runtime, table.name, day, number, chunk_rows))
                changes = pa.Table.from_batches(batches, schema=schema)
                key = history.table_key(spec, table.name)
                fault_point("changes.before-day", table.name)
                apply = applier.apply_scd2_day if table.name in dimensions else applier.apply_day
                with deferred_interrupts():
                    versions[table.name] = apply(session, infos[table.name], key, changes, iso, run_id)
                fault_point("changes.after-day", table.name)
                rows[table.name] += changes.num_rows
                commits[table.name] += 1
                done.append(f"{table.name}@{iso}")
    except KeyboardInterrupt:
        raise RunInterrupted(done) from None
    skipped = [table.name for table in plan.tables if not todo[table.name]]
    return GenerateSummary(
        dataset=plan.dataset,
        writer=writer.name,
        seed=plan.seed,
        tables=tuple(
            TableSummary(table.name, rows[table.name], commits[table.name], 0, writer.storage.join(table.name), versions[table.name])
            for table in plan.tables
        ),
        seconds=time.perf_counter() - started,
        workers=1,
        extra={"changes": {"since": window.since.isoformat(), "until": window.until.isoformat()}}
        | ({"skipped": skipped} if skipped else {}),
    )
