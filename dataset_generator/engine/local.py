"""Run file tasks on this machine: inline for one worker, a bounded pool of threads (or processes) otherwise.

Each task generates one output file, batch by batch, and streams it to the writer; at most
`2 × workers` tasks are in flight, so memory is bounded by workers × (batch + row group), never by
table size.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ThreadPoolExecutor,
    wait,
)
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from ..contracts import FileInfo, FileTask
from ..errors import DatasetGeneratorError
from ..generation.child_values import parents_first
from ..generation.vocab import install_pools, loaded_pools
from .base import FileDone, WorkerContext, task_failure, write_task

# Below this many rows, parallel workers cost more (pool start-up, or interpreters for processes) than they save.
PARALLEL_MIN_ROWS = 2_000_000
WORKER_TYPES: tuple[str, ...] = ("thread", "process")


def default_workers(planned_rows: int | None = None) -> int:
    """All cores, or one for runs too small to repay starting workers (output is the same either way)."""
    if planned_rows is not None and planned_rows < PARALLEL_MIN_ROWS:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass(frozen=True)
class LocalEngine:
    """Workers on this machine: threads of this process (the default: measured faster and leaner here, see
    docs/performance.md; numpy, Arrow, Polars and the codecs release the GIL) or spawned processes.

    Args:
        workers: parallel workers; None: all cores, or one for runs under 2 M rows (`worker_count`).
        worker_type: "thread" or "process" (this process is one of the workers).

    Raises:
        DatasetGeneratorError: an unknown worker type or a worker count below 1.
    """

    workers: int | None = None
    worker_type: str = "thread"
    name: ClassVar[str] = "local"

    def __post_init__(self) -> None:
        if self.worker_type not in WORKER_TYPES:
            raise DatasetGeneratorError(
                f"unknown worker type {self.worker_type!r}; choose one of {', '.join(WORKER_TYPES)}"
            )
        if self.workers is not None and self.workers < 1:
            raise DatasetGeneratorError(f"workers must be >= 1 (got {self.workers})")

    def worker_count(self, planned_rows: int) -> int:
        """The workers given, else all cores, or one for a run too small to repay starting workers."""
        return self.workers or default_workers(planned_rows)

    def run(self, context: WorkerContext, tasks: Sequence[FileTask], on_file: FileDone) -> None:
        workers = self.worker_count(sum(task.rows for task in tasks))
        if workers <= 1 or len(tasks) <= 1:
            for task in _parents_first(context, tasks, 0):
                _run_here(context, task, on_file)
            return
        context.runtime.warm_vocabularies()  # before any worker starts: pools are built once, not raced
        if self.worker_type == "thread":
            # Threads share the process's store of children made for their parents' aggregates: run a child
            # file soon after its parents' (generation/child_values.py), `workers - 1` parent files behind.
            tasks = _parents_first(context, tasks, workers - 1)
            pool: Executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dataset-generator")
            _drive(pool, lambda task: pool.submit(write_task, context, task), tasks, workers, None, on_file)
            return
        import multiprocessing  # with the process pool: 30-70 ms of imports a thread run never needs
        from concurrent.futures import ProcessPoolExecutor

        process_context = replace(context, vocabularies=loaded_pools())
        # This process is one of the workers: N workers cost N - 1 extra interpreters, not N.
        # spawn, not fork: Polars, deltalake and DuckDB are not fork-safe once the parent has used them.
        processes = ProcessPoolExecutor(
            max_workers=workers - 1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(process_context,),
        )

        def submit(task: FileTask) -> Future[FileInfo]:
            with _sigint_ignored():  # a worker started now inherits "ignore Ctrl-C"
                return processes.submit(_run_in_worker, task)

        _drive(processes, submit, tasks, workers - 1, context, on_file)


def _parents_first(context: WorkerContext, tasks: Sequence[FileTask], lead: int) -> list[FileTask]:
    runtime = context.runtime
    return parents_first(runtime.spec, lambda child, row: int(runtime.parent_of(child, np.array([row]))[0]), tasks, lead)


def _run_here(context: WorkerContext, task: FileTask, on_file: FileDone) -> None:
    try:
        info = write_task(context, task)
    except Exception as exc:
        raise task_failure(task, exc) from exc
    on_file(task, info)


def _drive(
    pool: Executor,
    submit: Callable[[FileTask], Future[FileInfo]],
    tasks: Sequence[FileTask],
    pool_workers: int,
    parent_context: WorkerContext | None,
    on_file: FileDone,
) -> None:
    """Keep each pool worker busy with one task running and one queued (no more: memory stays bounded); with a
    `parent_context`, this thread runs tasks too. Reports every finished file, also while failing."""
    pending: dict[Future[FileInfo], FileTask] = {}
    queue = iter(tasks)

    def collect(done: Iterable[Future[FileInfo]]) -> None:
        for future in done:
            task = pending.pop(future)
            try:
                info = future.result()
            except Exception as exc:
                raise task_failure(task, exc) from exc
            on_file(task, info)

    try:
        while True:
            for task in _take(queue, 2 * pool_workers - len(pending)):
                pending[submit(task)] = task
            collect([future for future in pending if future.done()])
            if parent_context is not None:
                own = next(queue, None)
                if own is not None:
                    _run_here(parent_context, own, on_file)
                    continue
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            collect(done)
    except BaseException:
        # Stop at once: cancel what has not started and wait for running tasks (each finishes its file), so no
        # worker keeps writing after the caller has aborted the tables; report the files they finished.
        pool.shutdown(wait=True, cancel_futures=True)
        for future, task in pending.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                on_file(task, future.result())
        raise
    pool.shutdown(wait=True)


def _take(iterator: Iterator[FileTask], count: int) -> list[FileTask]:
    return list(itertools.islice(iterator, max(count, 0)))


# ------------------------------------------------------------------------------------- process workers

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
