"""JSON lines files in a Hive layout (`<table>/year=2024/month=01/day=01/part-00000.jsonl.zst`).

One JSON object per row, rendered by Polars per row group (no Python loop over rows). Timestamps are
ISO-8601 strings, dates 'YYYY-MM-DD', nulls `null`. Compression as for CSV: gzip, zstd or none; the
default `snappy` means none, brotli/lz4 are refused (see writers/text.py).
"""

from __future__ import annotations

import io
from typing import ClassVar

import polars as pl
import pyarrow as pa

from .text import TextFileWriter
from .types import nested_binary_refused


class JsonlWriter(TextFileWriter):
    """JSON lines: one object per row, no header."""

    name: ClassVar[str] = "jsonl"
    description: ClassVar[str] = "JSON lines, Hive-partitioned, optionally gzip/zstd compressed"
    extension: ClassVar[str] = ".jsonl"
    format_label: ClassVar[str] = "JSON lines"

    def unsupported_type(self, data_type: pa.DataType, nested: bool) -> str | None:
        return nested_binary_refused("JSON lines", data_type, nested)

    def _render(self, frame: pl.DataFrame, header: bool) -> bytes:
        buffer = io.BytesIO()
        frame.write_ndjson(buffer)
        return buffer.getvalue()
