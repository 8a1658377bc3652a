"""Lookup tables kept in files: `lookup_tables: {name: {key: k, file: words.yaml}}` reads the file's rows into
the spec before it is validated, so a resolved spec carries its reference data (and pickles to any worker).

A file is found next to the user's spec, else among the data files shipped with the built-in datasets
(`dataset_generator/schemas/datasets/data/`). CSV files give one row per line (numbers parsed, `|` splitting a
cell into a list); YAML files hold a list of mappings.
"""

from __future__ import annotations

# Any here: raw YAML and CSV rows before pydantic types them.
import csv
import io
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import SpecError
from .source import MAX_SPEC_BYTES, decode_spec, parse_spec

DATA_PACKAGE = "dataset_generator.schemas.datasets"
DATA_FOLDER = "data"


def read_lookup_files(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """`raw` with each lookup table's `file:` replaced by its rows."""
    tables = raw.get("lookup_tables")
    if not isinstance(tables, dict) or not any(isinstance(table, dict) and "file" in table for table in tables.values()):
        return raw
    resolved = {}
    for name, table in tables.items():
        if isinstance(table, dict) and "file" in table:
            if "rows" in table:
                raise SpecError(f"{source}: lookup table {name!r}: give rows: or file:, not both")
            table = {key: value for key, value in table.items() if key != "file"}
            table["rows"] = _rows(str(tables[name]["file"]), name, source)
        resolved[name] = table
    return {**raw, "lookup_tables": resolved}


def _rows(file: str, name: str, source: str) -> list[Any]:
    relative = PurePosixPath(file)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts or relative.suffix not in (".csv", ".yaml", ".yml"):
        raise SpecError(
            f"{source}: lookup table {name!r}: file {file!r} must be a relative path to a .csv, .yaml or .yml file "
            "inside the spec's folder"
        )
    data = _read(relative, source)
    if data is None:
        raise SpecError(
            f"{source}: lookup table {name!r}: file {file!r} is neither next to the spec nor a shipped data file "
            f"({DATA_PACKAGE.replace('.', '/')}/{DATA_FOLDER}/)"
        )
    where = f"{file} (lookup table {name!r})"
    text = decode_spec(data, where)  # bounded like a spec: at most MAX_SPEC_BYTES of UTF-8
    if relative.suffix == ".csv":
        return [{key: _cell(value) for key, value in row.items()} for row in csv.DictReader(io.StringIO(text))]
    rows = parse_spec(text, where)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise SpecError(f"{source}: lookup table {name!r}: file {file!r} must hold a YAML list of mappings (one per row)")
    return rows


def _read(relative: PurePosixPath, source: str) -> bytes | None:
    spec_path = Path(source)
    if spec_path.is_file():
        beside = spec_path.parent / Path(*relative.parts)
        if beside.is_file():
            if beside.stat().st_size > MAX_SPEC_BYTES:
                raise SpecError(f"{source}: {relative} is {beside.stat().st_size:,} bytes; a data file may be at most {MAX_SPEC_BYTES:,}")
            return beside.read_bytes()
    shipped = resources.files(DATA_PACKAGE).joinpath(DATA_FOLDER, *relative.parts)
    return shipped.read_bytes() if shipped.is_file() else None


def _cell(text: str | None) -> Any:
    """A CSV cell as a number when it reads as one; `a|b|c` as a list."""
    if text is None:
        return None
    if "|" in text:
        return [_cell(part) for part in text.split("|")]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
