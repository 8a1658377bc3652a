"""Find, parse and resolve dataset specs: built-in YAML files or a user's own."""

from __future__ import annotations

# Any here: raw YAML and parameter values (int, float, str, date, bool), before pydantic types them.
import datetime as dt
import math
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ParameterError, SpecError
from ..sql import sql_literal
from .base import identifier_problem
from .dataset import DatasetSpec, ParameterSpec
from .expressions import ExpressionError, evaluate
from .lines import with_line
from .lookup_files import read_lookup_files
from .source import MAX_SPEC_BYTES, decode_spec, parse_spec
from .validate import check_references

_PLACEHOLDER = re.compile(r"\$\{([^{}]+)\}")  # a parameter name or a small expression (see expressions.py)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BUILTIN_PACKAGE = "dataset_generator.schemas.datasets"


def list_datasets() -> list[str]:
    """Names of the built-in datasets."""
    files = resources.files(BUILTIN_PACKAGE).iterdir()
    return sorted(entry.name[: -len(".yaml")] for entry in files if entry.name.endswith(".yaml"))


def read_spec_text(dataset: str | None = None, schema_file: str | Path | None = None) -> tuple[str, str]:
    """The text of a built-in dataset or a spec file, and a name for error messages.

    Raises:
        SpecError: no such dataset or file, a file too large (checked before reading it) or not UTF-8.
    """
    if schema_file is not None:
        path = Path(schema_file)
        if not path.is_file():
            raise SpecError(f"schema file {path} does not exist")
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(f"{path}: the spec is {path.stat().st_size:,} bytes; a spec may be at most {MAX_SPEC_BYTES:,} bytes")
        return decode_spec(path.read_bytes(), str(path)), str(path)
    if dataset is None:
        raise SpecError("name a dataset or pass `schema_file`")
    if dataset not in list_datasets():
        raise SpecError(f"unknown dataset {dataset!r}; choose one of {', '.join(list_datasets())} or pass `schema_file`")
    text = resources.files(BUILTIN_PACKAGE).joinpath(f"{dataset}.yaml").read_text(encoding="utf-8")
    return text, f"built-in dataset {dataset}"


def read_spec_source(dataset: str | None = None, schema_file: str | Path | None = None) -> tuple[dict[str, Any], str]:
    """The raw YAML mapping of a built-in dataset or a spec file, and a name for error messages.

    Raises:
        SpecError: as `read_spec_text`, or the text is not a bounded YAML mapping (see schemas/source.py).
    """
    raw, _, source = _read_mapping(dataset, schema_file)
    return raw, source


def _read_mapping(dataset: str | None, schema_file: str | Path | None) -> tuple[dict[str, Any], str, str]:
    """The raw mapping, the text and the name of a spec; a built-in dataset's text (no `schema_file`) is
    trusted (see parse_spec)."""
    text, source = read_spec_text(dataset, schema_file)
    raw = parse_spec(text, source, trusted=schema_file is None)
    if not isinstance(raw, dict):
        raise SpecError(f"{source}: a dataset spec must be a mapping with name, parameters and tables")
    return raw, text, source


def load_schema(
    dataset: str | Path | None = None,
    *,
    schema_file: str | Path | None = None,
    scale: float = 1.0,
    params: Mapping[str, Any] | None = None,
) -> DatasetSpec:
    """Load a dataset spec with parameters resolved: `load_schema("ecommerce", scale=0.01)`.

    Args:
        dataset: a built-in dataset's name, or a path (a str ending in .yaml/.yml, or a Path) to a spec file.
        schema_file: a spec file (instead of `dataset`).
        scale: multiplies the parameters declared with `scale: true` that are not given explicitly.
        params: parameter values by name (strings are converted to the declared type).

    Returns:
        The validated spec, parameters substituted.

    Raises:
        SpecError: the spec is invalid; the message names file:line, table, column and field.
        ParameterError: a parameter or the scale is invalid.
    """
    if schema_file is None and dataset is not None and (isinstance(dataset, Path) or str(dataset).endswith((".yaml", ".yml"))):
        schema_file, dataset = dataset, None
    raw, text, source = _read_mapping(None if dataset is None else str(dataset), schema_file)
    try:
        return resolve_spec(raw, source, scale=scale, params=params or {})
    except SpecError as exc:
        # Name the file's line too: `my.yaml:12: table 'orders', column 'qty', ...`.
        raise SpecError(with_line(str(exc), source, text)) from None


