"""A dataset over time, for snapshots, slices and change feeds: the API other layers build on.

- `TimeView(as_of, since, until)`: a run's window (int64 microseconds or None), held by `DatasetRuntime`
  (`DatasetRuntime(spec, seed, layouts, view)`, `runtime.with_view(view)`); `runtime.batch` returns only the
  rows the view selects (created <= as_of < deleted, since <= created < until), their values at as_of.
- `snapshot(runtime, table, index, as_of)`: (exists mask, visible columns at as_of) of any rows.
- `event_rows(runtime, table, start, stop)`: the rows with an event in [start, stop) (maybe more, never fewer).
- `table_key(spec, table)`, `changes_after_creation(spec, table)`, `range_bounds(runtime)`.

The semantics are those of issue 16 (docs/schemas.md, "History"): see generation/timeline.py for the models.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from ..errors import ParameterError
from ..schemas.dataset import DatasetSpec
from ..schemas.entities import LifecycleColumn
from ..schemas.history import WaitingTimeColumn
from ..schemas.keys import SequenceColumn
from .layout import ChildLayout, TimeLayout
from .lifecycle import NEVER as LIFECYCLE_NEVER
from .lifecycle import lifecycle_events, start_micros
from .rows import Rows
from .runtime import DatasetRuntime
from .temporal import MICROS_PER_DAY, MICROS_PER_HOUR
from .timeline import (
    ALWAYS,
    NEVER,
    TimeView,
    correction_times,
    created_times,
    deleted_times,
    events_key,
    exists_at,
    group_of,
    is_mutable,
    poisson_events,
)

__all__ = [
    "ALWAYS",
    "NEVER",
    "TimeView",
    "changes_after_creation",
    "event_rows",
    "range_bounds",
    "resolve_view",
    "snapshot",
    "table_key",
]

# Rows scanned at a time by event_rows.
SCAN_ROWS = 1 << 18


def range_bounds(runtime: DatasetRuntime) -> tuple[int, int]:
    """(range start, range end): the first and last microsecond of the union of the time-driven tables' windows."""
    return runtime.range_start, runtime.range_end


def table_key(spec: DatasetSpec, table: str) -> list[str]:
    """The columns that identify a row: history.key, else the first sequence column (else none)."""
    table_spec = spec.tables[table]
    if table_spec.history is not None and table_spec.history.key:
        return list(table_spec.history.key)
    for name, column in table_spec.columns.items():
        if isinstance(column, SequenceColumn):
            return [name]
    return []


def _visible_mutable(spec: DatasetSpec, table: str) -> list[str]:
    cache: dict[tuple[str, str], bool] = {}
    columns = spec.tables[table].columns
    return [
        name
        for name, column in columns.items()
        if not column.hidden and (is_mutable(spec, table, name, cache) or isinstance(column, WaitingTimeColumn))
    ]


def _deletes_itself(spec: DatasetSpec, table: str) -> bool:
    history = spec.tables[table].history
    return history is not None and history.deleted is not None


def changes_after_creation(spec: DatasetSpec, table: str) -> bool:
    """Whether any row of `table` ever changes (a visible column) or is deleted after its creation."""
    table_spec = spec.tables[table]
    if _visible_mutable(spec, table) or _deletes_itself(spec, table):
        return True
    return table_spec.parent is not None and _deletes_itself(spec, table_spec.parent.table) and changes_after_creation(spec, table_spec.parent.table)


def snapshot(runtime: DatasetRuntime, table: str, index: np.ndarray, as_of: int) -> tuple[np.ndarray, pa.RecordBatch]:
    """(exists mask, visible columns at `as_of`) of the rows `index` of `table` (all of them, existing or not)."""
    index = np.asarray(index, dtype=np.int64)
    rows = runtime.rows(table, index, as_of=int(as_of))
    exists = exists_at(rows, int(as_of))
    schema = runtime.arrow_schema(table)
    arrays = [rows.arrow(name) for name in schema.names]
    return exists, pa.RecordBatch.from_arrays(arrays, schema=schema)


# --- a run's window from user input ------------------------------------------------------------------

Moment = dt.date | dt.datetime | str


def _parse(value: Moment, name: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip()) if ("T" in value or " " in value.strip() or ":" in value) else dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ParameterError(f"`{name}` {value!r} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SS)") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    return dt.datetime.combine(value, dt.time())


def _micros_of(moment: dt.datetime) -> int:
    delta = moment - dt.datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _is_date(value: Moment) -> bool:
    return not isinstance(value, dt.datetime) and not (isinstance(value, str) and ("T" in value or ":" in value))


