"""Rows over time: when a row is created and deleted, and the values of columns that change after creation.

Times are int64 microseconds since 1970-01-01 UTC. Every event (a change, a deletion, a late correction) is
a pure function of (seed, table, column or group, row) and of the row's creation time, so the value of any
column at any time T is computed without other rows or other times (generation/history.py builds snapshots
and event lists on this).

Change models (schemas/base.py ChangeModel):
- re-draws: events at a Poisson rate after creation (exponential gaps); version v >= 1 of a value is the
  column's own generator with its random key mixed with v; columns of one group share events and version;
- steps: each event multiplies the previous value by exp(sigma * z), clipped and rounded again;
- late corrections: a share p of the rows holds a wrong (or null) value until `after` hours after creation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas.base import ChangeModel, ColumnBase, Delay
from ..schemas.history import WaitingTimeColumn
from . import libm
from . import random as rnd
from .convert import Values, to_numpy
from .layout import Layout, TimeLayout, day_number
from .links import parent_rows, spread
from .rows import Rows
from .temporal import MICROS_PER_DAY, MICROS_PER_HOUR

NEVER = np.iinfo(np.int64).max  # a time that never comes (no deletion, no event)
ALWAYS = np.iinfo(np.int64).min  # created before any range
MICROS_PER_YEAR = 365.25 * MICROS_PER_DAY
# An open-ended event process stops after this many events per row (a rate of 10,000 a year for a century).
_MAX_EVENTS = 1 << 20


@dataclass(frozen=True)
class TimeView:
    """A run's window; all fields int64 microseconds or None. as_of None: the range end; since/until None:
    no bound on the rows' created times (created >= since, created < until)."""

    as_of: int | None = None
    since: int | None = None
    until: int | None = None


def range_of(layouts: dict[str, Layout], spec: object = None) -> tuple[int, int]:
    """(first microsecond of the first day, last microsecond of the last day) over the time-driven tables;
    without one, over the days of the tables' `history.created` date/timestamp columns (their start..end);
    (0, 0) for a dataset with neither."""
    windows = [
        (layout.first_day, layout.first_day + len(layout.day_offsets) - 1) for layout in layouts.values() if isinstance(layout, TimeLayout)
    ]
    if not windows and spec is not None:
        for table in spec.tables.values():  # type: ignore[attr-defined]
            column = table.columns.get(table.history.created) if table.history is not None and table.history.created else None
            start, end = getattr(column, "start", None), getattr(column, "end", None)
            if isinstance(start, dt.date) and isinstance(end, dt.date):
                windows.append((day_number(start), day_number(end) + 1))
    if not windows:
        return 0, 0
    return min(start for start, _ in windows) * MICROS_PER_DAY, max(stop for _, stop in windows) * MICROS_PER_DAY - 1


def micros(values: Values, column: ColumnBase) -> np.ndarray:
    """A date or timestamp column's values as int64 microseconds (NEVER stays NEVER)."""
    array = to_numpy(values)
    if array.dtype.kind == "f":  # nulls of an Arrow read
        array = np.where(np.isnan(array), float(NEVER), array)
    array = array.astype(np.int64)
    if column.type == "date":
        return np.where(array == NEVER, NEVER, array * MICROS_PER_DAY)
    return array


def created_times(rows: Rows) -> np.ndarray:
    """When each row is created: history.created, else the table's time column, else its parent's creation,
    else ALWAYS (before any range)."""
    found = rows.memo.get("created_times")
    if found is None:
        spec = rows.spec
        created = spec.history.created if spec.history is not None else None
        if created is None and spec.time is not None:
            created = spec.time.column
        if created is not None:
            found = micros(rows.get(created), spec.columns[created])
        elif spec.parent is not None:
            parents, owner = parent_rows(rows)
            found = created_times(parents)[owner]
        else:
            found = np.full(len(rows), ALWAYS, dtype=np.int64)
        rows.memo["created_times"] = found
    return found


def deleted_times(rows: Rows) -> np.ndarray:
    """When each row is deleted (NEVER: not deleted): history.deleted, else its parent's deletion."""
    found = rows.memo.get("deleted_times")
    if found is None:
        spec = rows.spec
        deleted = spec.history.deleted if spec.history is not None else None
        if deleted is not None:
            found = micros(rows.get(deleted), spec.columns[deleted])
        elif spec.parent is not None and deletes(rows.runtime.spec, spec.parent.table):
            parents, owner = parent_rows(rows)
            found = deleted_times(parents)[owner]
        else:
            found = np.full(len(rows), NEVER, dtype=np.int64)
        rows.memo["deleted_times"] = found
    return found


def deletes(spec: object, table: str) -> bool:
    """Whether rows of `table` (or of an ancestor) can be hard-deleted."""
    tables = spec.tables  # type: ignore[attr-defined]
    while True:
        table_spec = tables[table]
        if table_spec.history is not None and table_spec.history.deleted is not None:
            return True
        if table_spec.parent is None:
            return False
        table = table_spec.parent.table


