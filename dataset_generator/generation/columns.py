"""The generator behind each `gen:` kind of the spec language."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import derived, keys, numeric, series, structure, temporal, text
from .convert import Values

if TYPE_CHECKING:
    from .runtime import RowSet

Generator = Callable[[Any, "RowSet", int], Values]

GENERATORS: dict[str, Generator] = {
    "sequence": keys.sequence,
    "foreign_key": keys.foreign_key,
    "lookup": keys.lookup,
    "parent": keys.parent,
    "children_sum": keys.children_sum,
    "uniform": numeric.uniform,
    "normal": numeric.normal,
    "lognormal": numeric.lognormal,
    "gamma": numeric.gamma,
    "poisson": numeric.poisson,
    "zipf": numeric.zipf,
    "choice": numeric.choice,
    "boolean": numeric.boolean,
    "date": temporal.date,
    "timestamp": temporal.timestamp,
    "event_time": temporal.event_time,
    "uuid": text.uuid,
    "faker": text.faker,
    "template": text.template,
    "expr": derived.expr,
    "round_robin": structure.round_robin,
    "day_start": structure.day_start,
    "position": structure.position,
    "child_time": structure.child_time,
    "children_agg": structure.children_agg,
    "random_walk": series.random_walk,
    "brownian_bridge": series.brownian_bridge,
    "walk_next": series.walk_next,
    "cycle": series.cycle,
}


def generate_column(column: Any, rows: RowSet, key: int) -> Values:
    return GENERATORS[column.gen](column, rows, key)
