"""Stochastic processes shared by rows: draws keyed by column values (common factors) and GARCH(1,1)
conditional volatility.

A keyed draw hashes the `by` values (numbers and timestamps by their bits, strings by BLAKE2 of their text)
into the counter of the column's stream, so equal keys give equal draws on any row, chunk or worker. A GARCH
series is a recursion: it is computed once per process over the whole table and indexed per batch.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas.shocks import GarchColumn, KeyedRandomColumn
from . import libm
from . import random as rnd
from .convert import Values, to_numpy
from .rows import Rows

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _value_bits(values: Values) -> np.ndarray:
    """64 bits per value: numbers by their bits, strings by a BLAKE2 hash of each distinct text."""
    if (
        isinstance(values, (pa.Array, pa.ChunkedArray))
        and pa.types.is_string(values.type)
        or (isinstance(values, (pa.Array, pa.ChunkedArray)) and pa.types.is_large_string(values.type))
    ):
        encoded = pc.dictionary_encode(values)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        texts = encoded.dictionary.to_pylist()
        digests = np.array(
            [
                int.from_bytes(hashlib.blake2b(str(text).encode(), digest_size=8).digest(), "little")
                for text in texts
            ],
            dtype=np.uint64,
        )
        return digests[encoded.indices.to_numpy(zero_copy_only=False)]
    array = np.ascontiguousarray(to_numpy(values))
    if array.dtype.kind == "f":
        return array.astype(np.float64).view(np.uint64).copy()
    return array.astype(np.int64).view(np.uint64).copy()


def keyed_counters(rows: Rows, by: list[str]) -> np.ndarray:
    """One 64-bit counter per row, a hash of its `by` values (once per batch for each list of columns)."""
    cache: dict[tuple[str, ...], np.ndarray] = rows.memo.setdefault("keyed_counters", {})
    names = tuple(by)
    if names not in cache:
        counter = np.zeros(len(rows), dtype=np.uint64)
        for name in by:
            counter = rnd.mix64(counter * _GOLDEN + _value_bits(rows.get(name)))
        cache[names] = counter
    return cache[names]


def keyed_random(column: KeyedRandomColumn, rows: Rows, key: int) -> Values:
    counter = keyed_counters(rows, column.by)
    if column.distribution == "uniform":
        values = rnd.uniform(key, counter)
    elif column.distribution == "exponential":
        values = -libm.log(rnd.uniform_open(key, counter))
    elif column.distribution == "laplace":
        # Inverse CDF of a Laplace with scale 1 / sqrt(2) (unit variance), from one uniform in (0, 1).
        centred = rnd.uniform_open(key, counter) - 0.5
        values = -np.sign(centred) * libm.log1p(-2.0 * np.abs(centred)) / np.sqrt(2.0)
    elif column.distribution == "normal":
        values = rnd.standard_normal(key, counter)
    else:
        # Student t = normal / sqrt(chi2(df) / df), chi2(df) = 2 * gamma(df / 2); scaled to unit variance.
        df = column.df
        chi2 = 2.0 * rnd.gamma(rnd.substream(key, 2), counter, df / 2.0)
        values = rnd.standard_normal(key, counter) / np.sqrt(chi2 / df) * np.sqrt((df - 2.0) / df)
    return values if column.round is None else np.round(values, column.round)


def _series_parameter(value: float | str, rows: Rows) -> np.ndarray | float:
    if isinstance(value, str):
        return to_numpy(rows.get(value)).astype(np.float64)
    return float(value)


def _garch_series(column: GarchColumn, rows: Rows, key: int) -> np.ndarray:
    """sigma_t of every row of the table, computed once per process."""
    cache: dict[int, np.ndarray] = rows.runtime.memo.setdefault("garch", {})
    if key in cache:
        return cache[key]
    total = rows.runtime.layouts[rows.table].rows
    everything = rows.runtime.rows(rows.table, np.arange(total, dtype=np.int64))
    shocks = to_numpy(everything.get(column.shocks)).astype(np.float64)
    level = _series_parameter(column.volatility, everything)
    stride = column.stride
    steps = -(-total // stride)
    padded = steps * stride
    # (steps x series) in row order; rows past the end are padding, never read.
    flat_shocks = np.zeros(padded)
    flat_shocks[:total] = shocks
    z = flat_shocks.reshape(steps, stride)
    long_run = np.broadcast_to(np.asarray(level, dtype=np.float64), (total,))
    flat_base = np.ones(padded)
    flat_base[:total] = long_run
    base = flat_base.reshape(steps, stride)
    variance = np.empty((steps, stride))
    omega = 1.0 - column.alpha - column.beta
    # In units of each series' long-run variance: h_t = omega + alpha * h_{t-1} z_{t-1}^2 + beta * h_{t-1}.
    h = np.ones(stride)
    for step in range(steps):
        variance[step] = h
        h = omega + (column.alpha * np.square(z[step]) + column.beta) * h
    sigma = (np.sqrt(variance) * base).ravel()[:total]
    cache[key] = sigma
    return sigma


def garch(column: GarchColumn, rows: Rows, key: int) -> Values:
    sigma = _garch_series(column, rows, key)[rows.index]
    return sigma if column.round is None else np.round(sigma, column.round)
