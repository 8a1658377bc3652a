"""A JSON Schema of the spec format, from the pydantic models, for editor autocomplete and checks."""

from __future__ import annotations

# Any here: JSON values.
from typing import Any

from .dataset import DatasetSpec

# Any non-string field may also hold a `${parameter}` placeholder, resolved when the spec is loaded.
_PLACEHOLDER_SCHEMA = {"type": "string", "pattern": r"^\$\{[^{}]+\}$"}
_NON_STRING = {"integer", "number", "boolean", "array"}


def spec_json_schema() -> dict[str, Any]:
    schema = DatasetSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dataset-generator dataset spec"
    _relax_switch_cases(schema)
    return _allow_placeholders(schema)


# A switch case is a column without `type` (it takes the switch's): any column's fields, with `gen`.
_CASE_SCHEMA = {"type": "object", "required": ["gen"], "description": "a column spec without type (it takes the switch's)"}


def _relax_switch_cases(schema: dict[str, Any]) -> None:
    properties = schema.get("$defs", {}).get("SwitchColumn", {}).get("properties", {})
    if "cases" in properties:
        properties["cases"] = {"type": "object", "additionalProperties": _CASE_SCHEMA, "minProperties": 1}
    if "default" in properties:
        properties["default"] = {"anyOf": [_CASE_SCHEMA, {"type": "null"}], "default": None}


def _allow_placeholders(node: Any) -> Any:
    if isinstance(node, list):
        return [_allow_placeholders(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _allow_placeholders(value) for key, value in node.items()}
    # A "properties" map may itself have a key named "type" (the column type field): only strings are JSON types.
    kind = node.get("type") if isinstance(node.get("type"), str) else None
    # Non-string values, and strings from a fixed list (`exchange: ${calendar}`), may be written as placeholders.
    if kind in _NON_STRING or (kind == "string" and "enum" in node):
        # The original constraints stay intact as the first alternative.
        extras = {key: node.pop(key) for key in ("title", "description", "default") if key in node}
        return {"anyOf": [node, _PLACEHOLDER_SCHEMA], **extras}
    return node
