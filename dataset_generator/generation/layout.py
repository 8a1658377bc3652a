"""How each table's rows are laid out: plain, spread over days, or grouped under parent rows.

Layouts are small (one number per day, one per block of parents) and picklable, so a plan can carry
them to any worker; from them any row's day or parent is computed without generating other rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..errors import SizeLimitError, SpecError
from ..schemas.dataset import DatasetSpec, TimeSpec
from . import exchange as exchanges
from . import random as rnd
from .calendar import day_factors
from .children import PARENT_BLOCK_ROWS, block_sizes, block_totals

EPOCH = dt.date(1970, 1, 1)
# A child layout holds one offset per block of parents: beyond this many blocks (about 1.1 * 10^12 parents) its
# offsets alone take more memory than a plan should, whatever `force` says.
MAX_PARENT_BLOCKS = 1 << 24


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


@dataclass(frozen=True)
class PlainLayout:
    rows: int


@dataclass(frozen=True)
class TimeLayout:
    rows: int
    first_day: int  # days since 1970-01-01
    day_offsets: np.ndarray  # day_offsets[d] = first row of day d; last entry = rows

    def day_of(self, index: np.ndarray) -> np.ndarray:
        if len(index) > 1 and index[-1] - index[0] == len(index) - 1 and bool((np.diff(index) == 1).all()):
            # A contiguous row range (every chunk): repeat each day over its rows instead of searching.
            first, last = np.searchsorted(self.day_offsets, [index[0], index[-1]], side="right") - 1
            bounds = np.clip(self.day_offsets[first : last + 2], index[0], index[-1] + 1)
            return np.repeat(np.arange(self.first_day + first, self.first_day + last + 1), np.diff(bounds))
        return self.first_day + np.searchsorted(self.day_offsets, index, side="right") - 1


@dataclass(frozen=True)
class ChildLayout:
    rows: int
    parent: str
    parent_rows: int
    block_offsets: np.ndarray  # block_offsets[b] = first child row of parent block b


Layout = PlainLayout | TimeLayout | ChildLayout


def time_layout(time: TimeSpec, seed: int, table: str) -> TimeLayout:
    first_day = day_number(time.start)
    days = day_number(time.end) - first_day + 1
    factors = day_factors(time, first_day, days)  # weekday × seasonality × events × trend
    day_index = np.arange(days, dtype=np.int64)
    if time.per_day is not None:
        if time.per_day * float(factors.max(initial=1.0)) * 2 * days >= 2.0**62:
            raise SizeLimitError(f"table {table!r}: per_day {time.per_day:g} over {days:,} days is beyond any row count")
        noise = 1.0 + time.daily_noise * (2.0 * rnd.uniform(rnd.stream_key(seed, table, "__days__"), day_index) - 1.0)
        counts = np.rint(time.per_day * factors * noise).astype(np.int64)
    else:
        counts = apportion(int(time.rows or 0), factors)
    if time.exchange is not None:
        counts = np.where(exchanges.is_open(time.exchange, first_day + day_index), counts, 0)
    offsets = np.zeros(days + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return TimeLayout(rows=int(offsets[-1]), first_day=first_day, day_offsets=offsets)


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` into integer parts proportional to `weights` (largest remainder, stable ties)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    remainder = total - int(counts.sum())
    if remainder:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:remainder]] += 1
    return counts


def child_count_key(seed: int, table: str) -> int:
    return rnd.stream_key(seed, table, "__children__")


def child_layout(spec: DatasetSpec, seed: int, table: str, parent_rows: int, parent_layout: Layout | None = None) -> ChildLayout:
    parent = spec.tables[table].parent
    assert parent is not None
    key = child_count_key(seed, table)
    blocks = -(-parent_rows // PARENT_BLOCK_ROWS)
    if blocks > MAX_PARENT_BLOCKS:
        raise SizeLimitError(
            f"table {table!r}: its parent {parent.table!r} has {parent_rows:,} rows; a child table can be laid out under "
            f"at most {MAX_PARENT_BLOCKS * PARENT_BLOCK_ROWS:,} parent rows; lower the sizes (scale, rows parameters)"
        )
    offsets = np.zeros(blocks + 1, dtype=np.int64)
    if parent.count.distribution == "session":
        # Sessions: the count of each parent follows from its day (O(parents), for day-level parent tables).
        if not isinstance(parent_layout, TimeLayout):
            raise SpecError(f"table {table!r}: a child count with distribution session needs a time-driven parent table (time:)")
        counts = exchanges.session_children(parent.count, parent_layout.day_of(np.arange(parent_rows, dtype=np.int64)))
        sizes = block_sizes(parent_rows)
        ends = np.cumsum(sizes)
        totals = np.add.reduceat(counts, ends - sizes) if len(counts) else np.zeros(0, dtype=np.int64)
        np.cumsum(totals, out=offsets[1:])
    else:
        np.cumsum(block_totals(parent.count, key, block_sizes(parent_rows)), out=offsets[1:])
    return ChildLayout(rows=int(offsets[-1]), parent=parent.table, parent_rows=parent_rows, block_offsets=offsets)


def table_order(spec: DatasetSpec) -> list[str]:
    """Tables with every parent before its children (spec order otherwise)."""
    ordered: list[str] = []

    def add(name: str) -> None:
        if name in ordered:
            return
        parent = spec.tables[name].parent
        if parent is not None:
            add(parent.table)
        ordered.append(name)

    for name in spec.tables:
        add(name)
    return ordered


def build_layouts(spec: DatasetSpec, seed: int) -> dict[str, Layout]:
    layouts: dict[str, Layout] = {}
    for name in table_order(spec):
        table = spec.tables[name]
        if table.time is not None:
            layouts[name] = time_layout(table.time, seed, name)
        elif table.parent is not None:
            parent_layout = layouts[table.parent.table]
            layouts[name] = child_layout(spec, seed, name, parent_layout.rows, parent_layout)
        else:
            layouts[name] = PlainLayout(rows=int(table.rows or 0))
    return layouts
