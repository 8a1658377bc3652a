"""The runs layer and the file writers leave no multipart upload behind on S3: a re-run aborts the unfinished
uploads a killed run left in its tables, and a failing run aborts its own."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pytest
from _s3_server import S3Server

from dataset_generator import GenerationFailed, WriterOptions, create_writer, generate
from dataset_generator.contracts import FileInfo, PartitionValues, TableHandle
from dataset_generator.writers.parquet import ParquetWriter


def test_a_rerun_aborts_the_uploads_a_killed_run_left(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    # What a kill -9 in the middle of an upload leaves: an open multipart upload with one part, no object.
    key = "out/transactions/part-00000.parquet"
    upload = client.create_multipart_upload(Bucket=s3_bucket, Key=key)["UploadId"]
    client.upload_part(Bucket=s3_bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"x" * 1024)
    assert len(s3_server.pending_uploads(s3_bucket)) == 1
    writer = create_writer("parquet", output_uri=f"s3://{s3_bucket}/out", s3=s3_server.config())
    summary = generate("transactions", writer, params={"rows": 2_000})
    assert summary.rows == 2_000
    assert s3_server.pending_uploads(s3_bucket) == []


class BrokenMidFile(ParquetWriter):
    """Starts the upload of its second file, then fails in the middle of it."""

    def write_file(
        self, handle: TableHandle, partition: PartitionValues, file_index: int, batches: Iterable[pa.RecordBatch], *, only_file: bool = False
    ) -> FileInfo:
        if file_index == 1:
            def failing() -> Iterable[pa.RecordBatch]:
                yield from batches
                raise OSError("generator broke mid-file")
            return super().write_file(handle, partition, file_index, failing(), only_file=only_file)
        return super().write_file(handle, partition, file_index, batches, only_file=only_file)


def test_a_failing_run_leaves_no_upload(s3_server: S3Server, s3_bucket: str) -> None:
    config = s3_server.config(multipart_chunk_bytes=5 * 1024 * 1024)
    writer = BrokenMidFile(f"s3://{s3_bucket}/broken", s3=config, options=WriterOptions(file_rows_target=400_000, compression="none"))
    with pytest.raises(GenerationFailed, match="generator broke mid-file"):
        generate("transactions", writer, params={"rows": 800_000}, workers=1)
    assert s3_server.pending_uploads(s3_bucket) == []
    objects = client_keys(s3_server, s3_bucket, "broken/")
    assert not [key for key in objects if key.endswith(".parquet")] and not [key for key in objects if key.endswith("_SUCCESS")]


def client_keys(s3_server: S3Server, bucket: str, prefix: str) -> list[str]:
    listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]
