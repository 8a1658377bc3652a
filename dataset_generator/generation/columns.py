"""The generator behind each `gen:` kind of the spec language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..schemas.columns import Column
from . import (
    calendar_events,
    conditional,
    derived,
    keys,
    lifecycle,
    market,
    nested,
    numeric,
    people,
    places,
    popularity,
    processes,
    series,
    shocks,
    structure,
    temporal,
    text,
    timeline,
)
from .convert import Values
from .rows import Rows

# A generator takes its own column model (each kind a different class, hence Any), the rows and a stream key.
Generator = Callable[[Any, Rows, int], Values]

GENERATORS: dict[str, Generator] = {
    "sequence": keys.sequence,
    "foreign_key": keys.foreign_key,
    "popularity": popularity.popularity,
    "lifecycle": lifecycle.lifecycle,
    "waiting_time": timeline.waiting_time,
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
    "country": people.country,
    "person": people.person,
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
    "keyed_random": shocks.keyed_random,
    "garch": shocks.garch,
    "market_reference": market.market_reference,
    "quote_price": market.quote_price,
    "table_lookup": conditional.table_lookup,
    "switch": lambda column, rows, key: conditional.switch(column, rows, key, generate_column),
    "calendar_event": calendar_events.calendar_event,
    "ar1": processes.ar1,
    "markov": processes.markov,
    "place": places.place,
}


def generate_column(column: Column, rows: Rows, key: int) -> Values:
    """The values of `column` for `rows`, before nulls are applied."""
    return GENERATORS[column.gen](column, rows, key)


# Lists and structs draw their elements and fields through the dispatch itself.
GENERATORS["list"] = lambda column, rows, key: nested.list_values(column, rows, key, generate_column)
GENERATORS["struct"] = lambda column, rows, key: nested.struct_values(column, rows, key, generate_column)
