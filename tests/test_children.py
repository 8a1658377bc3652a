"""Child counts laid out per block of parents (issue 17.1): planning draws one total per block, a worker splits a
block's total among its parents; the counts add up exactly and follow the spec's distribution."""

from __future__ import annotations

import numpy as np
import pytest

from dataset_generator.generation.children import PARENT_BLOCK_ROWS, block_counts, block_sizes, block_totals
from dataset_generator.generation.planner import sized_layouts
from dataset_generator.schemas.dataset import ChildCount
from dataset_generator.schemas.loader import load_schema

KEY = 12345


def _all_counts(count: ChildCount, parents: int) -> np.ndarray:
    sizes = block_sizes(parents)
    totals = block_totals(count, KEY, sizes)
    parts = [block_counts(count, KEY, block, int(size), int(total)) for block, (size, total) in enumerate(zip(sizes, totals, strict=True))]
    for part, total in zip(parts, totals, strict=True):
        assert int(part.sum()) == int(total)
    return np.concatenate(parts)


def test_block_sizes_cover_the_parents() -> None:
    assert block_sizes(0).tolist() == []
    assert block_sizes(PARENT_BLOCK_ROWS).tolist() == [PARENT_BLOCK_ROWS]
    assert block_sizes(PARENT_BLOCK_ROWS + 5).tolist() == [PARENT_BLOCK_ROWS, 5]


def test_poisson_counts_are_shifted_poisson() -> None:
    count = ChildCount(distribution="poisson", lam=2.6, min=1, max=50)
    counts = _all_counts(count, 3 * PARENT_BLOCK_ROWS + 999)
    assert counts.min() >= 1 and counts.max() <= 50
    extra = counts - 1
    assert abs(extra.mean() - 1.6) < 0.02
    assert abs(extra.var() - 1.6) < 0.05  # Poisson: variance = mean
    # The frequency of each count matches the Poisson law.
    lam = 1.6
    for k in range(5):
        expected = np.exp(-lam) * lam**k / np.prod(range(1, k + 1))
        assert abs((extra == k).mean() - expected) < 0.01


def test_poisson_max_is_respected_and_totals_kept() -> None:
    count = ChildCount(distribution="poisson", lam=5.0, min=0, max=6)
    counts = _all_counts(count, PARENT_BLOCK_ROWS + 17)
    assert counts.max() <= 6 and counts.min() >= 0


def test_uniform_counts_stay_in_range_and_near_uniform() -> None:
    count = ChildCount(distribution="uniform", low=2, high=6)
    counts = _all_counts(count, 2 * PARENT_BLOCK_ROWS + 3)
    assert counts.min() == 2 and counts.max() == 6
    frequencies = np.bincount(counts, minlength=7)[2:] / len(counts)
    assert np.abs(frequencies - 0.2).max() < 0.01


def test_fixed_counts() -> None:
    count = ChildCount(distribution="fixed", value=24)
    counts = _all_counts(count, PARENT_BLOCK_ROWS + 1)
    assert set(counts.tolist()) == {24}


def test_counts_are_a_pure_function_of_the_block() -> None:
    count = ChildCount(distribution="poisson", lam=3.0)
    sizes = block_sizes(2 * PARENT_BLOCK_ROWS)
    totals = block_totals(count, KEY, sizes)
    again = block_totals(count, KEY, block_sizes(5 * PARENT_BLOCK_ROWS))[:2]  # more blocks: the first two unchanged
    assert totals.tolist() == again.tolist()
    first = block_counts(count, KEY, 1, int(sizes[1]), int(totals[1]))
    assert np.array_equal(first, block_counts(count, KEY, 1, int(sizes[1]), int(totals[1])))


@pytest.mark.parametrize("scale", [1000])
def test_planning_a_huge_relational_dataset_is_cheap(scale: int) -> None:
    """68 billion rows: the layouts are a few hundred thousand numbers (the time is in benchmarks/run.py)."""
    layouts = sized_layouts(load_schema("ecommerce", scale=scale), seed=0)
    assert layouts["order_items"].rows > 40_000_000_000
