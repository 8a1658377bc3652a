"""A run's size, estimated from the spec alone in constant time per table, before anything O(rows) is built.

Planning a run builds layouts (O(parent rows) for child tables) and one task per file; a spec or parameter
that asks for 10^15 rows would hang there. `check_size` refuses such a run first, with one line giving
rows, files and bytes, unless the caller forces it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import SizeLimitError
from ..schemas.base import ColumnBase
from ..schemas.dataset import DatasetSpec, TableSpec, TimeSpec
from ..schemas.nested import ListColumn, StructColumn
from ..schemas.text import UuidColumn
from ..schemas.types import is_decimal
from .calendar import EPOCH, day_factors
from .layout import table_order

MAX_BYTES = 10**15  # 1 PB
MAX_FILES = 10**7
# Uncompressed bytes per value, by column type (strings: a typical short text; uuids: 36 characters).
_VALUE_BYTES = {"int8": 1, "int16": 2, "int32": 4, "int64": 8, "float32": 4, "float64": 8, "bool": 1,
                "date": 4, "timestamp": 8, "string": 16, "uint8": 1, "uint16": 2, "uint32": 4, "uint64": 8,
                "binary": 16, "time": 8, "timestamptz": 8, "duration": 8}  # fmt: skip
_DECIMAL_BYTES = 16


def _column_bytes(column: ColumnBase) -> float:
    """Uncompressed bytes of one value: a list holds its mean length of elements, a struct all its fields."""
    if isinstance(column, ListColumn):
        return 4 + column.length.expected() * _column_bytes(column.element)
    if isinstance(column, StructColumn):
        return sum(_column_bytes(field) for field in column.fields.values())
    if isinstance(column, UuidColumn):
        return 16 if column.type == "binary" else 36
    return _DECIMAL_BYTES if is_decimal(column.type) else _VALUE_BYTES.get(column.type, 8)


@dataclass(frozen=True)
class SizeEstimate:
    """Rows, files and uncompressed bytes of a run (floats: they may be far beyond any integer type)."""

    rows: float
    files: float
    bytes: float

    def __str__(self) -> str:
        return f"about {_count(self.rows)} rows in {_count(self.files)} files, {_bytes(self.bytes)} uncompressed"


def estimate_rows(spec: DatasetSpec) -> dict[str, float]:
    """Expected rows of every table, from the spec alone (children: parent rows times the mean count)."""
    rows: dict[str, float] = {}
    for name in table_order(spec):
        table = spec.tables[name]
        if table.time is not None:
            rows[name] = _time_rows(table.time)
        elif table.parent is not None:
            rows[name] = rows[table.parent.table] * table.parent.count.expected()
        else:
            rows[name] = float(table.rows or 0)
    return rows


def _time_rows(time: TimeSpec) -> float:
    if time.rows is not None:
        return float(time.rows)
    days = (time.end - time.start).days + 1
    if time.seasonality is None and not time.events and time.trend is None:
        return float(time.per_day or 0) * days
    # A calendar or a trend shapes the days: their factors, one number per day like the layout's.
    first = (time.start - EPOCH).days
    return float(time.per_day or 0) * float(day_factors(time, first, days).sum())


def _time_root(spec: DatasetSpec, table: str) -> TimeSpec | None:
    seen: set[str] = set()
    while table not in seen:
        seen.add(table)
        table_spec = spec.tables[table]
        if table_spec.time is not None:
            return table_spec.time
        if table_spec.parent is None:
            return None
        table = table_spec.parent.table
    return None


def _partitions(time: TimeSpec | None, columns: tuple[str, ...]) -> int:
    """How many partitions the days start..end fall in."""
    if time is None or not columns:
        return 1
    start, end = time.start, time.end
    if "day" in columns:
        return (end - start).days + 1
    if "month" in columns:
        return (end.year * 12 + end.month) - (start.year * 12 + start.month) + 1
    return end.year - start.year + 1


def _row_bytes(table: TableSpec) -> int:
    return math.ceil(sum(_column_bytes(column) for column in table.columns.values() if not column.hidden))


def estimate_size(spec: DatasetSpec, partitions: Mapping[str, tuple[str, ...]], file_rows_target: int) -> SizeEstimate:
    """The size of a run of the tables in `partitions` (table name -> its partition columns).

    Args:
        spec: the resolved spec.
        partitions: the tables to write and the partition columns each is written with.
        file_rows_target: the most rows a file holds.

    Returns:
        The estimate, summed over the tables.
    """
    rows = estimate_rows(spec)
    total_rows = total_files = total_bytes = 0.0
    for name, columns in partitions.items():
        count = _partitions(_time_root(spec, name), columns)
        total_rows += rows[name]
        total_files += max(count, math.ceil(rows[name] / file_rows_target)) if rows[name] else 1
        total_bytes += rows[name] * _row_bytes(spec.tables[name])
    return SizeEstimate(rows=total_rows, files=total_files, bytes=total_bytes)


def check_size(spec: DatasetSpec, partitions: Mapping[str, tuple[str, ...]], file_rows_target: int, *, force: bool) -> SizeEstimate:
    """The run's estimate, refused when it passes MAX_BYTES or MAX_FILES unless `force`.

    Raises:
        SizeLimitError: the estimate passes a bound and `force` is False.
    """
    estimate = estimate_size(spec, partitions, file_rows_target)
    if not force and (estimate.bytes > MAX_BYTES or estimate.files > MAX_FILES):
        raise SizeLimitError(
            f"{spec.name}: the run would write {estimate}, beyond the sane bound of {_bytes(MAX_BYTES)} or "
            f"{MAX_FILES:,} files; lower the sizes (scale, rows parameters, file_rows_target) or pass force=True"
        )
    return estimate


def _count(value: float) -> str:
    return f"{value:,.0f}" if value < 1e7 else f"{value:.2g}"


def _bytes(value: float) -> str:
    for unit, size in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} B"


__all__ = ["MAX_BYTES", "MAX_FILES", "SizeEstimate", "check_size", "estimate_rows", "estimate_size"]
