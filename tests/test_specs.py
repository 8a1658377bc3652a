"""Spec loading: parameters and --scale, and invalid specs naming table, column and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dataset_generator import ParameterError, SpecError, load_schema

VALID = """
name: shop
parameters:
  rows: {type: int, default: 1000, scale: true}
tables:
  users:
    rows: ${rows}
    columns:
      user_id: {type: int64, gen: sequence}
      tier: {type: string, gen: choice, values: [free, pro], weights: [9, 1]}
  visits:
    parent: {table: users, count: {distribution: poisson, lam: 3}}
    columns:
      visit_id: {type: int64, gen: sequence}
      user_id: {type: int64, gen: parent, column: user_id}
      seconds: {type: float64, gen: gamma, shape: 2, scale: 30, round: 1}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_parameters_scale_and_explicit_values(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    assert load_schema(path).tables["users"].rows == 1000
    assert load_schema(path, scale=0.01).tables["users"].rows == 10
    assert load_schema(path, scale=0.01, params={"rows": "250"}).tables["users"].rows == 250  # explicit: not scaled
    assert load_schema("transactions", params={"rows": "1_000"}).tables["transactions"].time.rows == 1000


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("weights: [9, 1]", "weights: [9, 1, 3]", "table 'users', column 'tier', field 'choice': weights has 3 entries but values has 2"),
        ("gen: gamma, shape: 2", "gen: gamma, shape: -2", "table 'visits', column 'seconds', field 'shape'"),
        ("gen: gamma", "gen: gammma", "table 'visits', column 'seconds', field 'gen'"),
        ("{type: int64, gen: sequence}\n      tier", "{type: int128, gen: sequence}\n      tier", "table 'users', column 'user_id', field 'type'"),
        ("parent: {table: users,", "parent: {table: people,", "parent table 'people' does not exist"),
        ("gen: parent, column: user_id", "gen: parent, column: id", "parent column 'id' does not exist in table 'users'"),
        ("rows: ${rows}", "rows: ${size}", "${size} refers to an undeclared parameter"),
        ("rows: ${rows}\n", "rows: ${rows}\n    partition_by: [year]\n", "table 'users', field 'definition': partition_by needs a time-driven table"),
    ],
)
def test_invalid_specs_name_table_column_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = textwrap.dedent(VALID)
    assert old in text, old
    with pytest.raises(SpecError) as error:
        load_schema(write(tmp_path, text.replace(old, new, 1)))
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_foreign_key_to_missing_table_and_cycles(tmp_path: Path) -> None:
    fk = textwrap.dedent(VALID).replace(
        "tier: {type: string", "best_friend: {type: int64, gen: foreign_key, table: friends, column: id}\n      tier: {type: string"
    )
    with pytest.raises(SpecError, match="table 'users', column 'best_friend': foreign key to missing table 'friends'"):
        load_schema(write(tmp_path, fk))
    cycle = textwrap.dedent(VALID).replace(
        "tier: {type: string, gen: choice, values: [free, pro], weights: [9, 1]}",
        "a: {type: float64, gen: expr, expr: 'b + 1'}\n      b: {type: float64, gen: expr, expr: 'a * 2'}",
    )
    with pytest.raises(SpecError, match="column cycle users.a -> users.b -> users.a"):
        load_schema(write(tmp_path, cycle))


def test_bad_yaml_and_unknown_parameters(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"spec.yaml:\d+: not valid YAML"):
        load_schema(write(tmp_path, "name: x\ntables:\n  a: [unclosed\n"))
    with pytest.raises(ParameterError, match="unknown parameter 'nope'.*known parameters: rows"):
        load_schema(write(tmp_path, VALID), params={"nope": 1})
    with pytest.raises(ParameterError, match="must be a int"):
        load_schema(write(tmp_path, VALID), params={"rows": "1.5"})


def test_user_spec_generates(tmp_path: Path) -> None:
    from dataset_generator import WriterOptions, create_writer, generate

    from helpers import scalar

    summary = generate(write(tmp_path, VALID), create_writer("parquet", output_uri=str(tmp_path / "out"), options=WriterOptions()), scale=0.1, workers=1)
    assert [table.rows for table in summary.tables][0] == 100
    orphans = scalar(
        f"select count(*) from read_parquet('{tmp_path}/out/visits/*.parquet') v anti join read_parquet('{tmp_path}/out/users/*.parquet') u using (user_id)"
    )
    assert orphans == 0


def test_null_fraction_on_any_column(tmp_path: Path) -> None:
    from dataset_generator import WriterOptions, create_writer, generate

    from helpers import query

    spec = textwrap.dedent(VALID).replace(
        "tier: {type: string, gen: choice, values: [free, pro], weights: [9, 1]}",
        "tier: {type: string, gen: choice, values: [free, pro], weights: [9, 1], null_fraction: 0.2}\n"
        "      joined: {type: date, gen: date, start: 2020-01-01, end: 2020-12-31, null_fraction: 0.5}\n"
        "      score: {type: float64, gen: normal, mean: 0, std: 1, null_fraction: 0.05}",
    )
    generate(write(tmp_path, spec), create_writer("parquet", output_uri=str(tmp_path / "out"), options=WriterOptions()), scale=10, workers=1)
    total, tier, joined, score, ids = query(
        f"select count(*), count(tier), count(joined), count(score), count(user_id) from read_parquet('{tmp_path}/out/users/*.parquet')"
    )[0]
    assert total == ids == 10_000
    assert abs(1 - tier / total - 0.2) < 0.02
    assert abs(1 - joined / total - 0.5) < 0.02
    assert abs(1 - score / total - 0.05) < 0.01
