"""Issue 12, items 8 and 9: typed bounds (no silent wrap, no NaN, no `rows: true`, no column hidden by a partition
column) and size sanity before planning (absurd runs refused in seconds, with rows, files and bytes)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dataset_generator.errors import ParameterError, SizeLimitError, SpecError
from dataset_generator.generation.estimate import MAX_FILES, estimate_size
from dataset_generator.generation.layout import build_layouts
from dataset_generator.generation.planner import make_plan
from dataset_generator.options import PartitionSpec, WriterOptions
from dataset_generator.schemas.loader import load_schema

TABLE = """\
name: bounds
tables:
  t:
    rows: {rows}
    columns:
      {column}
"""

TIMED = """\
name: timed
tables:
  events:
    time: {{column: ts, start: 2024-01-01, end: 2024-01-10, per_day: {per_day}}}
    partition_by: [year]
    columns:
      ts: {{type: timestamp, gen: event_time}}
      {column}
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return load_schema(schema_file=path)


def _refused(tmp_path: Path, text: str, pattern: str, line: int | None = None) -> str:
    with pytest.raises(SpecError, match=pattern) as exc:
        _load(tmp_path, text)
    message = str(exc.value)
    assert "\n" not in message
    if line is not None:
        assert message.startswith(f"{tmp_path / 'spec.yaml'}:{line}: ")
    return message


# --- 12.8 ----------------------------------------------------------------------------------------------
def test_int8_uniform_beyond_its_type_is_refused(tmp_path: Path) -> None:
    column = "x: {type: int8, gen: uniform, low: 0, high: 100000}"
    _refused(tmp_path, TABLE.format(rows=10, column=column), r"column 'x'.*values reach 0\.\.100000, outside the range of int8", 6)


def test_a_clipped_draw_may_use_a_small_type(tmp_path: Path) -> None:
    _load(tmp_path, TABLE.format(rows=10, column="x: {type: int8, gen: normal, mean: 50, std: 30, min: 0, max: 100}"))
    _refused(tmp_path, TABLE.format(rows=10, column="x: {type: int8, gen: normal, mean: 50, std: 30}"), r"outside the range of int8")


def test_an_int8_sequence_longer_than_its_type_is_refused(tmp_path: Path) -> None:
    _load(tmp_path, TABLE.format(rows=127, column="id: {type: int8, gen: sequence}"))
    _refused(tmp_path, TABLE.format(rows=1000, column="id: {type: int8, gen: sequence}"), r"table 't', column 'id': values reach 1\.\.1,000, beyond int8", 6)


def test_an_int64_sequence_past_the_maximum_is_refused(tmp_path: Path) -> None:
    column = "id: {type: int64, gen: sequence, start: 9223372036854775000, step: 1}"
    _refused(tmp_path, TABLE.format(rows=1000, column=column), r"beyond int64", 6)


def test_a_foreign_key_narrower_than_its_keys_is_refused(tmp_path: Path) -> None:
    text = TABLE.format(rows=1000, column="id: {type: int64, gen: sequence}") + (
        "  u:\n    rows: 5\n    columns:\n      t_id: {type: int8, gen: foreign_key, table: t, column: id}\n"
    )
    _refused(tmp_path, text, r"table 'u', column 't_id': keys of t\.id reach 1,000, beyond int8", 10)


def test_a_time_table_sequence_is_checked_when_planned(tmp_path: Path) -> None:
    spec = _load(tmp_path, TIMED.format(per_day=100, column="id: {type: int8, gen: sequence}"))
    with pytest.raises(SpecError, match=r"table 'events', column 'id': values reach 1\.\.1,000, beyond int8"):
        make_plan(spec, seed=1, options=WriterOptions())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "column",
    [
        "x: {type: float64, gen: uniform, low: .nan, high: 1}",
        "x: {type: float64, gen: uniform, low: 0, high: .inf}",
        "x: {type: float64, gen: normal, mean: .nan, std: 1}",
        "x: {type: string, gen: choice, values: [a, b], weights: [.nan, 1]}",
        "x: {type: float64, gen: cycle, time: x, period: day, amplitude: .inf}",
    ],
)
def test_nan_and_infinity_are_refused(tmp_path: Path, column: str) -> None:
    _refused(tmp_path, TABLE.format(rows=3, column=column), r"finite", 6)


def test_nan_weekday_weights_and_per_day_are_refused(tmp_path: Path) -> None:
    _refused(tmp_path, TIMED.format(per_day=".inf", column="v: {type: int64, gen: sequence}"), r"per_day must be a finite number")
    _refused(tmp_path, TIMED.format(per_day=".nan", column="v: {type: int64, gen: sequence}"), r"per_day")
    weights = "w: {type: date, gen: date, start: 2024-01-01, end: 2024-02-01, weekday_weights: [1, 1, 1, 1, 1, 1, .inf]}"
    _refused(tmp_path, TABLE.format(rows=3, column=weights), r"weekday_weights must be finite")


def test_rows_true_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, TABLE.format(rows="true", column="id: {type: int64, gen: sequence}"), r"must be a number, not true", 4)


def test_a_column_named_like_a_partition_column_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, TIMED.format(per_day=10, column="year: {type: int32, gen: uniform, low: 1, high: 9}"),
             r"column 'year' has the name of a partition column")  # fmt: skip


