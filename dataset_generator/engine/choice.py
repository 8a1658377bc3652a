"""`engine_for`: the engine a name of the CLI or the API stands for."""

from __future__ import annotations

from ..errors import DatasetGeneratorError
from .base import Engine
from .dask import DaskEngine
from .local import LocalEngine

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
