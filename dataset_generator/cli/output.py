"""What the commands print: summaries and the progress bars."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # annotations only: the CLI imports no runtime module until a command needs it
    from ..contracts import FileInfo, FileTask
    from ..generation.planner import Plan
    from ..runs import GenerateSummary
    from ..writers.base import TableWriter


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} TB"


def print_summary(summary: GenerateSummary) -> None:
    skipped = summary.extra.get("skipped")
    if skipped:
        click.echo(f"skipped, already committed by an identical run: {', '.join(skipped)}")
    click.echo(f"{'table':<16} {'rows':>14} {'files':>7} {'size':>10}  location")
    for table in summary.tables:
        version = f" (version {table.version})" if table.version is not None else ""
        click.echo(f"{table.name:<16} {table.rows:>14,} {table.files:>7,} {human_bytes(table.bytes):>10}  {table.location}{version}")
    click.echo(
        f"{'total':<16} {summary.rows:>14,} {summary.files:>7,} {human_bytes(summary.bytes):>10}  "
        f"{summary.seconds:.1f} s, {summary.rows_per_second:,.0f} rows/s, {summary.workers} workers"
    )


def print_catalog(writer: TableWriter) -> None:
    """The catalog a table format committed to (Iceberg, DuckLake), so a reader knows where to find it."""
    describe = getattr(writer, "describe_catalog", None)
    if describe is not None:
        click.echo(f"catalog: {describe()}")


class Progress:
    """A click progress bar per table on a terminal: rows written of rows planned, and the overall rate.

    Files of several tables finish interleaved (the engine runs a child table's files next to its parents'):
    one bar is shown at a time, the others' rows are counted and shown when their turn comes, in the order the
    tables first finished a file; a table's turn ends with its last planned file."""

    def __init__(self) -> None:
        self.planned: dict[str, int] = {}
        self.planned_files: dict[str, int] = {}
        self.bar: Any = None  # click's ProgressBar: its class is private (click._termui_impl)
        self.table: str | None = None
        self.rows = 0
        self.started = time.perf_counter()
        self.done_rows: dict[str, int] = {}
        self.done_files: dict[str, int] = {}
        self.shown_rows = 0
        self.turns: list[str] = []  # tables in the order their bars are shown
        self._next = 0  # position in `turns` of the next bar to show

    def on_plan(self, plan: Plan) -> None:
        self.planned = {table.name: table.rows for table in plan.tables}
        self.planned_files = {table.name: len(table.files) for table in plan.tables}

    def __call__(self, task: FileTask, info: FileInfo) -> None:
        self.rows += info.rows
        self.done_rows[task.table] = self.done_rows.get(task.table, 0) + info.rows
        self.done_files[task.table] = self.done_files.get(task.table, 0) + 1
        if task.table not in self.turns:
            self.turns.append(task.table)
        self._show(flush=False)

    def _show(self, flush: bool) -> None:
        while True:
            if self.table is None:
                if self._next == len(self.turns):
                    return
                self.table = self.turns[self._next]
                self.shown_rows = 0
                self.bar = click.progressbar(
                    length=max(self.planned.get(self.table, 0), 1), label=f"{self.table:<16}", width=24,
                    file=sys.stderr, show_eta=False, item_show_func=self._rate,
                )  # fmt: skip
                self.bar.__enter__()
            table = self.table
            new = self.done_rows.get(table, 0) - self.shown_rows
            if new:
                self.bar.update(new, current_item=new)
                self.shown_rows += new
            if not flush and self.done_files.get(table, 0) < self.planned_files.get(table, 0):
                return
            self.bar.__exit__(None, None, None)
            self.bar = None
            self._next += 1
            self.table = None

    def _rate(self, _item: object) -> str:
        return f"{self.rows / max(time.perf_counter() - self.started, 1e-9):,.0f} rows/s"

    def finish(self) -> None:
        """Show every table's bar that has not been shown (a part of a run, a failed run), and close it."""
        self._show(flush=True)
