"""Change feeds into files (`--changes --since --until`, `<table>_changes` tables), read back with DuckDB:
applied in order to the snapshot at the end of the day before, they give the snapshot at the end of the
last day, exactly; the same bytes whatever the workers or the engine; a re-run is skipped."""

from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from _changes import (
    EXTENDED,
    SCALE,
    SINCE,
    TABLES,
    UNTIL,
    ecommerce_plan,
    key_of,
    rows_sorted,
    snapshot_at_end_of,
)

from dataset_generator.api import generate
from dataset_generator.generation.changes import apply_changes, diff_rows
from dataset_generator.options import WriterOptions
from dataset_generator.writers.registry import create_writer

from helpers import file_digests, query, run_cli


def write_feed(output: Path, **kwargs: Any) -> Any:
    writer = create_writer("parquet", output_uri=str(output), options=WriterOptions())
    return generate(
        "ecommerce", writer, scale=SCALE, params=EXTENDED, changes=True, since=SINCE, until=UNTIL, **kwargs
    )


@pytest.fixture(scope="module")
def feed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("feed")
    write_feed(output / "one", workers=1)
    return output / "one"


def read_feed(root: Path, table: str) -> pa.Table:
    with duckdb.connect() as con:
        return con.execute(f"SELECT * FROM read_parquet('{root}/{table}_changes/*.parquet')").to_arrow_table()


def test_the_feed_applied_to_the_day_before_gives_the_last_day(feed_dir: Path) -> None:
    plan = ecommerce_plan(EXTENDED)
    kinds: collections.Counter[str] = collections.Counter()
    for table in TABLES:
        feed = read_feed(feed_dir, table)
        kinds.update(feed["_change_type"].to_pylist())
        assert set(feed["_commit_version"].to_pylist()) <= set(range(1, 8))
        base = snapshot_at_end_of(plan, table, SINCE - dt.timedelta(days=1))
        final = snapshot_at_end_of(plan, table, UNTIL)
        key = key_of(plan, table)
        rebuilt = apply_changes(base, feed.select([*base.column_names, "_change_type", "_commit_version"]), key)
        assert rows_sorted(rebuilt, final.column_names, key) == rows_sorted(final, final.column_names, key), table
    # The window holds new orders and items, and status updates of earlier orders.
    assert kinds["insert"] > 0 and kinds["update_postimage"] == kinds["update_preimage"] > 0


def test_commit_columns(feed_dir: Path) -> None:
    rows = query(
        f"SELECT _commit_version, min(_commit_timestamp), max(_commit_timestamp) "
        f"FROM read_parquet('{feed_dir}/orders_changes/*.parquet') GROUP BY ALL ORDER BY 1"
    )
    assert [row[0] for row in rows] == list(range(1, 8))
    for version, low, high in rows:
        end = dt.datetime.combine(SINCE + dt.timedelta(days=version), dt.time()) - dt.timedelta(microseconds=1)
        assert low == high == end


def test_feeds_are_byte_identical_across_workers_and_engines(feed_dir: Path, tmp_path: Path) -> None:
    write_feed(tmp_path / "two", workers=2, worker_type="process")
    expected = file_digests(feed_dir)
    assert len(expected) == 4 * 7
    assert file_digests(tmp_path / "two") == expected
    pytest.importorskip("distributed")
    write_feed(tmp_path / "dask", engine="dask", workers=2)
    assert file_digests(tmp_path / "dask") == expected


def test_the_same_feed_again_is_skipped_and_another_refused(tmp_path: Path) -> None:
    args = ["generate", "ecommerce", "--scale", SCALE, "--output", tmp_path, "--changes", "--since", "2024-04-01",
            "--until", "2024-04-02", "-q"]  # fmt: skip
    assert run_cli(*args).exit_code == 0
    again = run_cli(*args[:-1])
    assert again.exit_code == 0 and "skipped, already committed by an identical run" in again.output
    other = run_cli(*args[:-3], "--until", "2024-04-03")
    assert other.exit_code == 2 and "already exists" in other.output


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--since", "2024-04-01"], "a change feed needs --until"),
        (["--since", "2024-04-05", "--until", "2024-04-01"], "is before --since"),
        (["--since", "April", "--until", "2024-04-01"], "must be a date"),
    ],
)
def test_bad_windows_are_one_line_errors(tmp_path: Path, flags: list[str], message: str) -> None:
    result = run_cli("generate", "ecommerce", "--scale", SCALE, "--output", tmp_path, "--changes", *flags)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_diff_rows_nets_a_day() -> None:
    before = pa.record_batch({"k": [1, 2, 3, 4, 5], "v": [1, 2, None, 4, 5], "l": [[1], [2], [3], [4], [5]]})
    after = pa.record_batch({"k": [1, 2, 3, 4, 5], "v": [1, 2, None, 9, 5], "l": [[1], [2, 0], [3], [4], [5]]})
    exists_before = np.array([True, True, True, True, False])
    exists_after = np.array([True, True, False, True, False])  # 3 deleted; 5 inserted and deleted: nothing
    rows = diff_rows(exists_before, before, exists_after, after, 2, 99).to_pylist()
    assert [(row["k"], row["_change_type"]) for row in rows] == [
        (2, "update_preimage"), (2, "update_postimage"), (3, "delete"), (4, "update_preimage"), (4, "update_postimage"),
    ]  # fmt: skip
    assert {row["_commit_version"] for row in rows} == {2}
