"""Real places: rows index a seed-dependent permutation of the shipped gazetteer (read once per process)."""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..schemas.places import PlaceColumn
from . import random as rnd
from .convert import Values
from .rows import Rows

_FIELDS = ("name", "country", "lat", "lon", "timezone", "population", "climate")
_NUMERIC = ("lat", "lon", "population")


@functools.lru_cache(maxsize=1)
def gazetteer() -> dict[str, pa.Array | np.ndarray]:
    """The places of data/places.csv, one array per field (numbers as numpy, text as Arrow)."""
    data = resources.files("dataset_generator.schemas.datasets").joinpath("data", "places.csv").read_bytes()
    table = pacsv.read_csv(
        pa.py_buffer(data),
        convert_options=pacsv.ConvertOptions(column_types={name: pa.float64() if name in _NUMERIC else pa.string() for name in _FIELDS}),
    )
    return {
        name: table.column(name).to_numpy() if name in _NUMERIC else table.column(name).combine_chunks()
        for name in _FIELDS
    }


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
    # " (2)", " (3)", ...: no gazetteer name ends like that, so the names stay unique.
    numbers = pa.array((rounds + 1).astype(str))
    suffix = pc.if_else(pa.array(rounds > 0), pc.binary_join_element_wise(" (", numbers, ")", ""), "")
    return pc.binary_join_element_wise(taken, suffix, "")