def exists_at(rows: Rows, as_of: int | np.ndarray) -> np.ndarray:
    """created <= as_of < deleted, per row."""
    return (created_times(rows) <= as_of) & (np.asarray(as_of) < deleted_times(rows))


def _origins(rows: Rows) -> np.ndarray:
    """Where a row's change processes start: its creation, or the range start for rows created before it."""
    created = created_times(rows)
    start = rows.runtime.range_start
    return np.where(created == ALWAYS, start, created)


def poisson_events(key: int, index: np.ndarray, origin: np.ndarray, per_year: float, horizon: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every event up to `horizon` (inclusive) of a Poisson process at `per_year` from `origin`: (row
    positions, times), events of one row in time order. The k-th gap of a row is a pure function of (key, row, k)."""
    mean_gap = MICROS_PER_YEAR / per_year
    horizon = np.broadcast_to(np.asarray(horizon, dtype=np.int64), index.shape)
    active = np.flatnonzero(origin < horizon)
    current = origin[active].astype(np.float64)
    found_rows: list[np.ndarray] = []
    found_times: list[np.ndarray] = []
    for k in range(_MAX_EVENTS):
        if not active.size:
            break
        gap = -libm.log(rnd.uniform_open(rnd.substream(key, k), index[active])) * mean_gap
        current = current + np.maximum(np.ceil(gap), 1.0)
        hit = current <= horizon[active]
        active, current = active[hit], current[hit]
        found_rows.append(active)
        found_times.append(current.astype(np.int64))
    if not found_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(found_rows), np.concatenate(found_times)


def group_of(name: str, model: ChangeModel) -> str:
    return model.group if model.group is not None else name


def events_key(rows: Rows, name: str, model: ChangeModel) -> int:
    return rows.runtime.key(rows.table, f"__changes__:{group_of(name, model)}")


def versions(rows: Rows, name: str, model: ChangeModel, as_of: int | np.ndarray) -> np.ndarray:
    """Each row's count of change events of the column's group up to `as_of` (0: the value at creation)."""
    assert model.per_year is not None
    memo: dict[tuple[str, int], np.ndarray] = rows.memo.setdefault("change_versions", {})
    group = group_of(name, model)
    cache_key = (group, id(as_of)) if isinstance(as_of, np.ndarray) else (group, int(as_of))
    found = memo.get(cache_key)
    if found is None:
        positions, _ = poisson_events(events_key(rows, name, model), rows.index, _origins(rows), model.per_year, as_of)
        found = np.bincount(positions, minlength=len(rows)).astype(np.int64)
        memo[cache_key] = found
    return found


def correction_times(rows: Rows, name: str, model: ChangeModel) -> np.ndarray:
    """When each row's value is corrected (NEVER for rows that arrive right)."""
    assert model.p is not None and model.after is not None
    key = events_key(rows, name, model)
    wrong = rnd.uniform(rnd.substream(key, 1), rows.index) < model.p
    times = np.full(len(rows), NEVER, dtype=np.int64)
    # Delays are drawn for the few wrong rows only: each is a pure function of (key, row), so the same values.
    where = np.flatnonzero(wrong)
    if len(where):
        created = np.broadcast_to(np.asarray(_origins(rows), dtype=np.int64), (len(rows),))
        times[where] = created[where] + delay_micros(model.after, rnd.substream(key, 2), rows.index[where])
    return times


def delay_micros(delay: Delay, key: int, index: np.ndarray) -> np.ndarray:
    hours = delay.median * libm.exp(delay.sigma * rnd.standard_normal(key, index))
    hours = np.clip(hours, delay.min, delay.max if delay.max is not None else np.inf)
    return np.maximum(np.rint(hours * MICROS_PER_HOUR).astype(np.int64), 1)


def version_key(key: int, version: int) -> int:
    """The random key of version `version` of a value (version 0: the key itself)."""
    return key if version == 0 else rnd.stream_key(key, "version", version)


Generate = Callable[[Rows, int], Values]


def changing_values(column: ColumnBase, name: str, rows: Rows, key: int, generate: Generate, version_rows: Callable[[np.ndarray, str, int], Rows]) -> Values:
    """The value of a column with a change model, at each row's as-of time."""
    model = column.changes
    assert model is not None
    if model.kind == "correction":
        return _corrected(column, name, model, rows, key, generate)
    found = versions(rows, name, model, rows.as_of)
    if model.kind == "step":
        return _stepped(column, model, rows, key, generate(rows, key), found)
    distinct = np.unique(found)
    if len(distinct) == 1 and distinct[0] == 0:
        return generate(rows, key)
    positions = [np.flatnonzero(found == version) for version in distinct]
    parts = [generate(version_rows(where, group_of(name, model), int(version)), version_key(key, int(version))) for where, version in zip(positions, distinct, strict=True)]
    return _scatter(parts, positions, len(rows))


def _scatter(parts: list[Values], positions: list[np.ndarray], n: int) -> Values:
    order = np.concatenate(positions)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n, dtype=np.int64)
    if all(isinstance(part, np.ndarray) for part in parts):
        return np.concatenate(parts)[inverse]
    arrays = [part if isinstance(part, pa.Array) else pa.array(part) for part in parts]
    arrays = [array.dictionary_decode() if isinstance(array, pa.DictionaryArray) else array for array in arrays]
    return pa.concat_arrays(arrays).take(pa.array(inverse))


