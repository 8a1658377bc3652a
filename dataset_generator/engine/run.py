"""Engine selection: the API names an engine, this runs the tasks on it. Engines share one contract."""

from __future__ import annotations

from collections.abc import Iterable

from ..contracts import FileInfo, FileTask
from ..errors import DatasetGeneratorError
from .local import FileDone, WorkerContext

ENGINES: tuple[str, ...] = ("local", "dask")


def check_engine(engine: str, dask_address: str | None = None) -> None:
    """Fail before planning, with one line, when the engine is unknown or not installed."""
    if engine not in ENGINES:
        raise DatasetGeneratorError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if dask_address and engine != "dask":
        raise DatasetGeneratorError("--dask-address needs --engine dask")
    if engine == "dask":
        from .dask import _import_distributed

        _import_distributed()


def run_tasks(
    context: WorkerContext,
    tasks: Iterable[FileTask],
    *,
    engine: str = "local",
    workers: int,
    dask_address: str | None = None,
    on_file: FileDone | None = None,
    worker_type: str = "thread",
) -> list[FileInfo]:
    if engine == "dask":
        from .dask import run_dask

        # With an address the cluster's size is the cluster's business; `workers` sizes a LocalCluster.
        return run_dask(context, tasks, address=dask_address, on_file=on_file, workers=workers)
    from .local import run_local

    return run_local(context, tasks, workers=workers, on_file=on_file, worker_type=worker_type)
