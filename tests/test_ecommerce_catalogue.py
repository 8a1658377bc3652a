"""Issue 13 targets E3, E7, E8, E11 on ecommerce as the CLI writes it, read back with DuckDB: product names that
fit their category, category-dependent prices, discounts applied to line totals, and the shop's calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from helpers import parquet_glob, query, run_cli, scalar


def generate(out: Path, *args: object) -> Path:
    result = run_cli("generate", "ecommerce", "--format", "parquet", "--output", out, "--seed", 11, "--workers", 1, *args)
    assert result.exit_code == 0, result.output
    return out


def table(root: Path, name: str) -> str:
    return f"read_parquet('{parquet_glob(root, name)}', hive_partitioning = true)"


@pytest.fixture(scope="module")
def products(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalogue at the issue's size (--scale 0.1: 5,000 products), alone."""
    return generate(tmp_path_factory.mktemp("products"), "--scale", 0.1, "--tables", "products")


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Orders and lines at --scale 0.002 (~400 orders a day, ~95,000 lines over the default quarter): the line
    formula is checked on every line, and the discounted share is stable at this size."""
    return generate(tmp_path_factory.mktemp("lines"), "--scale", 0.002, "--tables", "products,orders,order_items")


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full year (end_date 2024-12-31) at --scale 0.001 (~200 orders a day). Rows per day are per_day times the
    day's factors (weekday, season, events, trend, ±5 % noise), so the ratios are those of --scale 0.01."""
    return generate(tmp_path_factory.mktemp("year"), "--scale", 0.001, "--param", "end_date=2024-12-31", "--tables", "products,orders,order_items")


def test_e3_names_are_many_and_fit_one_category(products: Path) -> None:
    distinct, total = query(f"select count(distinct name), count(*) from {table(products, 'products')}")[0]
    assert total == 5_000 and distinct / total >= 0.5
    one_category = scalar(
        f"select avg((categories = 1)::int) from (select name, count(distinct category) categories "
        f"from {table(products, 'products')} group by name)"
    )
    assert one_category >= 0.99
    # the noun comes from the category's own vocabulary: no headphones among the books
    assert scalar(f"select count(*) from {table(products, 'products')} where category = 'Books' and name like '%Headphones%'") == 0


def test_e11_median_price_depends_on_the_category(products: Path) -> None:
    low, high = query(f"select min(m), max(m) from (select median(price) m from {table(products, 'products')} group by category)")[0]
    assert high / low >= 3
    assert scalar(f"select count(*) from {table(products, 'products')} where price not between 0.99 and 4999.99") == 0


def test_e7_discounts_are_applied_to_every_line(lines: Path) -> None:
    items = table(lines, "order_items")
    exact, discounted, count = query(
        f"select avg((line_total = round(qty * unit_price * (1 - discount), 2))::int), avg((discount > 0)::int), count(*) from {items}"
    )[0]
    assert count > 50_000
    assert exact >= 0.999  # measured: 1.0 (halves round up, as DuckDB rounds)
    assert discounted >= 0.02
    # the line's discount is at least its product's, and the order's total is the exact sum of its lines
    assert scalar(f"select count(*) from {items} i join {table(lines, 'products')} p using (product_id) where i.discount < p.discount") == 0
    assert scalar(
        f"select max(abs(o.total_amount - i.total)) from {table(lines, 'orders')} o "
        f"join (select order_id, sum(line_total) total from {items} group by 1) i using (order_id)"
    ) < 0.006


def test_e8_the_year_has_a_season_and_black_friday(year: Path) -> None:
    days = f"(select cast(order_ts as date) d, count(*) n from {table(year, 'orders')} group by 1)"
    holiday, february, black_friday, median = query(
        f"select avg(n) filter (where d between '2024-11-15' and '2024-12-31'), avg(n) filter (where month(d) = 2), "
        f"max(n) filter (where d = '2024-11-29'), median(n) from {days}"
    )[0]
    assert scalar(f"select count(*) from {days}") == 366
    assert holiday / february >= 1.25  # measured 1.74
    assert black_friday / median >= 1.8  # measured 3.6 (2024-11-29, the day after the fourth Thursday)
    assert scalar(f"select arg_max(d, n) from {days}") == dt.date(2024, 11, 29)


def test_promotions_on_event_days(year: Path) -> None:
    items = f"{table(year, 'order_items')} i join {table(year, 'orders')} o using (order_id)"
    # Black Friday and Cyber Monday lines carry at least 20 % off, Singles' Day and Boxing Day at least 10 %
    assert scalar(f"select min(discount) from {items} where cast(o.order_ts as date) in ('2024-11-29', '2024-12-02')") == pytest.approx(0.2)
    assert scalar(f"select min(discount) from {items} where cast(o.order_ts as date) in ('2024-11-11', '2024-12-26')") == pytest.approx(0.1)
    assert scalar(f"select avg((discount >= 0.2)::int) from {items} where cast(o.order_ts as date) = '2024-11-28'") < 0.2
