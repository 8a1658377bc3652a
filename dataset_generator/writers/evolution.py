"""Schema evolution on append: what a spec may have changed in a table it appends to, decided before anything
is written, the same way for Delta, Iceberg and DuckLake (each with its format's own rules).

Both schemas are compared as Arrow schemas rendered by the format itself (the table's stored schema, and the
spec's table passed through the format's own type mapping), so `int8` stored as Iceberg `int` is no change.
Allowed, where the format allows it (`Rules`):

- a new column that is nullable (`nullable: true` or a `null_fraction` in the spec): the rows already in the
  table read it as null;
- a widened type: int8 -> int16 -> int32 -> int64, float32 -> float64, decimal(P,S) -> decimal(P2,S) with
  P2 > P, date -> timestamp; the rows already in the table read it in the new type;
- a column the spec no longer has that the table holds as nullable: it stays, null in the new rows;
- a NOT NULL column the spec now makes nullable (its nullability relaxed).

Refused (`SchemaEvolutionError`, one line naming the table, the column, the old and new types and what is
allowed): a narrowed or otherwise changed type (int -> string), a new column that is not nullable (the rows
already there would have no value), a dropped column that is NOT NULL in the table, any change to a partition
column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from ..errors import SchemaEvolutionError

_OVERWRITE = 'or use mode="overwrite" to replace the table'


def type_name(data_type: pa.DataType) -> str:
    """A type in the spec language's spelling (`int32`, `float64`, `decimal(12,2)`, `list<string>`)."""
    t = pa.types
    if t.is_integer(data_type):
        return f"{'u' if t.is_unsigned_integer(data_type) else ''}int{data_type.bit_width}"
    if t.is_floating(data_type):
        return f"float{data_type.bit_width}"
    if t.is_decimal(data_type):
        return f"decimal({data_type.precision},{data_type.scale})"
    if t.is_string(data_type) or t.is_large_string(data_type) or t.is_string_view(data_type):
        return "string"
    if t.is_binary(data_type) or t.is_large_binary(data_type) or t.is_binary_view(data_type):
        return "binary"
    if t.is_boolean(data_type):
        return "bool"
    if t.is_date(data_type):
        return "date"
    if t.is_timestamp(data_type):
        unit = "" if data_type.unit == "us" else f"[{data_type.unit}]"
        return ("timestamptz" if data_type.tz is not None else "timestamp") + unit
    if t.is_list(data_type) or t.is_large_list(data_type) or t.is_list_view(data_type):
        return f"list<{type_name(data_type.value_type)}>"
    if t.is_struct(data_type):
        return "struct<" + ", ".join(f"{field.name}: {type_name(field.type)}" for field in data_type) + ">"
    return str(data_type)


@dataclass(frozen=True)
class Rules:
    """What a format lets an append change. `note` says why something common is missing (one clause)."""

    format_name: str
    widen_integers: bool = True
    widen_floats: bool = True
    widen_decimals: bool = False
    date_to_timestamp: bool = False
    keep_dropped: bool = True
    note: str = ""

    def allowed(self) -> str:
        """What an append may change, for the one-line refusal."""
        widenings = [
            text
            for allowed, text in (
                (self.widen_integers, "int8 -> int16 -> int32 -> int64"),
                (self.widen_floats, "float32 -> float64"),
                (self.widen_decimals, "decimal(P,S) -> decimal(P2,S) with P2 > P"),
                (self.date_to_timestamp, "date -> timestamp"),
            )
            if allowed
        ]
        parts = ["new nullable columns"] + (["widened types " + ", ".join(widenings)] if widenings else [])
        if self.keep_dropped:
            parts.append("dropped nullable columns (null in the new rows)")
        if self.note:
            parts.append(self.note)
        return f"{self.format_name} allows on append: {'; '.join(parts)}"

    def widens(self, old: pa.DataType, new: pa.DataType) -> bool:
        """Whether `old` may become `new` in place (the rows already stored read as `new`)."""
        t = pa.types
        if t.is_signed_integer(old) and t.is_signed_integer(new):
            return self.widen_integers and new.bit_width > old.bit_width
        if t.is_floating(old) and t.is_floating(new):
            return self.widen_floats and old.bit_width == 32 and new.bit_width == 64
        if t.is_decimal(old) and t.is_decimal(new):
            return self.widen_decimals and old.scale == new.scale and new.precision > old.precision
        if t.is_date(old) and t.is_timestamp(new):
            return self.date_to_timestamp and new.tz is None
        return False


@dataclass(frozen=True)
class Evolution:
    """What an append changes in a table's schema (all empty: nothing).

    `added`: the new columns (as the spec has them); `widened`: (column, old type, new type); `relaxed`: NOT
    NULL columns the spec makes nullable; `kept`: table columns the spec no longer has (null in new rows)."""

    added: tuple[pa.Field, ...] = ()
    widened: tuple[tuple[str, pa.DataType, pa.DataType], ...] = ()
    relaxed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the table's schema must change (kept columns need no change)."""
        return bool(self.added or self.widened or self.relaxed)

    def describe(self) -> str:
        """One line for commit messages: `added discount; widened qty int32 -> int64`."""
        parts = []
        if self.added:
            parts.append("added " + ", ".join(field.name for field in self.added))
        if self.widened:
            parts.append("widened " + ", ".join(f"{name} {type_name(old)} -> {type_name(new)}" for name, old, new in self.widened))
        if self.relaxed:
            parts.append("nullable " + ", ".join(self.relaxed))
        if self.kept:
            parts.append("kept " + ", ".join(self.kept))
        return "; ".join(parts) or "no change"


