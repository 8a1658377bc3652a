"""The `calendar_event` column: the name of the calendar event a date or timestamp's day falls on, or null."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..schemas.calendar import CalendarEventColumn
from ..schemas.keys import ParentColumn
from ..schemas.temporal import EventTimeColumn
from .calendar import event_days
from .convert import Values, to_numpy
from .layout import TimeLayout
from .rows import Rows

_MICROS_PER_DAY = 86_400_000_000


def _days(column: CalendarEventColumn, rows: Rows) -> np.ndarray:
    """Day numbers of the `time` column. The day of a time table's event_time (or of a child's `gen: parent` copy
    of it) is the layout's, so the time of day is never drawn for it."""
    source = rows.spec.columns[column.time]
    table, index = rows.table, rows.index
    if isinstance(source, ParentColumn) and rows.spec.parent is not None:
        table, index = rows.spec.parent.table, rows.parent_index
        source = rows.runtime.spec.tables[table].columns[source.column]
    layout = rows.runtime.layouts[table]
    if isinstance(source, EventTimeColumn) and isinstance(layout, TimeLayout):  # event_time is only the time column
        return layout.day_of(index)
    raw = np.asarray(to_numpy(rows.get(column.time)), dtype=np.int64)
    return raw if rows.spec.columns[column.time].type == "date" else np.floor_divide(raw, _MICROS_PER_DAY)


def calendar_event(column: CalendarEventColumn, rows: Rows, key: int) -> Values:
    days = _days(column, rows)
    if len(days) == 0:
        return pa.nulls(0, pa.string()) if column.values is None else np.zeros(0)
    first, last = int(days.min()), int(days.max())
    numbers, names = event_days(column.resolved_events(), first, last)
    labels = sorted(set(names))
    # One slot per day of the rows' range: the event's label, or -1 (a small table, then a gather).
    by_day = np.full(last - first + 1, -1, dtype=np.int32)
    inside = (numbers >= first) & (numbers <= last)
    by_day[numbers[inside] - first] = [labels.index(name) for name, keep in zip(names, inside, strict=True) if keep]
    codes = by_day[days - first]
    missing = codes < 0
    if column.values is not None:
        # A number per event; code -1 (no event) takes the last entry, the default.
        table = np.asarray([column.values.get(label, column.default) for label in labels] + [column.default], dtype=np.float64)
        return table[codes]
    return pa.DictionaryArray.from_arrays(pa.array(np.where(missing, 0, codes), mask=missing), pa.array(labels, type=pa.string()))
