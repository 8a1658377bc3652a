"""Numbers: uniform, normal, lognormal, gamma, poisson, zipf, weighted choice, booleans."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..schemas.base import INTEGER_TYPES, Bounded
from ..schemas.numeric import (
    BooleanColumn,
    ChoiceColumn,
    GammaColumn,
    LogNormalColumn,
    NormalColumn,
    PoissonColumn,
    UniformColumn,
    ZipfColumn,
)
from . import libm
from . import random as rnd
from .convert import Values, to_numpy
from .rows import Rows


def finish(column: Bounded, values: np.ndarray) -> np.ndarray:
    """Clip to [min, max], then round: to integers for integer columns, to `round` digits for floats."""
    if column.min is not None or column.max is not None:
        values = np.clip(values, column.min, column.max)
    if column.type in INTEGER_TYPES:
        return np.rint(values).astype(np.int64)
    if column.round is not None:
        return np.round(values, column.round)
    return values


def uniform(column: UniformColumn, rows: Rows, key: int) -> Values:
    u = rnd.uniform(key, rows.index)
    if column.type in INTEGER_TYPES:
        low, high = int(np.ceil(column.low)), int(np.floor(column.high))
        return low + np.floor(u * (high - low + 1)).astype(np.int64)
    return finish(column, column.low + u * (column.high - column.low))


def normal(column: NormalColumn, rows: Rows, key: int) -> Values:
    return finish(column, column.mean + column.std * rnd.standard_normal(key, rows.index))


def lognormal(column: LogNormalColumn, rows: Rows, key: int) -> Values:
    values = libm.exp(column.mean + column.sigma * rnd.standard_normal(key, rows.index))
    if column.scale_by is not None:
        values *= to_numpy(rows.get(column.scale_by))
    return finish(column, values)


def gamma(column: GammaColumn, rows: Rows, key: int) -> Values:
    return finish(column, column.scale * rnd.gamma(key, rows.index, column.shape))


def poisson(column: PoissonColumn, rows: Rows, key: int) -> Values:
    return finish(column, rnd.poisson(key, rows.index, column.lam).astype(np.float64))


def zipf(column: ZipfColumn, rows: Rows, key: int) -> Values:
    return finish(column, (rnd.zipf_rank(key, rows.index, column.n, column.a) + 1).astype(np.float64))


def choice(column: ChoiceColumn, rows: Rows, key: int) -> Values:
    weights = np.asarray(column.weights if column.weights is not None else [1.0] * len(column.values))
    picks = rnd.weighted_index(key, rows.index, weights)
    if column.type == "string":
        values = pa.array([str(value) for value in column.values], type=pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(picks.astype(np.int32)), values)
    return np.asarray(column.values)[picks]


def boolean(column: BooleanColumn, rows: Rows, key: int) -> Values:
    return rnd.uniform(key, rows.index) < column.p
