"""Children per parent, laid out per block of parents in O(blocks), not O(parents).

A child table's rows are grouped under its parent's rows, parents in blocks of `PARENT_BLOCK_ROWS`. Planning
needs only each block's child total (`block_totals`: one vectorized draw per block, never a draw per parent), so
the plan of a billion-parent table costs a few thousand numbers. A worker that needs the children of one
parent splits its block's total among the block's parents (`block_counts`): every count is a pure function of
(seed, table, block, parent's place in the block), and the counts of a block always add up to its total.

Per distribution (each count clipped to [min, max]):
- `fixed`: every parent has `value` children.
- `poisson`: `min + Poisson(lam - min)` children (mean `lam`, at least `min`). Exact: the block's extra children
  are Poisson(parents x (lam - min)) and each picks its parent uniformly, which gives every parent an independent
  Poisson count. The rare parent above `max` hands its excess to parents with room.
- `uniform` (and any distribution given by its probabilities): each parent draws its own count, then the block's
  sum is moved to its total (drawn from the normal law of a sum of that many counts) by one child more or less for
  randomly chosen parents (a shift of about sqrt(parents) children in a block: under 1 % of parents for 65,536).
"""

from __future__ import annotations

import numpy as np

from ..schemas.dataset import ChildCount
from . import random as rnd

# Parents per block in a child layout. Fixed, never tied to chunk size: the layout must not depend on it.
PARENT_BLOCK_ROWS = 65_536

_TOTAL, _PICK, _DRAW, _ORDER = 1, 2, 3, 4  # substreams of a child table's count key


def block_sizes(parent_rows: int) -> np.ndarray:
    """Parents in each block: full blocks, then the remainder."""
    blocks = -(-parent_rows // PARENT_BLOCK_ROWS)
    sizes = np.full(blocks, PARENT_BLOCK_ROWS, dtype=np.int64)
    if blocks and parent_rows % PARENT_BLOCK_ROWS:
        sizes[-1] = parent_rows % PARENT_BLOCK_ROWS
    return sizes


def _bounds(count: ChildCount) -> tuple[int, int]:
    return int(count.min), int(count.max)


def _pmf(count: ChildCount) -> tuple[np.ndarray, np.ndarray]:
    """(values, probabilities) of one parent's clipped count, for the distributions drawn per parent."""
    low, high = _bounds(count)
    if count.distribution == "fixed":
        value = min(max(int(count.value or 0), low), high)
        return np.array([value], dtype=np.int64), np.array([1.0])
    first, last = int(count.low or 0), int(count.high or 0)
    values = np.clip(np.arange(first, last + 1, dtype=np.int64), low, high)
    unique, inverse = np.unique(values, return_inverse=True)
    return unique, np.bincount(inverse, minlength=len(unique)) / len(values)


def _poisson_extra(count: ChildCount) -> float:
    low, _ = _bounds(count)
    return max(float(count.lam or 0) - low, 0.0)


def block_totals(count: ChildCount, key: int, sizes: np.ndarray) -> np.ndarray:
    """Children of every block (one draw per block), each within [size x min, size x max]."""
    low, high = _bounds(count)
    blocks = np.arange(len(sizes), dtype=np.int64)
    if count.distribution == "poisson":
        extra = _poisson_extra(count)
        totals = np.zeros(len(sizes), dtype=np.int64)
        for size in np.unique(sizes):  # at most two sizes: full blocks and the last one
            same = sizes == size
            if extra > 0:
                totals[same] = rnd.poisson(rnd.substream(key, _TOTAL), blocks[same], extra * int(size))
        return np.minimum(totals, sizes * (high - low)) + sizes * low
    values, probabilities = _pmf(count)
    mean = float((values * probabilities).sum())
    spread = float(np.sqrt(max(((values - mean) ** 2 * probabilities).sum(), 0.0)))
    drawn = np.rint(sizes * mean + np.sqrt(sizes) * spread * rnd.standard_normal(rnd.substream(key, _TOTAL), blocks))
    return np.clip(drawn.astype(np.int64), sizes * int(values[0]), sizes * int(values[-1]))


def block_counts(count: ChildCount, key: int, block: int, size: int, total: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Children of each parent of `block` (`size` parents), adding up to the block's `total`. With `weights`
    (poisson only), each extra child picks its parent in proportion to the parent's weight instead of
    uniformly: parent i's count is then min + Poisson((lam - min) x w_i / mean w of the block)."""
    low, high = _bounds(count)
    block_key = rnd.substream(key, block)
    if count.distribution == "poisson":
        extra = total - size * low
        draws = np.arange(extra, dtype=np.int64)
        if weights is not None and len(weights) == size and float(np.maximum(weights, 0.0).sum()) > 0:
            # Child j goes to the parent whose share of the cumulative weight holds its uniform: counted from
            # the sorted uniforms (one sort and one search of the parents' edges, not a search per child).
            edges = np.cumsum(np.maximum(weights, 0.0))
            edges /= edges[-1]
            edges[-1] = np.inf
            below = np.searchsorted(np.sort(rnd.uniform(rnd.substream(block_key, _PICK), draws)), edges, side="left")
            counts = low + np.diff(below, prepend=0)
        else:
            picks = np.floor(rnd.uniform(rnd.substream(block_key, _PICK), draws) * size)
            counts = low + np.bincount(picks.astype(np.int64), minlength=size)
    else:
        values, probabilities = _pmf(count)
        cdf = np.cumsum(probabilities)
        cdf[-1] = np.inf
        draws = np.searchsorted(cdf, rnd.uniform(rnd.substream(block_key, _DRAW), np.arange(size, dtype=np.int64)), side="right")
        counts = values[draws]
        low, high = int(values[0]), int(values[-1])
    return _move_to_total(counts, total, low, high, rnd.substream(block_key, _ORDER))


def _move_to_total(counts: np.ndarray, total: int, low: int, high: int, key: int) -> np.ndarray:
    """`counts` changed by one child at a time, for parents in a fixed random order, until they add up to `total`
    (every count staying in [low, high]); a parent above `high` first gives its excess back."""
    counts = counts.astype(np.int64, copy=True)
    over = counts > high
    if over.any():
        counts[over] = high
    if int(counts.sum()) == total:
        return counts  # the usual case (always for poisson below max): no order to draw
    order = np.argsort(rnd.uniform(key, np.arange(len(counts), dtype=np.int64)), kind="stable")
    difference = total - int(counts.sum())
    while difference:
        step = 1 if difference > 0 else -1
        movable = order[counts[order] < high] if step > 0 else order[counts[order] > low]
        if not len(movable):
            break  # the total is out of reach (cannot happen for a total within [size x low, size x high])
        chosen = movable[: abs(difference)]
        counts[chosen] += step
        difference -= step * len(chosen)
    return counts
