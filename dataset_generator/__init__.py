"""dataset-generator: large, realistic, reproducible synthetic datasets for Parquet, Delta, Iceberg and DuckLake."""

from __future__ import annotations

import os

# Arrow's bundled allocator (mimalloc/jemalloc) keeps freed batches cached; with one batch after another that
# is tens of MB per worker for nothing, and it was no faster here. The system allocator returns them. Set before
# pyarrow picks its default pool; ARROW_DEFAULT_MEMORY_POOL set by the user wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

from .api import GenerateSummary, TableSummary, generate, plan_dataset
from .contracts import CommitInfo, FileInfo, TableHandle, TableInfo
from .errors import (
    DatasetGeneratorError,
    GenerationFailed,
    ParameterError,
    SpecError,
    StorageError,
    WriterError,
)
from .options import PartitionSpec, WriterOptions
from .schemas.loader import list_datasets, load_schema
from .schemas.models import DatasetSpec
from .storage.config import S3Config
from .writers.base import TableWriter
from .writers.registry import available_writers, create_writer, register_writer

__version__ = "0.1.0"

__all__ = [
    "CommitInfo",
    "DatasetGeneratorError",
    "DatasetSpec",
    "FileInfo",
    "GenerateSummary",
    "GenerationFailed",
    "ParameterError",
    "PartitionSpec",
    "S3Config",
    "SpecError",
    "StorageError",
    "TableHandle",
    "TableInfo",
    "TableSummary",
    "TableWriter",
    "WriterError",
    "WriterOptions",
    "available_writers",
    "create_writer",
    "generate",
    "list_datasets",
    "load_schema",
    "plan_dataset",
    "register_writer",
]
