"""Engines run file tasks: `LocalEngine` (threads or processes on this machine) and `DaskEngine` (a cluster).

Both follow `Engine` (engine/base.py). `engine_for` (engine/choice.py) turns the names the CLI and the API take
into engines. The names below are imported on first use (PEP 562): importing a light module of this package
(the CLI starts `dask_workers`' fork server before it imports the API) does not import the generator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Engine, FileDone, WorkerContext
    from .choice import ENGINES, engine_for
    from .dask import DaskEngine
    from .local import LocalEngine, default_workers

_LAZY = {
    "Engine": ".base",
    "FileDone": ".base",
    "WorkerContext": ".base",
    "ENGINES": ".choice",
    "engine_for": ".choice",
    "DaskEngine": ".dask",
    "LocalEngine": ".local",
    "default_workers": ".local",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ENGINES", "DaskEngine", "Engine", "FileDone", "LocalEngine", "WorkerContext", "default_workers", "engine_for"]
