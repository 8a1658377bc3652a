"""Find, parse and resolve dataset specs: built-in YAML files or a user's own."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ParameterError, SpecError
from .dataset import DatasetSpec, ParameterSpec
from .expressions import ExpressionError, evaluate
from .lines import with_line
from .validate import check_references

_PLACEHOLDER = re.compile(r"\$\{([^{}]+)\}")  # a parameter name or a small expression (see expressions.py)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BUILTIN_PACKAGE = "dataset_generator.schemas.datasets"


def list_datasets() -> list[str]:
    """Names of the built-in datasets."""
    files = resources.files(BUILTIN_PACKAGE).iterdir()
    return sorted(entry.name[: -len(".yaml")] for entry in files if entry.name.endswith(".yaml"))


def read_spec_source(dataset: str | None = None, schema_file: str | Path | None = None) -> tuple[dict[str, Any], str]:
    """The raw YAML mapping of a built-in dataset or a spec file, and a name for error messages."""
    if schema_file is not None:
        path = Path(schema_file)
        if not path.is_file():
            raise SpecError(f"schema file {path} does not exist")
        text, source = path.read_text(encoding="utf-8"), str(path)
    else:
        if dataset is None:
            raise SpecError("name a dataset or pass --schema-file")
        if dataset not in list_datasets():
            raise SpecError(f"unknown dataset {dataset!r}; choose one of {', '.join(list_datasets())} or pass --schema-file")
        text = resources.files(BUILTIN_PACKAGE).joinpath(f"{dataset}.yaml").read_text(encoding="utf-8")
        source = f"built-in dataset {dataset}"
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise SpecError(f"{source}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{source}: a dataset spec must be a mapping with name, parameters and tables")
    return raw, source


def load_schema(
    dataset: str | Path | None = None,
    *,
    schema_file: str | Path | None = None,
    scale: float = 1.0,
    params: Mapping[str, Any] | None = None,
) -> DatasetSpec:
    """Load a dataset spec with parameters resolved: `load_schema("ecommerce", scale=0.01)`.

    A path (str ending in .yaml/.yml, or a Path) is read as a user spec file.
    """
    if schema_file is None and dataset is not None and (isinstance(dataset, Path) or str(dataset).endswith((".yaml", ".yml"))):
        schema_file, dataset = dataset, None
    raw, source = read_spec_source(None if dataset is None else str(dataset), schema_file)
    try:
        return resolve_spec(raw, source, scale=scale, params=params or {})
    except SpecError as exc:
        # Name the file's line too: `my.yaml:12: table 'orders', column 'qty', ...`.
        if schema_file is not None:
            text = Path(schema_file).read_text(encoding="utf-8")
        else:
            text = resources.files(BUILTIN_PACKAGE).joinpath(f"{dataset}.yaml").read_text(encoding="utf-8")
        raise SpecError(with_line(str(exc), source, text)) from None


def resolve_spec(raw: dict[str, Any], source: str, *, scale: float, params: Mapping[str, Any]) -> DatasetSpec:
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ParameterError(f"--scale must be a positive number (got {scale})")
    try:
        declared = {
            name: ParameterSpec.model_validate(value) for name, value in (raw.get("parameters") or {}).items()
        }
    except ValidationError as exc:
        raise SpecError(f"{source}: parameters: {_first_error(exc)}") from None
    unknown = sorted(set(params) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ParameterError(f"unknown parameter {unknown[0]!r} for {raw.get('name', source)}; known parameters: {known}")
    values = {name: _parameter_value(name, spec, params, scale) for name, spec in declared.items()}
    substituted = _substitute({key: value for key, value in raw.items() if key != "parameters"}, values, source)
    substituted["parameters"] = raw.get("parameters") or {}
    try:
        spec = DatasetSpec.model_validate(substituted)
    except ValidationError as exc:
        raise SpecError(f"{source}: {_first_error(exc)}") from None
    check_references(spec, source)
    return spec


def parameter_values(spec: DatasetSpec, scale: float = 1.0, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {name: _parameter_value(name, p, params or {}, scale) for name, p in spec.parameters.items()}


def _parameter_value(name: str, spec: ParameterSpec, given: Mapping[str, Any], scale: float) -> Any:
    explicit = name in given
    raw = given[name] if explicit else spec.default
    try:
        value = _convert(raw, spec.type)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter {name!r} must be a {spec.type} (got {raw!r})") from None
    # --scale sizes the defaults; a value the user gave explicitly is taken as given.
    if spec.scale and not explicit and spec.type in ("int", "float"):
        value = max(1, round(value * scale)) if spec.type == "int" else value * scale
    if spec.min is not None and spec.type in ("int", "float") and value < spec.min:
        raise ParameterError(f"parameter {name!r} must be >= {spec.min:g} (got {value})")
    return value


def _convert(raw: Any, kind: str) -> Any:
    if kind == "int":
        if isinstance(raw, bool):
            raise TypeError
        if isinstance(raw, str):
            raw = raw.replace("_", "")
            number = float(raw)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError
        return int(raw)
    if kind == "float":
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError
        return value
    if kind == "date":
        return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        lowered = str(raw).strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError
    return str(raw)


def _substitute(node: Any, values: Mapping[str, Any], source: str) -> Any:
    if isinstance(node, dict):
        return {key: _substitute(value, values, source) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(item, values, source) for item in node]
    if isinstance(node, str) and "${" in node:
        whole = _PLACEHOLDER.fullmatch(node)
        if whole:
            return _placeholder_value(whole.group(1), values, source)
        return _PLACEHOLDER.sub(lambda match: str(_placeholder_value(match.group(1), values, source)), node)
    return node


def _placeholder_value(text: str, values: Mapping[str, Any], source: str) -> Any:
    name = text.strip()
    if _NAME.fullmatch(name):
        if name not in values:
            raise SpecError(f"{source}: ${{{name}}} refers to an undeclared parameter (declare it under parameters:)")
        return values[name]
    try:
        return evaluate(name, values)
    except ExpressionError as exc:
        raise SpecError(f"{source}: ${{{text}}}: {exc}") from None


def _first_error(exc: ValidationError) -> str:
    """One line naming the table, column and field, e.g. `tables.orders.columns.qty.low: ...`."""
    error = exc.errors()[0]
    location = [str(part) for part in error["loc"]]
    # Drop the union tag pydantic inserts ("uniform", "function-after[...]") to keep the path readable.
    path = ".".join(part for part in location if not part.startswith(("function-", "tagged-union")))
    message = error["msg"].removeprefix("Value error, ")
    if location[:1] == ["tables"] and len(location) >= 4 and location[2] == "columns":
        table, column = location[1], location[3]
        field = ".".join(location[5:]) if len(location) > 5 else location[4] if len(location) > 4 else "gen"
        return f"table {table!r}, column {column!r}, field {field!r}: {message}"
    if location[:1] == ["tables"] and len(location) >= 2:
        field = ".".join(location[2:]) or "definition"
        return f"table {location[1]!r}, field {field!r}: {message}"
    return f"{path or 'spec'}: {message}"