def _bounds(column: ColumnBase, low: float | None, high: float | None, digits: int | None) -> tuple[float, float, int | None]:
    low = low if low is not None else getattr(column, "min", None)
    high = high if high is not None else getattr(column, "max", None)
    digits = digits if digits is not None else getattr(column, "round", None)
    if digits is None and column.type.startswith("decimal"):
        digits = int(column.type.split(",")[1].rstrip(")"))
    return (-np.inf if low is None else low), (np.inf if high is None else high), digits


def _stepped(column: ColumnBase, model: ChangeModel, rows: Rows, key: int, base: Values, found: np.ndarray) -> Values:
    step = model.step
    assert step is not None
    values = to_numpy(base).astype(np.float64).copy()
    low, high, digits = _bounds(column, step.min, step.max, step.round)
    for k in range(1, int(found.max(initial=0)) + 1):
        where = np.flatnonzero(found >= k)
        z = rnd.standard_normal(rnd.stream_key(key, "step", k), rows.index[where])
        moved = np.clip(values[where] * libm.exp(step.sigma * z), low, high)
        values[where] = moved if digits is None else np.clip(np.round(moved, digits), low, high)
    return values


def _corrected(column: ColumnBase, name: str, model: ChangeModel, rows: Rows, key: int, generate: Generate) -> Values:
    correction = model.correction
    assert correction is not None
    base = generate(rows, key)
    corrected_at = correction_times(rows, name, model)
    wrong = (corrected_at != NEVER) & (np.asarray(rows.as_of) < corrected_at)
    if not wrong.any():
        return base
    if correction.missing:
        array = base if isinstance(base, pa.Array) else pa.array(base)
        if isinstance(array, pa.DictionaryArray):
            array = array.dictionary_decode()
        return pc.if_else(pa.array(wrong), pa.scalar(None, type=array.type), array)
    values = to_numpy(base).astype(np.float64).copy()
    low, high, digits = _bounds(column, None, None, correction.round)
    assert correction.relative_error is not None
    z = rnd.standard_normal(rnd.substream(events_key(rows, name, model), 3), rows.index[wrong])
    off = np.clip(values[wrong] * (1.0 + correction.relative_error * z), low, high)
    values[wrong] = off if digits is None else np.round(off, digits)
    if isinstance(base, pa.Array) and base.null_count:  # nulls stay nulls (a missing reading stays missing)
        return pa.array(values, type=pa.float64(), mask=np.asarray(base.is_null()))
    return values


def waiting_time(column: WaitingTimeColumn, rows: Rows, key: int) -> Values:
    """The event time of each row (NEVER for rows without the event); see schemas/history.py."""
    start = micros(rows.get(column.start), rows.spec.columns[column.start]) if column.start else _origins(rows)
    if column.per_year is not None:
        gap = -libm.log(rnd.uniform_open(key, rows.index)) * (MICROS_PER_YEAR / column.per_year)
        return start + np.maximum(np.minimum(np.ceil(gap), 2.0**62), 1.0).astype(np.int64)
    assert column.after is not None
    taken = rnd.uniform(rnd.substream(key, 1), rows.index) < (column.p if column.p is not None else 1.0)
    return np.where(taken, start + delay_micros(column.after, rnd.substream(key, 2), rows.index), NEVER)


_READ_AT_CREATION = ("lookup", "foreign_key", "waiting_time")
_READ_OTHER_TABLE_AT_AS_OF = ("parent", "children_sum", "children_agg")


def is_mutable(spec: object, table: str, column: str, cache: dict[tuple[str, str], bool]) -> bool:
    """Whether a column's value depends on the as-of time: a change model, a lifecycle without a fixed
    as_of, or a column computed from one (in its own row, its parent or its children). Lookups and foreign
    keys read other tables at the row's creation: they never change."""
    node = (table, column)
    if node in cache:
        return cache[node]
    cache[node] = False  # a cycle is refused by the loader; this only stops the walk
    tables = spec.tables  # type: ignore[attr-defined]
    model = tables[table].columns[column]
    kind = getattr(model, "gen", "")
    if model.changes is not None or (kind == "lifecycle" and getattr(model, "as_of", None) is None):
        result = True
    elif kind in _READ_AT_CREATION:
        result = False
    else:
        result = any(
            is_mutable(spec, other, name, cache)
            for other, name in model.dependencies(spec, table)
            if other == table or kind in _READ_OTHER_TABLE_AT_AS_OF
        )
    cache[node] = result
    return result


def spread_as_of(as_of: int | np.ndarray, positions: np.ndarray) -> int | np.ndarray:
    return as_of[positions] if isinstance(as_of, np.ndarray) else as_of


__all__ = ["ALWAYS", "NEVER", "TimeView", "spread"]
