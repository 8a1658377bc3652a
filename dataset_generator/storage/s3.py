"""S3-compatible object storage through s3fs/aiobotocore: streaming multipart uploads, retries, clear errors.

Every call goes straight to the S3 API (no s3fs listing cache), so what a writer lists is what the bucket holds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import os
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, BinaryIO, TypeVar, cast

from ..errors import StorageError
from .base import Storage
from .config import MAX_PARTS, S3_SCHEMES, S3Config, split_s3_uri

T = TypeVar("T")

# Parts uploaded concurrently per open file, on top of the part being filled: the encoder keeps working while
# the network sends. Memory per open file is at most (1 + MAX_INFLIGHT_PARTS) * part size.
MAX_INFLIGHT_PARTS = 2
# Extra attempts around a whole part upload / completion, after botocore's own retries gave up.
PART_ATTEMPTS = 3
TRANSIENT_CODES = {
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "500",
    "502",
    "503",
    "504",
}
COPY_LIMIT = 5 * 1024**3  # CopyObject refuses larger sources


def _import_s3fs() -> Any:
    try:
        import s3fs
    except ImportError:  # pragma: no cover - depends on the install
        raise StorageError(
            "writing to s3:// needs the S3 extra: pip install 'dataset-generator[s3]'"
        ) from None
    return s3fs


def _root_cause(error: BaseException) -> BaseException:
    # s3fs translates botocore errors into OSError and keeps the original as __cause__.
    seen = error
    while seen.__cause__ is not None and seen.__cause__ is not seen:
        seen = seen.__cause__
    return seen


def _error_code(error: BaseException) -> str | None:
    for candidate in (error, _root_cause(error)):
        response = getattr(candidate, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return str(code or status) if (code or status) else None
    return None


def _is_transient(error: BaseException) -> bool:
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError
    except ImportError:  # pragma: no cover
        return False
    cause = _root_cause(error)
    if isinstance(cause, (BotoConnectionError, HTTPClientError, asyncio.TimeoutError, ConnectionError)):
        return True
    code = _error_code(error)
    return code in TRANSIENT_CODES


async def _with_retries(make_call: Callable[[], Awaitable[T]], attempts: int = PART_ATTEMPTS) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return await make_call()
        except Exception as error:
            if attempt == attempts or not _is_transient(error):
                raise
            # Full jitter: parallel writers hitting the same throttled prefix should not retry in lockstep.
            await asyncio.sleep(random.uniform(0, min(8.0, 0.5 * 2**attempt)))
    raise AssertionError("unreachable")  # pragma: no cover


def describe_error(error: BaseException, config: S3Config, bucket: str) -> str:
    """One line a user can act on, for the errors people actually hit."""
    try:
        from botocore.exceptions import (
            ConnectionError as BotoConnectionError,
        )
        from botocore.exceptions import (
            NoCredentialsError,
            PartialCredentialsError,
            ProfileNotFound,
        )
    except ImportError:  # pragma: no cover
        return f"S3 error: {error}"
    endpoint = config.custom_endpoint or "AWS S3"
    cause = _root_cause(error)
    if isinstance(cause, (NoCredentialsError, PartialCredentialsError)):
        return (
            "no S3 credentials found: pass --s3-key/--s3-secret, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
            "or AWS_PROFILE"
        )
    if isinstance(cause, ProfileNotFound):
        return f"AWS profile {config.profile or os.environ.get('AWS_PROFILE')!r} not found in ~/.aws/config"
    if isinstance(cause, BotoConnectionError) or (isinstance(cause, OSError) and _error_code(error) is None):
        return f"cannot reach S3 endpoint {endpoint}: {type(cause).__name__}"
    code = _error_code(error)
    if code in ("NoSuchBucket", "404"):
        return f"S3 bucket {bucket!r} does not exist at {endpoint}"
    if code in ("InvalidAccessKeyId", "InvalidClientTokenId"):
        return f"S3 rejected the access key {config.key or '(from the AWS environment)'!r} at {endpoint}: unknown key"
    if code == "SignatureDoesNotMatch":
        return f"S3 rejected the credentials at {endpoint}: the secret key does not match the access key"
    if code in ("ExpiredToken", "TokenRefreshRequired"):
        return f"the S3 session token has expired ({endpoint}); refresh your AWS credentials"
    if code in ("AccessDenied", "403", "AllAccessDisabled", "AccountProblem"):
        return f"access denied writing to S3 bucket {bucket!r} at {endpoint}: check the credentials and bucket policy"
    if code in (
        "PermanentRedirect",
        "301",
        "AuthorizationHeaderMalformed",
        "IllegalLocationConstraintException",
    ):
        return (
            f"S3 bucket {bucket!r} is in another region than {config.effective_region()!r}: set --s3-region"
        )
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"S3 error at {endpoint} for bucket {bucket!r}: {code or type(cause).__name__}: {message}"


class S3Storage(Storage):
    """`s3://bucket/prefix` as a Storage. Files go straight to their final keys (`cheap_rename = False`):
    an object only becomes visible when its upload completes."""

    cheap_rename = False

    def __init__(self, uri: str, config: S3Config | None = None) -> None:
        self.config = config or S3Config()
        # resolve_output never prefixes an s3:// URI again, and refuses outputs outside the configured root.
        self.root = self.config.resolve_output(uri)
        self.bucket, self.prefix = split_s3_uri(self.root)
        self._fs: Any = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"S3Storage({self.root!r}, {self.config!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fs"], state["_pid"] = None, 0
        return state

    # -- clients -----------------------------------------------------------------------------------------

    @property
    def fs(self) -> Any:
        # A forked child must not reuse the parent's event loop thread or connections.
        if self._fs is None or self._pid != os.getpid():
            self._fs = self._make_fs()
            self._pid = os.getpid()
        return self._fs

    def _make_fs(self, *, retries: int = 10) -> Any:
        s3fs = _import_s3fs()
        fs = s3fs.S3FileSystem(skip_instance_cache=True, **self.config.to_fsspec_kwargs(retries=retries))
        # botocore already retries with backoff; s3fs's own loop on top would multiply the attempts.
        fs.retries = 2
        return fs

    def _call(self, method: str, **kwargs: Any) -> Any:
        return self.fs.call_s3(method, **kwargs)

    def _run(self, coroutine: Awaitable[T]) -> T:
        from fsspec.asyn import sync

        async def runner() -> T:
            return await coroutine

        return cast(T, sync(self.fs.loop, runner))

    # -- paths -------------------------------------------------------------------------------------------

    def join(self, *parts: str) -> str:
        pieces = list(parts)
        if pieces and pieces[0].startswith(S3_SCHEMES):
            bucket, key = split_s3_uri(pieces.pop(0))
        else:
            bucket, key = self.bucket, self.prefix
        segments = [key] if key else []
        for part in pieces:
            if "://" in part or part.startswith("s3:"):
                raise StorageError(
                    f"cannot join URI {part!r} under {self.root}: only relative parts may follow"
                )
            segments.extend(segment for segment in part.split("/") if segment)
        return f"s3://{bucket}/" + "/".join(segments) if segments else f"s3://{bucket}"

    def _split(self, path: str) -> tuple[str, str]:
        if not path.startswith(S3_SCHEMES):
            path = self.join(path)
        return split_s3_uri(path)

    # -- writing -----------------------------------------------------------------------------------------

    @contextmanager
    def open_write(self, path: str) -> Iterator[BinaryIO]:
        bucket, key = self._split(path)
        sink = MultipartWriter(self, bucket, key, self.config.multipart_chunk_bytes)
        try:
            yield cast(BinaryIO, sink)
        except BaseException:
            sink.abort()
            raise
        else:
            try:
                sink.finish()
            except BaseException:
                sink.abort()
                raise

    def write_bytes(self, path: str, data: bytes) -> None:
        bucket, key = self._split(path)
        self._run(
            _with_retries(lambda: self.fs._call_s3("put_object", Bucket=bucket, Key=key, Body=bytes(data)))
        )

    # -- reading -----------------------------------------------------------------------------------------

    def read_bytes(self, path: str) -> bytes:
        bucket, key = self._split(path)
        try:
            return cast(bytes, self.fs.cat_file(f"{bucket}/{key}"))
        except FileNotFoundError:
            raise FileNotFoundError(f"s3://{bucket}/{key}") from None

    def _head(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            return cast(dict[str, Any], self._call("head_object", Bucket=bucket, Key=key))
        except FileNotFoundError:
            return None

    def exists(self, path: str) -> bool:
        bucket, key = self._split(path)
        if key and self._head(bucket, key) is not None:
            return True
        # Like a local directory: a prefix with anything under it exists.
        listing = self._call("list_objects_v2", Bucket=bucket, Prefix=f"{key}/" if key else "", MaxKeys=1)
        return bool(listing.get("KeyCount") or listing.get("Contents"))

    def _list_keys(self, bucket: str, prefix: str) -> list[str]:
        keys: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list_objects_v2", **kwargs)
            # Keys ending in "/" are "folder" markers some consoles create: not files.
            keys.extend(item["Key"] for item in page.get("Contents", []) if not item["Key"].endswith("/"))
            if not page.get("IsTruncated"):
                return keys
            token = page["NextContinuationToken"]

    def list_files(self, prefix: str) -> list[str]:
        bucket, key = self._split(prefix)
        keys = self._list_keys(bucket, f"{key}/" if key else "")
        if not keys and key and self._head(bucket, key) is not None:
            keys = [key]
        return sorted(f"s3://{bucket}/{found}" for found in keys)

    def size(self, path: str) -> int:
        bucket, key = self._split(path)
        head = self._head(bucket, key)
        if head is None:
            raise FileNotFoundError(f"s3://{bucket}/{key}")
        return int(head["ContentLength"])

    # -- moving and removing -----------------------------------------------------------------------------

    def move(self, src: str, dst: str) -> None:
        src_bucket, src_key = self._split(src)
        dst_bucket, dst_key = self._split(dst)
        if (src_bucket, src_key) == (dst_bucket, dst_key):
            return
        size = self.size(src)
        if size <= COPY_LIMIT:
            self._call(
                "copy_object",
                Bucket=dst_bucket,
                Key=dst_key,
                CopySource={"Bucket": src_bucket, "Key": src_key},
            )
        else:
            self.fs.copy(f"{src_bucket}/{src_key}", f"{dst_bucket}/{dst_key}")
        self.remove([src])

    def remove(self, paths: Iterable[str]) -> None:
        by_bucket: dict[str, list[str]] = {}
        for path in paths:
            bucket, key = self._split(path)
            if key:
                by_bucket.setdefault(bucket, []).append(key)
        for bucket, keys in by_bucket.items():
            # DeleteObjects takes at most 1,000 keys; missing keys are not errors in S3.
            for start in range(0, len(keys), 1000):
                batch = keys[start : start + 1000]
                response = self._call(
                    "delete_objects",
                    Bucket=bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
                errors = response.get("Errors") or []
                if errors:
                    first = errors[0]
                    raise StorageError(
                        f"could not delete s3://{bucket}/{first.get('Key')}: {first.get('Code')} "
                        f"({len(errors)} of {len(batch)} deletes failed)"
                    )

    def remove_tree(self, prefix: str) -> None:
        bucket, key = self._split(prefix)
        if not key:
            raise StorageError(f"refusing to remove the whole bucket s3://{bucket}")
        self.remove(self.list_files(prefix))
        # Uploads abandoned by a killed run are invisible but billed: clear them with the tree.
        self.abort_uploads(prefix)

    def pending_uploads(self, prefix: str) -> list[tuple[str, str]]:
        """(key, upload id) of multipart uploads started under `prefix` and neither completed nor aborted."""
        bucket, key = self._split(prefix)
        found: list[tuple[str, str]] = []
        markers: dict[str, str] = {}
        while True:
            page = self._call(
                "list_multipart_uploads", Bucket=bucket, Prefix=f"{key}/" if key else "", **markers
            )
            found.extend((upload["Key"], upload["UploadId"]) for upload in page.get("Uploads", []) or [])
            if not page.get("IsTruncated"):
                return found
            markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}

    def abort_uploads(self, prefix: str) -> int:
        bucket, _ = self._split(prefix)
        pending = self.pending_uploads(prefix)
        for key, upload_id in pending:
            with suppress(FileNotFoundError):
                self._call("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)
        return len(pending)

    # -- preflight ---------------------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Write and delete a tiny probe object under the output prefix, with few retries so that an
        unreachable endpoint is reported in seconds rather than after minutes of backoff."""
        probe_fs = self._make_fs(retries=2)
        probe_fs.retries = 1
        probe_key = "/".join(
            part for part in (self.prefix, f".dataset-generator-probe-{uuid.uuid4().hex}") if part
        )
        try:
            probe_fs.call_s3("put_object", Bucket=self.bucket, Key=probe_key, Body=b"")
            probe_fs.call_s3("delete_object", Bucket=self.bucket, Key=probe_key)
        except Exception as error:
            raise StorageError(describe_error(error, self.config, self.bucket)) from None


