"""Issue 12, items 7 and 10 (spec side): names that cannot escape, `expr` on an allow-list, parameters as typed
SQL literals, bounded placeholders and bounded YAML, located one-line errors."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataset_generator.api import generate
from dataset_generator.cli import cli
from dataset_generator.errors import ParameterError, SpecError
from dataset_generator.generation.layout import build_layouts
from dataset_generator.generation.runtime import DatasetRuntime
from dataset_generator.options import WriterOptions
from dataset_generator.schemas.loader import load_schema
from dataset_generator.schemas.sql import SqlExpressionError, parse_expression
from dataset_generator.writers.registry import create_writer

BASE = """\
name: probe
parameters:
  label: {{type: str, default: plain}}
  n: {{type: int, default: 10}}
  s: {{type: str, default: "a,b"}}
tables:
  {table}:
    rows: 5
    columns:
      id: {{type: int64, gen: sequence}}
      {column}: {{type: string, gen: expr, expr: {expr}}}
"""


def _spec(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _probe(tmp_path: Path, *, table: str = "t", column: str = "v", expr: str = '"id || \'x\'"') -> Path:
    return _spec(tmp_path, BASE.format(table=table, column=column, expr=expr))


def _values(spec_path: Path, column: str = "v", **params: str) -> list[object]:
    spec = load_schema(schema_file=spec_path, params=params)
    runtime = DatasetRuntime(spec, 1, build_layouts(spec, 1))
    return runtime.batch("t", 0, 5).column(column).to_pylist()


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


# --- 12.7 names --------------------------------------------------------------------------------------
def test_a_table_named_to_escape_the_output_is_refused_with_its_line(tmp_path: Path) -> None:
    path = _probe(tmp_path, table='"../../escape"')
    with pytest.raises(SpecError) as exc:
        load_schema(schema_file=path)
    message = _one_line(exc)
    assert message.startswith(f"{path}:7: ") and "table '../../escape' must be letters, digits" in message


def test_the_escape_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = _probe(tmp_path, table='"../../escape"')
    output = tmp_path / "a" / "b" / "out"
    output.mkdir(parents=True)
    writer = create_writer("parquet", output_uri=str(output), options=WriterOptions())
    with pytest.raises(SpecError):
        generate(path, writer)
    assert not (tmp_path / "escape").exists() and not any(output.iterdir())


@pytest.mark.parametrize(
    ("column", "line"),
    [('"a/b"', 11), ('"x y"', 11), ('"1abc"', 11), ('"' + "c" * 65 + '"', 11), ('"naïve"', 11)],
)
def test_column_names_follow_the_identifier_rule(tmp_path: Path, column: str, line: int) -> None:
    path = _probe(tmp_path, column=column)
    with pytest.raises(SpecError) as exc:
        load_schema(schema_file=path)
    message = _one_line(exc)
    assert message.startswith(f"{path}:{line}: table 't', field 'columns': column ") and ("must be" in message or "at most 64" in message)


def test_parameter_names_follow_the_identifier_rule(tmp_path: Path) -> None:
    path = _spec(tmp_path, BASE.format(table="t", column="v", expr='"id"').replace("  n: {type", '  "n;rm": {type'))
    with pytest.raises(SpecError, match=r"spec.yaml:\d+: parameters: parameter 'n;rm' must be letters"):
        load_schema(schema_file=path)


def test_a_64_character_name_is_fine(tmp_path: Path) -> None:
    assert _values(_probe(tmp_path, column="c" * 64), column="c" * 64) == [f"{i}x" for i in range(1, 6)]


# --- 12.7 expr -------------------------------------------------------------------------------------------
def test_expr_cannot_read_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-FIRST-LINE\nmore\n")
    expr = f"\"(SELECT nosuchcol FROM read_csv('{secret}'))\""
    path = _probe(tmp_path, expr=expr)
    with pytest.raises(SpecError) as exc:
        load_schema(schema_file=path)
    message = _one_line(exc)
    assert "TOP-SECRET" not in message and "SELECT is not allowed" in message and "field 'expr'" in message
    result = CliRunner().invoke(cli, ["validate-schema", str(path)])
    assert result.exit_code == 2 and "TOP-SECRET" not in result.output


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("read_csv('/etc/passwd')", "function read_csv is not allowed"),
        ("read_parquet('x') + 1", "function read_parquet is not allowed"),
        ("id -- comment", "comments are not allowed"),
        ("id /* c */", "comments are not allowed"),
        ("id; DROP TABLE t", "unexpected character ';'"),
        ("other.id", "unexpected character '.'"),
        ("EXISTS (SELECT 1)", "EXISTS is not allowed"),
        ("CAST(id AS blob)", "unknown type 'blob'"),
        ("id +", "unexpected 'end of expression'"),
        ("(" * 300 + "id" + ")" * 300, "nests deeper"),
    ],
)
def test_expr_allow_list(expr: str, problem: str) -> None:
    with pytest.raises(SqlExpressionError, match=problem.replace("(", r"\(")):
        parse_expression(expr)


def test_expr_renders_what_was_checked() -> None:
    parsed = parse_expression("CASE type WHEN 'it''s' THEN -1.5 ELSE ROUND(a * b, 2) END || x")
    assert parsed.columns == ("type", "a", "b", "x")
    assert parsed.sql == "((CASE \"type\" WHEN 'it''s' THEN (-1.5) ELSE ROUND((\"a\" * \"b\"), 2) END) || \"x\")"
    assert parse_expression("NOT a IS NULL AND b NOT IN (1, 2) OR c BETWEEN 1 AND 2").columns == ("a", "b", "c")


def test_a_string_parameter_is_a_literal_not_sql(tmp_path: Path) -> None:
    # Today's attack: the parameter closes the quote and splices SQL in.
    injected = "' || CAST(id * 1000 AS VARCHAR) || '"
    inside_quotes = _probe(tmp_path, expr="\"'${label}' || 'z'\"")
    assert _values(inside_quotes, label=injected) == [injected + "z"] * 5
    bare = _spec(tmp_path, BASE.format(table="t", column="v", expr='"${label}"'), "bare.yaml")
    assert _values(bare, label=injected) == [injected] * 5
    assert _values(bare, label="read_csv('/etc/passwd')") == ["read_csv('/etc/passwd')"] * 5


def test_numeric_and_date_parameters_are_typed_literals(tmp_path: Path) -> None:
    path = _spec(tmp_path, BASE.format(table="t", column="v", expr='"CAST(id -${n} AS VARCHAR)"'))
    # -3 becomes (-3): `id --3` would have been a comment.
    assert _values(path, n="-3") == [str(i + 3) for i in range(1, 6)]
    dated = BASE.format(table="t", column="v", expr='"CAST(${day} AS VARCHAR)"').replace(
        "  n: {type", "  day: {type: date, default: 2024-02-29}\n  n: {type"
    )
    assert _values(_spec(tmp_path, dated, "dated.yaml")) == ["2024-02-29"] * 5


# --- 12.7 placeholders ---------------------------------------------------------------------------------
@pytest.mark.parametrize("placeholder", ["${n ** n ** n ** n}", "${len(s * 1000000000)}", "${9 ** 9 ** 9}"])
def test_placeholders_are_bounded(tmp_path: Path, placeholder: str) -> None:
    path = _spec(tmp_path, BASE.format(table="t", column="v", expr='"id"').replace("rows: 5", f'rows: "{placeholder}"'))
    started = time.monotonic()
    with pytest.raises(SpecError) as exc:
        load_schema(schema_file=path)
    assert time.monotonic() - started < 2
    assert _one_line(exc).startswith(f"{path}:8: ") and "too large" in str(exc.value)


# --- 12.7 / 12.10 YAML -----------------------------------------------------------------------------------
def _assert_fast_one_line(path: Path, pattern: str) -> None:
    started = time.monotonic()
    with pytest.raises(SpecError, match=pattern) as exc:
        load_schema(schema_file=path)
    assert time.monotonic() - started < 5
    _one_line(exc)


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    text = "\n".join(lines) + "\nname: laughs\ntables: {t: {rows: 1, columns: {x: {type: int64, gen: sequence}}}}\n"
    _assert_fast_one_line(_spec(tmp_path, text), r"expands to more than [\d,]+ values")


def test_deep_nesting_is_refused_with_its_line(tmp_path: Path) -> None:
    text = "name: deep\nx: " + "[" * 5000 + "]" * 5000 + "\n"
    _assert_fast_one_line(_spec(tmp_path, text), r"spec.yaml:2: not valid YAML \(nested deeper than 64 levels\)")


@pytest.mark.parametrize("text", ["name: r\nx: &a [1, *a]\n", "name: r\nx: &a {k: *a}\n"])
def test_a_recursive_anchor_is_refused(tmp_path: Path, text: str) -> None:
    _assert_fast_one_line(_spec(tmp_path, text), r"spec.yaml: the spec (nests deeper|expands to more)")


def test_a_huge_spec_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.write(b"name: huge\n# " + b"x" * (50 * 1024 * 1024) + b"\n")
    _assert_fast_one_line(path, r"huge.yaml: the spec is [\d,]+ bytes; a spec may be at most")


def test_a_non_utf8_spec_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: x\ndescription: caf\xe9\n".encode("latin-1"))
    _assert_fast_one_line(path, r"latin1.yaml:2: not UTF-8 \(byte 0xe9\)")


def test_an_impossible_date_names_its_line(tmp_path: Path) -> None:
    text = (
        "name: d\ntables:\n  t:\n    rows: 3\n    columns:\n"
        "      d: {type: date, gen: date, start: 2024-02-30, end: 2024-03-30}\n"
    )
    _assert_fast_one_line(_spec(tmp_path, text), r"spec.yaml:6: not valid YAML \('2024-02-30' is not a valid date")


def test_the_builtin_expressions_still_evaluate_as_before() -> None:
    spec = load_schema("sensors", scale=0.001)
    runtime = DatasetRuntime(spec, 3, build_layouts(spec, 3))
    batch = runtime.batch("devices", 0, 10)
    assert set(batch.column("metric").to_pylist()) <= {"temperature_c", "humidity_pct", "pressure_hpa", "power_w", "co2_ppm"}
    baseline = runtime.rows("devices", np.arange(10, dtype=np.int64)).get("baseline")  # hidden: not in the batch
    assert np.isfinite(np.asarray(baseline, dtype=float)).all()


def test_constant_and_null_expressions_evaluate(tmp_path: Path) -> None:
    # Both failed with a Polars ShapeError: an expression that reads no column.
    assert _values(_probe(tmp_path, expr="\"'k'\"")) == ["k"] * 5
    text = BASE.format(table="t", column="v", expr='"NULL"').replace("gen: expr,", "gen: expr, nullable: true,")
    assert _values(_spec(tmp_path, text, "null.yaml")) == [None] * 5


_YAML_BITS = st.sampled_from(
    ["name: f\n", "tables:\n", "  t:\n", "    rows: ", "${n}", "${n ** 99}", "&a ", "*a", "[", "]", "{", "}", ": ", "- ",
     "\n", "    columns: {x: {type: int8, gen: sequence}}\n", "expr: \"(SELECT 1)\"", "2024-02-30", "'", "\"", "\t", "\xe9"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_YAML_BITS, max_size=40).map("".join))
def test_fuzzed_specs_fail_with_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.monotonic()
    try:
        load_schema(schema_file=path)
    except (SpecError, ParameterError) as exc:
        assert "\n" not in str(exc)
    assert time.monotonic() - started < 5


def test_builtin_specs_read_by_libyaml_give_the_values_of_the_bounded_loader() -> None:
    """The package's own specs take libyaml's parser (trusted: shipped with the package); a spec file never
    does (the bounds above hold for it). Both give the same values."""
    from dataset_generator.schemas.loader import list_datasets, read_spec_text
    from dataset_generator.schemas.source import parse_spec

    for dataset in list_datasets():
        text, source = read_spec_text(dataset)
        assert parse_spec(text, source, trusted=True) == parse_spec(text, source)