def resolve_spec(raw: dict[str, Any], source: str, *, scale: float, params: Mapping[str, Any]) -> DatasetSpec:
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ParameterError(f"`scale` must be a positive number (got {scale})")
    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise SpecError(f"{source}: parameters: must be a mapping of parameter names to {{type, default}}")
    for name in parameters:
        problem = identifier_problem(name)
        if problem:
            raise SpecError(f"{source}: parameters: parameter {str(name)[:80]!r} {problem}")
    try:
        declared = {name: ParameterSpec.model_validate(value) for name, value in parameters.items()}
    except ValidationError as exc:
        raise SpecError(f"{source}: parameters: {_first_error(exc)}") from None
    unknown = sorted(set(params) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ParameterError(f"unknown parameter {unknown[0]!r} for {raw.get('name', source)}; known parameters: {known}")
    values = {name: _parameter_value(name, spec, params, scale) for name, spec in declared.items()}
    raw = read_lookup_files(raw, source)
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


# Keys whose strings are SQL: placeholders there become typed SQL literals, never spliced text.
_SQL_KEYS = frozenset({"expr", "checks"})
MAX_SUBSTITUTED_CHARS = 100_000


def _substitute(node: Any, values: Mapping[str, Any], source: str, sql: bool = False) -> Any:
    if isinstance(node, dict):
        return {key: _substitute(value, values, source, key in _SQL_KEYS) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(item, values, source, sql) for item in node]
    if isinstance(node, str) and "${" in node:
        if sql:
            return _substitute_sql(node, values, source)
        whole = _PLACEHOLDER.fullmatch(node)
        if whole:
            return _placeholder_value(whole.group(1), values, source)
        result = _PLACEHOLDER.sub(lambda match: str(_placeholder_value(match.group(1), values, source)), node)
        return _bounded_text(result, node, source)
    return node


def _substitute_sql(text: str, values: Mapping[str, Any], source: str) -> str:
    """Placeholders of a SQL expression as SQL literals of their values: `${label}` -> 'it''s', `${n}` -> 42,
    `${start_date}` -> CAST('2024-01-01' AS DATE). Inside a quoted SQL string the value's text is escaped."""
    parts: list[str] = []
    in_string = False
    position = 0
    while position < len(text):
        match = _PLACEHOLDER.match(text, position) if text.startswith("${", position) else None
        if match is not None:
            value = _placeholder_value(match.group(1), values, source)
            if in_string:
                parts.append(_plain_text(value).replace("'", "''"))  # inside a quoted string already open
            else:
                parts.append(_sql_literal(value, match.group(0), source))
            position = match.end()
            continue
        if text[position] == "'":
            in_string = not in_string  # a doubled '' inside a string toggles twice
        parts.append(text[position])
        position += 1
    return _bounded_text("".join(parts), text, source)


def _plain_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)


def _sql_literal(value: Any, placeholder: str, source: str) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value) if value >= 0 else f"({value})"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(f"{source}: {placeholder} is {value}; an expression needs a finite number")
        return str(value) if value >= 0 else f"({value})"
    if isinstance(value, dt.datetime):
        return f"CAST({sql_literal(value.isoformat(sep=' '))} AS TIMESTAMP)"
    if isinstance(value, dt.date):
        return f"CAST({sql_literal(value.isoformat())} AS DATE)"
    if isinstance(value, str):
        return sql_literal(value)
    raise SpecError(f"{source}: {placeholder} is a {type(value).__name__}; an expression needs a number, string, date or bool")


def _bounded_text(result: str, template: str, source: str) -> str:
    if len(result) > MAX_SUBSTITUTED_CHARS:
        raise SpecError(
            f"{source}: substituting {template[:40]!r} gives {len(result):,} characters; at most {MAX_SUBSTITUTED_CHARS:,}"
        )
    return result


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