def resolve_view(bounds: tuple[int, int], since: Moment | None = None, until: Moment | None = None, as_of: Moment | None = None) -> TimeView:
    """The TimeView of `--since A --until B --as-of T` over a dataset whose range is `bounds`: A and B are days
    (inclusive) inside the range, T a day (its end) or a moment. A slice from the range start also holds what
    was created before the range; one up to the range end, what is created after it (nothing, for time-driven rows).

    Raises:
        ParameterError: since after until, a day outside the range, a time before 1970, not a date.
    """
    start, end = bounds
    first_day, last_day = start // MICROS_PER_DAY, end // MICROS_PER_DAY
    days: dict[str, int] = {}
    for name, value in (("since", since), ("until", until)):
        if value is None:
            continue
        moment = _parse(value, name)
        if moment.year < 1970:
            raise ParameterError(f"`{name}` {moment.date()} is before 1970; times start at 1970-01-01")
        if not _is_date(value) and moment.time() != dt.time():
            raise ParameterError(f"`{name}` takes a day (YYYY-MM-DD), not a time of day ({value})")
        day = _micros_of(moment) // MICROS_PER_DAY
        if start == end == 0:
            raise ParameterError(f"`{name}`: this dataset has no time-driven table, so no range to slice; drop `{name}`")
        if not first_day <= day <= last_day:
            low, high = (dt.date(1970, 1, 1) + dt.timedelta(days=d) for d in (first_day, last_day))
            raise ParameterError(
                f"`{name}` {moment.date()} is outside the dataset's range {low}..{high}; pick a day inside it "
                "or move the range (its start_date / end_date parameters)"
            )
        days[name] = day
    if "since" in days and "until" in days and days["since"] > days["until"]:
        raise ParameterError(f"`since` {since} is after `until` {until}; since must be on or before until")
    as_of_micros = None
    if as_of is not None:
        moment = _parse(as_of, "as_of")
        if moment.year < 1970:
            raise ParameterError(f"`as_of` {moment.date()} is before 1970; times start at 1970-01-01")
        # A day means its end (its last microsecond); a moment means itself.
        as_of_micros = _micros_of(moment) + (MICROS_PER_DAY - 1 if _is_date(as_of) else 0)
    low_bound = days["since"] * MICROS_PER_DAY if days.get("since", first_day) > first_day else None
    high_bound = (days["until"] + 1) * MICROS_PER_DAY if days.get("until", last_day) < last_day else None
    return TimeView(as_of=as_of_micros, since=low_bound, until=high_bound)


