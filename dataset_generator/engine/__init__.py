"""Engines run file tasks: `LocalEngine` (threads or processes on this machine) and `DaskEngine` (a cluster).

Both follow `Engine` (engine/base.py). `engine_for` turns the names the CLI and the API take into engines.
"""

from __future__ import annotations

from ..errors import DatasetGeneratorError
from .base import Engine, FileDone, WorkerContext
from .dask import DaskEngine
from .local import LocalEngine, default_workers

ENGINES: tuple[str, ...] = ("local", "dask")


def engine_for(
    name: str, *, workers: int | None = None, worker_type: str = "thread", dask_address: str | None = None
) -> Engine:
    """The engine called `name` ("local" or "dask") with these settings.

    Raises:
        DatasetGeneratorError: an unknown name, a Dask address without the Dask engine, a missing extra.
    """
    if name not in ENGINES:
        raise DatasetGeneratorError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    if dask_address and name != "dask":
        raise DatasetGeneratorError("a Dask scheduler address needs the dask engine")
    if name == "dask":
        return DaskEngine(address=dask_address, workers=workers, worker_type=worker_type)
    return LocalEngine(workers=workers, worker_type=worker_type)


__all__ = ["ENGINES", "DaskEngine", "Engine", "FileDone", "LocalEngine", "WorkerContext", "default_workers", "engine_for"]
