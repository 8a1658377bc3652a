"""Engines run file tasks: `LocalEngine` (threads or processes on this machine) and `DaskEngine` (a cluster).

Both follow `Engine` (engine/base.py). `engine_for` turns the names the CLI and the API take into engines.
The names below are imported on first use (PEP 562): importing a light module of this package (the CLI starts
`dask_workers`' fork server before it imports the API) does not import the generator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..errors import DatasetGeneratorError

if TYPE_CHECKING:
    from .base import Engine, FileDone, WorkerContext
    from .dask import DaskEngine
    from .local import LocalEngine, default_workers

ENGINES: tuple[str, ...] = ("local", "dask")

_LAZY = {
    "Engine": ".base",
    "FileDone": ".base",
    "WorkerContext": ".base",
    "DaskEngine": ".dask",
    "LocalEngine": ".local",
    "default_workers": ".local",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        from .dask import DaskEngine

        return DaskEngine(address=dask_address, workers=workers, worker_type=worker_type)
    from .local import LocalEngine

    return LocalEngine(workers=workers, worker_type=worker_type)


__all__ = ["ENGINES", "DaskEngine", "Engine", "FileDone", "LocalEngine", "WorkerContext", "default_workers", "engine_for"]
