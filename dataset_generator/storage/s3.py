"""S3-compatible object storage as a `Storage`, on the public botocore client API.

Every call goes straight to the S3 API (no listing cache), so what a writer lists is what the bucket holds.
botocore's retry mode is the only retry layer (`S3Config.max_attempts`, `retry_mode`); errors that outlast it
are one line naming the operation, the status and the bucket/key (`s3_errors`); multipart uploads stream with
concurrent parts and never outlive a failure (`s3_multipart`).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

from ..errors import StorageError, StorageFailure
from .base import Storage
from .config import S3_SCHEMES, S3Config, split_s3_uri
from .s3_client import S3Client
from .s3_errors import s3_error
from .s3_multipart import MultipartWriter, UploadRegistry, copy_multipart

COPY_LIMIT = 5 * 1024**3  # CopyObject refuses larger sources
DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys
MISSING = ("404", "NoSuchKey", "NotFound")


class S3Storage(Storage):
    """`s3://bucket/prefix` as a Storage. Files go straight to their final keys (`cheap_rename = False`):
    an object only becomes visible when its upload completes.

    Args:
        uri: the output root, `s3://bucket/prefix` (or relative to `config.uri`).
        config: credentials, endpoint, retries and part sizes.
    """

    cheap_rename = False

    def __init__(self, uri: str, config: S3Config | None = None) -> None:
        self.config = config or S3Config()
        # resolve_output never prefixes an s3:// URI again, and refuses outputs outside the configured root.
        self.root = self.config.resolve_output(uri)
        self.bucket, self.prefix = split_s3_uri(self.root)
        self.s3 = S3Client(self.config)
        self.uploads = UploadRegistry()
        # Uploads under the output initiated before this moment belong to earlier runs (see abort_stale_uploads).
        self.created_at = datetime.datetime.now(datetime.timezone.utc)

    def __repr__(self) -> str:
        return f"S3Storage({self.root!r}, {self.config!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["uploads"] = None  # a copy in another process tracks its own uploads
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.uploads = UploadRegistry()

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
                raise StorageError(f"cannot join URI {part!r} under {self.root}: only relative parts may follow")
            if ".." in part.split("/"):
                raise StorageError(f"path {part!r} would leave s3://{bucket}/{key}: a name may not hold '..'")
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
        config = self.config
        sink = MultipartWriter(
            self.s3, bucket, key, config.multipart_chunk_bytes, config.max_inflight_parts, self.uploads
        )
        try:
            yield cast(BinaryIO, sink)
            sink.finish()
        except BaseException:
            sink.abort()
            raise

    def write_bytes(self, path: str, data: bytes) -> None:
        bucket, key = self._split(path)
        self.s3.must("PutObject", bucket, key, Body=bytes(data))

    # -- reading -----------------------------------------------------------------------------------------

    def read_bytes(self, path: str) -> bytes:
        from botocore.exceptions import BotoCoreError

        bucket, key = self._split(path)
        response = self.s3.call("GetObject", bucket, key, tolerate=MISSING)
        if response is None:
            raise FileNotFoundError(f"s3://{bucket}/{key}")
        body = response["Body"]
        try:
            data = cast(bytes, body.read())
        except BotoCoreError as error:  # the body broke off after the headers: not retried by botocore
            raise s3_error(error, self.config, "GetObject", bucket, key) from error
        finally:
            body.close()
        return data

    def _head(self, bucket: str, key: str) -> dict[str, Any] | None:
        return self.s3.call("HeadObject", bucket, key, tolerate=MISSING)

    def exists(self, path: str) -> bool:
        bucket, key = self._split(path)
        if key and self._head(bucket, key) is not None:
            return True
        # Like a local directory: a prefix with anything under it exists.
        listing = self.s3.must("ListObjectsV2", bucket, Prefix=f"{key}/" if key else "", MaxKeys=1)
        return bool(listing.get("KeyCount") or listing.get("Contents"))

    def _list_keys(self, bucket: str, prefix: str) -> list[str]:
        keys: list[str] = []
        markers: dict[str, str] = {}
        while True:
            page = self.s3.must("ListObjectsV2", bucket, Prefix=prefix, **markers)
            # Keys ending in "/" are "folder" markers some consoles create: not files.
            keys.extend(item["Key"] for item in page.get("Contents", []) if not item["Key"].endswith("/"))
            if not page.get("IsTruncated"):
                return keys
            markers = {"ContinuationToken": page["NextContinuationToken"]}

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
        source, target = self._split(src), self._split(dst)
        if source == target:
            return
        size = self.size(src)
        if size <= COPY_LIMIT:
            self.s3.must("CopyObject", target[0], target[1], CopySource={"Bucket": source[0], "Key": source[1]})
        else:
            copy_multipart(self.s3, source, target, size)
        self.remove([src])

    def remove(self, paths: Iterable[str]) -> None:
        by_bucket: dict[str, list[str]] = {}
        for path in paths:
            bucket, key = self._split(path)
            if key:
                by_bucket.setdefault(bucket, []).append(key)
        for bucket, keys in by_bucket.items():
            # Missing keys are not errors in S3.
            for start in range(0, len(keys), DELETE_BATCH):
                batch = keys[start : start + DELETE_BATCH]
                response = self.s3.must(
                    "DeleteObjects", bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
                errors = response.get("Errors") or []
                if errors:
                    first = errors[0]
                    raise StorageError(
                        f"S3 DeleteObjects could not delete s3://{bucket}/{first.get('Key')}: {first.get('Code')} "
                        f"({len(errors)} of {len(batch)} deletes failed)"
                    )

    def remove_tree(self, prefix: str) -> None:
        bucket, key = self._split(prefix)
        if not key:
            raise StorageError(f"refusing to remove the whole bucket s3://{bucket}")
        self.remove(self.list_files(prefix))
        # Uploads abandoned by a killed run are invisible but billed: clear them with the tree.
        self.abort_uploads(prefix)

    # -- multipart uploads left open ---------------------------------------------------------------------

    def pending_uploads(self, prefix: str) -> list[tuple[str, str]]:
        """Multipart uploads started under `prefix` and neither completed nor aborted.

        Args:
            prefix: a path under the root (a table directory, or the root itself).

        Returns:
            (key, upload id) pairs, in the store's order.
        """
        return [(key, upload_id) for key, upload_id, _initiated in self._pending(prefix)]

    def _pending(self, prefix: str) -> list[tuple[str, str, Any]]:
        bucket, key = self._split(prefix)
        found: list[tuple[str, str, Any]] = []
        markers: dict[str, str] = {}
        while True:
            page = self.s3.must("ListMultipartUploads", bucket, Prefix=f"{key}/" if key else "", **markers)
            found.extend((up["Key"], up["UploadId"], up.get("Initiated")) for up in page.get("Uploads") or [])
            if not page.get("IsTruncated"):
                return found
            markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}

    def abort_uploads(self, prefix: str, *, initiated_before: datetime.datetime | None = None) -> int:
        """Abort the pending multipart uploads under `prefix` (all of them, or those initiated before a time).

        Args:
            prefix: a path under the root.
            initiated_before: only abort uploads the store says were initiated before this (aware) time.

        Returns:
            How many uploads were aborted.
        """
        bucket, _ = self._split(prefix)
        aborted = 0
        for key, upload_id, initiated in self._pending(prefix):
            later = isinstance(initiated, datetime.datetime) and initiated_before is not None
            if later and initiated >= initiated_before:
                continue
            self.s3.call("AbortMultipartUpload", bucket, key, UploadId=upload_id, tolerate=("NoSuchUpload",))
            aborted += 1
        return aborted

    def abort_stale_uploads(self, prefix: str, keep: Callable[[str], bool] | None = None) -> int:
        """Abort uploads under `prefix` left by earlier (killed) runs: those not opened by this process, not
        initiated after this storage object was created (by the store's clock), and whose key `keep` does not
        claim (e.g. a key carrying a concurrent run's id). Call it when a run opens a table.

        Args:
            prefix: a path under the root (a table directory).
            keep: a predicate on the key of uploads to spare.

        Returns:
            How many uploads were aborted.
        """
        own = set(self.uploads.snapshot())
        bucket, _ = self._split(prefix)
        aborted = 0
        for key, upload_id, initiated in self._pending(prefix):
            fresh = isinstance(initiated, datetime.datetime) and initiated >= self.created_at
            if upload_id in own or fresh or (keep is not None and keep(key)):
                continue
            self.s3.call("AbortMultipartUpload", bucket, key, UploadId=upload_id, tolerate=("NoSuchUpload",))
            aborted += 1
        return aborted

    def abort_own_uploads(self) -> int:
        """Abort every multipart upload this process opened through this storage and has not finished (for a
        run that is failing or interrupted; each `open_write` already aborts its own on error).

        Returns:
            How many uploads were aborted.
        """
        aborted = 0
        for upload_id, (bucket, key) in self.uploads.snapshot().items():
            self.s3.call("AbortMultipartUpload", bucket, key, UploadId=upload_id, tolerate=("NoSuchUpload",))
            self.uploads.discard(upload_id)
            aborted += 1
        return aborted

    # -- preflight ---------------------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Write and delete a tiny probe object under the output prefix, with two attempts and a short connect
        timeout, so that an unreachable endpoint is reported in seconds rather than after minutes of backoff.

        Raises:
            StorageError: one line naming the problem (bucket, credentials, endpoint, permissions).
        """
        probe = S3Client(self.config, max_attempts=2, connect_timeout=5)
        key = "/".join(part for part in (self.prefix, f".dataset-generator-probe-{uuid.uuid4().hex}") if part)
        try:
            probe.must("PutObject", self.bucket, key, Body=b"")
            probe.must("DeleteObject", self.bucket, key)
        except StorageFailure as error:
            from botocore.exceptions import EndpointConnectionError

            if isinstance(error.__cause__, EndpointConnectionError):
                # Nothing listens there before anything was written: a wrong endpoint, bad input.
                raise StorageError(str(error)) from None
            raise
