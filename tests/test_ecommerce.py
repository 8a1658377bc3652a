"""The ecommerce dataset written through the CLI, read back with DuckDB: every promised property."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helpers import parquet_glob, query, run_cli, scalar

FILE_ROWS_TARGET = 5_000
SCALE = 0.002  # 2,000 customers, 100 products, ~400 orders a day over 91 days


@pytest.fixture(scope="module")
def ecommerce(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ecommerce")
    result = run_cli(
        "generate", "ecommerce", "--format", "parquet", "--output", out, "--compression", "snappy",
        "--file-rows-target", FILE_ROWS_TARGET, "--scale", SCALE, "--workers", 1,
    )
    assert result.exit_code == 0, result.output
    return out


def table(root: Path, name: str) -> str:
    return f"read_parquet('{parquet_glob(root, name)}', hive_partitioning = true)"


def test_layout_matches_the_docs(ecommerce: Path) -> None:
    assert (ecommerce / "customers" / "customers.parquet").is_file()
    assert (ecommerce / "products" / "products.parquet").is_file()
    assert (ecommerce / "orders" / "year=2024" / "month=01" / "day=01" / "part-00000.parquet").is_file()
    assert (ecommerce / "order_items" / "year=2024" / "month=03" / "day=31" / "part-00000.parquet").is_file()
    for name in ("customers", "products", "orders", "order_items"):
        assert (ecommerce / name / "_SUCCESS").is_file()
        assert not (ecommerce / name / "_temporary").exists() and not (ecommerce / "_staging" / name).exists()
    days = {path.parent for path in (ecommerce / "orders").rglob("*.parquet")}
    assert len(days) == 91  # 2024-01-01 .. 2024-03-31


def test_row_counts_and_unique_keys(ecommerce: Path) -> None:
    assert query(f"select count(*), count(distinct product_id), min(product_id), max(product_id) from {table(ecommerce, 'products')}")[0] == (
        100, 100, 1, 100,
    )
    # Customers close accounts (1.5 % a year since signup, history.deleted): a few percent are gone, with their ids.
    count, distinct, low, high = query(f"select count(*), count(distinct customer_id), min(customer_id), max(customer_id) from {table(ecommerce, 'customers')}")[0]
    assert count == distinct and 0.9 * 2_000 < count < 2_000 and low >= 1 and high <= 2_000
    for name, key in (("orders", "order_id"), ("order_items", "order_item_id")):
        count, distinct, low, high = query(f"select count(*), count(distinct {key}), min({key}), max({key}) from {table(ecommerce, name)}")[0]
        assert count == distinct == high and low == 1
    orders = scalar(f"select count(*) from {table(ecommerce, 'orders')}")
    assert 0.9 * 400 * 91 < orders < 1.1 * 400 * 91


def test_foreign_keys_resolve(ecommerce: Path) -> None:
    # Orders keep the id of a customer who later closed the account (deleted from customers): only a few do.
    gone = scalar(f"select count(*) from {table(ecommerce, 'orders')} o anti join {table(ecommerce, 'customers')} c using (customer_id)")
    orders = scalar(f"select count(*) from {table(ecommerce, 'orders')}")
    assert gone < 0.03 * orders
    assert scalar(f"select count(*) from {table(ecommerce, 'orders')} where customer_id not between 1 and 2000") == 0
    assert scalar(f"select count(*) from {table(ecommerce, 'order_items')} i anti join {table(ecommerce, 'orders')} o using (order_id)") == 0
    assert scalar(f"select count(*) from {table(ecommerce, 'order_items')} i anti join {table(ecommerce, 'products')} p using (product_id)") == 0
    # every order has at least one item
    assert scalar(f"select count(*) from {table(ecommerce, 'orders')} o anti join {table(ecommerce, 'order_items')} i using (order_id)") == 0


def test_totals_prices_and_line_totals(ecommerce: Path) -> None:
    worst = scalar(
        f"""select max(abs(o.total_amount - i.total)) from {table(ecommerce, 'orders')} o
            join (select order_id, sum(line_total) total from {table(ecommerce, 'order_items')} group by 1) i using (order_id)"""
    )
    assert worst < 0.006
    # unit_price is the price when ordered; products.price is today's (about 1.5 changes a year of ~10 %).
    changed, lines = query(f"select count(*) filter (where i.unit_price <> p.price), count(*) from {table(ecommerce, 'order_items')} i join {table(ecommerce, 'products')} p using (product_id)")[0]
    assert 0.05 * lines < changed < 0.6 * lines
    assert scalar(f"select max(abs(ln(i.unit_price / p.price))) from {table(ecommerce, 'order_items')} i join {table(ecommerce, 'products')} p using (product_id)") < 1.5
    assert scalar(f"select max(abs(line_total - round(qty * unit_price * (1 - discount), 2))) from {table(ecommerce, 'order_items')}") < 1e-9
    low, high = query(f"select min(qty), max(qty) from {table(ecommerce, 'order_items')}")[0]
    assert low >= 1 and high <= 10
    low, high = query(f"select min(price), max(price) from {table(ecommerce, 'products')}")[0]
    assert low >= 0.99 and high <= 4999.99


def test_items_per_order_is_poisson_with_min_one(ecommerce: Path) -> None:
    low, mean = query(f"select min(n), avg(n) from (select order_id, count(*) n from {table(ecommerce, 'order_items')} group by 1)")[0]
    assert low == 1
    assert 2.55 < mean < 2.8  # max(1, Poisson(2.6)) has mean 2.674


def test_dates_are_sane_and_partitions_match(ecommerce: Path) -> None:
    low, high = query(f"select min(order_ts), max(order_ts) from {table(ecommerce, 'orders')}")[0]
    assert str(low) >= "2024-01-01" and str(high) < "2024-04-01"
    mismatched = scalar(
        f"""select count(*) from {table(ecommerce, 'orders')}
            where year <> year(order_ts) or cast(month as int) <> month(order_ts) or cast(day as int) <> day(order_ts)"""
    )
    assert mismatched == 0
    item_mismatch = scalar(
        f"""select count(*) from {table(ecommerce, 'order_items')} i join {table(ecommerce, 'orders')} o using (order_id)
            where i.year <> o.year or i.month <> o.month or i.day <> o.day"""
    )
    assert item_mismatch == 0
    # no customer orders before the day it signs up (customers keep signing up during the window)
    late = scalar(
        f"""select count(*) from {table(ecommerce, 'customers')} c
            join (select customer_id, min(order_ts) first_order from {table(ecommerce, 'orders')} group by 1) o using (customer_id)
            where c.signup_date > cast(o.first_order as date)"""
    )
    assert late == 0
    low, high = query(f"select min(signup_date), max(signup_date) from {table(ecommerce, 'customers')}")[0]
    assert str(low) >= "2019-01-01" and "2024-01-01" <= str(high) <= "2024-03-31"


def test_rhythm_and_skew(ecommerce: Path) -> None:
    by_hour = dict(query(f"select hour(order_ts), count(*) from {table(ecommerce, 'orders')} group by 1"))
    assert by_hour[19] > 3 * by_hour[3]
    weekend, weekday = query(
        f"""select avg(n) filter (where dow in (0, 6)), avg(n) filter (where dow between 1 and 5)
            from (select cast(order_ts as date) d, dayofweek(cast(order_ts as date)) dow, count(*) n from {table(ecommerce, 'orders')} group by 1, 2)"""
    )[0]
    assert weekend > weekday
    top_share = scalar(
        f"""select sum(n) / (select count(*) from {table(ecommerce, 'orders')}) from
            (select count(*) n from {table(ecommerce, 'orders')} group by customer_id order by n desc limit 20)"""
    )
    assert top_share > 0.10  # top 1 % of customers place over 10 % of orders (Zipf); uniform would be ~1 %
    top_products = scalar(
        f"""select sum(n) / (select count(*) from {table(ecommerce, 'order_items')}) from
            (select count(*) n from {table(ecommerce, 'order_items')} group by product_id order by n desc limit 5)"""
    )
    assert top_products > 0.2


def test_text_columns_look_real(ecommerce: Path) -> None:
    rows = query(f"select first_name, last_name, email, phone, address, city, country from {table(ecommerce, 'customers')}")
    # Names, phones and cities follow the row's country: tests/test_people.py checks them at the size.
    email = re.compile(r"^[a-z0-9][a-z0-9._]*[a-z]\d{1,7}@[a-z0-9.-]+\.[a-z]+$")
    phone = re.compile(r"^\+\d{1,3} \d[\d -]+\d$")
    assert all(email.match(row[2]) for row in rows)
    assert all(phone.match(row[3]) for row in rows)
    assert all(re.search(r"\d", row[4]) for row in rows)  # a street with a house number
    assert len({row[0] for row in rows}) > 300  # a real vocabulary, not a handful of names
    assert len({row[5] for row in rows}) > 300
    assert len({row[2] for row in rows}) == len(rows)
    assert {row[6] for row in rows} <= {"US", "CA", "GB", "DE", "FR", "NL", "ES", "IT", "AU", "JP"}


def test_files_respect_file_rows_target(ecommerce: Path) -> None:
    for name in ("orders", "order_items"):
        by_partition: dict[Path, list[int]] = {}
        for path in sorted((ecommerce / name).rglob("*.parquet")):
            by_partition.setdefault(path.parent, []).append(pq.ParquetFile(path).metadata.num_rows)
        for counts in by_partition.values():
            assert all(count <= FILE_ROWS_TARGET for count in counts)
            assert all(count == FILE_ROWS_TARGET for count in counts[:-1])


def test_codec_is_in_the_metadata(ecommerce: Path) -> None:
    metadata = pq.ParquetFile(ecommerce / "customers" / "customers.parquet").metadata
    assert metadata.row_group(0).column(0).compression == "SNAPPY"
