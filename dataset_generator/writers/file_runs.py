"""Ownership, locking and crash recovery of the file tables (Parquet, CSV, JSON lines).

A file table owns exactly the files it can prove are its own:

    <output>/<table>/_SUCCESS                     the manifest of the committed table: `data_files` lists every
                                                  data file of the table (relative paths)
    <output>/_staging/<table>/_LOCK               the run writing the table now (run id, pid, host, start)
    <output>/_staging/<table>/<run id>/_RUN       a run of this tool was here (removed when it ends)
    <output>/_staging/<table>/<run id>/<file>     local disk: the staged file; object stores: an empty marker
                                                  saying the run writes `<table>/<file>` (files go straight to
                                                  their final keys there)
    <output>/_staging/<table>/<run id>/_COMMIT    the files a commit publishes and replaces, written before it
                                                  touches the table, so a crash inside a commit can be finished
                                                  or rolled back

Anything else in a table directory is foreign: never removed, except, with mode "overwrite", files of the
format the writer writes (reported). The staging area is a sibling of the tables, outside every table's glob.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from ..errors import WriterError
from ..storage import Storage
from .base import STAGING_DIR, SUCCESS_MARKER

LOCK_FILE = "_LOCK"
RUN_RECORD = "_RUN"
COMMIT_RECORD = "_COMMIT"
_RECORDS = (RUN_RECORD, COMMIT_RECORD, SUCCESS_MARKER)
# Runs holding a table lock in this process: a lock with this pid but another run id was leaked by a run
# that died without its abort (the same process may run again, e.g. a test suite or a notebook).
_LIVE_RUNS: set[str] = set()


@dataclass(frozen=True)
class Manifest:
    """What `_SUCCESS` says: the committing run and every data file of the table (relative paths)."""

    run_id: str
    data_files: tuple[str, ...]
    summary: dict[str, Any]

    @classmethod
    def read(cls, storage: Storage, location: str) -> Manifest | None:
        """The table's manifest; None without `_SUCCESS`. A marker without a file list (written by an older
        version) proves nothing: its `data_files` are empty."""
        path = storage.join(location, SUCCESS_MARKER)
        try:
            content = json.loads(storage.read_bytes(path))
        except FileNotFoundError:
            return None
        except ValueError:
            content = {}
        files = content.get("data_files") if isinstance(content, dict) else None
        listed = tuple(str(name) for name in files) if isinstance(files, list) else ()
        return cls(str(content.get("run_id", "")) if isinstance(content, dict) else "", listed, content or {})

    def to_bytes(self) -> bytes:
        return (json.dumps({**self.summary, "run_id": self.run_id, "data_files": list(self.data_files)}, sort_keys=True) + "\n").encode()


def staging_root(storage: Storage, table: str) -> str:
    """`<output>/_staging/<table>`: where runs of `table` stage, lock and record themselves."""
    return storage.join(STAGING_DIR, table)


def relative(location: str, path: str) -> str:
    return path[len(location) :].lstrip("/")


class TableLock:
    """One run at a time per table: `_staging/<table>/_LOCK`, created exclusively (O_EXCL on local disk; on
    object stores written then read back). A lock whose process is gone (same host) is taken over."""

    def __init__(self, storage: Storage, table: str, run_id: str) -> None:
        self.storage = storage
        self.table = table
        self.run_id = run_id
        self.path = storage.join(staging_root(storage, table), LOCK_FILE)

    def acquire(self) -> None:
        """Raises:
        WriterError: another live run holds the table (one line naming it and the lock file)."""
        record = json.dumps(
            {"run_id": self.run_id, "pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        ).encode()
        for _attempt in range(3):
            if self._create(record):
                _LIVE_RUNS.add(self.run_id)
                return
            holder = self._holder()
            if holder is None or holder.get("run_id") == self.run_id or _is_stale(holder):
                self.storage.remove([self.path])
                continue
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder.get("started", 0))))
            raise WriterError(
                f"table {self.table!r} is being written by another run ({holder.get('run_id')}, pid "
                f"{holder.get('pid')} on {holder.get('host')}, since {since}); wait for it to finish, or remove "
                f"{self.path} if that run is gone"
            )
        raise WriterError(f"could not lock table {self.table!r} ({self.path}): other runs keep taking it")

    def release(self) -> None:
        """Remove the lock if this run holds it (never another run's)."""
        _LIVE_RUNS.discard(self.run_id)
        holder = self._holder()
        if holder is not None and holder.get("run_id") == self.run_id:
            self.storage.remove([self.path])

    def _create(self, record: bytes) -> bool:
        if self.storage.cheap_rename:  # local disk: an atomic exclusive create
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(record)
            return True
        # Object stores: no exclusive create in the storage API; write, then check that ours is what landed.
        if self.storage.exists(self.path):
            return False
        self.storage.write_bytes(self.path, record)
        holder = self._holder()
        return holder is not None and holder.get("run_id") == self.run_id

    def _holder(self) -> dict[str, Any] | None:
        try:
            content = json.loads(self.storage.read_bytes(self.path))
        except FileNotFoundError:
            return None
        except ValueError:
            return {}  # a torn lock record: its writer died while writing it
        return content if isinstance(content, dict) else {}


def _is_stale(holder: dict[str, Any]) -> bool:
    if not holder:
        return True
    if holder.get("host") != socket.gethostname():
        return False  # another machine's run: cannot tell, so it is respected
    pid = int(holder.get("pid", 0))
    if pid == os.getpid():
        return holder.get("run_id") not in _LIVE_RUNS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def write_record(storage: Storage, table: str, run_id: str, name: str, content: dict[str, Any]) -> None:
    """Write `_RUN` or `_COMMIT` of a run."""
    storage.write_bytes(storage.join(staging_root(storage, table), run_id, name), json.dumps(content).encode())


def read_record(storage: Storage, table: str, run_id: str, name: str) -> dict[str, Any] | None:
    try:
        content = json.loads(storage.read_bytes(storage.join(staging_root(storage, table), run_id, name)))
    except (FileNotFoundError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def staged_runs(storage: Storage, table: str) -> dict[str, list[str]]:
    """Run id -> relative paths staged (or marked) under `_staging/<table>/<run id>/`, records left out."""
    root = staging_root(storage, table)
    runs: dict[str, list[str]] = {}
    for path in storage.list_files(root):
        run, _, name = relative(root, path).partition("/")
        if name:
            runs.setdefault(run, [])
            if name not in _RECORDS and not name.rsplit("/", 1)[-1].startswith("."):
                runs[run].append(name)
    return runs


def recover(storage: Storage, table: str, location: str, own_run: str) -> None:
    """Clear what crashed runs of `table` left (the caller holds the table's lock).

    A run with a `_COMMIT` record died inside its commit: if `_SUCCESS` names it, the commit landed and its
    replaced files are removed; otherwise the files it had published are removed. A run with a `_RUN` record
    died before committing: its staged files (and, on object stores, the files its markers name) are removed.
    A staging directory with neither is a `--parts` run's, kept for its own commit or discard.
    """
    manifest = Manifest.read(storage, location)
    listed = set(manifest.data_files) if manifest else set()
    for run, names in staged_runs(storage, table).items():
        if run == own_run:
            continue
        commit = read_record(storage, table, run, COMMIT_RECORD)
        if commit is not None:
            landed = manifest is not None and manifest.run_id == run
            doomed = commit.get("replace", []) if landed else commit.get("publish", [])
        elif read_record(storage, table, run, RUN_RECORD) is not None:
            doomed = [] if storage.cheap_rename else names
        else:
            continue
        storage.remove(storage.join(location, name) for name in doomed if name not in listed)
        storage.remove_tree(storage.join(staging_root(storage, table), run))
    prune_directories(storage, location)


def prune_directories(storage: Storage, top: str) -> None:
    """Remove empty directories under and including `top` (local disk; object stores have none). Only
    empty ones: another run may be creating files next to them."""
    if not storage.cheap_rename or not os.path.isdir(top):
        return
    for directory, _subdirs, _files in sorted(os.walk(top), key=lambda entry: -len(entry[0])):
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def prune_staging(storage: Storage, table: str) -> None:
    """Remove `_staging/<table>` and `_staging` when empty."""
    if storage.cheap_rename:
        prune_directories(storage, staging_root(storage, table))
        with contextlib.suppress(OSError):
            os.rmdir(storage.join(STAGING_DIR))
