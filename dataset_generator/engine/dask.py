"""Run file tasks on a Dask cluster: a throwaway LocalCluster on this machine, or any scheduler by address.

Same contract as the local engine (engine/base.py): every file task is written through `writer.write_file` on
some worker and hands back a small FileInfo, reported through `on_file` (also while failing). A Dask task
writes a few consecutive file tasks in turn (up to BUNDLE_ROWS rows): fewer round trips to the scheduler.
The WorkerContext (writer, runtime, handles, Faker pools) is scattered once to every worker, so tasks
pickle only their FileTasks; at most a window of tasks is in flight, so the scheduler never holds the
whole plan and the client only ever gathers FileInfos.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from ..contracts import FileInfo, FileTask
from ..errors import DatasetGeneratorError, GenerationFailed
from ..generation.vocab import install_pools, loaded_pools
from .base import FileDone, WorkerContext, bundle_failure, first_line, task_failure, write_task
from .dask_workers import start_fork_server, start_method, undo_nanny_malloc_trim
from .local import default_workers

if TYPE_CHECKING:
    from distributed import Client

INSTALL_HINT = "pip install 'dataset-generator[dask]'"
# Lost workers and transient storage errors get another chance; a task failing three times fails the run.
TASK_RETRIES = 2
# Tasks in flight per worker thread: enough to hide scheduling latency, small enough to bound memory.
WINDOW_PER_THREAD = 2
# Rows of the files one Dask task writes, one after the other, at most (and at least one file): each task costs
# the scheduler and the client a round trip (80 tasks of 250,000 rows: ~0.5 s of 5 on 2 cores, measured), but
# a run keeps at least 4 tasks per worker thread, so that the last ones still spread over the cluster.
BUNDLE_ROWS = 2_000_000


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


def _dask_write(context: WorkerContext, tasks: tuple[FileTask, ...]) -> list[FileInfo]:
    """Write the files of `tasks` in turn. A failure raises BundleFailed with the files already finished, so
    the client reports them too (the caller aborts every file it was told of)."""
    global _installed_context
    if _installed_context != id(context):
        undo_nanny_malloc_trim()
        install_pools(context.vocabularies)
        _installed_context = id(context)
    finished: list[FileInfo] = []
    for position, task in enumerate(tasks):
        try:
            finished.append(write_task(context, task))
        except Exception as exc:
            raise BundleFailed(position, finished, type(exc).__name__, first_line(exc)) from exc
    return finished


class BundleFailed(Exception):
    """File `position` of a Dask task's files raised `kind: message`; `finished` are the files written before it."""

    def __init__(self, position: int, finished: list[FileInfo], kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.position, self.finished, self.kind, self.message = position, finished, kind, message

    def __reduce__(self) -> tuple[Any, ...]:  # pickled back to the client with its fields (and no cause)
        return (BundleFailed, (self.position, self.finished, self.kind, self.message))


def bundles(tasks: Sequence[FileTask], threads: int) -> list[tuple[FileTask, ...]]:
    """Consecutive tasks grouped into Dask tasks of up to BUNDLE_ROWS rows, at least 4 per worker thread."""
    target = max(1, min(BUNDLE_ROWS, sum(task.rows for task in tasks) // (4 * max(threads, 1))))
    found: list[tuple[FileTask, ...]] = []
    current: list[FileTask] = []
    rows = 0
    for task in tasks:
        current.append(task)
        rows += task.rows
        if rows >= target:
            found.append(tuple(current))
            current, rows = [], 0
    if current:
        found.append(tuple(current))
    return found


@contextlib.contextmanager
def dask_client(address: str | None = None, *, workers: int | None = None, processes: bool = True) -> Iterator[Client]:
    """A client on `address`, or on a LocalCluster of `workers` single-threaded workers on 127.0.0.1: worker
    processes, or (`processes=False`) worker threads of this process, which start in well under a second.

    distributed logs to stderr at INFO by default; its chatter (workers starting and stopping, and comms closed
    while a cluster shuts down, with their tracebacks) is kept below ERROR until the cluster is closed. A
    LocalCluster's own `silence_logs` ends before its last comms close, and then printed a traceback."""
    distributed = _import_distributed()
    from distributed.utils import silence_logging_cmgr

    with silence_logging_cmgr(logging.ERROR):
        if address:
            try:
                # distributed.comm.timeouts.connect (default 30 s) bounds the wait for an unreachable scheduler.
                client = distributed.Client(address)
            except (OSError, TimeoutError) as exc:
                raise DatasetGeneratorError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
            with client:
                yield client
            return
        with (
            _local_cluster(distributed, workers or default_workers(), processes) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client


@contextlib.contextmanager
def _local_cluster(distributed: Any, workers: int, processes: bool) -> Iterator[Any]:
    import dask

    settings = {
        "distributed.worker.multiprocessing-method": start_method() if processes else "spawn",
        # Each worker samples its own threads' stacks every 10 ms for the dashboard's profile; nobody sees it here.
        "distributed.worker.profile.enabled": False,
    }
    with dask.config.set(settings), warnings.catch_warnings():
        # Its internal HTTP server (loopback) moves to a free port when another cluster holds 8787: not news.
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        # Worker threads talk in-process (no socket at all); worker processes over TCP on loopback only.
        network = {"host": "127.0.0.1"} if processes else {}
        cluster = distributed.LocalCluster(
            **network,
            dashboard_address=None,
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            silence_logs=logging.ERROR,
        )
    try:
        yield cluster
    finally:
        cluster.close()


@dataclass(frozen=True)
class DaskEngine:
    """Tasks on a Dask cluster: the scheduler at `address`, or a LocalCluster of `workers` workers on 127.0.0.1
    started and closed by the run; `client` reuses a connected client (tests, notebooks).

    `worker_type` shapes the LocalCluster only: "thread" (default) runs its workers as threads of this process,
    like the local engine's default, so a one-machine run pays no process start-up; "process" starts one
    single-threaded worker process each (what a real cluster's workers are), forked from a fork server on Linux.

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
        if self.worker_type == "process" and self.address is None and self.client is None:
            # This run will start a LocalCluster of processes: its fork server imports while the run plans.
            start_fork_server()

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

    pending: dict[Any, tuple[FileTask, ...]] = {}
    queue = iter(bundles(tasks, threads))

    def submit(bundle: tuple[FileTask, ...]) -> None:
        first = bundle[0]
        future = client.submit(
            _dask_write,
            context_future,
            bundle,
            key=f"dataset-generator-{run_token}-{first.table}-{_partition_key(first)}-{first.file_index}-{len(bundle)}",
            retries=TASK_RETRIES,
            pure=False,
        )
        pending[future] = bundle
        completed.add(future)

    def report(bundle: tuple[FileTask, ...], infos: Sequence[FileInfo]) -> None:
        for task, info in zip(bundle, infos, strict=False):
            on_file(task, info)

    # with_results: each result is fetched in the client's event loop as its task ends, not by a blocking
    # future.result() per task here (about 9 ms each, during which no next task was submitted).
    completed = as_completed(with_results=True, raise_errors=False)
    failure: GenerationFailed | None = None
    try:
        for bundle in itertools.islice(queue, window):
            submit(bundle)
        for future, result in completed:
            bundle = pending.pop(future)
            if future.status == "finished":
                report(bundle, result)
                if failure is None:
                    for next_bundle in itertools.islice(queue, 1):
                        submit(next_bundle)
                continue
            # An error comes back as (type, exception, traceback); a cancelled task as its CancelledError.
            exc = result[1].with_traceback(result[2]) if isinstance(result, tuple) else result
            if isinstance(exc, BundleFailed):
                report(bundle, exc.finished)  # written before the failing file: the caller aborts them too
            if failure is None:
                if isinstance(exc, BundleFailed):
                    failure = bundle_failure(bundle[exc.position], exc.kind, exc.message)
                else:
                    failure = task_failure(bundle[0], exc)
                failure.__cause__ = exc
            # Submit nothing more, but let the in-flight tasks end (draining): Dask cannot stop a running
            # task, and none may still be writing once the caller aborts the tables.
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
