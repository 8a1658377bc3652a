"""Popularity of entities and the foreign keys that pick them: a bounded power law over a pseudo-random
permutation of the rows, entities that exist only from `since` to `until`, and picks without repetition
among the children of one parent.

Everything is counter-based: a pick is a pure function of (seed, table, column, row) and of the referenced
rows it recomputes, so a chunk never reads another chunk and costs O(its rows).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SpecError
from ..schemas.entities import PopularityColumn
from ..schemas.keys import ForeignKeyColumn, SequenceColumn
from . import libm
from . import random as rnd
from .convert import Values
from .rows import Rows
from .temporal import MICROS_PER_DAY

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)

_FEISTEL_ROUNDS = 2
# Rounds of fresh draws for rows whose pick is not eligible or repeats a sibling's; after them, no eligible
# entity was found at that time (eligible) or the next free rows are taken in turn (distinct).
_MAX_DRAWS = 48
_NEVER = np.iinfo(np.int64).max


# --- a bijection of [0, n) ------------------------------------------------------------------------------
def _round_keys(key: int) -> list[np.uint64]:
    return [np.uint64(rnd.substream(key, 50 + r) & rnd.MASK64) for r in range(_FEISTEL_ROUNDS)]


def _round_function(half: np.ndarray, round_key: np.uint64, bits: int) -> np.ndarray:
    """`bits` pseudo-random bits of `half`: the top bits of a multiplicative hash of half ^ key."""
    mixed = half ^ round_key
    mixed *= _GOLDEN
    mixed >>= np.uint64(64 - bits)
    return mixed


def _feistel(values: np.ndarray, bits: int, keys: list[np.uint64], inverse: bool) -> np.ndarray:
    """An unbalanced Feistel network over `bits`-bit integers: round r splits its input into a high part of
    `high` bits and a low part of `low` bits and outputs low << high | (high part ^ F(low)), so the widths
    swap from round to round; each round is a bijection, and so is the network."""
    a, b = bits // 2, bits - bits // 2
    widths = [(a, b) if r % 2 == 0 else (b, a) for r in range(_FEISTEL_ROUNDS)]
    v = values
    if not inverse:
        for (high, low), round_key in zip(widths, keys, strict=True):
            right = v & np.uint64((1 << low) - 1)
            mixed = _round_function(right, round_key, high)
            mixed ^= v >> np.uint64(low)
            right <<= np.uint64(high)
            right |= mixed
            v = right
        return v
    for (high, low), round_key in zip(reversed(widths), reversed(keys), strict=True):
        right = v >> np.uint64(high)
        mixed = _round_function(right, round_key, high)
        mixed ^= v & np.uint64((1 << high) - 1)
        mixed <<= np.uint64(low)
        mixed |= right
        v = mixed
    return v


def permute(values: np.ndarray, n: int, key: int, *, inverse: bool = False) -> np.ndarray:
    """A pseudo-random bijection of [0, n) named by `key` (its inverse with `inverse=True`), vectorized and
    stateless: a 2-round Feistel network (not cryptographic: enough to decorrelate ids from popularity) over the smallest power of two >= n, walked along its cycles until
    the value is back inside [0, n) (under 2 steps on average). Works for any n up to 2^62."""
    if n <= 1:
        return np.zeros(values.shape, dtype=np.int64)
    bits = max(2, (n - 1).bit_length())
    keys = _round_keys(key)
    out = _feistel(values.astype(np.uint64), bits, keys, inverse)
    bound = np.uint64(n)
    outside = np.flatnonzero(out >= bound)
    while outside.size:
        out[outside] = _feistel(out[outside], bits, keys, inverse)
        outside = outside[out[outside] >= bound]
    return out.astype(np.int64)


# --- the bounded power law -------------------------------------------------------------------------------
def _cdf(x: np.ndarray, a: float, c: float) -> np.ndarray:
    """Share of the density x^-a on [c, 1 + c] below x."""
    if a == 0.0:
        return x - c
    if abs(a - 1.0) < 1e-12:
        return libm.log(x / c) / libm.log((1.0 + c) / c)
    e = 1.0 - a
    return (libm.power(x, e) - c**e) / ((1.0 + c) ** e - c**e)


def _inverse_cdf(u: np.ndarray, a: float, c: float) -> np.ndarray:
    if a == 0.0:
        return c + u
    if abs(a - 1.0) < 1e-12:
        return c * libm.exp(u * libm.log((1.0 + c) / c))
    e = 1.0 - a
    return libm.power(c**e + u * ((1.0 + c) ** e - c**e), 1.0 / e)


def popularity_ranks(u: np.ndarray, n: int, a: float, offset: float) -> np.ndarray:
    """Ranks in [0, n) drawn from uniforms `u`: rank 0 the most popular."""
    x = _inverse_cdf(u, a, offset)
    return np.clip(np.floor((x - offset) * n).astype(np.int64), 0, n - 1)


def popularity_weights(ranks: np.ndarray, n: int, a: float, offset: float) -> np.ndarray:
    """n times the probability of each rank: the weight relative to the mean entity (mean 1)."""
    low = _cdf(offset + ranks / n, a, offset)
    high = _cdf(offset + (ranks + 1) / n, a, offset)
    return (high - low) * n


def popularity(column: PopularityColumn, rows: Rows, key: int) -> Values:
    n = rows.runtime.layouts[rows.table].rows
    ranks = permute(rows.index, n, key, inverse=True)
    return popularity_weights(ranks.astype(np.float64), n, column.a, column.offset)


# --- foreign keys ----------------------------------------------------------------------------------------
Draw = Callable[[np.ndarray, int], np.ndarray]


def _draw(column: ForeignKeyColumn, rows: Rows, key: int, n: int) -> Draw:
    """Attempt k's pick (a row of the referenced table) for some of this table's rows; attempt 0 is the
    plain foreign key's pick."""

    def keyed(attempt: int) -> int:
        return key if attempt == 0 else rnd.substream(key, 100 + attempt)

    if column.distribution == "popularity":
        weight = rows.runtime.spec.tables[column.table].columns[column.weight or ""]
        assert isinstance(weight, PopularityColumn)
        permutation_key = rows.runtime.key(column.table, column.weight or "")

        def draw(index: np.ndarray, attempt: int) -> np.ndarray:
            ranks = popularity_ranks(rnd.uniform(keyed(attempt), index), n, weight.a, weight.offset)
            return permute(ranks, n, permutation_key)

    elif column.distribution == "zipf":

        def draw(index: np.ndarray, attempt: int) -> np.ndarray:
            k = keyed(attempt)
            return rnd.scatter(rnd.zipf_rank(k, index, n, column.a), n, rnd.substream(k, 7))

    else:

        def draw(index: np.ndarray, attempt: int) -> np.ndarray:
            return np.floor(rnd.uniform(keyed(attempt), index) * n).astype(np.int64)

    return draw


