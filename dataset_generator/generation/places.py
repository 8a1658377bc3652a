"""Real places: rows index a seed-dependent permutation of the shipped gazetteer (read once per process)."""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas.places import PlaceColumn
from . import random as rnd
from .convert import Values
from .rows import Rows

_NUMERIC = ("lat", "lon", "population")


@functools.lru_cache(maxsize=1)
def gazetteer() -> dict[str, pa.Array | np.ndarray]:
    """The places of data/places.csv, one array per field."""
    text = resources.files("dataset_generator.schemas.datasets").joinpath("data", "places.csv").read_text("utf-8")
    records = list(csv.reader(io.StringIO(text)))
    header, body = records[0], records[1:]
    fields: dict[str, pa.Array | np.ndarray] = {}
    for position, name in enumerate(header):
        values = [record[position] for record in body]
        fields[name] = np.array(values, dtype=np.float64) if name in _NUMERIC else pa.array(values, pa.string())
    return fields


def place(column: PlaceColumn, rows: Rows, key: int) -> Values:
    places = gazetteer()
    count = len(places["lat"])
    index = rows.index
    # One permutation per table (not per column): every place column of a row names the same place.
    picks = rnd.scatter(index % count, count, rows.runtime.key(rows.table, "__place__"))
    values = places[column.field]
    if isinstance(values, np.ndarray):
        chosen = values[picks]
        return np.rint(chosen).astype(np.int64) if column.field == "population" else chosen
    taken = values.take(pa.array(picks))
    if column.field != "name":
        return taken
    rounds = index // count
    if not bool((rounds > 0).any()):
        return taken
    suffix = pc.if_else(pa.array(rounds > 0), pc.binary_join_element_wise(" ", pa.array((rounds + 1).astype(str)), ""), "")
    return pc.binary_join_element_wise(taken, suffix, "")
