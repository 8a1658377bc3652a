"""Where output goes: local directories or S3-compatible object storage."""

from __future__ import annotations

from .base import Storage
from .config import S3Config
from .local import LocalStorage
from .s3 import S3Storage  # botocore itself is imported on first use: the S3 extra stays optional


def is_s3_uri(uri: str) -> bool:
    """True for `s3://` and `s3a://` URIs."""
    return uri.startswith(("s3://", "s3a://"))


def open_storage(uri: str, s3: S3Config | None = None) -> Storage:
    """Return the Storage for a local path or an s3:// URI.

    Args:
        uri: a local path (or file:// URI), or an s3:// URI.
        s3: S3 settings, for s3:// URIs.

    Returns:
        A LocalStorage or an S3Storage rooted at `uri`.
    """
    if is_s3_uri(uri):
        return S3Storage(uri, s3 or S3Config())
    return LocalStorage(uri)


__all__ = ["LocalStorage", "S3Config", "S3Storage", "Storage", "is_s3_uri", "open_storage"]
