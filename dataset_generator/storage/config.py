"""S3-compatible storage settings, as in the user's docs: `S3Config(uri, key, secret, endpoint_url)`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class S3Config:
    """Credentials and endpoint for S3-compatible storage (AWS, MinIO, SeaweedFS, RustFS, Ceph, R2...).

    Unset fields fall back to the standard AWS environment variables and profiles.
    Secrets never appear in repr, logs or errors.
    """

    uri: str | None = None
    key: str | None = None
    secret: str | None = field(default=None, repr=False)
    endpoint_url: str | None = None
    region: str | None = None
    session_token: str | None = field(default=None, repr=False)
    multipart_chunk_bytes: int = 16 * 1024 * 1024