def planned_days(runtime: DatasetRuntime) -> tuple[int | None, int | None]:
    """[first, stop) microseconds of the time-driven rows a run writes: the slice, cut at its as-of time."""
    view = runtime.view
    stop = view.until
    if view.as_of is not None and (stop is None or view.as_of < stop):
        stop = (view.as_of // MICROS_PER_DAY + 1) * MICROS_PER_DAY
    return view.since, stop


# --- event rows ----------------------------------------------------------------------------------------


def _lookback(spec: DatasetSpec, table: str) -> int | None:
    """The longest time after creation at which a row of `table` can still have an event (None: no bound)."""
    longest = 0
    for column in spec.tables[table].columns.values():
        model = column.changes
        if model is not None:
            if model.per_year is not None:
                return None
            assert model.after is not None
            if model.after.max is None:
                return None
            longest = max(longest, int(model.after.max * MICROS_PER_HOUR) + 1)
        if isinstance(column, WaitingTimeColumn) and not column.hidden:
            if column.after is None or column.after.max is None:
                return None
            longest = max(longest, int(column.after.max * MICROS_PER_HOUR) + 1)
        if isinstance(column, LifecycleColumn):
            total = 0
            for delay in [step.after for step in column.steps[1:]] + [exit_.delay for exit_ in column.exits]:
                if delay is not None:
                    if delay.max is None:
                        return None
                    total += int(delay.max * MICROS_PER_HOUR) + 1
            longest = max(longest, total)
    history = spec.tables[table].history
    if history is not None and history.deleted is not None:
        return None
    return longest


def _longer(first: int | None, second: int | None) -> int | None:
    return None if first is None or second is None else max(first, second)


def _candidate_range(runtime: DatasetRuntime, table: str, start: int, stop: int, back: int | None = 0) -> tuple[int, int]:
    """[first, stop) rows of `table` that can have an event in [start, stop), looking back at least `back`
    (None: from the first row) before `start`: a child's events come after its parent's creation."""
    spec, layout = runtime.spec, runtime.layouts[table]
    back = _longer(_lookback(spec, table), back)
    if isinstance(layout, TimeLayout):
        days = len(layout.day_offsets) - 1
        low_day = 0 if back is None else int(np.clip((start - back) // MICROS_PER_DAY - layout.first_day, 0, days))
        high_day = int(np.clip((stop - 1) // MICROS_PER_DAY - layout.first_day + 1, 0, days))
        return int(layout.day_offsets[low_day]), int(layout.day_offsets[max(high_day, low_day)])
    if isinstance(layout, ChildLayout):
        parent = spec.tables[table].parent
        assert parent is not None
        if back is None:
            return 0, layout.rows
        first, last = _candidate_range(runtime, parent.table, start, stop, back)
        bounds = np.array([first, last], dtype=np.int64)
        inside = bounds < layout.parent_rows
        result = np.full(2, layout.rows, dtype=np.int64)
        if inside.any():
            result[inside] = runtime.first_child(table, bounds[inside])
        return int(result[0]), int(result[1])
    return 0, layout.rows


def _in(times: np.ndarray, start: int, stop: int) -> np.ndarray:
    return (times >= start) & (times < stop)


def _own_events(rows: Rows, start: int, stop: int) -> np.ndarray:
    """Which of `rows` have an event of their own in [start, stop)."""
    spec = rows.spec
    hit = _in(created_times(rows), start, stop) | _in(deleted_times(rows), start, stop)
    seen_groups: set[str] = set()
    for name, column in spec.columns.items():
        model = column.changes
        if model is not None and model.per_year is not None:
            if group_of(name, model) in seen_groups:
                continue
            seen_groups.add(group_of(name, model))
            key = events_key(rows, name, model)
            created = created_times(rows)
            origin = np.where(created == ALWAYS, rows.runtime.range_start, created)
            positions, times = poisson_events(key, rows.index, origin, model.per_year, stop - 1)
            hit[positions[times >= start]] = True
        elif model is not None:
            hit |= _in(correction_times(rows, name, model), start, stop)
        if isinstance(column, WaitingTimeColumn) and not column.hidden:
            hit |= _in(np.asarray(rows.get(name), dtype=np.int64), start, stop)
        if isinstance(column, LifecycleColumn) and column.as_of is None:
            times = lifecycle_events(column, start_micros(column, rows), rows.runtime.key(rows.table, name), rows.index)
            hit |= ((times >= start) & (times < stop) & (times != LIFECYCLE_NEVER)).any(axis=1)
    return hit


def _reads_children(spec: DatasetSpec, table: str, child: str) -> bool:
    cache: dict[tuple[str, str], bool] = {}
    return any(
        getattr(column, "gen", "") in ("children_sum", "children_agg") and getattr(column, "table", None) == child and is_mutable(spec, table, name, cache)
        for name, column in spec.tables[table].columns.items()
    )


def _reads_parent(spec: DatasetSpec, table: str) -> bool:
    cache: dict[tuple[str, str], bool] = {}
    return any(getattr(column, "gen", "") == "parent" and is_mutable(spec, table, name, cache) for name, column in spec.tables[table].columns.items())


def event_rows(runtime: DatasetRuntime, table: str, start: int, stop: int, _depth: int = 0) -> np.ndarray:
    """Sorted row indices of every row of `table` with an event in [start, stop): its creation or deletion,
    a change event, a lifecycle step, a correction, or an event of a child or parent its values read."""
    spec = runtime.spec
    first, last = _candidate_range(runtime, table, start, stop)
    found: list[np.ndarray] = []
    for chunk in range(first, last, SCAN_ROWS):
        index = np.arange(chunk, min(chunk + SCAN_ROWS, last), dtype=np.int64)
        rows = runtime.rows(table, index)
        found.append(index[_own_events(rows, start, stop)])
    if _depth < 4:
        for child, child_spec in spec.tables.items():
            if child_spec.parent is not None and child_spec.parent.table == table and _reads_children(spec, table, child):
                children = event_rows(runtime, child, start, stop, _depth + 1)
                if len(children):
                    found.append(np.unique(runtime.parent_of(child, children)))
        parent = spec.tables[table].parent
        if parent is not None and _reads_parent(spec, table):
            parents = event_rows(runtime, parent.table, start, stop, _depth + 1)
            if len(parents):
                found.append(runtime.children(table, parents)[0])
    if not found:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(found))
