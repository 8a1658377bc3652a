"""dataset-generator: large, realistic, reproducible synthetic datasets for Parquet, Delta, Iceberg and DuckLake.

The public API. Names are imported on first use (PEP 562), so `import dataset_generator` stays light and the
command line starts fast; `from dataset_generator import generate` works as usual. Importing the package
changes nothing in the host program's environment.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "CommitInfo": "contracts",
    "FileInfo": "contracts",
    "TableHandle": "contracts",
    "TableInfo": "contracts",
    "DatasetGeneratorError": "errors",
    "GenerationFailed": "errors",
    "ParameterError": "errors",
    "SpecError": "errors",
    "StorageError": "errors",
    "WriterError": "errors",
    "PartitionSpec": "options",
    "WriterOptions": "options",
    "DaskEngine": "engine",
    "Engine": "engine",
    "LocalEngine": "engine",
    "GenerateSummary": "runs",
    "RunInterrupted": "runs",
    "TableSummary": "runs",
    "commit_parts": "api",
    "generate": "api",
    "plan_dataset": "api",
    "validate": "api",
    "ValidationReport": "validation",
    "DatasetSpec": "schemas.models",
    "list_datasets": "schemas.loader",
    "load_schema": "schemas.loader",
    "S3Config": "storage.config",
    "TableWriter": "writers.base",
    "available_writers": "writers.registry",
    "create_writer": "writers.registry",
    "register_writer": "writers.registry",
}

__all__ = [
    "CommitInfo",
    "DaskEngine",
    "DatasetGeneratorError",
    "DatasetSpec",
    "Engine",
    "FileInfo",
    "GenerateSummary",
    "GenerationFailed",
    "LocalEngine",
    "ParameterError",
    "PartitionSpec",
    "RunInterrupted",
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
    "commit_parts",
    "create_writer",
    "generate",
    "list_datasets",
    "load_schema",
    "plan_dataset",
    "register_writer",
    "validate",
    "ValidationReport",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dataset_generator' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from .api import commit_parts, generate, plan_dataset, validate
    from .contracts import CommitInfo, FileInfo, TableHandle, TableInfo
    from .engine import DaskEngine, Engine, LocalEngine
    from .errors import (
        DatasetGeneratorError,
        GenerationFailed,
        ParameterError,
        SpecError,
        StorageError,
        WriterError,
    )
    from .options import PartitionSpec, WriterOptions
    from .runs import GenerateSummary, RunInterrupted, TableSummary
    from .schemas.loader import list_datasets, load_schema
    from .schemas.models import DatasetSpec
    from .storage.config import S3Config
    from .validation import ValidationReport
    from .writers.base import TableWriter
    from .writers.registry import available_writers, create_writer, register_writer
