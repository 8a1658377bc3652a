"""Writers by name, in the style of fsspec's registry: a name -> lazily imported class map,
an install hint for optional extras, and the `dataset_generator.writers` entry-point group for plugins.

Each entry may also name its writer's target spec (`targets.py`), so the CLI can build the format's flags
without importing the writer's module and its optional extras (deltalake, pyiceberg, duckdb). A plugin's
spec is its writer class's `target_spec`, read by importing the plugin.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from ..errors import WriterError
from ..options import WriterOptions
from ..storage import S3Config
from .targets import TargetFlag, WriterTarget, target_flags

if TYPE_CHECKING:  # the writers' base pulls pyarrow: the registry (and so the CLI's start) must not
    from .base import TableWriter

ENTRY_POINT_GROUP = "dataset_generator.writers"
_BASE_MODULE = f"{__package__}.base"


@dataclass(frozen=True)
class WriterEntry:
    """A registered writer: where its class is, which extra it needs, and where its target spec is."""

    class_path: str  # "module:Class"
    extra: str | None  # pip extra that provides its dependencies, None when the core suffices
    description: str
    target_path: str | None = None  # "module:Class" of its WriterTarget, in a module without heavy imports

    @property
    def install_hint(self) -> str:
        return f"pip install 'dataset-generator[{self.extra}]'" if self.extra else "pip install dataset-generator"


_NO_TARGET = "dataset_generator.writers.targets:WriterTarget"

known_writers: dict[str, WriterEntry] = {
    "parquet": WriterEntry(
        "dataset_generator.writers.parquet:ParquetWriter", None, "Apache Parquet files (Hive layout)",
        "dataset_generator.writers.targets:ParquetTarget",
    ),
    "csv": WriterEntry("dataset_generator.writers.csv:CsvWriter", None, "CSV files, optionally gzip/zstd compressed", _NO_TARGET),
    "jsonl": WriterEntry("dataset_generator.writers.jsonl:JsonlWriter", None, "JSON lines, optionally gzip/zstd compressed", _NO_TARGET),
    "delta": WriterEntry("dataset_generator.writers.delta:DeltaWriter", "delta", "Delta Lake tables (deltalake)", _NO_TARGET),
    "iceberg": WriterEntry(
        "dataset_generator.writers.iceberg:IcebergWriter", "iceberg", "Apache Iceberg tables (pyiceberg)",
        "dataset_generator.writers.targets:IcebergTarget",
    ),
    "ducklake": WriterEntry(
        "dataset_generator.writers.ducklake:DuckLakeWriter", "ducklake", "DuckLake tables (DuckDB)",
        "dataset_generator.writers.targets:DuckLakeTarget",
    ),
    "null": WriterEntry("dataset_generator.writers.null:NullWriter", None, "generates and encodes, writes nothing", _NO_TARGET),
}


def register_writer(
    name: str,
    class_path: str,
    *,
    extra: str | None = None,
    description: str = "",
    clobber: bool = False,
    target: str | None = None,
) -> None:
    """Register a writer class by 'module:Class' path (what the entry-point group does for plugins).

    Args:
        name: the format name.
        class_path: "module:Class" of a TableWriter subclass, imported on first use.
        extra: the pip extra its dependencies come with (for the install hint).
        description: one line for `list-formats`.
        clobber: replace an existing registration of `name`.
        target: "module:Class" of its target spec, when that module is lighter than the writer's (None: the
            writer class's `target_spec`, read by importing it).
    Raises:
        ValueError: `name` is registered and `clobber` is False.
    """
    if name in known_writers and not clobber:
        raise ValueError(f"writer {name!r} is already registered; pass clobber=True to replace it")
    known_writers[name] = WriterEntry(class_path, extra, description, target)
    get_writer_class.cache_clear()
    get_target_spec.cache_clear()


@cache
def _plugin_entries() -> dict[str, WriterEntry]:
    plugins: dict[str, WriterEntry] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        plugins.setdefault(entry_point.name, WriterEntry(entry_point.value, None, f"plugin from {entry_point.value}"))
    return plugins


def available_writers() -> dict[str, WriterEntry]:
    """Every writer by name: plugins, then built-ins and `register_writer` (which win on a clash)."""
    return {**_plugin_entries(), **known_writers}


@cache
def get_target_spec(name: str) -> type[WriterTarget]:
    """The target spec of format `name`, without importing the writer's module when the entry names it.

    Raises:
        WriterError: unknown format, or the writer (or its spec) cannot be imported.
    """
    entry = available_writers().get(name)
    if entry is not None and entry.target_path is not None:
        spec = _import(entry.target_path, name, entry)
        if not (isinstance(spec, type) and issubclass(spec, WriterTarget)):
            raise WriterError(f"writer {name!r}: target spec {entry.target_path} is not a WriterTarget subclass")
        return spec
    return get_writer_class(name).target_spec


def target_specs() -> dict[str, type[WriterTarget]]:
    """Format name -> target spec for every writer whose spec can be had (a broken plugin is left out)."""
    specs = {}
    for name in [*known_writers, *(name for name in available_writers() if name not in known_writers)]:
        try:
            specs[name] = get_target_spec(name)
        except WriterError:
            continue
    return specs


def target_flag_index() -> dict[str, tuple[TargetFlag, tuple[str, ...]]]:
    """CLI flag -> (its field, the formats taking it), over every registered writer's target spec.

    Formats share a flag when their fields agree in name and type; a plugin flag that clashes with an earlier
    one (same flag, another field or type) is left out.
    """
    index: dict[str, tuple[TargetFlag, tuple[str, ...]]] = {}
    for name, spec in target_specs().items():
        for flag in target_flags(spec):
            known = index.get(flag.flag)
            if known is None:
                index[flag.flag] = (flag, (name,))
            elif (known[0].field, known[0].type) == (flag.field, flag.type):
                index[flag.flag] = (known[0], (*known[1], name))
    return index


def _import(path: str, name: str, entry: WriterEntry) -> object:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise WriterError(f"format {name!r} needs an optional dependency ({exc.name}): {entry.install_hint}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise WriterError(f"writer {name!r}: {module_name} has no {attribute!r}") from None


@cache
def get_writer_class(name: str) -> type[TableWriter]:
    """The writer class of format `name`, imported on first use.

    Raises:
        WriterError: unknown format, a missing optional dependency (with the install hint), or not a TableWriter.
    """
    entries = available_writers()
    if name not in entries:
        raise WriterError(f"unknown format {name!r}; choose one of {', '.join(sorted(entries))}")
    entry = entries[name]
    writer_class = _import(entry.class_path, name, entry)
    # The protocol's class by path, like the writers themselves: only now is pyarrow's import worth paying.
    table_writer = importlib.import_module(_BASE_MODULE).TableWriter
    if not (isinstance(writer_class, type) and issubclass(writer_class, table_writer)):
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
    """Create a writer by format name, e.g. `create_writer("parquet", output_uri="./data")`.

    Args:
        name: the format (see `available_writers`).
        output_uri: a local directory or s3://bucket/prefix.
        s3: credentials and endpoint for S3 outputs.
        options: layout and encoding.
        **writer_kwargs: the fields of the format's target spec (e.g. `catalog_uri` for iceberg).
    Raises:
        WriterError: unknown format, missing extra, or an argument the format does not take.
    """
    return get_writer_class(name)(output_uri, s3=s3, options=options, **writer_kwargs)
