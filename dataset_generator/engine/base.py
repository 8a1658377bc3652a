"""The engine contract: run file tasks somewhere, report every written file through a callback.

    engine.run(context, tasks, on_file)

`context` is everything a worker needs (writer, dataset runtime, open table handles, batch size); each task
writes one data file through `writer.write_file`. The engine calls `on_file(task, info)` once for every file
that was written, in the caller's thread, including files that finished while the run was failing, so the
caller alone owns the list of written files (to commit, or to abort). It returns when every task is done; on a
failure it raises only once none of its tasks is still running. Engines know nothing about formats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ..contracts import FileInfo, FileTask, TableHandle
from ..errors import GenerationFailed
from ..generation.runtime import DatasetRuntime
from ..writers.base import TableWriter

FileDone = Callable[[FileTask, FileInfo], None]
"""Called once per written file, with the task that wrote it and the writer's FileInfo."""


@dataclass(frozen=True)
class WorkerContext:
    """What every worker needs, shipped once per worker (pickled to processes and Dask workers).

    `vocabularies` carries prebuilt Faker pools to workers that cannot share this process's memory.
    """

    writer: TableWriter
    runtime: DatasetRuntime
    handles: dict[str, TableHandle]
    chunk_rows: int
    vocabularies: dict[Any, Any] = field(default_factory=dict)


class Engine(Protocol):
    """Runs file tasks; `LocalEngine` and `DaskEngine` are the built-in ones."""

    name: ClassVar[str]

    def worker_count(self, planned_rows: int) -> int:
        """The parallelism a run of `planned_rows` rows gets (reported in summaries)."""
        ...

    def run(self, context: WorkerContext, tasks: Sequence[FileTask], on_file: FileDone) -> None:
        """Write every task's file; call `on_file` for each written file.

        Raises:
            GenerationFailed: a task failed (its cause chained); raised once no task is running.
            KeyboardInterrupt: interrupted; in-flight tasks finished (and were reported) first.
        """
        ...


def write_task(context: WorkerContext, task: FileTask) -> FileInfo:
    """Generate one file's rows and write them. Pure in (plan, task): any worker gives the same file."""
    batches = context.runtime.batches(task.table, task.first_row, task.rows, context.chunk_rows)
    return context.writer.write_file(
        context.handles[task.table], task.partition, task.file_index, batches, only_file=task.only_file
    )


def task_failure(task: FileTask, exc: BaseException) -> GenerationFailed:
    """A one-line GenerationFailed naming the table, partition and file of the task that raised `exc`."""
    return bundle_failure(task, type(exc).__name__, first_line(exc))


def first_line(exc: BaseException) -> str:
    """The first line of an exception's text ('' for none): all of it a one-line error shows."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def bundle_failure(task: FileTask, kind: str, message: str) -> GenerationFailed:
    """task_failure from an exception's type name and first line (what a Dask task's files send back)."""
    where = f"table {task.table!r}"
    if task.partition:
        where += " partition " + "/".join(f"{name}={value}" for name, value in task.partition)
    return GenerationFailed(f"generation failed in {where}, file {task.file_index}: {kind}: {message or kind}")