class MultipartWriter(io.RawIOBase):
    """A write-only stream that uploads one object in parts of exactly `part_size` bytes (the last smaller).

    Nothing is visible until `finish()`; `abort()` cancels the multipart upload. A file smaller than one part
    goes up in a single PUT (1 request instead of 3). `close()` by the consumer only stops further writes:
    the owning `S3Storage.open_write` context decides between finish and abort.
    """

    def __init__(self, storage: S3Storage, bucket: str, key: str, part_size: int) -> None:
        super().__init__()
        self._storage = storage
        self._bucket = bucket
        self._key = key
        self._part_size = part_size
        self._buffer = bytearray()
        self._position = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._inflight: list[tuple[int, concurrent.futures.Future[Any]]] = []
        self._done = False

    # -- io.RawIOBase surface (what pyarrow, csv and json writers call) --------------------------------

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        # Parts have a fixed size; flushing early would make an undersized (rejected) part.
        pass

    def close(self) -> None:
        # Only mark closed: finishing or aborting is the context manager's decision.
        if not self.closed:
            super().close()

    def write(self, data: Any) -> int:
        if self.closed or self._done:
            raise ValueError("write to a closed S3 upload")
        view = memoryview(data).cast("B")
        total = view.nbytes
        offset = 0
        # Slice big writes: the buffer never grows beyond one part, whatever the caller writes at once.
        while offset < total:
            room = self._part_size - len(self._buffer)
            take = min(room, total - offset)
            self._buffer += view[offset : offset + take]
            offset += take
            if len(self._buffer) == self._part_size:
                self._send_part(bytes(self._buffer))
                self._buffer.clear()
        self._position += total
        return total

    # -- multipart mechanics ---------------------------------------------------------------------------

    def _submit(self, coroutine: Awaitable[T]) -> concurrent.futures.Future[T]:
        async def runner() -> T:
            return await coroutine

        return asyncio.run_coroutine_threadsafe(runner(), self._storage.fs.loop)

    def _send_part(self, body: bytes) -> None:
        fs = self._storage.fs
        if self._upload_id is None:
            created = fs.call_s3("create_multipart_upload", Bucket=self._bucket, Key=self._key)
            self._upload_id = created["UploadId"]
        number = len(self._parts) + len(self._inflight) + 1
        if number > MAX_PARTS:
            raise StorageError(
                f"s3://{self._bucket}/{self._key} needs more than {MAX_PARTS} parts: raise the part size"
            )
        upload_id = self._upload_id

        async def upload() -> Any:
            return await fs._call_s3(
                "upload_part",
                Bucket=self._bucket,
                Key=self._key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
            )

        self._inflight.append((number, self._submit(_with_retries(upload))))
        while len(self._inflight) > MAX_INFLIGHT_PARTS:
            self._collect_one()

    def _collect_one(self) -> None:
        number, future = self._inflight.pop(0)
        response = future.result()
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def finish(self) -> None:
        if self._done:
            return
        fs = self._storage.fs
        if self._upload_id is None:
            body = bytes(self._buffer)
            self._storage._run(
                _with_retries(
                    lambda: fs._call_s3("put_object", Bucket=self._bucket, Key=self._key, Body=body)
                )
            )
        else:
            if self._buffer:
                self._send_part(bytes(self._buffer))
            self._buffer = bytearray()
            while self._inflight:
                self._collect_one()
            upload_id = self._upload_id
            parts = sorted(self._parts, key=lambda part: part["PartNumber"])
            try:
                self._storage._run(
                    _with_retries(
                        lambda: fs._call_s3(
                            "complete_multipart_upload",
                            Bucket=self._bucket,
                            Key=self._key,
                            UploadId=upload_id,
                            MultipartUpload={"Parts": parts},
                        )
                    )
                )
            except Exception as error:
                if not self._completed_despite(error, len(parts)):
                    raise
        self._done = True
        self._buffer = bytearray()
        self.close()

    def _completed_despite(self, error: BaseException, part_count: int) -> bool:
        """A retried CompleteMultipartUpload whose first attempt succeeded but lost its response fails with
        NoSuchUpload; the object is then there, with an ETag ending in "-<number of parts>"."""
        if _error_code(error) not in ("NoSuchUpload", "404"):
            return False
        head = self._storage._head(self._bucket, self._key)
        return head is not None and str(head.get("ETag", "")).strip('"').endswith(f"-{part_count}")

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._buffer = bytearray()
        # Let in-flight parts settle first: a part landing after the abort could resurrect storage charges.
        for _number, future in self._inflight:
            with suppress(Exception):
                future.result()
        self._inflight.clear()
        if self._upload_id is not None:
            upload_id = self._upload_id
            fs = self._storage.fs
            # The original error matters more; remove_tree also aborts leftovers under the prefix.
            with suppress(Exception):
                self._storage._run(
                    _with_retries(
                        lambda: fs._call_s3(
                            "abort_multipart_upload", Bucket=self._bucket, Key=self._key, UploadId=upload_id
                        )
                    )
                )
        self.close()
