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
    """A click progress bar per table on a terminal: rows written of rows planned, and the overall rate."""

    def __init__(self) -> None:
        self.planned: dict[str, int] = {}
        self.bar: Any = None  # click's ProgressBar: its class is private (click._termui_impl)
        self.table: str | None = None
        self.rows = 0
        self.started = time.perf_counter()

    def on_plan(self, plan: Plan) -> None:
        self.planned = {table.name: table.rows for table in plan.tables}

    def __call__(self, task: FileTask, info: FileInfo) -> None:
        if task.table != self.table:
            self.finish()
            self.table = task.table
            self.bar = click.progressbar(
                length=max(self.planned.get(task.table, 0), 1), label=f"{task.table:<16}", width=24,
                file=sys.stderr, show_eta=False, item_show_func=self._rate,
            )  # fmt: skip
            self.bar.__enter__()
        self.rows += info.rows
        self.bar.update(info.rows, current_item=info.rows)

    def _rate(self, _item: object) -> str:
        return f"{self.rows / max(time.perf_counter() - self.started, 1e-9):,.0f} rows/s"

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
