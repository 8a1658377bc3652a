"""CSV files in a Hive layout (`<table>/year=2024/month=01/day=01/part-00000.csv.gz`), one header row per file.

Lists and structs are written as JSON text cells; binary values as base64 (top-level columns only).

Codecs as for every text format (see text.py): gzip, zstd or none; the default `snappy` means none.
"""

from __future__ import annotations

import io
from typing import ClassVar

import polars as pl
import pyarrow as pa

from .text import TextFileWriter
from .types import nested_binary_refused


def json_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists and structs as JSON text cells (`["a","b"]`, `{"city":"Lyon","zip":69001}`; an empty cell is null),
    which DuckDB reads back exactly with `cell::JSON::VARCHAR[]` or `::JSON::STRUCT(...)`."""
    nested = [name for name, dtype in frame.schema.items() if isinstance(dtype, (pl.List, pl.Struct))]
    # Polars encodes structs only: each value goes out as {"name": value} and the wrapper is cut off.
    return frame.with_columns(
        pl.when(pl.col(name).is_null())
        .then(None)
        .otherwise(pl.struct(pl.col(name)).struct.json_encode().str.strip_prefix(f'{{"{name}":').str.strip_suffix("}"))
        .alias(name)
        for name in nested
    ) if nested else frame


class CsvWriter(TextFileWriter):
    """CSV with a header row per file, ISO-8601 timestamps."""

    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "CSV files with a header row, Hive-partitioned, optionally gzip/zstd compressed"
    extension: ClassVar[str] = ".csv"
    format_label: ClassVar[str] = "CSV"

    def unsupported_type(self, data_type: pa.DataType, nested: bool) -> str | None:
        return nested_binary_refused("CSV", data_type, nested)

    def _render(self, frame: pl.DataFrame, header: bool) -> bytes:
        buffer = io.BytesIO()
        json_cells(frame).write_csv(buffer, include_header=header)
        return buffer.getvalue()
