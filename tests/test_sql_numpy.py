"""The numpy evaluator of `expr` columns (generation/sql_numpy.py) gives Polars SQL's values bit for bit, and
hands back to Polars whatever it does not reproduce."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from dataset_generator.api import plan_dataset
from dataset_generator.generation import derived
from dataset_generator.generation.sql_numpy import Unsupported, column_value, evaluate
from dataset_generator.options import WriterOptions
from dataset_generator.schemas.derived import ExprColumn
from dataset_generator.schemas.sql import parse_expression

RNG = np.random.default_rng(7)
N = 20_000
COLUMNS = {
    "x": RNG.normal(0, 40, N),
    "r": np.round(RNG.uniform(-3, 3, N), 1),  # ties of ROUND, signed zeros
    "i": RNG.integers(-60, 60, N).astype(np.int32),
    "n": RNG.integers(0, 5000, N).astype(np.int64),
    "b": RNG.random(N) < 0.4,
}
TYPES = {"x": "float64", "r": "float64", "i": "int32", "n": "int64", "b": "bool"}


def _polars(sql: str) -> pa.Array:
    expression = parse_expression(sql)
    frame = pl.DataFrame({name: COLUMNS[name] for name in expression.columns})
    return frame.select(pl.sql_expr(expression.sql).alias("v")).to_series().to_arrow()


def _numpy(sql: str) -> np.ndarray:
    expression = parse_expression(sql)
    inputs = {name: column_value(COLUMNS[name], TYPES[name]) for name in expression.columns}
    result = evaluate(expression.tree, inputs)
    assert result.nulls is None
    return result.array


def _same(expected: pa.Array, actual: np.ndarray) -> bool:
    reference = expected.to_numpy(zero_copy_only=False)
    if reference.dtype.kind == "f":
        return actual.dtype == reference.dtype and np.array_equal(reference.view(np.int64), actual.view(np.int64))
    return np.array_equal(reference, actual)


@pytest.mark.parametrize(
    "sql",
    [
        "x / 15", "i / 24", "x / 0.55", "x / i", "(i - 3) / n", "24 - x / 7",  # Polars: x / c is x * (1 / c)
        "POWER(2 * r - 1, 4)", "POWER(x / 40, 6)", "POWER(x, 9)",  # left-to-right products
        "SIGN(r)", "ABS(r) - 1", "ROUND(r * 1.5, 0)", "ROUND(x, 1)", "ROUND(x / 3, 8)", "CEIL(x) - FLOOR(x)",
        "EXP(x / 40) + LN(ABS(x) + 1) + COS(PI() * x / 6) + SQRT(ABS(x))", "COS(2 * PI() * (i + x / 15 - 15) / 24)",
        "1013.25 - 0.12 * n + 8 * x", "27 - 0.55 * GREATEST(0, ABS(x) - 18) - 0.0065 * i + r",  # decimals, exact
        "GREATEST(1, LEAST(390, i))", "LEAST(0.95, x)", "GREATEST(x, i, r)",
        "MOD(n + i + 3, 7) >= 5", "MOD(i, 7)", "CAST(FLOOR(x) AS BIGINT) + 1", "CAST(b AS DOUBLE) * x",
        "CAST(ROUND(ABS(x) / 7) AS INT)", "b OR (x > 0.6 AND NOT b) OR i <= -50",
        "CASE WHEN b THEN 0 WHEN x > 0 THEN 60 + 180 * x ELSE 15 END", "CASE i WHEN 1 THEN x WHEN 2 THEN r ELSE 0.0 END",
        "x * 1 - 3.5 * x + (-0.125) * x",
    ],
)  # fmt: skip
def test_numpy_matches_polars_bit_for_bit(sql: str) -> None:
    assert _same(_polars(sql), _numpy(sql))


@pytest.mark.parametrize("sql", ["x + 0", "0 - x", "i * 1.5", "(i + 0.5) / n", "POWER(x, 10)", "ROUND(i, 1)", "x % 3", "3 * 2"])
def test_outside_the_subset_is_left_to_polars(sql: str) -> None:
    """Polars rewrites `x + 0` and `0 - x`, computes `int * 1.5` in decimals, has its own POWER beyond 9."""
    with pytest.raises(Unsupported):
        _numpy(sql)


def test_nan_inputs_and_nulls_go_to_polars() -> None:
    with_nan = np.array([1.0, np.nan, -2.0])
    with pytest.raises(Unsupported):
        evaluate(parse_expression("GREATEST(0, x)").tree, {"x": column_value(with_nan, "float64")})
    with pytest.raises(Unsupported):
        column_value(pa.array([1.0, None, 2.0]), "float64")
    # NaN through arithmetic alone is IEEE in both
    assert np.isnan(_numpy_of("x * 2 + 1", with_nan)[1])


def _numpy_of(sql: str, x: np.ndarray) -> np.ndarray:
    return evaluate(parse_expression(sql).tree, {"x": column_value(x, "float64")}).array


def test_null_and_string_cases() -> None:
    sql = "CASE WHEN b THEN NULL ELSE x END"
    expression = parse_expression(sql)
    result = evaluate(expression.tree, {"b": column_value(COLUMNS["b"], "bool"), "x": column_value(COLUMNS["x"], "float64")})
    assert result.nulls is not None and np.array_equal(result.nulls, COLUMNS["b"])
    labels = "CASE WHEN x > 30 THEN 'hot' WHEN b THEN 'wet' ELSE 'mild' END"
    expression = parse_expression(labels)
    strings = evaluate(expression.tree, {"b": column_value(COLUMNS["b"], "bool"), "x": column_value(COLUMNS["x"], "float64")})
    assert strings.kind == "str" and strings.data.equals(_polars(labels).cast(pa.string()))


@pytest.mark.parametrize("dataset, scale", [("weather", 0.01), ("market", 0.02), ("sensors", 0.002), ("ecommerce", 0.001)])
def test_catalogue_expressions_match_polars(dataset: str, scale: float) -> None:
    """Every expr column of the built-in datasets, on a batch of each table: numpy's values are Polars' values."""
    plan = plan_dataset(dataset, WriterOptions(), scale=scale, seed=3)
    runtime = plan.runtime
    taken = set()
    for table in plan.tables:
        rows = runtime.rows(table.name, np.arange(min(table.rows, 5_000), dtype=np.int64))
        for name, column in rows.spec.columns.items():
            if not isinstance(column, ExprColumn):
                continue
            expression = parse_expression(column.expr)
            fast = derived.numpy_expr(column, expression, rows)
            if fast is None:
                continue
            taken.add(f"{table.name}.{name}")
            reference = derived.polars_expr(column, expression, rows)
            if isinstance(reference, np.ndarray):
                assert isinstance(fast, np.ndarray) and fast.dtype == reference.dtype, name
                assert np.array_equal(fast.view(np.uint8), reference.view(np.uint8)), name
            else:
                assert isinstance(fast, pa.Array) and fast.type == reference.type, name
                assert fast.is_null().equals(reference.is_null()), name
                assert fast.filter(fast.is_valid()).equals(reference.filter(reference.is_valid())), name
    hot = {"weather": "hourly.temperature_c", "market": "quotes.spread_bps", "sensors": "readings.clean_value", "ecommerce": "order_items.line_total"}
    assert hot[dataset] in taken


@pytest.mark.parametrize(
    "sql",
    ["x / SQRT(8.0 + 1)", "x / SQRT(10)", "(8.0 + 1) * x", "x * (0.25 - 1) + i", "(CAST(i AS DOUBLE) + 0.5) / n"],
)
def test_literals_fold_as_polars_folds_them(sql: str) -> None:
    """Decimal literals add up exactly (8.0 + 1 is 9.0), SQRT of a literal is a constant that divides by its
    reciprocal, as Polars computes them."""
    assert _same(_polars(sql), _numpy(sql))


STRINGS = pa.array(RNG.choice(["spike", "stuck", "drift", "it's"], N)).dictionary_encode()
DAYS = RNG.integers(-1000, 30000, N).astype(np.int32)


def _both(sql: str, column_type: str = "float64") -> tuple[object, object]:
    """(numpy's, Polars') values of `sql` for a column of `column_type`, over x, b, s (dictionary strings), d (dates)."""
    class FakeRows:  # what derived.numpy_expr / polars_expr read of a batch
        def __init__(self) -> None:
            self.spec = type("Spec", (), {"columns": {name: ExprColumn(type=kind, gen="expr", expr="1") for name, kind in
                                                      {"x": "float64", "b": "bool", "s": "string", "d": "date"}.items()}})()

        def get(self, name: str) -> object:
            return {"x": COLUMNS["x"], "b": COLUMNS["b"], "s": STRINGS, "d": DAYS}[name]

        def __len__(self) -> int:
            return N

    column = ExprColumn(type=column_type, gen="expr", expr=sql, nullable=True)
    expression = parse_expression(sql)
    fast = derived.numpy_expr(column, expression, FakeRows())  # type: ignore[arg-type]
    return fast, derived.polars_expr(column, expression, FakeRows())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "sql, column_type",
    [
        ("CASE s WHEN 'spike' THEN 1 WHEN 'stuck' THEN 2 ELSE 5 END", "int32"),
        ("CASE s WHEN 'spike' THEN 0.15 WHEN 'it''s' THEN 0.7 ELSE 6 END", "float64"),  # Decimal, cast by Arrow
        ("CASE WHEN s = 'drift' THEN x WHEN s <> 'stuck' THEN 60 + 180 * x ELSE 15 END", "float64"),
        ("CASE WHEN b THEN s ELSE NULL END", "string"),
        ("CASE s WHEN 'spike' THEN 'up' WHEN 'drift' THEN s ELSE NULL END", "string"),
        ("CAST(d AS BIGINT)", "int64"),
        ("ROUND((CASE s WHEN 'spike' THEN 8 WHEN 'stuck' THEN 7.5 ELSE 6 END) + x, 2)", "float64"),
    ],
)
def test_string_and_date_inputs_match_polars(sql: str, column_type: str) -> None:
    fast, reference = _both(sql, column_type)
    assert fast is not None, f"{sql} went to Polars"
    if isinstance(reference, np.ndarray):
        assert isinstance(fast, np.ndarray) and fast.dtype == reference.dtype
        assert np.array_equal(fast.view(np.uint8), reference.view(np.uint8))
    else:
        assert isinstance(fast, pa.Array) and fast.type == reference.type and fast.equals(reference)


def test_transcendental_functions_are_the_c_librarys_on_every_cpu() -> None:
    """numpy's AVX-512 exp/log/log10/power differ from the C library's in the last bit; generation/libm.py's
    values are the C library's (Python's math module), whatever the CPU."""
    import math

    from dataset_generator.generation import libm

    values = RNG.uniform(0.001, 50, 20_000)
    for ours, theirs in [(libm.exp, math.exp), (libm.log, math.log), (libm.log10, math.log10), (libm.log1p, math.log1p), (libm.cos, math.cos)]:
        assert np.array_equal(ours(values), np.array([theirs(v) for v in values]))
    assert np.array_equal(libm.power(values, 0.37), np.array([math.pow(v, 0.37) for v in values]))
    assert libm.exp(1.0) == math.e and libm.log(np.array([[1.0]])).shape == (1, 1)
