"""What the change-feed tests share: ecommerce at a small scale and its snapshots at the end of a day, straight
from the history core (the function `--as-of` writes), to compare feeds and tables against."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa

from dataset_generator.generation import history
from dataset_generator.generation.changes import DAY_US, day_start
from dataset_generator.generation.planner import Plan, make_plan
from dataset_generator.options import WriterOptions
from dataset_generator.schemas.loader import load_schema

SCALE = 0.002
TABLES = ("customers", "products", "orders", "order_items")
SINCE, UNTIL = dt.date(2024, 4, 1), dt.date(2024, 4, 7)
DAYS = [SINCE + dt.timedelta(days=offset) for offset in range(7)]
EXTENDED = {"end_date": "2024-06-30"}


def ecommerce_plan(params: dict[str, Any] | None = None) -> Plan:
    spec = load_schema("ecommerce", scale=SCALE, params=params)
    return make_plan(spec, seed=42, options=WriterOptions())


def snapshot_at_end_of(plan: Plan, table: str, day: dt.date) -> pa.Table:
    """The table as it stood at the end of `day` (every row that exists then, its values then)."""
    runtime = plan.runtime
    index = np.arange(runtime.layouts[table].rows, dtype=np.int64)
    exists, batch = history.snapshot(runtime, table, index, day_start(day) + DAY_US - 1)
    return pa.table(batch).filter(pa.array(exists))


def key_of(plan: Plan, table: str) -> list[str]:
    return history.table_key(plan.runtime.spec, table)


def rows_sorted(table: pa.Table, columns: list[str], key: list[str]) -> list[tuple[Any, ...]]:
    """The rows of `table` (only `columns`, in that order) as tuples, sorted by `key`."""
    ordered = table.select(columns).sort_by([(name, "ascending") for name in key])
    return list(zip(*(ordered[name].to_pylist() for name in columns), strict=True))
