"""CSV files in a Hive layout (`<table>/year=2024/month=01/day=01/part-00000.csv.gz`), one header row per file.

Codecs as for every text format (see text.py): gzip, zstd or none; the default `snappy` means none.
"""

from __future__ import annotations

import io
from typing import ClassVar

import polars as pl
import pyarrow as pa

from .text import TextFileWriter
from .types import nested_refused


class CsvWriter(TextFileWriter):
    """CSV with a header row per file, ISO-8601 timestamps."""

    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "CSV files with a header row, Hive-partitioned, optionally gzip/zstd compressed"
    extension: ClassVar[str] = ".csv"
    format_label: ClassVar[str] = "CSV"

    def unsupported_type(self, data_type: pa.DataType, nested: bool) -> str | None:
        return nested_refused("CSV", data_type)

    def _render(self, frame: pl.DataFrame, header: bool) -> bytes:
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=header)
        return buffer.getvalue()
