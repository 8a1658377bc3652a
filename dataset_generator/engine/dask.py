"""Run file tasks on a Dask cluster: a throwaway LocalCluster on this machine, or any scheduler by address.

Same contract as `run_local`: every task writes one file through `writer.write_file` on some worker and
hands back a small FileInfo; on failure `GenerationFailed` carries `.written` so the caller can abort.
The WorkerContext (writer, runtime, handles, Faker pools) is scattered once to every worker, so tasks
pickle only their FileTask; at most a window of tasks is in flight, so the scheduler never holds the
whole plan and the client only ever gathers FileInfos.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..contracts import FileInfo, FileTask
from ..errors import DatasetGeneratorError, GenerationFailed
from ..generation.vocab import install_pools, loaded_pools
from .local import FileDone, WorkerContext, _failure, default_workers, write_task

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
        install_pools(context.vocabularies)
        _installed_context = id(context)
    return write_task(context, task)


@contextlib.contextmanager
def dask_client(address: str | None = None, *, workers: int | None = None) -> Iterator[Client]:
    """A client on `address`, or on a LocalCluster of `workers` single-threaded processes on 127.0.0.1."""
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
        cluster = distributed.LocalCluster(
            host="127.0.0.1",
            dashboard_address=None,
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            silence_logs=40,  # logging.ERROR: worker start/stop chatter is not the user's business
        )
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def run_dask(
    context: WorkerContext,
    tasks: Iterable[FileTask],
    *,
    address: str | None = None,
    on_file: FileDone | None = None,
    workers: int | None = None,
    client: Client | None = None,
) -> list[FileInfo]:
    """Run every task on Dask; raise GenerationFailed (with `.written`) once no task of ours is running.

    `client` reuses a connected client (tests, notebooks); otherwise one is made from `address`, or a
    LocalCluster of `workers` processes is started and closed.
    """
    _import_distributed()
    task_list = list(tasks)
    # Faker pools are built once here and shipped with the context, not rebuilt on every worker.
    context.runtime.warm_vocabularies()
    context = replace(context, vocabularies=loaded_pools())
    if client is not None:
        return _run_on(client, context, task_list, on_file)
    with dask_client(address, workers=workers) as own_client:
        return _run_on(own_client, context, task_list, on_file)


def _run_on(
    client: Client, context: WorkerContext, task_list: list[FileTask], on_file: FileDone | None
) -> list[FileInfo]:
    from distributed import as_completed

    written: list[FileInfo] = []
    if not task_list:
        return written
    threads = sum(client.nthreads().values())
    if threads < 1:
        client.wait_for_workers(1, timeout=60)
        threads = sum(client.nthreads().values())
    window = max(2, WINDOW_PER_THREAD * threads)
    run_token = uuid.uuid4().hex[:12]
    # hash=False: two runs with equal contexts must not share (or release) each other's scattered data.
    context_future = client.scatter(context, broadcast=True, hash=False)

    pending: dict[Any, FileTask] = {}
    queue = iter(task_list)

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

    completed = as_completed()
    failure: GenerationFailed | None = None
    try:
        for task in _take(queue, window):
            submit(task)
        for future in completed:
            task = pending.pop(future)
            if failure is not None:
                # Draining after a failure: keep what finished, so the caller can abort it too.
                if future.status == "finished":
                    written.append(future.result())
                continue
            try:
                info = future.result()
            except Exception as exc:
                failure = _failure(task, exc, written)
                failure.__cause__ = exc
                # Submit nothing more, but let the in-flight tasks end: Dask cannot stop a running
                # task, and none may still be writing once the caller aborts the tables.
                continue
            written.append(info)
            if on_file:
                on_file(task, info)
            for next_task in _take(queue, 1):
                submit(next_task)
    except BaseException as exc:
        # Interrupted (Ctrl-C, lost scheduler): cancel what is left, then report what was written.
        with contextlib.suppress(Exception):
            client.cancel(list(pending))
        exc.written = written  # type: ignore[attr-defined]
        raise
    finally:
        with contextlib.suppress(Exception):
            client.cancel([context_future])
    if failure is not None:
        failure.written = written  # type: ignore[attr-defined]
        raise failure
    return written


def _partition_key(task: FileTask) -> str:
    return "_".join(f"{name}={value}" for name, value in task.partition) or "all"


def _take(iterator: Iterator[FileTask], count: int) -> list[FileTask]:
    taken = []
    for task in iterator:
        taken.append(task)
        if len(taken) == count:
            break
    return taken


def benchmark(
    dataset: str = "transactions",
    *,
    rows: int = 5_000_000,
    workers: int | None = None,
    writer_format: str = "null",
    output: str | None = None,
    address: str | None = None,
) -> list[dict[str, Any]]:
    """Rows/s of the local and the Dask engine on the same plan; the benchmark suite calls this.

    `rows` sets the dataset's `rows` parameter (transactions has one). Three runs: local; dask including
    the start and stop of its LocalCluster (what one CLI run pays); dask on a running cluster (what a
    long-lived cluster gives). With `address`, the last two are both on that scheduler.
    """
    import tempfile

    from ..api import generate
    from ..options import WriterOptions
    from ..writers.registry import create_writer

    worker_count = workers or default_workers()

    def measure(label: str, engine: str, dask_address: str | None) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="dg-bench-") as scratch:
            target = output or os.path.join(scratch, "out")
            writer = create_writer(writer_format, output_uri=target, options=WriterOptions(mode="overwrite"))
            started = time.perf_counter()
            summary = generate(
                dataset,
                writer,
                params={"rows": rows},
                workers=worker_count,
                engine=engine,
                dask_address=dask_address,
            )
            seconds = time.perf_counter() - started
        return {
            "engine": label,
            "format": writer_format,
            "workers": worker_count,
            "rows": summary.rows,
            "files": summary.files,
            "seconds": round(seconds, 2),
            "rows_per_second": round(summary.rows / seconds),
        }

    results = [measure("local", "local", None), measure("dask", "dask", address)]
    if address:
        results.append(measure("dask-warm", "dask", address))
    else:
        with dask_client(None, workers=worker_count) as client:
            results.append(measure("dask-warm", "dask", client.scheduler.address))
    return results


def print_benchmark(results: list[dict[str, Any]]) -> None:
    print(
        f"{'engine':<10} {'format':<8} {'workers':>7} {'rows':>12} {'files':>6} {'seconds':>8} {'rows/s':>12}"
    )
    for row in results:
        print(
            f"{row['engine']:<10} {row['format']:<8} {row['workers']:>7} {row['rows']:>12,} {row['files']:>6} "
            f"{row['seconds']:>8.2f} {row['rows_per_second']:>12,}"
        )
