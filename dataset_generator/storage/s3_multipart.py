"""Streaming multipart uploads on the public botocore API: parts uploaded concurrently with bounded memory,
conditional completion, and an abort that leaves no upload behind.

Leaks closed here: an exception, Ctrl-C or retry exhaustion anywhere aborts the upload; a retried
`CreateMultipartUpload` whose first response was lost (the store opened an upload the client never heard of) is
found by listing the pending uploads of the exact key and aborted; a retried `CompleteMultipartUpload` whose first
attempt landed is recognised by the object's multipart ETag instead of failing.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import io
import threading
from contextlib import suppress
from typing import Any

from ..errors import StorageError
from .config import MAX_PARTS
from .s3_client import S3Client

# Twins of an upload (opened by retried creates whose responses were lost) are initiated at most this long before
# the upload itself: botocore's retries with backoff, plus the store's clock running behind ours.
RETRY_WINDOW = datetime.timedelta(minutes=5)
# An upload of the same key older than this is abandoned by any measure (some stores, moto among them, report
# a fixed Initiated time: such uploads are treated as abandoned too).
ABANDONED = datetime.timedelta(days=1)
COPY_PART_BYTES = 1024**3


class UploadRegistry:
    """The multipart uploads this process opened and has not yet completed or aborted (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, tuple[str, str]] = {}

    def add(self, upload_id: str, bucket: str, key: str) -> None:
        with self._lock:
            self._open[upload_id] = (bucket, key)

    def discard(self, upload_id: str) -> None:
        with self._lock:
            self._open.pop(upload_id, None)

    def snapshot(self) -> dict[str, tuple[str, str]]:
        with self._lock:
            return dict(self._open)


def sweep_key(
    client: S3Client, bucket: str, key: str, since: datetime.datetime, keep: str | None = None
) -> int:
    """Abort the other pending uploads of exactly `key` that belong to this upload attempt: those initiated
    since `since` (less RETRY_WINDOW), and those abandoned for more than a day; `keep` is spared.

    Returns:
        How many uploads were aborted.
    """
    aborted = 0
    markers: dict[str, str] = {}
    while True:
        page = client.must("ListMultipartUploads", bucket, Prefix=key, **markers)
        for upload in page.get("Uploads") or []:
            initiated = upload.get("Initiated")
            if upload["Key"] != key or upload["UploadId"] == keep:
                continue
            if isinstance(initiated, datetime.datetime) and since - ABANDONED < initiated < since - RETRY_WINDOW:
                continue  # a recent upload of another writer of the same key: not ours to abort
            client.call("AbortMultipartUpload", bucket, key, UploadId=upload["UploadId"], tolerate=("NoSuchUpload",))
            aborted += 1
        if not page.get("IsTruncated"):
            return aborted
        markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}


def multipart_etag(part_etags: list[str]) -> str | None:
    """The ETag S3 gives an object completed from parts with these ETags (None if they are not MD5s)."""
    digests = b""
    for etag in part_etags:
        try:
            digests += bytes.fromhex(etag.strip('"'))
        except ValueError:
            return None
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(part_etags)}"


