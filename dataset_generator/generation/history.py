"""STAND-IN for helper A's history core (HISTORY_CONTRACT.md): append-only semantics (rows are created on their
day, never change, never get deleted), brute force. Replaced by A's module when it lands on main."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..schemas.dataset import DatasetSpec
from .layout import ChildLayout, TimeLayout
from .runtime import DatasetRuntime

_DAY = 86_400_000_000
_ALWAYS = np.iinfo(np.int64).min


@dataclass(frozen=True)
class TimeView:
    as_of: int | None = None
    since: int | None = None
    until: int | None = None


def _created(runtime: DatasetRuntime, table: str, index: np.ndarray) -> np.ndarray:
    layout = runtime.layouts[table]
    if isinstance(layout, TimeLayout):
        return layout.day_of(index).astype(np.int64) * _DAY
    if isinstance(layout, ChildLayout):
        return _created(runtime, layout.parent, runtime.parent_of(table, index))
    return np.full(len(index), _ALWAYS, dtype=np.int64)


def _rows_created(runtime: DatasetRuntime, table: str, start: int, stop: int) -> tuple[int, int]:
    layout = runtime.layouts[table]
    if isinstance(layout, TimeLayout):
        first = int(np.clip(-(-start // _DAY) - layout.first_day, 0, len(layout.day_offsets) - 1))
        last = int(np.clip(-(-stop // _DAY) - layout.first_day, 0, len(layout.day_offsets) - 1))
        return int(layout.day_offsets[first]), int(layout.day_offsets[last])
    if isinstance(layout, ChildLayout):
        low, high = _rows_created(runtime, layout.parent, start, stop)
        bounds = np.array([low, high], dtype=np.int64)
        inside = bounds < layout.parent_rows
        result = np.full(2, layout.rows, dtype=np.int64)
        if inside.any():
            result[inside] = runtime.first_child(table, bounds[inside])
        return int(result[0]), int(result[1])
    return 0, 0


def event_rows(runtime: DatasetRuntime, table: str, start: int, stop: int) -> np.ndarray:
    low, high = _rows_created(runtime, table, start, stop)
    return np.arange(low, high, dtype=np.int64)


def snapshot(runtime: DatasetRuntime, table: str, index: np.ndarray, as_of: int) -> tuple[np.ndarray, pa.RecordBatch]:
    rows = runtime.rows(table, index)
    schema = runtime.arrow_schema(table)
    batch = pa.RecordBatch.from_arrays([rows.arrow(name) for name in schema.names], schema=schema)
    return _created(runtime, table, index) <= as_of, batch


def table_key(spec: DatasetSpec, table: str) -> list[str]:
    for name, column in spec.tables[table].columns.items():
        if getattr(column, "gen", None) == "sequence" and not column.hidden:
            return [name]
    raise ValueError(f"table {table!r} has no key")


def changes_after_creation(spec: DatasetSpec, table: str) -> bool:
    return False


def range_bounds(runtime: DatasetRuntime) -> tuple[int, int]:
    days = [layout for layout in runtime.layouts.values() if isinstance(layout, TimeLayout)]
    start = min(layout.first_day for layout in days) * _DAY
    end = max(layout.first_day + len(layout.day_offsets) - 1 for layout in days) * _DAY - 1
    return start, end
