"""Local disk storage: plain files, atomic renames."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..errors import StorageError, StorageFailure
from .base import Storage

FULL = (errno.ENOSPC, errno.EDQUOT)


def _disk_full(error: BaseException) -> bool:
    # pyarrow re-raises a sink's OSError as its own OSError subclass, with the errno or only the text.
    return isinstance(error, OSError) and (error.errno in FULL or "No space left on device" in str(error))


def disk_full_error(path: str) -> StorageFailure:
    """The one-line error for a full disk (or quota) while writing `path`."""
    return StorageFailure(f"no space left on device writing {path}: free space there or choose another output")


class LocalStorage(Storage):
    def __init__(self, root: str) -> None:
        if root.startswith("file://"):
            root = root[len("file://") :]
        self.root = os.path.abspath(os.path.expanduser(root))

    def join(self, *parts: str) -> str:
        """`parts` under the root (or under `parts[0]` when that is an absolute path).

        Raises:
            StorageError: a part holds a '..' segment, which would lead the path out of where it was joined.
        """
        absolute = bool(parts) and os.path.isabs(parts[0])
        relative = parts[1:] if absolute else parts
        if any(segment == ".." for part in relative for segment in part.replace(os.sep, "/").split("/")):
            base = parts[0] if absolute else self.root
            raise StorageError(f"path {'/'.join(relative)!r} would leave {base}: a name may not hold '..'")
        return os.path.join(*parts) if absolute else os.path.join(self.root, *parts)

    @contextmanager
    def open_write(self, path: str) -> Iterator[BinaryIO]:
        # Write beside the target under a hidden name, rename on success: readers never see a partial file.
        os.makedirs(os.path.dirname(path), exist_ok=True)
        partial = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.partial")
        try:
            with open(partial, "wb") as handle:
                yield handle
            os.replace(partial, path)
        except BaseException as error:
            with contextlib.suppress(FileNotFoundError):
                os.remove(partial)
            if _disk_full(error):
                raise disk_full_error(path) from error
            raise

    def write_bytes(self, path: str, data: bytes) -> None:
        with self.open_write(path) as handle:
            handle.write(data)

    def read_bytes(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def list_files(self, prefix: str) -> list[str]:
        if not os.path.isdir(prefix):
            return [prefix] if os.path.isfile(prefix) else []
        found: list[str] = []
        for directory, _subdirs, files in os.walk(prefix):
            found.extend(os.path.join(directory, name) for name in files)
        return sorted(found)

    def move(self, src: str, dst: str) -> None:
        try:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.replace(src, dst)
        except OSError as error:
            if _disk_full(error):
                raise disk_full_error(dst) from error
            raise

    def remove(self, paths: Iterable[str]) -> None:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

    def remove_tree(self, prefix: str) -> None:
        shutil.rmtree(prefix, ignore_errors=True)

    def size(self, path: str) -> int:
        return os.path.getsize(path)

    def check_writable(self) -> None:
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise StorageError(f"output {self.root} exists and is not a directory")
        try:
            os.makedirs(self.root, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".write-check-"):
                pass
        except OSError as exc:
            if _disk_full(exc):
                raise disk_full_error(self.root) from None
            raise StorageError(f"output {self.root} is not writable: {exc.strerror or exc}") from None
