"""Counter-based randomness: every value is a pure function of (seed, table, column, row index).

A stream key is derived from names with BLAKE2 (stable across machines and Python versions); values
are splitmix64 hashes of `row_index * golden + key` over numpy arrays. No generator state exists,
so any row range, in any order, on any worker, gives the same values.
"""

from __future__ import annotations

import hashlib

import numpy as np

from . import libm

MASK64 = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_MINUS_53 = 1.0 / (1 << 53)


def stream_key(seed: int, *names: object) -> int:
    """A 64-bit key naming one random stream, e.g. stream_key(42, "orders", "customer_id")."""
    text = "\x1f".join(str(name) for name in (seed, *names)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def substream(key: int, index: int) -> int:
    """An independent key derived from `key`, for generators that need several draws per row."""
    return stream_key(key, "sub", index)


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, in place on a fresh uint64 array (wrapping arithmetic is intended)."""
    values ^= values >> np.uint64(30)
    values *= _M1
    values ^= values >> np.uint64(27)
    values *= _M2
    values ^= values >> np.uint64(31)
    return values


def random_bits(key: int, index: np.ndarray) -> np.ndarray:
    """64 random bits per row index."""
    values = index.astype(np.uint64, copy=True)
    values *= _GOLDEN
    values += np.uint64(key & MASK64)
    return mix64(values)


def uniform(key: int, index: np.ndarray) -> np.ndarray:
    """Uniform floats in [0, 1) with 53 bits of precision."""
    return (random_bits(key, index) >> np.uint64(11)).astype(np.float64) * _TWO_POW_MINUS_53


def uniform_open(key: int, index: np.ndarray) -> np.ndarray:
    """Uniform floats in (0, 1): safe under log()."""
    return ((random_bits(key, index) >> np.uint64(11)).astype(np.float64) + 0.5) * _TWO_POW_MINUS_53


def standard_normal(key: int, index: np.ndarray) -> np.ndarray:
    """Box-Muller on two independent streams: one normal per row, no state."""
    radius = np.sqrt(-2.0 * libm.log(uniform_open(substream(key, 0), index)))
    return radius * libm.cos(2.0 * np.pi * uniform(substream(key, 1), index))


_GUIDE_BUCKETS = 4096


def weighted_index(key: int, index: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Indices into `weights` drawn in proportion to them.

    Same result as a binary search of the cumulative weights, found faster with a guide table: each of
    4096 buckets of [0, 1) knows the first index it can hold, and a few vectorized steps finish the search.
    """
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    cumulative /= cumulative[-1]
    cumulative[-1] = np.inf  # u < 1 always lands inside, whatever the rounding
    guide = np.searchsorted(cumulative, np.arange(_GUIDE_BUCKETS) / _GUIDE_BUCKETS, side="right")
    u = uniform(key, index)
    picks = guide[(u * _GUIDE_BUCKETS).astype(np.int64)]
    while True:
        step = cumulative[picks] <= u
        if not step.any():
            return picks
        picks += step


def poisson(key: int, index: np.ndarray, lam: float) -> np.ndarray:
    """Poisson draws by inverse CDF over a precomputed table (normal approximation for huge lambda)."""
    if lam > 500:
        return np.maximum(0, np.rint(lam + np.sqrt(lam) * standard_normal(key, index))).astype(np.int64)
    top = int(lam + 12 * np.sqrt(lam) + 25)
    ks = np.arange(top + 1, dtype=np.float64)
    log_pmf = ks * libm.log(lam) - lam - np.cumsum(libm.log(np.maximum(ks, 1)))
    cdf = np.cumsum(libm.exp(log_pmf))
    return np.minimum(np.searchsorted(cdf, uniform(key, index), side="right"), top).astype(np.int64)


def gamma(key: int, index: np.ndarray, shape: float) -> np.ndarray:
    """Gamma(shape, 1) by Marsaglia-Tsang with a fixed number of attempts per row (deterministic);
    rows that reject every attempt (about 1 in 10^6) take the Wilson-Hilferty approximation."""
    boost = shape < 1.0
    alpha = shape + 1.0 if boost else shape
    d = alpha - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    result = np.full(index.shape, np.nan)
    for attempt in range(4):
        z = standard_normal(substream(key, 10 + attempt), index)
        v = libm.power(1.0 + c * z, 3.0)  # not `** 3`: numpy's pow is the CPU's (generation/libm.py)
        u = uniform_open(substream(key, 20 + attempt), index)
        with np.errstate(invalid="ignore", divide="ignore"):
            accept = (v > 0) & (libm.log(u) < 0.5 * z * z + d - d * v + d * libm.log(v))
        take = accept & np.isnan(result)
        result[take] = d * v[take]
    missing = np.isnan(result)
    if missing.any():
        z = standard_normal(substream(key, 30), index[missing])
        result[missing] = np.maximum(alpha * libm.power(1 - 1 / (9 * alpha) + z * np.sqrt(1 / (9 * alpha)), 3.0), 1e-12)
    if boost:
        result *= libm.power(uniform_open(substream(key, 40), index), 1.0 / shape)
    return result


def zipf_rank(key: int, index: np.ndarray, n: int, a: float) -> np.ndarray:
    """Ranks in [0, n) with P(rank k) roughly proportional to (k+1)^-a (continuous power-law inverse CDF)."""
    u = uniform(key, index)
    if abs(a - 1.0) < 1e-9:
        x = libm.exp(u * libm.log(n + 1.0))
    else:
        exponent = 1.0 - a
        x = libm.power((libm.power(n + 1.0, exponent) - 1.0) * u + 1.0, 1.0 / exponent)
    return np.clip(np.floor(x).astype(np.int64) - 1, 0, n - 1)


_PERMUTATION_MULTIPLIERS = (2_654_435_761, 2_246_822_519, 3_266_489_917, 668_265_263, 374_761_393)


def scatter(ranks: np.ndarray, n: int, key: int) -> np.ndarray:
    """A fixed bijection of [0, n): hot Zipf ranks land on ids spread over the table, not on ids 1..k.

    rank -> (rank * m + offset) mod n with m coprime to n, in int64 arithmetic: the multiplier is split in
    16-bit halves so no product overflows for n < 2^40; beyond that, a rotation.
    """
    if n <= 1:
        return ranks
    offset = key % n
    if n >= 1 << 40:
        return (ranks + offset) % n
    for multiplier in _PERMUTATION_MULTIPLIERS:
        if np.gcd(multiplier, n) == 1:
            high, low = multiplier >> 16, multiplier & 0xFFFF
            product = ((ranks * high) % n * 65_536 + ranks * low) % n
            return (product + offset) % n
    return (ranks + offset) % n