def plan_evolution(
    rules: Rules,
    table: str,
    current: pa.Schema,
    wanted: pa.Schema,
    *,
    fixed: Iterable[str] = (),
) -> Evolution:
    """What appending rows of `wanted` to a table stored as `current` changes, or the refusal.

    Args:
        rules: the format's rules.
        table: the table as the message names it (`Delta table 'orders'`).
        current: the table's schema as the format stores it (its nullability included).
        wanted: the spec's table through the format's type mapping, with the spec's nullability.
        fixed: columns whose type may not change (partition columns and the time column they derive from).
    Returns:
        The changes; `Evolution()` when the schemas agree.
    Raises:
        SchemaEvolutionError: a change the format cannot make, before anything is written.
    """
    fixed = set(fixed)
    old_fields = {field.name: field for field in current}
    added: list[pa.Field] = []
    widened: list[tuple[str, pa.DataType, pa.DataType]] = []
    relaxed: list[str] = []
    for field in wanted:
        old = old_fields.get(field.name)
        if old is None:
            if not field.nullable:
                raise _refuse(
                    table, field.name, None, field.type,
                    f"new column {field.name!r} ({type_name(field.type)}) is not nullable: the rows already in the table "
                    "would have no value; declare it `nullable: true` (or give it a null_fraction) in the spec",
                )  # fmt: skip
            added.append(field)
            continue
        if type_name(old.type) != type_name(field.type):
            if field.name in fixed or not rules.widens(old.type, field.type):
                reason = " (a partition column's type cannot change)" if field.name in fixed else ""
                raise _refuse(
                    table, field.name, old.type, field.type,
                    f"column {field.name!r} is {type_name(old.type)} in the table and {type_name(field.type)} in the "
                    f"spec{reason}; {rules.allowed()}",
                )  # fmt: skip
            widened.append((field.name, old.type, field.type))
        if field.nullable and not old.nullable:
            relaxed.append(field.name)
    present = set(wanted.names)
    kept: list[str] = []
    for name, old in old_fields.items():
        if name in present:
            continue
        if name in fixed or not rules.keep_dropped or not old.nullable:
            why = (
                "a partition column" if name in fixed
                else "NOT NULL in the table" if rules.keep_dropped and not old.nullable
                else f"{rules.format_name} cannot leave it null in the new rows"
            )  # fmt: skip
            raise _refuse(
                table, name, old.type, None,
                f"column {name!r} ({type_name(old.type)}, {why}) is in the table but not in the spec; add it back to "
                f"the spec; {rules.allowed()}",
            )  # fmt: skip
        kept.append(name)
    return Evolution(tuple(added), tuple(widened), tuple(relaxed), tuple(kept))


def _refuse(table: str, column: str, old: pa.DataType | None, new: pa.DataType | None, problem: str) -> SchemaEvolutionError:
    return SchemaEvolutionError(
        f"cannot append to {table}: {problem}; {_OVERWRITE}",
        table=table,
        column=column,
        old=None if old is None else type_name(old),
        new=None if new is None else type_name(new),
    )


def columns_record(schema: pa.Schema) -> list[list[str]]:
    """The columns of a plain-file table as its `_SUCCESS` manifest records them: [name, type] pairs."""
    return [[field.name, type_name(field.type)] for field in schema]


def check_same_columns(table: str, recorded: object, schema: pa.Schema) -> None:
    """Refuse appending files of `schema` to a plain-file table whose manifest recorded other columns.

    Plain Parquet/CSV/JSON lines files have no table schema to evolve: a glob reader takes the first file's
    columns (CSV/JSON by position), so one table holds one set of columns. A manifest from an older version
    (no record) is not checked.

    Raises:
        SchemaEvolutionError: the first column that differs, with the fix.
    """
    if not isinstance(recorded, list):
        return
    old = {str(entry[0]): str(entry[1]) for entry in recorded if isinstance(entry, list) and len(entry) == 2}
    new = {name: kind for name, kind in columns_record(schema)}
    if list(old.items()) == list(new.items()):
        return
    column = next((name for name in new if old.get(name) != new[name]), None)
    if column is None:
        column = next((name for name in old if name not in new), None)
    if column is None:  # same columns and types, another order
        column = next(name for name, other in zip(new, old, strict=False) if name != other)
        problem = f"column {column!r} moved (the files have {', '.join(old)})"
    elif column not in old:
        problem = f"column {column!r} ({new[column]}) is new"
    elif column not in new:
        problem = f"column {column!r} ({old[column]}) is in the files but not in the spec"
    else:
        problem = f"column {column!r} is {old[column]} in the files and {new[column]} in the spec"
    raise SchemaEvolutionError(
        f"cannot append to {table}: {problem}; plain files have no table schema to evolve (a reader of the table's "
        'files would mix two layouts): write to a new output, use mode="overwrite", or use Delta, Iceberg or '
        "DuckLake, which evolve the schema on append",
        table=table, column=column, old=old.get(column), new=new.get(column),
    )  # fmt: skip
