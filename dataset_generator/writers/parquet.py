"""Apache Parquet files in a Hive layout (`<table>/year=2024/month=01/day=01/part-00000.parquet`)."""

from __future__ import annotations

from typing import ClassVar

from .encoding import Encoder
from .file_table import FileTableWriter
from .parquet_encoding import ParquetEncoder
from .targets import ParquetTarget


class ParquetWriter(FileTableWriter):
    """Parquet files with a `_SUCCESS` manifest per table; the bytes come from `ParquetEncoder`."""

    name: ClassVar[str] = "parquet"
    description: ClassVar[str] = "Apache Parquet files, Hive-partitioned, one _SUCCESS per table"
    extension: ClassVar[str] = ".parquet"
    target_spec: ClassVar[type[ParquetTarget]] = ParquetTarget
    target: ParquetTarget

    def _make_encoder(self) -> Encoder:
        # A plugin subclass may bring its own target spec, without this field.
        return ParquetEncoder(self.options, descriptions=not bool(getattr(self.target, "no_descriptions", False)))
