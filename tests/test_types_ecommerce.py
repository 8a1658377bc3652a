"""ecommerce's money columns as exact decimals behind `--param money=decimal` (float64 stays the default), and
its nested column `products.tags` (a distinct list<string>), written through the CLI and read back with DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import parquet_glob, query, run_cli

SCALE = "0.001"  # 1,000 customers, 50 products, ~200 orders a day over 91 days
MONEY = {"products": ["price"], "order_items": ["unit_price", "line_total"], "orders": ["total_amount"]}
KEYS = {"products": "product_id", "order_items": "order_item_id", "orders": "order_id"}


def _generate(root: Path, *params: str) -> Path:
    args = ["generate", "ecommerce", "--output", root, "--scale", SCALE, "--workers", 1]
    if any(param.startswith("products=") for param in params):
        args += ["--tables", "products"]
    for param in params:
        args += ["--param", param]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("money")
    return _generate(root / "float"), _generate(root / "decimal", "money=decimal")


def _table(root: Path, name: str) -> str:
    return f"read_parquet('{parquet_glob(root, name)}')"


def test_money_is_float64_by_default_and_decimal_12_2_on_request(runs: tuple[Path, Path]) -> None:
    floats, decimals = runs
    for table, columns in MONEY.items():
        for column in columns:
            assert query(f"SELECT DISTINCT typeof({column}) FROM {_table(floats, table)}") == [("DOUBLE",)]
            assert query(f"SELECT DISTINCT typeof({column}) FROM {_table(decimals, table)}") == [("DECIMAL(12,2)",)]


def test_decimal_money_holds_the_same_cents_and_nothing_else_changes(runs: tuple[Path, Path]) -> None:
    """Prices are the float run's to the cent and every non-money column is identical. A discounted line total
    may differ by one cent: the decimal run multiplies the exact `qty * unit_price` by the float discount, the
    float run a binary `qty * unit_price` (3 x 12.05 x 0.9 = 32.535 exactly: 32.53 from the decimal 36.15 as a
    double, 32.54 from 36.150000000000006). Measured at this scale: 512 of 45,242 lines (11,775 discounted) and
    511 of 17,331 order totals; each run's line totals are exactly the dataset's formula evaluated by DuckDB
    on that run's own column types (next test)."""
    floats, decimals = runs
    for table, columns in MONEY.items():
        key = KEYS[table]
        other = [name for name, _ in query(f"SELECT column_name, 1 FROM (DESCRIBE SELECT * FROM {_table(floats, table)})")
                 if name not in columns]  # fmt: skip
        same_rest = " AND ".join(f"f.{name} IS NOT DISTINCT FROM d.{name}" for name in other)
        cents = 0.05 if table == "orders" else 0.01  # an order total sums its lines' cents (a few lines differ)
        near = " AND ".join(f"abs(f.{column}::DECIMAL(12,2) - d.{column}) <= {cents}" for column in columns)
        exact = " AND ".join(f"f.{column}::DECIMAL(12,2) = d.{column}" for column in columns)
        rows, rest, close, same = query(
            f"SELECT count(*), count(*) FILTER (WHERE {same_rest}), count(*) FILTER (WHERE {near}), "
            f"count(*) FILTER (WHERE {exact}) FROM {_table(floats, table)} f JOIN {_table(decimals, table)} d USING ({key})"
        )[0]
        assert rows > 0 and rest == rows and close == rows, table
        assert same == rows if table == "products" else same > 0.97 * rows, (table, rows - same)
    undiscounted_changed = query(
        f"SELECT count(*) FROM {_table(floats, 'order_items')} f JOIN {_table(decimals, 'order_items')} d "
        "USING (order_item_id) WHERE f.discount = 0 AND f.line_total::DECIMAL(12,2) <> d.line_total"
    )[0][0]
    assert undiscounted_changed == 0


def test_line_totals_are_the_formula_on_each_runs_own_types(runs: tuple[Path, Path]) -> None:
    for root in runs:
        rows, exact = query(
            "SELECT count(*), count(*) FILTER (WHERE line_total = ROUND(FLOOR(qty * unit_price * (1 - discount) * 100 "
            f"+ 0.5) / 100, 2)) FROM {_table(root, 'order_items')}"
        )[0]
        assert exact == rows > 0, root.name


def test_decimal_order_totals_are_exactly_their_lines(runs: tuple[Path, Path]) -> None:
    _, decimals = runs
    mismatched = query(
        f"SELECT count(*) FROM {_table(decimals, 'orders')} o JOIN (SELECT order_id, sum(line_total) AS lines "
        f"FROM {_table(decimals, 'order_items')} GROUP BY 1) i USING (order_id) WHERE o.total_amount <> i.lines"
    )[0][0]
    assert mismatched == 0


def test_validate_holds_for_decimal_money(runs: tuple[Path, Path]) -> None:
    _, decimals = runs
    result = run_cli("validate", decimals, "ecommerce", "--scale", SCALE, "--param", "money=decimal")
    assert result.exit_code == 0, result.output


def test_products_have_distinct_tags(tmp_path: Path) -> None:
    """20,000 products: Poisson(1.4) tags, none repeated: 1 - e^-1.4 = 75.3 % have one, about 1.27 each."""
    root = _generate(tmp_path / "tags", "products=20000")
    kind, mean, repeats, tagged = query(
        f"SELECT any_value(typeof(tags)), avg(len(tags)), count(*) FILTER (WHERE len(tags) <> len(list_distinct(tags))), "
        f"avg((len(tags) > 0)::INT) FROM {_table(root, 'products')}"
    )[0]
    assert kind == "VARCHAR[]" and repeats == 0
    assert abs(tagged - 0.753) < 0.01 and 1.2 < mean < 1.35


def test_an_unknown_money_choice_is_one_line(tmp_path: Path) -> None:
    result = run_cli("generate", "ecommerce", "--output", tmp_path, "--scale", SCALE, "--param", "money=cents")
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "cents" in line and "decimal" in line and "float" in line, line
