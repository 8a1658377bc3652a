"""Run file tasks on this machine: inline for one worker, a bounded pool of threads (or processes) otherwise.

Each task generates one output file, batch by batch, and streams it to the writer; at most
`2 × workers` tasks are in flight, so memory is bounded by workers × (batch + row group), never by
table size. Engines know nothing about formats: they call `writer.write_file` and hand back FileInfos.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from ..contracts import FileInfo, FileTask, TableHandle
from ..errors import DatasetGeneratorError, GenerationFailed
from ..generation.runtime import DatasetRuntime
from ..generation.vocab import install_pools, loaded_pools
from ..writers.base import TableWriter

FileDone = Callable[[FileTask, FileInfo], None]


@dataclass(frozen=True)
class WorkerContext:
    writer: TableWriter
    runtime: DatasetRuntime
    handles: dict[str, TableHandle]
    chunk_rows: int
    vocabularies: dict[Any, Any] = field(default_factory=dict)


def write_task(context: WorkerContext, task: FileTask) -> FileInfo:
    """Generate one file's rows and write them. Pure in (plan, task): any worker gives the same file."""
    batches = context.runtime.batches(task.table, task.first_row, task.rows, context.chunk_rows)
    return context.writer.write_file(
        context.handles[task.table], task.partition, task.file_index, batches, only_file=task.only_file
    )


_worker_context: WorkerContext | None = None


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ctrl-C reaches the whole process group. Workers must not die mid-file with a traceback: they ignore
    SIGINT (inherited at spawn, so even a worker still importing ignores it), finish their file, and the
    parent, which alone handles Ctrl-C, aborts the run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _init_worker(context: WorkerContext) -> None:
    global _worker_context
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    install_pools(context.vocabularies)
    _worker_context = context


def _run_in_worker(task: FileTask) -> FileInfo:
    assert _worker_context is not None
    return write_task(_worker_context, task)


# Below this many rows, parallel workers cost more (pool start-up, or interpreters for processes) than they save.
PARALLEL_MIN_ROWS = 2_000_000
WORKER_TYPES: tuple[str, ...] = ("thread", "process")


def check_worker_type(worker_type: str) -> None:
    if worker_type not in WORKER_TYPES:
        raise DatasetGeneratorError(f"unknown worker type {worker_type!r}; choose one of {', '.join(WORKER_TYPES)}")


def default_workers(planned_rows: int | None = None) -> int:
    """All cores, or one for runs too small to repay starting workers (output is the same either way)."""
    if planned_rows is not None and planned_rows < PARALLEL_MIN_ROWS:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_local(
    context: WorkerContext,
    tasks: Iterable[FileTask],
    *,
    workers: int,
    on_file: FileDone | None = None,
    worker_type: str = "thread",
) -> list[FileInfo]:
    """Run every task on `workers` threads (the default: measured faster and leaner here, see
    docs/performance.md: numpy, Arrow, Polars and the codecs release the GIL) or processes.

    On failure, raise GenerationFailed after the pool has stopped. The FileInfos of files already written
    are attached to the exception (`.written`) so the caller can abort them."""
    check_worker_type(worker_type)
    task_list = list(tasks)
    written: list[FileInfo] = []

    def record(task: FileTask, info: FileInfo) -> None:
        written.append(info)
        if on_file:
            on_file(task, info)

    def run_here(task: FileTask) -> None:
        try:
            info = write_task(context, task)
        except Exception as exc:
            raise _failure(task, exc, written) from exc
        record(task, info)

    if workers <= 1 or len(task_list) <= 1:
        for task in task_list:
            run_here(task)
        return written

    context.runtime.warm_vocabularies()  # before any worker starts: pools are built once, not raced
    pool: Executor
    if worker_type == "thread":
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dataset-generator")

        def submit(task: FileTask) -> Future[FileInfo]:
            return pool.submit(write_task, context, task)

        pool_workers, parent_works = workers, False
    else:
        process_context = replace(context, vocabularies=loaded_pools())
        # This process is one of the workers: N workers cost N - 1 extra interpreters, not N.
        # spawn, not fork: Polars, deltalake and DuckDB are not fork-safe once the parent has used them.
        pool = ProcessPoolExecutor(
            max_workers=workers - 1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(process_context,),
        )

        def submit(task: FileTask) -> Future[FileInfo]:
            with _sigint_ignored():  # a worker started now inherits "ignore Ctrl-C"
                return pool.submit(_run_in_worker, task)

        pool_workers, parent_works = workers - 1, True
    pending: dict[Future[FileInfo], FileTask] = {}
    queue = iter(task_list)

    def collect(done: Iterable[Future[FileInfo]]) -> None:
        for future in done:
            task = pending.pop(future)
            try:
                info = future.result()
            except Exception as exc:
                raise _failure(task, exc, written) from exc
            record(task, info)

    try:
        while True:
            # Keep each worker busy with one task running and one queued; no more, so memory stays bounded.
            for task in _take(queue, 2 * pool_workers - len(pending)):
                pending[submit(task)] = task
            collect([future for future in pending if future.done()])
            own = next(queue, None) if parent_works else None
            if own is not None:
                run_here(own)
                continue
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            collect(done)
    except BaseException as exc:
        # Stop at once: cancel what has not started and wait for running tasks (each finishes its file),
        # so no worker keeps writing after the caller has aborted the tables.
        pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:
            if future.done() and not future.cancelled() and future.exception() is None:
                written.append(future.result())
        exc.written = written  # type: ignore[attr-defined]
        raise
    pool.shutdown(wait=True)
    return written


def _take(iterator: Iterator[FileTask], count: int) -> list[FileTask]:
    return list(itertools.islice(iterator, max(count, 0)))


def _failure(task: FileTask, exc: BaseException, written: list[FileInfo]) -> GenerationFailed:
    where = f"table {task.table!r}" + (f" partition {'/'.join(f'{k}={v}' for k, v in task.partition)}" if task.partition else "")
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    failure = GenerationFailed(f"generation failed in {where}, file {task.file_index}: {type(exc).__name__}: {message}")
    failure.written = written  # type: ignore[attr-defined]
    return failure