def test_a_partition_override_that_hides_a_column_is_refused(tmp_path: Path) -> None:
    spec = _load(tmp_path, TIMED.format(per_day=10, column="month: {type: int32, gen: uniform, low: 1, high: 9}"))
    make_plan(spec, seed=1, options=WriterOptions())  # type: ignore[arg-type]  # year only: fine
    with pytest.raises(SpecError, match=r"table 'events', column 'month': has the name of a partition column"):
        make_plan(spec, seed=1, options=WriterOptions(partition=PartitionSpec(columns=("year", "month"))))  # type: ignore[arg-type]


def test_unknown_or_empty_table_names_are_refused() -> None:
    spec = load_schema("transactions", params={"rows": 1000})
    with pytest.raises(ParameterError, match=r"unknown table ''"):
        make_plan(spec, seed=1, options=WriterOptions(), tables=["", "", ""])
    with pytest.raises(ParameterError, match=r"unknown table 'nope' in transactions"):
        make_plan(spec, seed=1, options=WriterOptions(), tables=["nope"])


# --- 12.9 ----------------------------------------------------------------------------------------------
def _refused_fast(spec: object, pattern: str = r"would write about .* rows in .* files, .* uncompressed") -> str:
    started = time.monotonic()
    with pytest.raises(SizeLimitError, match=pattern) as exc:
        make_plan(spec, seed=1, options=WriterOptions())  # type: ignore[arg-type]
    assert time.monotonic() - started < 5
    assert "force=True" in str(exc.value) and "\n" not in str(exc.value)
    return str(exc.value)


def test_a_quadrillion_transactions_are_refused_in_seconds() -> None:
    message = _refused_fast(load_schema("transactions", params={"rows": "1000000000000000"}))
    assert "1e+15 rows" in message and "PB" in message


def test_a_huge_scale_is_refused_in_seconds() -> None:
    _refused_fast(load_schema("ecommerce", scale=1e9))


def test_a_huge_per_day_is_refused_in_seconds(tmp_path: Path) -> None:
    _refused_fast(_load(tmp_path, TIMED.format(per_day="1e18", column="v: {type: int64, gen: sequence}")))


def test_a_huge_child_count_is_refused_in_seconds(tmp_path: Path) -> None:
    text = TABLE.format(rows=1000, column="id: {type: int64, gen: sequence}") + (
        "  kids:\n    parent: {table: t, count: {distribution: fixed, value: 1000000000000, max: 1000000000000}}\n"
        "    columns:\n      k: {type: int64, gen: uniform, low: 0, high: 9}\n"
    )
    _refused_fast(_load(tmp_path, text))


def test_too_many_files_is_refused_even_when_small() -> None:
    spec = load_schema("transactions", params={"rows": 100_000_000})
    with pytest.raises(SizeLimitError, match=r"files"):
        make_plan(spec, seed=1, options=WriterOptions(file_rows_target=1))


def test_force_lifts_the_bound_and_sane_runs_pass() -> None:
    spec = load_schema("transactions", params={"rows": "1000000000000000"})
    partitions = {"transactions": ("year", "month", "day")}
    assert estimate_size(spec, partitions, 250_000).files > MAX_FILES
    plan = make_plan(load_schema("transactions", params={"rows": 10_000}), seed=1, options=WriterOptions())
    assert plan.total_rows == 10_000


def test_layouts_refuse_what_they_cannot_hold(tmp_path: Path) -> None:
    # `info` builds layouts without a plan: these answered with a MemoryError or wrapped counts.
    with pytest.raises(SizeLimitError, match=r"table 'order_items': its parent 'orders' has [\d,]+ rows"):
        build_layouts(load_schema("ecommerce", scale=1e9), 1)  # type: ignore[arg-type]
    spec = _load(tmp_path, TIMED.format(per_day="1e30", column="v: {type: int64, gen: sequence}"))
    with pytest.raises(SizeLimitError, match=r"per_day 1e\+30 over 10 days is beyond any row count"):
        build_layouts(spec, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("column", "pattern"),
    [
        ("x: {type: int8, gen: choice, values: [1, 1000]}", r"value 1000 is outside the range of int8"),
        ("x: {type: int16, gen: round_robin, values: [1, 2.5]}", r"value 2.5 is not a whole number"),
    ],
)
def test_listed_values_fit_their_integer_type(tmp_path: Path, column: str, pattern: str) -> None:
    _refused(tmp_path, TABLE.format(rows=3, column=column), pattern, 6)


def test_positions_and_child_counts_fit_their_type(tmp_path: Path) -> None:
    parent = TABLE.format(rows=10, column="id: {type: int64, gen: sequence}")
    child = "  c:\n    parent: {table: t, count: {distribution: fixed, value: 3, max: 300}}\n    columns:\n      p: COLUMN\n"
    _refused(tmp_path, parent + child.replace("COLUMN", "{type: int8, gen: position}"), r"table 'c', column 'p': values reach 0\.\.299, beyond int8", 10)
    counted = parent.replace("      id: {type: int64, gen: sequence}", "      id: {type: int64, gen: sequence}\n      n: {type: int8, gen: children_agg, table: c, column: p, agg: count}")
    _refused(tmp_path, counted + child.replace("COLUMN", "{type: int32, gen: position}"), r"table 't', column 'n': values reach 0\.\.300, beyond int8", 7)


def test_a_hidden_column_may_share_a_partition_column_name(tmp_path: Path) -> None:
    spec = _load(tmp_path, TIMED.format(per_day=10, column="year: {type: int32, gen: uniform, low: 1, high: 9, hidden: true}"))
    assert make_plan(spec, seed=1, options=WriterOptions()).total_rows == 100  # type: ignore[arg-type]
