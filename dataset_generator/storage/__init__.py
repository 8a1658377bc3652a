"""Where output goes: local directories or S3-compatible object storage."""

from __future__ import annotations

from .base import Storage
from .config import S3Config


def is_s3_uri(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


def open_storage(uri: str, s3: S3Config | None = None) -> Storage:
    """Return the Storage for a local path or an s3:// URI."""
    if is_s3_uri(uri):
        from .s3 import S3Storage  # imported lazily: s3fs is an optional extra

        return S3Storage(uri, s3 or S3Config())
    from .local import LocalStorage

    return LocalStorage(uri)


__all__ = ["S3Config", "Storage", "is_s3_uri", "open_storage"]
