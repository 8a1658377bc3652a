"""Same seed, same bytes: whatever the chunk size or worker count. Another seed, other data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset_generator import WriterOptions, create_writer, generate, load_schema
from dataset_generator.generation.layout import build_layouts
from dataset_generator.generation.runtime import DatasetRuntime

from helpers import file_digests

SCALE = 0.0005


def write(
    root: Path, *, seed: int = 42, workers: int = 1, chunk_rows: int = 131_072, dataset: str = "ecommerce", worker_type: str = "thread"
) -> dict[str, str]:
    writer = create_writer("parquet", output_uri=str(root), options=WriterOptions(file_rows_target=700, compression="zstd"))
    params = {"rows": 9_000} if dataset == "transactions" else None
    generate(
        dataset, writer, scale=SCALE if dataset == "ecommerce" else 1.0, seed=seed, workers=workers, chunk_rows=chunk_rows,
        params=params, worker_type=worker_type,
    )  # fmt: skip
    digests = file_digests(root)
    assert digests, "the run wrote no data file"  # equal empty results would prove nothing
    return digests


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return write(tmp_path_factory.mktemp("reference"))


def test_byte_identical_across_chunk_sizes(tmp_path: Path, reference: dict[str, str]) -> None:
    assert write(tmp_path, chunk_rows=97) == reference


@pytest.mark.parametrize("worker_type", ["thread", "process"])
def test_byte_identical_across_worker_counts(tmp_path: Path, reference: dict[str, str], worker_type: str) -> None:
    assert write(tmp_path, workers=2, chunk_rows=1_000, worker_type=worker_type) == reference


def test_transactions_identical_across_workers(tmp_path: Path) -> None:
    assert write(tmp_path / "one", dataset="transactions") == write(tmp_path / "two", dataset="transactions", workers=2, chunk_rows=512)


def test_another_seed_gives_other_data(tmp_path: Path, reference: dict[str, str]) -> None:
    other = write(tmp_path, seed=7)
    assert set(other) != set(reference) or all(other[name] != reference[name] for name in reference)


def test_any_row_range_alone_equals_the_slice_of_a_larger_batch() -> None:
    spec = load_schema("ecommerce", scale=SCALE)
    runtime = DatasetRuntime(spec, 42, build_layouts(spec, 42))
    for table in spec.tables:
        rows = runtime.layouts[table].rows
        whole = runtime.batch(table, 0, rows)
        start, length = rows // 3, min(257, rows - rows // 3)
        if runtime.filters(table):
            # customers: deleted rows are left out of batches (history.deleted); the kept rows are the same
            # wherever the range starts (the key is the row's position + 1).
            part = runtime.batch(table, start, length)
            keys = whole.column(0).to_numpy()
            inside = (keys > start) & (keys <= start + length)
            assert part.equals(whole.filter(pa.array(inside))), table
        else:
            assert runtime.batch(table, start, length).equals(whole.slice(start, length)), table
        # and in scattered order, as a lookup or foreign key sees it (row sets hold every row, existing or not)
        index = np.array([rows - 1, 0, rows // 2], dtype=np.int64)
        subset = runtime.rows(table, index)
        every = runtime.rows(table, np.arange(rows, dtype=np.int64))
        for column in runtime.arrow_schema(table).names:
            assert subset.arrow(column).equals(every.arrow(column).take(pa.array(index))), (table, column)


def test_day_lookup_of_repeated_rows_with_gaps() -> None:
    """Parent rows of children repeat and skip (parents with no children): [3, 3, 5] spans 3 values like a
    contiguous range would, and must still be looked up row by row."""
    from dataset_generator.generation.layout import TimeLayout

    layout = TimeLayout(rows=10, first_day=100, day_offsets=np.array([0, 4, 8, 10]))
    for index in ([3, 3, 5], [0, 1, 2, 3, 4], [7, 8, 8, 9], [2, 4, 4, 4, 6]):
        rows = np.array(index, dtype=np.int64)
        assert layout.day_of(rows).tolist() == (100 + np.searchsorted(layout.day_offsets, rows, side="right") - 1).tolist()


def test_long_random_walk_is_identical_across_chunkings_and_workers(tmp_path: Path) -> None:
    """A 300,000-step walk crosses many saved levels; every chunking re-sums from them to the same bits."""
    spec_file = tmp_path / "walk.yaml"
    spec_file.write_text(
        "name: walk\n"
        "tables:\n"
        "  ticks:\n"
        "    rows: 300000\n"
        "    columns:\n"
        "      id: {type: int64, gen: sequence}\n"
        "      price: {type: float64, gen: random_walk, stride: 2, start: 100, volatility: 0.001, geometric: true}\n"
        "      next: {type: float64, gen: walk_next, of: price}\n"
    )
    digests = []
    for workers, chunk_rows in ((1, 65_536), (1, 997), (2, 4_096)):
        out = tmp_path / f"out-{workers}-{chunk_rows}"
        writer = create_writer("parquet", output_uri=str(out), options=WriterOptions(file_rows_target=50_000))
        generate(spec_file, writer, workers=workers, chunk_rows=chunk_rows)
        digests.append(file_digests(out))
    assert digests[0] == digests[1] == digests[2]
    table = pa.concat_tables([pq.read_table(path) for path in sorted((tmp_path / "out-1-65536" / "ticks").glob("*.parquet"))])
    price, following = table["price"].to_numpy(), table["next"].to_numpy()
    assert np.array_equal(price[2:], following[:-2])  # each walk continues exactly where its previous step ended


@pytest.mark.parametrize("dataset", ["weather", "sensors", "market"])
def test_children_kept_for_their_parents_aggregates_are_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dataset: str) -> None:
    """Child columns made for the parents' aggregates and kept for the child table's batches
    (generation/child_values.py) give the bytes of a run that computes them again: with the store off,
    and with it on at 1 and 2 thread workers and a chunk size that cuts the kept ranges."""
    from dataset_generator.generation import child_values

    recalled: list[int] = []
    real_recall = child_values.ChildValueStore.recall

    def counting(self: child_values.ChildValueStore, table: str, first: int, stop: int) -> dict:
        found = real_recall(self, table, first, stop)
        recalled.append(len(found))
        return found

    monkeypatch.setattr(child_values.ChildValueStore, "recall", counting)

    def run(name: str, store_bytes: int, workers: int, chunk_rows: int) -> dict[str, str]:
        monkeypatch.setattr(child_values, "STORE_BYTES", store_bytes)
        writer = create_writer("parquet", output_uri=str(tmp_path / name), options=WriterOptions(file_rows_target=4_000, compression="zstd"))
        scale = {"weather": 0.01, "sensors": 0.002, "market": 0.01}[dataset]
        generate(dataset, writer, scale=scale, seed=5, workers=workers, chunk_rows=chunk_rows)
        return file_digests(tmp_path / name)

    without = run("off", 0, 2, 131_072)
    assert not any(recalled)
    assert run("on-1", 64 * 2**20, 1, 131_072) == without
    assert any(recalled), "the store was never read: the test would prove nothing"
    assert run("on-2-cut", 64 * 2**20, 2, 1_000) == without


def test_parents_first_runs_each_child_file_after_its_parents() -> None:
    from dataset_generator.api import plan_dataset
    from dataset_generator.generation.child_values import parents_first

    plan = plan_dataset("weather", WriterOptions(file_rows_target=4_000), scale=0.01, seed=5)
    runtime = plan.runtime
    tasks = plan.tasks
    for lead in (0, 1, 2):
        ordered = parents_first(runtime.spec, lambda child, row: int(runtime.parent_of(child, np.array([row]))[0]), tasks, lead)
        assert sorted(map(id, ordered)) == sorted(map(id, tasks))  # the same tasks, each once
        position = {id(task): at for at, task in enumerate(ordered)}
        daily = [task for task in tasks if task.table == "daily"]
        for task in (task for task in tasks if task.table == "hourly"):
            parent_row = int(runtime.parent_of("hourly", np.array([task.first_row]))[0])
            holder = next(parent for parent in daily if parent.first_row <= parent_row < parent.first_row + parent.rows)
            assert position[id(holder)] < position[id(task)]
