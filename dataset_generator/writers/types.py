"""Which column types each output format stores, checked before anything is generated.

Each writer names, in `TableWriter.unsupported_type`, the Arrow types its format cannot hold losslessly and
why; `check_table_types` walks every column (inside lists and structs too) and refuses the first such column
with one line naming the table, the column, its spec type and the fix. The lossless mappings a format applies
instead (CSV/JSON lines: binary as base64 text, durations as counts of their unit; CSV: lists and structs as
JSON text) live in the writers themselves;
docs/schemas.md has the whole table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa

from ..contracts import TableInfo
from ..errors import WriterError

# (Arrow type, whether it is inside a list or struct) -> why the format cannot store it and what to use
# instead, or None when it can.
TypeRule = Callable[[pa.DataType, bool], str | None]


def spec_type(data_type: pa.DataType) -> str:
    """The spec language's spelling of an Arrow type (`decimal(12,2)`, `list<string>`, `timestamp(ms)`)."""
    if pa.types.is_decimal(data_type):
        return f"decimal({data_type.precision},{data_type.scale})"
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return f"list<{spec_type(data_type.value_type)}>"
    if pa.types.is_struct(data_type):
        return "struct<" + ", ".join(f"{field.name}: {spec_type(field.type)}" for field in data_type) + ">"
    if pa.types.is_timestamp(data_type):
        kind = "timestamptz" if data_type.tz else "timestamp"
        details = [] if data_type.unit == "us" else [f"unit {data_type.unit}"]
        if data_type.tz and data_type.tz != "UTC":
            details.append(f"tz {data_type.tz}")
        return kind + (f" ({', '.join(details)})" if details else "")
    if pa.types.is_duration(data_type):
        return f"duration (unit {data_type.unit})"
    if pa.types.is_time(data_type):
        return "time"
    names = {pa.bool_(): "bool", pa.string(): "string", pa.binary(): "binary", pa.date32(): "date"}
    return names.get(data_type, str(data_type))


def _walk(data_type: pa.DataType, nested: bool = False) -> Iterator[tuple[pa.DataType, bool]]:
    """The type and every type nested in it, each with whether it is inside a list or struct."""
    yield data_type, nested
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        yield from _walk(data_type.value_type, True)
    elif pa.types.is_struct(data_type):
        for field in data_type:
            yield from _walk(field.type, True)


def check_table_types(format_name: str, table: TableInfo, rule: TypeRule) -> None:
    """Refuse the first column of `table` that `rule` says the format cannot store.

    Raises:
        WriterError: `column <table>.<column> (<type>) cannot be written as <format>: <why>`.
    """
    for field in table.schema:
        for inner, nested in _walk(field.type):
            why = rule(inner, nested)
            if why is not None:
                where = "" if inner == field.type else f" (its {spec_type(inner)} values)"
                raise WriterError(
                    f"column {table.name}.{field.name} ({spec_type(field.type)}){where} cannot be written as "
                    f"{format_name}: {why}"
                )


def no_unsigned(format_name: str, data_type: pa.DataType) -> str | None:
    if pa.types.is_unsigned_integer(data_type):
        # uint64 values are generated up to 2^63 - 1 (schemas/base.py), so int64 holds them too.
        wider = {8: "int16", 16: "int32"}.get(data_type.bit_width, "int64")
        return f"{format_name} has no unsigned integers; use {wider} (it holds every value)"
    return None


def no_duration(format_name: str, data_type: pa.DataType) -> str | None:
    if pa.types.is_duration(data_type):
        return f"{format_name} has no duration type; use int64 (a count of the unit) or a numeric type"
    return None


def micros_utc_only(format_name: str, data_type: pa.DataType) -> str | None:
    """Timestamps of microsecond (or coarser) resolution; zoned ones in UTC."""
    if pa.types.is_timestamp(data_type):
        if data_type.unit == "ns":
            return f"{format_name} stores timestamps in microseconds; use unit: us (or ms, s)"
        if data_type.tz not in (None, "UTC"):
            return (
                f"{format_name} stores zoned timestamps as UTC instants without a display zone; "
                "leave tz out (UTC) and convert in the reader"
            )
    return None


def nested_binary_refused(format_name: str, data_type: pa.DataType, nested: bool) -> str | None:
    """Text formats write a top-level binary column as base64; inside a list or struct they cannot."""
    if nested and (pa.types.is_binary(data_type) or pa.types.is_large_binary(data_type)):
        return f"{format_name} writes binary values as base64 only in top-level columns; use string inside lists and structs"
    return None
