"""The small file-system surface writers need, for local disk and S3 alike."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import BinaryIO


class Storage(ABC):
    """A root location (a directory or an s3://bucket/prefix) and the operations writers use on it.

    Paths given to and returned by methods are full paths/URIs built with `join`.
    """

    root: str
    # Local renames are atomic and free; object stores copy. Writers stage files only where renames are cheap.
    cheap_rename: bool = True

    @abstractmethod
    def join(self, *parts: str) -> str: ...

    @abstractmethod
    def open_write(self, path: str) -> AbstractContextManager[BinaryIO]:
        """Stream a new file. The object becomes visible only when the context exits cleanly;
        an exception inside the context leaves nothing behind (multipart upload aborted on S3)."""

    @abstractmethod
    def write_bytes(self, path: str, data: bytes) -> None: ...

    @abstractmethod
    def read_bytes(self, path: str) -> bytes: ...

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def list_files(self, prefix: str) -> list[str]:
        """Every file under `prefix`, recursively, as full paths; empty when the prefix does not exist."""

    @abstractmethod
    def move(self, src: str, dst: str) -> None:
        """Move a file into place, creating parent directories as needed."""

    @abstractmethod
    def remove(self, paths: Iterable[str]) -> None:
        """Remove files; missing ones are ignored."""

    @abstractmethod
    def remove_tree(self, prefix: str) -> None:
        """Remove everything under `prefix`; a missing prefix is ignored."""

    @abstractmethod
    def size(self, path: str) -> int: ...

    @abstractmethod
    def check_writable(self) -> None:
        """Raise StorageError with one clear line when the root cannot be written."""

    def abort_stale_uploads(self, prefix: str, keep: Callable[[str], bool] | None = None) -> int:
        """Abort unfinished uploads under `prefix` left by earlier (killed) runs; return how many. Stores
        without multipart uploads (local disk) have none."""
        return 0

    def abort_own_uploads(self) -> int:
        """Abort the unfinished uploads this process opened (a failing or interrupted run); return how many."""
        return 0
