"""The plans of the parts of a run add up to the run's plan (issue 17.1): every file in exactly one part, and a
large relational plan (billions of rows) is made of the same files whichever part asks."""

from __future__ import annotations

import pytest

from dataset_generator.generation.planner import make_plan
from dataset_generator.options import WriterOptions
from dataset_generator.schemas.loader import load_schema


@pytest.mark.parametrize(("dataset", "scale", "parts"), [("ecommerce", 0.05, 7), ("ecommerce", 100, 40), ("market", 0.05, 3)])
def test_parts_partition_the_plan(dataset: str, scale: float, parts: int) -> None:
    spec = load_schema(dataset, scale=scale)
    plan = make_plan(spec, seed=5, options=WriterOptions(file_rows_target=100_000))
    whole = plan.tasks
    pieces = [plan.part(parts, part) for part in range(1, parts + 1)]
    flattened = [task for piece in pieces for task in piece]
    assert sorted(flattened, key=repr) == sorted(whole, key=repr)
    assert len(flattened) == len(set(map(repr, flattened)))
    assert sum(task.rows for task in flattened) == plan.total_rows
    # A part plans the same files as the whole run did: planning again gives the same part.
    again = make_plan(spec, seed=5, options=WriterOptions(file_rows_target=100_000))
    assert again.part(parts, 2) == pieces[1]