def foreign_key(column: ForeignKeyColumn, rows: Rows, key: int) -> Values:
    target = rows.runtime.spec.tables[column.table].columns[column.column]
    assert isinstance(target, SequenceColumn)
    n = rows.runtime.layouts[column.table].rows
    if n == 0:
        raise ValueError(f"foreign key {rows.table}.{column.column} points into empty table {column.table!r}")
    if column.distribution == "cycle":
        return target.start + (rows.index % n) * target.step
    draw = _draw(column, rows, key, n)
    if column.eligible is not None:
        draw = _eligible_draw(column, rows, draw)
    picks = _distinct_within_parent(rows, draw, n) if column.distinct_within_parent else draw(rows.index, 0)
    return target.start + picks * target.step


def _micros(values: Values, column_type: str) -> np.ndarray:
    """Timestamps as int64 microseconds (dates at their midnight); nulls become 'never'."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if pa.types.is_date32(values.type):
            values = values.cast(pa.int32())
        elif pa.types.is_timestamp(values.type):
            values = values.cast(pa.int64())
        values = pc.fill_null(values.cast(pa.int64()), _NEVER).to_numpy()
        if column_type == "date":
            return np.where(values == _NEVER, _NEVER, values * MICROS_PER_DAY)
        return values
    values = values.astype(np.int64)
    return values * MICROS_PER_DAY if column_type == "date" else values


def _eligible_draw(column: ForeignKeyColumn, rows: Rows, draw: Draw) -> Draw:
    """Wraps `draw`: a pick whose entity does not exist at the row's time is drawn again (vectorized
    rounds over the rows still ineligible), so every pick is eligible and still popularity-weighted."""
    eligible = column.eligible
    assert eligible is not None
    at_type = rows.spec.columns[eligible.at].type
    at_batch = _micros(rows.get(eligible.at), at_type)
    first = int(rows.index[0]) if len(rows.index) else 0
    target_columns = rows.runtime.spec.tables[column.table].columns

    def at_of(index: np.ndarray) -> np.ndarray:
        local = index - first
        if len(rows.index) and bool(((local >= 0) & (local < len(rows.index))).all()):
            inside = rows.index[local] == index
            if bool(inside.all()):
                return at_batch[local]
        # Rows outside the batch (siblings of a parent cut by the chunk): recomputed.
        return _micros(rows.runtime.rows(rows.table, index).get(eligible.at), at_type)

    def alive(picks: np.ndarray, at: np.ndarray) -> np.ndarray:
        entities = rows.runtime.rows(column.table, picks)
        ok = np.ones(picks.shape, dtype=bool)
        if eligible.since is not None:
            ok &= _micros(entities.get(eligible.since), target_columns[eligible.since].type) <= at
        if eligible.until is not None:
            ok &= at < _micros(entities.get(eligible.until), target_columns[eligible.until].type)
        return ok

    def eligible_draw(index: np.ndarray, attempt: int) -> np.ndarray:
        at = at_of(index)
        picks = draw(index, attempt * _MAX_DRAWS)
        pending = np.flatnonzero(~alive(picks, at))
        for retry in range(1, _MAX_DRAWS):
            if not pending.size:
                return picks
            again = draw(index[pending], attempt * _MAX_DRAWS + retry)
            picks[pending] = again
            pending = pending[~alive(again, at[pending])]
        if pending.size:
            when = np.datetime64(int(at[pending[0]]), "us")
            raise SpecError(
                f"table {rows.table!r}: foreign key to {column.table!r}: no eligible row found at {when} "
                f"after {_MAX_DRAWS} draws; make more {column.table} rows exist at that time ({eligible.since or eligible.until})"
            )
        return picks

    return eligible_draw


def _siblings(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    """Every child of the parents of these rows, in row order (siblings are contiguous), and each child's
    parent. A contiguous batch only lacks the cut siblings of its first and last parent."""
    index, parents = rows.index, rows.parent_index
    contiguous = len(index) > 0 and int(index[-1]) - int(index[0]) == len(index) - 1
    if not contiguous:
        unique = np.unique(parents)
        child_index, child_parents, _ = rows.runtime.children(rows.table, unique)
        return child_index, child_parents
    first, last = int(parents[0]), int(parents[-1])
    starts = rows.runtime.first_child(rows.table, np.array([first, last], dtype=np.int64))
    stop = int(starts[1] + rows.runtime.child_counts(rows.table, np.array([last], dtype=np.int64))[0])
    before, after = int(index[0]) - int(starts[0]), stop - int(index[-1]) - 1
    child_index = np.arange(int(starts[0]), stop, dtype=np.int64)
    child_parents = np.concatenate([np.full(before, first), parents, np.full(after, last)]).astype(np.int64)
    return child_index, child_parents


def _repeats(picks: np.ndarray, accepted: np.ndarray, position: np.ndarray, reach: int) -> np.ndarray:
    """Rows whose pick another sibling holds first: a sibling that is accepted, or an earlier one. Siblings
    are contiguous, so sibling j of row i is i - d or i + d with d below the largest family (`reach`)."""
    repeat = np.zeros(picks.shape, dtype=bool)
    pending = ~accepted
    for d in range(1, reach):
        same = (picks[d:] == picks[:-d]) & (position[d:] >= d)  # row i = k + d and its sibling k
        repeat[d:] |= same & pending[d:]  # an earlier sibling holds it
        repeat[:-d] |= same & pending[:-d] & accepted[d:]  # a later, accepted sibling holds it
    return repeat


def _distinct_within_parent(rows: Rows, draw: Draw, n: int) -> np.ndarray:
    """Picks of these rows such that no two children of one parent share one: every sibling of the batch's
    parents is drawn (so a parent cut by a chunk boundary resolves the same way in both chunks), repeats are
    drawn again (the earliest sibling keeps its pick, later an accepted one), and after `_MAX_DRAWS` rounds
    the next free row is taken in turn."""
    child_index, child_parents = _siblings(rows)
    if not len(child_index):
        return np.zeros(0, dtype=np.int64)
    run = np.flatnonzero(np.r_[True, child_parents[1:] != child_parents[:-1]])
    sizes = np.diff(np.r_[run, len(child_index)])
    if int(sizes.max()) > n:
        raise SpecError(f"table {rows.table!r}: distinct_within_parent with a parent of {int(sizes.max())} children but only {n} rows to pick")
    position = np.arange(len(child_index)) - np.repeat(run, sizes)
    reach = int(sizes.max())
    picks = draw(child_index, 0)
    accepted = np.zeros(picks.shape, dtype=bool)
    attempt = 0
    while True:
        repeat = _repeats(picks, accepted, position, reach)
        accepted = ~repeat
        pending = np.flatnonzero(repeat)
        if not pending.size:
            break
        attempt += 1
        if attempt < _MAX_DRAWS:
            picks[pending] = draw(child_index[pending], attempt)
        else:
            picks[pending] = (picks[pending] + 1) % n
    return picks[np.searchsorted(child_index, rows.index)]
