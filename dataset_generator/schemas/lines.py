"""Line numbers for spec errors: where in the YAML file a table, column or field is written."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

NodePath = tuple[str, ...]

_TABLE = re.compile(r"table '([^']+)'")
_COLUMN = re.compile(r"column '([^']+)'")
_FIELD = re.compile(r"field '([^']+)'")
_COLUMN_CYCLE = re.compile(r"column cycle ([^.\s]+)\.(\S+) ->")
_PLACEHOLDER = re.compile(r"(\$\{[^{}]+\})")
# "lookup table 'words': ..." or pydantic's "lookup_tables.words.rows: ..."
_LOOKUP_TABLE = re.compile(r"lookup(?: table '([^']+)'|_tables\.([^.:\s]+))(?:\.([^.:\s]+))?")


def line_map(text: str) -> dict[NodePath, int]:
    """1-based line of every mapping key and list item, by its path from the document root."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[NodePath, int] = {}

    def walk(node: yaml.Node, path: NodePath) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                child = (*path, str(position))
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    if root is not None:
        walk(root, ())
    return lines


def error_line(message: str, text: str) -> int | None:
    """The line an error message is about, from the table/column/field (or placeholder) it names."""
    lines = line_map(text)
    lookup = _LOOKUP_TABLE.match(message.split(": ", 1)[-1])
    if lookup is not None:
        path: NodePath = ("lookup_tables", *(part for part in lookup.groups() if part))
        while path:
            if path in lines:
                return lines[path]
            path = path[:-1]
    cycle = _COLUMN_CYCLE.search(message)
    table_match = _TABLE.search(message)
    column_match = _COLUMN.search(message)
    table = cycle.group(1) if cycle else table_match.group(1) if table_match else None
    column = cycle.group(2) if cycle else column_match.group(1) if column_match else None
    if table is not None:
        path = ("tables", table)
        if column is not None:
            path = (*path, "columns", column)
        field = _FIELD.search(message)
        if field is not None:
            path = (*path, *field.group(1).split("."))
        # The most specific path written in the file: a field, else its column, else its table.
        while path:
            if path in lines:
                return lines[path]
            path = path[:-1]
    placeholder = _PLACEHOLDER.search(message)
    if placeholder is not None:
        for number, line in enumerate(text.splitlines(), start=1):
            if placeholder.group(1) in line:
                return number
    if message.split(": ", 2)[1:2] == ["parameters"] and ("parameters",) in lines:
        return lines[("parameters",)]
    return None


def with_line(message: str, source: str, text: str) -> str:
    """`source: msg` -> `source:LINE: msg` when the line is known."""
    prefix = f"{source}: "
    if not message.startswith(prefix):
        return message
    line = error_line(message, text)
    return message if line is None else f"{source}:{line}: {message[len(prefix) :]}"


def source_text(source: str, builtin_text: str | None = None) -> str | None:
    if builtin_text is not None:
        return builtin_text
    path = Path(source)
    return path.read_text(encoding="utf-8") if path.is_file() else None
