"""SQL text helpers: the one place that quotes a literal or an identifier for DuckDB (secrets, LOAD, ATTACH,
DuckLake DDL). Prefer bound parameters (`?`) wherever the statement takes them; these are for the places
that do not (DDL, ATTACH, CREATE SECRET, LOAD)."""

from __future__ import annotations


def sql_literal(text: str) -> str:
    """`text` as a single-quoted SQL string literal: `it's` -> `'it''s'`."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """`name` as a double-quoted SQL identifier: `a"b` -> `"a""b"`."""
    return '"' + name.replace('"', '""') + '"'
