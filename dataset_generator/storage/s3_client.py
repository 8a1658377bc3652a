"""One botocore S3 client per process, its thread pool for part uploads, and calls that fail with one line.

The client is a plain botocore client (public API, thread-safe once created) configured from `S3Config`:
botocore's retry mode ("standard" or "adaptive", `max_attempts`) is the only retry layer of the package.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Collection
from typing import Any

from ..errors import StorageError
from .config import S3Config
from .s3_errors import error_code, http_status, s3_error

# Threads uploading parts for all the files a process has open. Each file bounds its own parts in flight
# (`S3Config.max_inflight_parts`); the pool only bounds the process's connections.
UPLOAD_THREADS = 16


def import_botocore() -> Any:
    """The botocore session module, or a StorageError naming the extra to install."""
    try:
        import botocore.session
    except ImportError:  # pragma: no cover - depends on the install
        raise StorageError("writing to s3:// needs the S3 extra: pip install 'dataset-generator[s3]'") from None
    return botocore.session


class S3Client:
    """A lazily created botocore S3 client (recreated in a forked child) and an upload thread pool.

    Args:
        config: credentials, endpoint, region and retry settings.
        max_attempts: overrides the configured attempts (the preflight uses few, to answer in seconds).
        connect_timeout: seconds to wait for a TCP connection.
    """

    def __init__(self, config: S3Config, *, max_attempts: int | None = None, connect_timeout: int = 10) -> None:
        self.config = config
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._client: Any = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pid = 0

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_lock=None, _client=None, _pool=None, _pid=0)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Client({self.config!r})"

    def _fresh_process(self) -> None:
        # A forked child must not reuse the parent's connections or (dead) pool threads.
        if self._pid != os.getpid():
            self._lock = threading.Lock()
            self._client, self._pool, self._pid = None, None, os.getpid()

    @property
    def client(self) -> Any:
        """The botocore client (created on first use; botocore sessions are not thread-safe, clients are)."""
        self._fresh_process()
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    @property
    def pool(self) -> concurrent.futures.ThreadPoolExecutor:
        """The thread pool that uploads parts concurrently."""
        self._fresh_process()
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="s3-upload")
            return self._pool

    def _make_client(self) -> Any:
        session_module = import_botocore()
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        config = self.config
        options = config.botocore_config_kwargs(max_attempts=self.max_attempts)
        options.update(connect_timeout=self.connect_timeout, max_pool_connections=UPLOAD_THREADS + 16)
        kwargs: dict[str, Any] = {"region_name": config.effective_region(), "config": Config(**options)}
        if config.custom_endpoint:
            kwargs["endpoint_url"] = config.custom_endpoint
        if config.key and config.secret:
            kwargs.update(aws_access_key_id=config.key, aws_secret_access_key=config.secret)
            if config.session_token:
                kwargs["aws_session_token"] = config.session_token
        try:
            session = session_module.Session(profile=config.profile)
            return session.create_client("s3", **kwargs)
        except BotoCoreError as error:
            raise s3_error(error, config, "CreateClient", "-") from None

    def call(
        self,
        operation: str,
        bucket: str,
        key: str | None = None,
        *,
        tolerate: Collection[str] = (),
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Call one S3 operation; botocore retries it, and a final error becomes a one-line StorageError.

        Args:
            operation: the S3 API operation as AWS names it ("PutObject", "ListObjectsV2", ...).
            bucket: the bucket.
            key: the object key, for operations on one object.
            tolerate: error codes (or HTTP statuses as strings, e.g. "404") answered with None, not an error.
            kwargs: the other request parameters.

        Returns:
            The response, or None for a tolerated error.

        Raises:
            StorageError: the request was refused (credentials, bucket, permissions, region).
            StorageFailure: the service failed (5xx, throttling, connections) after botocore's retries.
        """
        from botocore import xform_name
        from botocore.exceptions import BotoCoreError, ClientError

        if key is not None:
            kwargs["Key"] = key
        method = getattr(self.client, xform_name(operation))
        try:
            return dict(method(Bucket=bucket, **kwargs))
        except ClientError as error:
            if error_code(error) in tolerate or str(http_status(error)) in tolerate:
                return None
            raise s3_error(error, self.config, operation, bucket, key) from error
        except BotoCoreError as error:
            raise s3_error(error, self.config, operation, bucket, key) from error

    def must(self, operation: str, bucket: str, key: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """`call` for operations whose errors are never tolerated: the response, never None."""
        response = self.call(operation, bucket, key, **kwargs)
        assert response is not None
        return response
