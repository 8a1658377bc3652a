"""Writers by name, in the style of fsspec's registry: a name -> lazily imported class map,
an install hint for optional extras, and the `dataset_generator.writers` entry-point group for plugins.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from ..errors import WriterError
from ..options import WriterOptions
from ..storage import S3Config
from .base import TableWriter

ENTRY_POINT_GROUP = "dataset_generator.writers"


@dataclass(frozen=True)
class WriterEntry:
    class_path: str  # "module:Class"
    extra: str | None  # pip extra that provides its dependencies, None when the core suffices
    description: str

    @property
    def install_hint(self) -> str:
        return f"pip install 'dataset-generator[{self.extra}]'" if self.extra else "pip install dataset-generator"


known_writers: dict[str, WriterEntry] = {
    "parquet": WriterEntry("dataset_generator.writers.parquet:ParquetWriter", None, "Apache Parquet files (Hive layout)"),
    "csv": WriterEntry("dataset_generator.writers.csv:CsvWriter", None, "CSV files, optionally gzip/zstd compressed"),
    "jsonl": WriterEntry("dataset_generator.writers.jsonl:JsonlWriter", None, "JSON lines, optionally gzip/zstd compressed"),
    "delta": WriterEntry("dataset_generator.writers.delta:DeltaWriter", "delta", "Delta Lake tables (deltalake)"),
    "iceberg": WriterEntry("dataset_generator.writers.iceberg:IcebergWriter", "iceberg", "Apache Iceberg tables (pyiceberg)"),
    "ducklake": WriterEntry("dataset_generator.writers.ducklake:DuckLakeWriter", "ducklake", "DuckLake tables (DuckDB)"),
    "null": WriterEntry("dataset_generator.writers.null:NullWriter", None, "generates and encodes, writes nothing"),
}


def register_writer(name: str, class_path: str, *, extra: str | None = None, description: str = "", clobber: bool = False) -> None:
    """Register a writer class by 'module:Class' path (what the entry-point group does for plugins)."""
    if name in known_writers and not clobber:
        raise ValueError(f"writer {name!r} is already registered; pass clobber=True to replace it")
    known_writers[name] = WriterEntry(class_path, extra, description)
    get_writer_class.cache_clear()


@cache
def _plugin_entries() -> dict[str, WriterEntry]:
    plugins: dict[str, WriterEntry] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        plugins.setdefault(entry_point.name, WriterEntry(entry_point.value, None, f"plugin from {entry_point.value}"))
    return plugins


def available_writers() -> dict[str, WriterEntry]:
    return {**_plugin_entries(), **known_writers}


@cache
def get_writer_class(name: str) -> type[TableWriter]:
    entries = available_writers()
    if name not in entries:
        raise WriterError(f"unknown format {name!r}; choose one of {', '.join(sorted(entries))}")
    entry = entries[name]
    module_name, _, class_name = entry.class_path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise WriterError(f"format {name!r} needs an optional dependency ({exc.name}): {entry.install_hint}") from exc
    writer_class = getattr(module, class_name)
    if not (isinstance(writer_class, type) and issubclass(writer_class, TableWriter)):
        raise WriterError(f"writer {name!r} ({entry.class_path}) is not a TableWriter subclass")
    return writer_class


def writer_status(name: str) -> tuple[bool, str]:
    """(installed, install hint or error) for `list-formats`."""
    try:
        get_writer_class(name)
    except WriterError as exc:
        return False, str(exc)
    return True, ""


def create_writer(
    name: str,
    output_uri: str = "",
    s3: S3Config | None = None,
    options: WriterOptions | None = None,
    **writer_kwargs: Any,
) -> TableWriter:
    """Create a writer by format name, e.g. `create_writer("parquet", output_uri="./data")`."""
    return get_writer_class(name)(output_uri, s3=s3, options=options, **writer_kwargs)