class MultipartWriter(io.RawIOBase):
    """A write-only stream that uploads one object in parts of exactly `part_size` bytes (the last smaller).

    Up to `max_inflight` parts go up concurrently while the caller fills the next one, so memory is at most
    `(1 + max_inflight) * part_size`. Nothing is visible until `finish()`; `abort()` cancels the upload. A file
    smaller than one part goes up in a single PutObject. `close()` by the consumer only stops further writes:
    the owning `S3Storage.open_write` context decides between finish and abort.
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        key: str,
        part_size: int,
        max_inflight: int,
        registry: UploadRegistry,
    ) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        self._part_size = part_size
        self._max_inflight = max_inflight
        self._registry = registry
        self._buffer = bytearray()
        self._position = 0
        self._upload_id: str | None = None
        self._started: datetime.datetime | None = None
        self._parts: list[dict[str, Any]] = []
        self._inflight: list[tuple[int, concurrent.futures.Future[dict[str, Any]]]] = []
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
            take = min(self._part_size - len(self._buffer), total - offset)
            self._buffer += view[offset : offset + take]
            offset += take
            if len(self._buffer) == self._part_size:
                self._send_part(bytes(self._buffer))
                self._buffer.clear()
        self._position += total
        return total

    # -- multipart mechanics ---------------------------------------------------------------------------

    def _create(self) -> str:
        self._started = datetime.datetime.now(datetime.timezone.utc)
        created = self._client.must("CreateMultipartUpload", self._bucket, self._key)
        upload_id = str(created["UploadId"])
        self._registry.add(upload_id, self._bucket, self._key)
        self._upload_id = upload_id
        if created.get("ResponseMetadata", {}).get("RetryAttempts"):
            # An earlier attempt may have opened an upload whose response was lost: abort it now.
            sweep_key(self._client, self._bucket, self._key, self._started, keep=upload_id)
        return upload_id

    def _upload_part(self, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        return self._client.must(
            "UploadPart", self._bucket, self._key, UploadId=upload_id, PartNumber=number, Body=body
        )

    def _send_part(self, body: bytes) -> None:
        upload_id = self._upload_id or self._create()
        number = len(self._parts) + len(self._inflight) + 1
        if number > MAX_PARTS:
            raise StorageError(
                f"s3://{self._bucket}/{self._key} needs more than {MAX_PARTS} parts: raise the part size"
            )
        self._inflight.append((number, self._client.pool.submit(self._upload_part, upload_id, number, body)))
        while len(self._inflight) > self._max_inflight:
            self._collect_one()

    def _collect_one(self) -> None:
        number, future = self._inflight.pop(0)
        self._parts.append({"PartNumber": number, "ETag": future.result()["ETag"]})

    def finish(self) -> None:
        """Complete the upload (or PUT a small file in one request): the object becomes visible.

        Raises:
            StorageError: the upload failed; the caller aborts it.
        """
        if self._done:
            return
        if self._upload_id is None:
            self._client.must("PutObject", self._bucket, self._key, Body=bytes(self._buffer))
        else:
            if self._buffer:
                self._send_part(bytes(self._buffer))
            self._buffer = bytearray()
            while self._inflight:
                self._collect_one()
            parts = sorted(self._parts, key=lambda part: part["PartNumber"])
            completed = self._client.call(
                "CompleteMultipartUpload",
                self._bucket,
                self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": parts},
                tolerate=("NoSuchUpload",),
            )
            if completed is None and not self._completed_earlier(parts):
                raise StorageError(
                    f"S3 CompleteMultipartUpload s3://{self._bucket}/{self._key}: the upload vanished "
                    "(NoSuchUpload) and the object is not the one uploaded; another process aborted it"
                )
            self._registry.discard(self._upload_id)
        self._done = True
        self._buffer = bytearray()
        self.close()

    def _completed_earlier(self, parts: list[dict[str, Any]]) -> bool:
        """A retried CompleteMultipartUpload whose first attempt landed but lost its response meets
        NoSuchUpload; the object is then there, with the ETag of exactly these parts."""
        head = self._client.call("HeadObject", self._bucket, self._key, tolerate=("404", "NoSuchKey"))
        if head is None:
            return False
        etag = str(head.get("ETag", "")).strip('"')
        expected = multipart_etag([str(part["ETag"]) for part in parts])
        return etag == expected if expected else etag.endswith(f"-{len(parts)}")

    def abort(self) -> None:
        """Cancel the upload: parts not yet sent are dropped, the upload and any twin of it opened by a
        retried create are aborted. Errors here are swallowed: the original error matters more."""
        if self._done:
            return
        self._done = True
        self._buffer = bytearray()
        # Let in-flight parts settle first: a part landing after the abort could resurrect storage charges.
        for _number, future in self._inflight:
            future.cancel()
        for _number, future in self._inflight:
            with suppress(Exception):
                future.result()
        self._inflight.clear()
        if self._started is not None:
            upload_id = self._upload_id
            with suppress(StorageError):
                if upload_id is not None:
                    self._client.call(
                        "AbortMultipartUpload", self._bucket, self._key, UploadId=upload_id, tolerate=("NoSuchUpload",)
                    )
                    self._registry.discard(upload_id)
            with suppress(StorageError):
                # A create whose response was lost (or that failed after opening uploads) leaves uploads we hold
                # no id of: list this exact key's pending uploads since our start and abort them.
                sweep_key(self._client, self._bucket, self._key, self._started)
        self.close()


def copy_multipart(client: S3Client, source: tuple[str, str], target: tuple[str, str], size: int) -> None:
    """Copy an object larger than CopyObject's 5 GiB limit with UploadPartCopy, aborting on any failure."""
    bucket, key = target
    upload_id = str(client.must("CreateMultipartUpload", bucket, key)["UploadId"])
    try:
        parts = []
        for number, start in enumerate(range(0, size, COPY_PART_BYTES), start=1):
            end = min(start + COPY_PART_BYTES, size) - 1
            response = client.must(
                "UploadPartCopy",
                bucket,
                key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": source[0], "Key": source[1]},
                CopySourceRange=f"bytes={start}-{end}",
            )
            parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})
        client.must("CompleteMultipartUpload", bucket, key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except BaseException:
        with suppress(StorageError):
            client.call("AbortMultipartUpload", bucket, key, UploadId=upload_id, tolerate=("NoSuchUpload",))
        raise
