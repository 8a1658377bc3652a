"""Run file tasks on a Dask cluster: a throwaway LocalCluster on this machine, or any scheduler by address.

Same contract as the local engine (engine/base.py): every task writes one file through `writer.write_file` on
some worker and hands back a small FileInfo, reported through `on_file` (also while failing).
The WorkerContext (writer, runtime, handles, Faker pools) is scattered once to every worker, so tasks
pickle only their FileTask; at most a window of tasks is in flight, so the scheduler never holds the
whole plan and the client only ever gathers FileInfos.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import sys
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from ..contracts import FileInfo, FileTask
from ..errors import DatasetGeneratorError, GenerationFailed
from ..generation.vocab import install_pools, loaded_pools
from .base import FileDone, WorkerContext, task_failure, write_task
from .local import default_workers

if TYPE_CHECKING:
    from distributed import Client

INSTALL_HINT = "pip install 'dataset-generator[dask]'"
# Lost workers and transient storage errors get another chance; a task failing three times fails the run.
TASK_RETRIES = 2
# Tasks in flight per worker thread: enough to hide scheduling latency, small enough to bound memory.
WINDOW_PER_THREAD = 2


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise DatasetGeneratorError(
            f"the dask engine needs dask.distributed; install it with {INSTALL_HINT}"
        ) from None
    return distributed


# Per worker process: the id of the last context whose Faker pools were installed. The scattered context
# is deserialised once per worker, so installing by identity runs once per worker, not once per task.
_installed_context: int | None = None


def _dask_write(context: WorkerContext, task: FileTask) -> FileInfo:
    global _installed_context
    if _installed_context != id(context):
        _undo_nanny_malloc_trim()
        install_pools(context.vocabularies)
        _installed_context = id(context)
    return write_task(context, task)


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
# glibc's own ceiling for its dynamic mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX), and twice it for
# trimming, which is where the dynamic thresholds of an unconfigured process end up for batch-sized buffers.
_MMAP_THRESHOLD = 32 * 1024 * 1024
_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD


def _undo_nanny_malloc_trim() -> None:
    """A Dask nanny starts its worker with MALLOC_TRIM_THRESHOLD_=65536 (distributed.nanny.pre-spawn-environ).
    Setting it switches glibc's dynamic mmap threshold off: every buffer above 128 KiB (each column of each
    batch) is then mmap'ed and unmapped again, page faults and all: 2.6-2.8 s of system time instead of
    0.5-0.6 s for 5 M `transactions` rows in one worker here (docs/performance.md). Restore the thresholds an
    unconfigured process reaches; the worker keeps at most about 64 MiB of freed heap per arena instead of
    returning it at once."""
    if not sys.platform.startswith("linux") or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to undo
        return


@contextlib.contextmanager
def dask_client(address: str | None = None, *, workers: int | None = None, processes: bool = True) -> Iterator[Client]:
    """A client on `address`, or on a LocalCluster of `workers` single-threaded workers on 127.0.0.1: worker
    processes, or (`processes=False`) worker threads of this process, which start in well under a second."""
    distributed = _import_distributed()
    if address:
        try:
            # distributed.comm.timeouts.connect (default 30 s) bounds the wait for an unreachable scheduler.
            client = distributed.Client(address)
        except (OSError, TimeoutError) as exc:
            raise DatasetGeneratorError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        with client:
            yield client
        return
    import dask

    # spawn, not fork: deltalake and DuckDB panic or deadlock in a forked child once the parent used them.
    # (spawn is distributed's default too; pinned so a user's dask config cannot switch it to fork.)
    with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}), warnings.catch_warnings():
        # Its internal HTTP server (loopback) moves to a free port when another cluster holds 8787: not news.
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        # Worker threads talk in-process (no socket at all); worker processes over TCP on loopback only.
        network = {"host": "127.0.0.1"} if processes else {}
        cluster = distributed.LocalCluster(
            **network,
            dashboard_address=None,
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=processes,
            silence_logs=40,  # logging.ERROR: worker start/stop chatter is not the user's business
        )
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close()


@dataclass(frozen=True)
class DaskEngine:
    """Tasks on a Dask cluster: the scheduler at `address`, or a LocalCluster of `workers` workers on 127.0.0.1
    started and closed by the run; `client` reuses a connected client (tests, notebooks).

    `worker_type` shapes the LocalCluster only: "thread" (default) runs its workers as threads of this process,
    like the local engine's default, so a one-machine run pays no process start-up; "process" spawns one
    single-threaded worker process each (what a real cluster's workers are).

    Raises:
        DatasetGeneratorError: dask.distributed is not installed, or the scheduler cannot be reached.
    """

    address: str | None = None
    workers: int | None = None
    client: Client | None = field(default=None, compare=False)
    worker_type: str = "thread"
    name: ClassVar[str] = "dask"

    def __post_init__(self) -> None:
        _import_distributed()  # fail before planning when the extra is missing
        if self.workers is not None and self.workers < 1:
            raise DatasetGeneratorError(f"workers must be >= 1 (got {self.workers})")
        if self.worker_type not in ("thread", "process"):
            raise DatasetGeneratorError(f"unknown worker type {self.worker_type!r}; choose thread or process")

    def worker_count(self, planned_rows: int) -> int:
        """The LocalCluster's size; with an address the cluster's size is the cluster's business."""
        return self.workers or default_workers()

    def run(self, context: WorkerContext, tasks: Sequence[FileTask], on_file: FileDone) -> None:
        # Faker pools are built once here and shipped with the context, not rebuilt on every worker.
        context.runtime.warm_vocabularies()
        context = replace(context, vocabularies=loaded_pools())
        if self.client is not None:
            _run_on(self.client, context, tasks, on_file)
            return
        with dask_client(self.address, workers=self.workers, processes=self.worker_type == "process") as own_client:
            _run_on(own_client, context, tasks, on_file)


def _run_on(client: Client, context: WorkerContext, tasks: Sequence[FileTask], on_file: FileDone) -> None:
    from distributed import as_completed

    if not tasks:
        return
    threads = sum(client.nthreads().values())
    if threads < 1:
        client.wait_for_workers(1, timeout=60)
        threads = sum(client.nthreads().values())
    window = max(2, WINDOW_PER_THREAD * threads)
    run_token = uuid.uuid4().hex[:12]
    # hash=False: two runs with equal contexts must not share (or release) each other's scattered data.
    context_future = client.scatter(context, broadcast=True, hash=False)

    pending: dict[Any, FileTask] = {}
    queue = iter(tasks)

    def submit(task: FileTask) -> None:
        future = client.submit(
            _dask_write,
            context_future,
            task,
            key=f"dataset-generator-{run_token}-{task.table}-{_partition_key(task)}-{task.file_index}",
            retries=TASK_RETRIES,
            pure=False,
        )
        pending[future] = task
        completed.add(future)

    # with_results: each result is fetched in the client's event loop as its task ends, not by a blocking
    # future.result() per task here (about 9 ms each, during which no next task was submitted).
    completed = as_completed(with_results=True, raise_errors=False)
    failure: GenerationFailed | None = None
    try:
        for task in itertools.islice(queue, window):
            submit(task)
        for future, result in completed:
            task = pending.pop(future)
            if failure is not None:
                # Draining after a failure: report what finished, so the caller can abort it too.
                if future.status == "finished":
                    on_file(task, result)
                continue
            if future.status != "finished":
                # An error comes back as (type, exception, traceback); a cancelled task as its CancelledError.
                exc = result[1].with_traceback(result[2]) if isinstance(result, tuple) else result
                failure = task_failure(task, exc)
                failure.__cause__ = exc
                # Submit nothing more, but let the in-flight tasks end: Dask cannot stop a running
                # task, and none may still be writing once the caller aborts the tables.
                continue
            on_file(task, result)
            for next_task in itertools.islice(queue, 1):
                submit(next_task)
    except BaseException:
        # Interrupted (Ctrl-C, lost scheduler): cancel what is left.
        with contextlib.suppress(Exception):
            client.cancel(list(pending))
        raise
    finally:
        with contextlib.suppress(Exception):
            client.cancel([context_future])
    if failure is not None:
        raise failure


def _partition_key(task: FileTask) -> str:
    return "_".join(f"{name}={value}" for name, value in task.partition) or "all"
