"""How a LocalCluster's worker processes start, and what a Dask worker process undoes of its nanny's set-up.

Never fork: deltalake and DuckDB panic or deadlock in a forked child once the parent used them, so a user's
dask config cannot switch to it. On Linux a fork server instead: a fresh process that imports
FORKSERVER_PRELOAD once, started while the run still plans (`start_fork_server`), from whose clean state (it
never ran deltalake or DuckDB) each worker is forked. Against spawn, measured here: each worker skips ~0.8 s
of imports (distributed, pyarrow, this package), and exits without an interpreter shutdown (closing a
2-worker cluster took 0.37 s, now 0.03 s).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
# glibc's own ceiling for its dynamic mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX), and twice it for
# trimming, which is where the dynamic thresholds of an unconfigured process end up for batch-sized buffers.
_MMAP_THRESHOLD = 32 * 1024 * 1024
_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD


def undo_nanny_malloc_trim() -> None:
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


# What the fork server imports once, so that each worker forked from it starts with them (module names).
FORKSERVER_PRELOAD = ("distributed", "pyarrow.compute", "pyarrow.parquet", "dataset_generator.engine.dask")


def _prepare_fork_server() -> bool:
    """On Linux: the fork server exists, and it is told what to preload (it reads the list when it starts)."""
    import multiprocessing

    if not sys.platform.startswith("linux") or "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(FORKSERVER_PRELOAD))
    return True


def start_method() -> str:
    """The multiprocessing start method of a LocalCluster's workers: "forkserver" on Linux, else "spawn"."""
    if not _prepare_fork_server():
        return "spawn"
    import distributed.utils

    # distributed replaces the preload list with its own the first time (numpy, pandas, lz4: imported in this
    # process to find out which exist) unless told it is set; without the flag, only the preload differs.
    if hasattr(distributed.utils, "_forkserver_preload_set"):
        distributed.utils._forkserver_preload_set = True
    return "forkserver"


def start_fork_server() -> None:
    """Start the fork server now (once per process; nothing where workers are spawned), before distributed is
    imported here: it imports in a process of its own, on another core, while this one imports and plans."""
    if not _prepare_fork_server():
        return
    from multiprocessing import forkserver

    with _worker_environ():
        forkserver.ensure_running()


# distributed.nanny.pre-spawn-environ's defaults, less MALLOC_TRIM_THRESHOLD_ (the workers would undo it).
_WORKER_ENVIRON = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@contextlib.contextmanager
def _worker_environ() -> Iterator[None]:
    """The environment the fork server starts with, which its forked workers inherit: distributed's defaults for
    `distributed.nanny.pre-spawn-environ` with the user's dask config over them (as distributed merges them),
    never glibc's malloc setting (undo_nanny_malloc_trim's reason)."""
    import dask

    configured = dask.config.get("distributed.nanny.pre-spawn-environ", default=None) or {}
    settings = {str(name): str(value) for name, value in {**_WORKER_ENVIRON, **configured}.items()}
    settings.pop("MALLOC_TRIM_THRESHOLD_", None)
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
