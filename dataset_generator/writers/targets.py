"""Where a writer writes, beyond `output_uri` and S3: each writer's target configuration as a typed spec.

A writer declares `target_spec: ClassVar[type[WriterTarget]]`, a frozen dataclass whose fields are the
keyword arguments it takes (`create_writer("iceberg", ..., catalog_uri="sqlite:///c.db")`). The CLI builds
its format flags from those fields: the name (`--catalog-uri`, or the field's `flag`), the type (`str`, `int`,
`bool`, or `dict[str, str]` as a repeatable KEY=VALUE flag) and the help text, so a plugin writer takes
options the same way a built-in does.

This module imports nothing heavy: the registry reads a built-in writer's spec without importing deltalake,
pyiceberg or duckdb (which `dataset-generator --help` must not pay for).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any

from ..errors import WriterError

FLAG_TYPES: tuple[type, ...] = (str, int, float, bool, dict)


def target_field(
    help: str, *, flag: str | None = None, metavar: str | None = None, default: Any = None, cli: bool = True
) -> Any:
    """A field of a writer's target spec.

    Args:
        help: the flag's help text (the CLI prefixes it with the formats that take the flag).
        flag: the CLI flag, when it is not `--` + the field name with `-` for `_`.
        metavar: what the flag's value looks like in `--help`.
        default: the value when the flag is not given (None: the writer's own default).
        cli: False keeps the field out of the command line (a Python API argument only).
    Returns:
        A dataclass field carrying that metadata.
    """
    metadata = {"help": help, "flag": flag, "metavar": metavar, "cli": cli}
    if isinstance(default, dict):
        return dataclasses.field(default_factory=lambda: dict(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class WriterTarget:
    """Base of every target spec: no fields (a writer that needs nothing beyond output and S3)."""


@dataclass(frozen=True)
class TargetFlag:
    """One CLI flag derived from a target spec field."""

    field: str  # the keyword argument of the writer
    flag: str  # "--catalog-uri"
    type: type  # str, int, float, bool or dict (repeatable KEY=VALUE)
    help: str
    metavar: str | None = None

    @property
    def multiple(self) -> bool:
        return self.type is dict


def target_flags(spec: type[WriterTarget]) -> list[TargetFlag]:
    """The CLI flags of a target spec, in field order (fields with `cli=False` left out).

    Raises:
        WriterError: a field's type cannot be a flag (only str, int, float, bool and dict[str, str] can).
    """
    hints = typing.get_type_hints(spec)
    flags = []
    for field in dataclasses.fields(spec):
        if not field.metadata.get("cli", True):
            continue
        flag_type = _flag_type(hints[field.name])
        if flag_type is None:
            raise WriterError(
                f"target spec {spec.__name__}: field {field.name!r} has type {hints[field.name]}, which cannot be "
                "given on a command line (use str, int, float, bool or dict[str, str])"
            )
        flag = field.metadata.get("flag") or "--" + field.name.replace("_", "-")
        flags.append(
            TargetFlag(field.name, flag, flag_type, field.metadata.get("help", ""), field.metadata.get("metavar"))
        )
    return flags


def build_target(spec: type[WriterTarget], format_name: str, values: dict[str, Any]) -> WriterTarget:
    """An instance of `spec` from keyword arguments.

    Raises:
        WriterError: an argument the format does not take (named with the arguments it does take).
    """
    names = [field.name for field in dataclasses.fields(spec)]
    unknown = [name for name in values if name not in names]
    if unknown:
        takes = f"it takes {', '.join(names)}" if names else "it takes no target options"
        raise WriterError(f"format {format_name!r} takes no option {unknown[0]!r}; {takes}")
    return spec(**values)


def _flag_type(hint: Any) -> type | None:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        rest = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _flag_type(rest[0]) if len(rest) == 1 else None
    if origin is dict or hint is dict:
        return dict
    return hint if hint in FLAG_TYPES else None


@dataclass(frozen=True)
class ParquetTarget(WriterTarget):
    """Parquet files: the spec's descriptions go into each file's key-value metadata unless `no_descriptions`."""

    no_descriptions: bool = target_field(
        "leave the spec's table and column descriptions out of each file's key-value metadata.", default=False
    )


@dataclass(frozen=True)
class IcebergTarget(WriterTarget):
    """An Iceberg catalog: by default a SQLite catalog file (inside a local output; for an S3 output at the place
    `catalog_home.default_catalog_file` names)."""

    catalog_uri: str | None = target_field(
        "catalog URI (sqlite:///..., postgresql+psycopg2://..., http(s):// REST; the Glue endpoint with "
        "--catalog-type glue)."
    )
    catalog_type: str | None = target_field(
        "catalog type: sql (default), rest (default for an http(s) --catalog-uri) or glue (AWS Glue).",
        metavar="sql|rest|glue",
    )
    catalog_name: str | None = target_field("catalog name.")
    namespace: str | None = target_field("namespace of the tables (default 'default').")
    catalog_properties: dict[str, str] = target_field(
        "catalog property (repeatable).", flag="--catalog-property", metavar="KEY=VALUE", default={}
    )


@dataclass(frozen=True)
class DuckLakeTarget(WriterTarget):
    """A DuckLake: its metadata database and its DATA_PATH (by default the metadata file inside a local output,
    or at the place `catalog_home.default_catalog_file` names for an S3 output, and DATA_PATH <output>/data/)."""

    metadata_uri: str | None = target_field("metadata database (a path, sqlite:... or postgres:...).")
    data_path: str | None = target_field("DATA_PATH of the lake (default <output>/data/).")
    schema: str | None = target_field("schema of the tables in the lake (default 'main').", cli=False)
