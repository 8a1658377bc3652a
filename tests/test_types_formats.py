"""Every column type through every writer: a spec using all of them generates into Parquet, CSV and JSON lines
(where supported), Delta, Iceberg and DuckLake; DuckDB reads each back with the expected types and the same
values as the Parquet output; the combinations a format cannot store are refused before anything is written,
with the one line docs/schemas.md documents (CLI exit 2)."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import pytest
import yaml
from _duckdb_reader import duckdb_con  # noqa: F401  (fixture)

from dataset_generator.api import generate
from dataset_generator.writers.registry import create_writer

from helpers import run_cli

ROWS = 300
DAYS = {"start": "2024-01-01", "end": "2024-03-31"}
COLUMNS: dict[str, dict[str, Any]] = {
    "price": {"gen": "lognormal", "mean": 3, "sigma": 1, "min": 0.01, "max": 99_999, "type": "decimal(12,2)"},
    "big": {"gen": "uniform", "low": -1e20, "high": 1e20, "type": "decimal(38,4)"},
    "u8": {"gen": "uniform", "low": 0, "high": 255, "type": "uint8"},
    "u16": {"gen": "uniform", "low": 0, "high": 65_535, "type": "uint16"},
    "u32": {"gen": "uniform", "low": 0, "high": 4_000_000_000, "type": "uint32"},
    "u64": {"gen": "uniform", "low": 0, "high": 2**62, "type": "uint64"},
    "blob": {"gen": "uuid", "type": "binary"},
    "at": {"gen": "uniform", "low": 0, "high": 86_399, "type": "time"},
    "ts_ms": {"gen": "timestamp", **DAYS, "unit": "ms"},
    "ts_ns": {"gen": "timestamp", **DAYS, "unit": "ns"},
    "utc": {"gen": "timestamp", **DAYS, "type": "timestamptz"},
    "paris": {"gen": "timestamp", **DAYS, "type": "timestamptz", "tz": "Europe/Paris"},
    "wait": {"gen": "gamma", "shape": 2, "scale": 60, "type": "duration", "unit": "s"},
    "tags": {"gen": "list", "type": "list<string>", "length": {"distribution": "poisson", "lam": 2},
             "element": {"gen": "choice", "values": ["red", "green", "blue"]}},
    "address": {"gen": "struct", "fields": {"city": {"gen": "faker", "provider": "city"},
                                            "zip": {"gen": "uniform", "low": 10_000, "high": 99_999, "type": "int32"}}},
    "lines": {"gen": "list", "length": {"distribution": "uniform", "low": 0, "high": 3},
              "element": {"gen": "struct", "fields": {"qty": {"gen": "uniform", "low": 1, "high": 9, "type": "int16"},
                                                      "amount": {"gen": "normal", "mean": 50, "std": 10, "min": 0,
                                                                 "max": 999, "type": "decimal(8,2)"}}}},
}  # fmt: skip
# What each format refuses (docs/schemas.md, "Types by format"), with a piece of its one-line message.
REFUSED: dict[str, dict[str, str]] = {
    "csv": {},
    "jsonl": {},
    "delta": {
        **{name: "Delta has no unsigned integers" for name in ("u8", "u16", "u32", "u64")},
        "at": "Delta has no time-of-day type", "ts_ns": "Delta stores timestamps in microseconds",
        "paris": "Delta stores zoned timestamps as UTC instants", "wait": "Delta has no duration type",
    },
    "iceberg": {
        "u32": "Iceberg has no unsigned integers; use int64", "u64": "Iceberg has no unsigned integers; use int64",
        "ts_ns": "Iceberg stores timestamps in microseconds", "paris": "Iceberg stores zoned timestamps as UTC instants",
        "wait": "Iceberg has no duration type",
    },
    "ducklake": {"wait": "DuckLake has no duration type"},
}  # fmt: skip
# The type DuckDB gives each column as it reads the Parquet files (the reference) ...
PARQUET_TYPES = {
    "id": "BIGINT", "price": "DECIMAL(12,2)", "big": "DECIMAL(38,4)", "u8": "UTINYINT", "u16": "USMALLINT",
    "u32": "UINTEGER", "u64": "UBIGINT", "blob": "BLOB", "at": "TIME", "ts_ms": "TIMESTAMP", "ts_ns": "TIMESTAMP_NS",
    "utc": "TIMESTAMP WITH TIME ZONE", "paris": "TIMESTAMP WITH TIME ZONE", "wait": "BIGINT", "tags": "VARCHAR[]",
    "address": "STRUCT(city VARCHAR, zip INTEGER)", "lines": "STRUCT(qty SMALLINT, amount DECIMAL(8,2))[]",
}  # fmt: skip
# ... and where a format's reader differs (lossless: the same values).
FORMAT_TYPES = {
    "iceberg": {"u8": "INTEGER", "u16": "INTEGER", "lines": "STRUCT(qty INTEGER, amount DECIMAL(8,2))[]"},
    "ducklake": {"ts_ms": "TIMESTAMP_MS"},
}


def _columns(format_name: str) -> dict[str, dict[str, Any]]:
    return {name: column for name, column in COLUMNS.items() if name not in REFUSED[format_name]}


def _write_spec(path: Path, columns: dict[str, dict[str, Any]]) -> Path:
    spec = {"name": "alltypes", "tables": {"t": {"rows": ROWS, "columns": {"id": {"gen": "sequence"}, **columns}}}}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _source(con: Any, writer: Any, format_name: str, root: Path, columns: dict[str, dict[str, Any]]) -> str:
    """A DuckDB relation over the written table, as another engine would read it."""
    if format_name == "parquet":
        return f"read_parquet('{root}/t/*.parquet')"
    types = {"id": "BIGINT", **{name: PARQUET_TYPES[name] for name in columns}}
    if format_name in ("csv", "jsonl"):
        # Text carries no types: the reader is given them (binary as its base64 text, decoded below).
        # CSV holds lists and structs as JSON text: cast through DuckDB's JSON type.
        as_json = {name for name, kind in types.items() if format_name == "csv" and (kind.endswith("]") or kind.startswith("STRUCT"))}
        declared = {name: ("VARCHAR" if kind == "BLOB" or name in as_json else kind) for name, kind in types.items()}
        struct = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in declared.items()) + "}"
        reader = "read_csv" if format_name == "csv" else "read_json"
        files = glob.glob(f"{root}/t/*.{'csv' if format_name == 'csv' else 'jsonl'}")
        relation = f"{reader}({files!r}, columns = {struct})"
        decoded = ", ".join(
            f"from_base64({name}) AS {name}" if kind == "BLOB" else f'"{name}"::JSON::{kind} AS "{name}"' if name in as_json else f'"{name}"'
            for name, kind in types.items()
        )
        return f"(SELECT {decoded} FROM {relation})"
    if format_name == "delta":
        return f"delta_scan('{root}/t')"
    if format_name == "iceberg":
        return f"iceberg_scan('{writer.catalog.load_table((writer.namespace, 't')).metadata_location}')"
    con.execute(f"ATTACH IF NOT EXISTS 'ducklake:{writer._metadata()}' AS lake_types (READ_ONLY)")
    return f"lake_types.{writer.schema}.t"


def _rows(con: Any, source: str, columns: list[str]) -> list[tuple[Any, ...]]:
    shown = ", ".join(f'"{name}"::VARCHAR' for name in columns)
    return con.execute(f"SELECT {shown} FROM {source} ORDER BY id").fetchall()


@pytest.mark.parametrize("format_name", ["csv", "jsonl", "delta", "iceberg", "ducklake"])
def test_every_supported_type_reads_back_with_its_type_and_values(
    tmp_path: Path, duckdb_con: Any, format_name: str  # noqa: F811
) -> None:
    columns = _columns(format_name)
    spec = _write_spec(tmp_path / "spec.yaml", columns)
    reference = create_writer("parquet", str(tmp_path / "parquet"))
    generate(spec, reference, workers=1)
    writer = create_writer(format_name, str(tmp_path / format_name))
    generate(spec, writer, workers=1)
    source = _source(duckdb_con, writer, format_name, tmp_path / format_name, columns)
    names = ["id", *columns]
    described = {row[0]: row[1] for row in duckdb_con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    expected = {name: FORMAT_TYPES.get(format_name, {}).get(name, PARQUET_TYPES[name]) for name in names}
    assert described == expected
    parquet_rows = _rows(duckdb_con, _source(duckdb_con, reference, "parquet", tmp_path / "parquet", columns), names)
    assert len(parquet_rows) == ROWS
    got = _rows(duckdb_con, source, names)
    if format_name == "ducklake":  # DuckLake keeps milliseconds as TIMESTAMP_MS: the same instants, shown shorter
        index = names.index("ts_ms")
        parquet_rows = [row[:index] + (row[index][:23],) + row[index + 1 :] for row in parquet_rows]
    assert got == parquet_rows


@pytest.mark.parametrize(
    ("format_name", "column"), [(format_name, name) for format_name, refused in REFUSED.items() for name in refused]
)
def test_a_type_the_format_cannot_store_is_refused_before_writing(tmp_path: Path, format_name: str, column: str) -> None:
    spec = _write_spec(tmp_path / "spec.yaml", {column: COLUMNS[column]})
    output = tmp_path / "out"
    result = run_cli("generate", str(spec), "--format", format_name, "--output", str(output))
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and f"column t.{column} (" in line and f"cannot be written as {format_name}" in line, line
    assert REFUSED[format_name][column] in line
    assert not output.exists() or not any(path.is_file() for path in output.rglob("*"))


@pytest.mark.parametrize("format_name", ["jsonl", "csv"])
def test_text_formats_nest_durations_as_counts_and_refuse_nested_binary(
    tmp_path: Path, duckdb_con: Any, format_name: str  # noqa: F811
) -> None:
    waits = {"gen": "list", "length": {"distribution": "fixed", "value": 2},
             "element": {"gen": "uniform", "low": 1, "high": 60, "type": "duration", "unit": "s"}}  # fmt: skip
    spec = _write_spec(tmp_path / "spec.yaml", {"waits": waits, "s": {"gen": "struct", "fields": {"w": waits}}})
    generate(spec, create_writer(format_name, str(tmp_path / "out")), workers=1)
    files = glob.glob(f"{tmp_path}/out/t/*.{format_name}")
    if format_name == "jsonl":
        source = f"read_json({files!r}, columns = {{'id': 'BIGINT', 'waits': 'BIGINT[]', 's': 'STRUCT(w BIGINT[])'}})"
    else:
        source = (f"(SELECT waits::JSON::BIGINT[] AS waits, s::JSON::STRUCT(w BIGINT[]) AS s FROM read_csv({files!r}, "
                  "columns = {'id': 'BIGINT', 'waits': 'VARCHAR', 's': 'VARCHAR'}))")  # fmt: skip
    row = duckdb_con.execute(f"SELECT min(list_min(waits)), max(list_max(waits)), min(len(s.w)) FROM {source}").fetchone()
    assert row == (1, 60, 2)
    nested_binary = _write_spec(tmp_path / "bad.yaml", {"s": {"gen": "struct", "fields": {"b": {"gen": "uuid", "type": "binary"}}}})
    result = run_cli("generate", str(nested_binary), "--format", format_name, "--output", str(tmp_path / "bad"))
    assert result.exit_code == 2
    assert f"column t.s (struct<b: binary>) (its binary values) cannot be written as {format_name}" in result.output


@pytest.mark.parametrize("format_name", ["parquet", "jsonl"])
def test_validate_reads_every_type_back_as_planned(tmp_path: Path, format_name: str) -> None:
    """`dataset-generator validate` on the documented every-type spec: the schema check compares the DuckDB
    types it reads with the planned ones (decimals, unsigned ints, BLOB, TIME, zoned timestamps, lists, structs)."""
    spec = Path(__file__).resolve().parents[1] / "docs" / "examples" / "types.yaml"
    out = tmp_path / "out"
    args = [spec, "--param", "rows=300"]
    assert run_cli("generate", args[0], "--format", format_name, "--output", out, *args[1:]).exit_code == 0
    result = run_cli("validate", out, spec, "--format", format_name, *args[1:])
    assert result.exit_code == 0, result.output
    assert "orders.schema" in result.output and "columns as planned" in result.output
