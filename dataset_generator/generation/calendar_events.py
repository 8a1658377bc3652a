"""The `calendar_event` column: the name of the calendar event a date or timestamp's day falls on, or null."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..schemas.calendar import CalendarEventColumn
from .calendar import event_days
from .convert import Values, to_numpy
from .rows import Rows

_MICROS_PER_DAY = 86_400_000_000


def calendar_event(column: CalendarEventColumn, rows: Rows, key: int) -> Values:
    kind = rows.spec.columns[column.time].type
    raw = to_numpy(rows.get(column.time)).astype(np.int64)
    days = raw if kind == "date" else np.floor_divide(raw, _MICROS_PER_DAY)
    if len(days) == 0:
        return pa.nulls(0, pa.string())
    numbers, names = event_days(column.resolved_events(), int(days.min()), int(days.max()))
    labels = sorted(set(names))
    codes = np.asarray([labels.index(name) for name in names], dtype=np.int32)
    slot = np.searchsorted(numbers, days)
    hit = slot < len(numbers)
    hit[hit] = numbers[slot[hit]] == days[hit]
    indices = np.where(hit, codes[np.minimum(slot, max(len(numbers) - 1, 0))] if len(numbers) else 0, 0).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(indices, mask=~hit), pa.array(labels, type=pa.string()))
