"""Conditional columns (switch, lookup tables, table_lookup) and calendars (seasonality, events, trend,
calendar_event): docs/examples/shop.yaml through the CLI read back with DuckDB, the event rules, the day
factors, determinism, and validate-schema's located errors for each misuse."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from dataset_generator.generation.calendar import day_factors
from dataset_generator.schemas.calendar import EVENT_RULES, easter
from dataset_generator.schemas.dataset import TimeSpec

from helpers import file_digests, parquet_glob, query, run_cli, scalar

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shop")
    result = run_cli("generate", EXAMPLES / "shop.yaml", "-o", out, "--scale", 0.2, "--workers", 1)
    assert result.exit_code == 0, result.output
    return out


def table(root: Path, name: str) -> str:
    return f"read_parquet('{parquet_glob(root, name)}')"


def test_table_lookup_reads_the_category_row(shop: Path) -> None:
    rows = query(f"select category, list(distinct noun order by noun), list(distinct vat_rate) from {table(shop, 'products')} group by 1 order by 1")
    assert rows == [
        ("Books", ["Atlas", "Cookbook", "Field Guide", "Novel"], [0.0]),
        ("Electronics", ["Charger", "Headphones", "Speaker", "Webcam"], [0.2]),
        ("Grocery", ["Coffee Beans", "Honey", "Olive Oil", "Pasta"], [0.05]),
    ]


def test_switch_draws_each_category_from_its_case(shop: Path) -> None:
    medians = dict(query(f"select category, median(price) from {table(shop, 'products')} group by 1"))
    assert 10 < medians["Books"] < 18 and 55 < medians["Electronics"] < 110  # exp(2.6) = 13.5, exp(4.4) = 81
    low, high = query(f"select min(price), max(price) from {table(shop, 'products')} where category = 'Grocery'")[0]
    assert low >= 1 and high <= 15  # the default: uniform 1..15


def test_switch_gives_values_and_weights_per_category(shop: Path) -> None:
    shares = {
        (category, value): share
        for category, value, share in query(
            f"select category, format, n / sum(n) over (partition by category) from "
            f"(select category, format, count(*) n from {table(shop, 'products')} group by all)"
        )
    }
    assert {category for category, _ in shares} == {"Books", "Electronics", "Grocery"}
    assert {value for category, value in shares if category == "Books"} == {"paperback", "hardcover", "ebook"}
    assert {value for category, value in shares if category == "Grocery"} == {"single", "multipack"}
    assert 0.5 < shares[("Books", "paperback")] < 0.7 and shares[("Electronics", "boxed")] > 0.8


def test_calendar_event_names_the_day(shop: Path) -> None:
    rows = dict(query(f"select event, min(cast(ordered_at as date)) from {table(shop, 'orders')} where event is not null group by 1"))
    assert rows == {"black_friday": dt.date(2024, 11, 29), "cyber_monday": dt.date(2024, 12, 2), "christmas_day": dt.date(2024, 12, 25)}
    assert scalar(f"select count(*) from {table(shop, 'orders')} where (event = 'black_friday') <> (promotion = 0.25)") == 0
    # the summer sale (month/day) and its six spill-over days raise July 15-21 above the week before
    sale, before = query(
        f"select count(*) filter (where cast(ordered_at as date) between '2024-07-15' and '2024-07-21'), "
        f"count(*) filter (where cast(ordered_at as date) between '2024-07-08' and '2024-07-14') from {table(shop, 'orders')}"
    )[0]
    assert sale > 1.3 * before


@pytest.mark.parametrize(
    ("name", "year", "day"),
    [
        ("black_friday", 2024, (11, 29)), ("black_friday", 2025, (11, 28)), ("cyber_monday", 2024, (12, 2)),
        ("thanksgiving", 2023, (11, 23)), ("mothers_day", 2024, (5, 12)), ("fathers_day", 2024, (6, 16)),
        ("memorial_day", 2024, (5, 27)), ("labor_day", 2024, (9, 2)), ("easter", 2024, (3, 31)), ("easter", 2025, (4, 20)),
        ("good_friday", 2024, (3, 29)), ("mothering_sunday", 2024, (3, 10)), ("singles_day", 2024, (11, 11)),
        ("boxing_day", 2024, (12, 26)), ("presidents_day", 2024, (2, 19)),
    ],
)
def test_event_rules(name: str, year: int, day: tuple[int, int]) -> None:
    assert EVENT_RULES[name](year) == dt.date(year, *day)


def test_easter_matches_known_dates() -> None:
    known = {2000: (4, 23), 2008: (3, 23), 2011: (4, 24), 2019: (4, 21), 2038: (4, 25), 2285: (3, 22)}
    assert {year: (easter(year).month, easter(year).day) for year in known} == known


def _factors(**time: object) -> np.ndarray:
    spec = TimeSpec.model_validate({"column": "ts", "start": "2024-01-01", "end": "2024-12-31", "per_day": 1, **time})
    first = (dt.date(2024, 1, 1) - dt.date(1970, 1, 1)).days
    return day_factors(spec, first, 366)


def test_day_factors() -> None:
    monthly = [1.0] * 11 + [2.0]
    smooth, steps = _factors(seasonality={"monthly": monthly}), _factors(seasonality={"monthly": monthly, "smooth": False})
    assert steps[335:].min() == steps[335:].max() == pytest.approx(2 / (13 / 12))  # December, normalised to mean 1
    assert smooth[349] == pytest.approx(steps[349], rel=0.05) and smooth[320] > steps[320]  # mid-December, ramp in November
    events = _factors(events=[{"name": "black_friday", "multiplier": 3, "after_days": 2, "spill": 0.5}])
    black_friday = (dt.date(2024, 11, 29) - dt.date(2024, 1, 1)).days
    assert list(events[black_friday - 1 : black_friday + 4]) == [1, 3, 2, 1.5, 1]
    trend = _factors(trend={"annual_growth": 0.2})
    assert trend[0] == 1 and trend[365] == pytest.approx(1.2 ** (365 / 365.25))


def test_output_does_not_depend_on_chunks_or_workers(tmp_path: Path) -> None:
    digests = []
    for extra in (["--workers", "1"], ["--workers", "2", "--chunk-rows", "777"]):
        out = tmp_path / str(len(digests))
        result = run_cli("generate", EXAMPLES / "shop.yaml", "-o", out, "--scale", 0.05, *extra)
        assert result.exit_code == 0, result.output
        digests.append(file_digests(out))
    assert digests[0] == digests[1]


SPEC = """name: shop
lookup_tables:
  categories:
    key: category
    rows:
      - {category: Books, nouns: [Novel, Atlas]}
tables:
  orders:
    time:
      column: ts
      start: 2024-01-01
      end: 2024-12-31
      per_day: 10
      events:
        - {name: black_friday, multiplier: 2}
    columns:
      ts: {type: timestamp, gen: event_time}
      category: {type: string, gen: choice, values: [Books]}
      noun: {type: string, gen: table_lookup, table: categories, by: category, column: nouns}
      price:
        type: float64
        gen: switch
        by: category
        cases:
          Books: {gen: uniform, low: 1, high: 2}
      event: {type: string, gen: calendar_event, time: ts, events: [black_friday]}
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("{name: black_friday, multiplier: 2}", "{name: blak_friday, multiplier: 2}", 15, "unknown calendar event 'blak_friday'"),
        ("events: [black_friday]}", "events: [easter_sunday]}", 26, "unknown calendar event 'easter_sunday'"),
        ("time: ts, events", "time: category, events", 26, "must be a date or timestamp column"),
        ("gen: switch\n        by: category", "gen: switch\n        by: kategory", 20, "switch by 'kategory': no such column"),
        ("values: [Books]}", "values: [Books, Toys]}", 19, "key 'Toys' of column 'category' is missing from lookup table 'categories'"),
        ("table: categories, by", "table: kategories, by", 19, "lookup table 'kategories' is not declared"),
        ("column: nouns}", "column: verbs}", 19, "lookup table 'categories' has no field 'verbs'"),
        ("by: category, column", "by: kategory, column", 19, "table_lookup by 'kategory': no such column"),
        ("noun: {type: string", "noun: {type: float64", 19, "field 'nouns' holds 'Novel' (row 1), which does not fit a float64 column"),
        ("    rows:\n      - {category: Books, nouns: [Novel, Atlas]}", "    file: missing.csv", 3, "file 'missing.csv' is neither next to the spec"),
        ("    rows:\n      - {category: Books, nouns: [Novel, Atlas]}", "    file: ../secret.csv", 3, "must be a relative path"),
        ("Books: {gen: uniform", "Toys: {gen: uniform", 20, "switch has no case for category = 'Books' and no default"),
    ],
)
def test_misuse_is_a_located_error(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in SPEC
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC.replace(old, new))
    result = run_cli("validate-schema", spec)
    assert result.exit_code == 2, result.output
    assert f"shop.yaml:{line}:" in result.output and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_lookup_file_next_to_the_spec(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "shop.yaml", tmp_path / "shop.yaml")
    result = run_cli("validate-schema", tmp_path / "shop.yaml")
    assert result.exit_code == 2 and "shop_categories.csv" in result.output  # not copied: not found
    shutil.copy(EXAMPLES / "shop_categories.csv", tmp_path / "shop_categories.csv")
    result = run_cli("validate-schema", tmp_path / "shop.yaml")
    assert result.exit_code == 0, result.output


def test_day_of_year_points_dates_and_a_calendar_size_estimate() -> None:
    curve = _factors(seasonality={"day_of_year": [1, 3]})  # points at a quarter and three quarters of the year
    assert curve.mean() == pytest.approx(1, rel=0.01) and curve[274] == pytest.approx(1.5, rel=0.01) and curve[91] == pytest.approx(0.5, rel=0.02)
    sale = _factors(events=[{"name": "launch", "dates": ["2024-03-05", "2024-09-10"], "multiplier": 4}])
    assert sorted(np.flatnonzero(sale != 1)) == [64, 253]
    leap = _factors(events=[{"name": "leap_day", "month": 2, "day": 29, "multiplier": 2}])
    assert list(np.flatnonzero(leap != 1)) == [59]


def test_switch_on_a_bool_and_a_lookup_file_in_yaml(tmp_path: Path) -> None:
    (tmp_path / "tiers.yaml").write_text("- {vip: true, label: gold}\n- {vip: false, label: standard}\n")
    (tmp_path / "spec.yaml").write_text(
        """name: tiers
lookup_tables:
  tiers: {key: vip, file: tiers.yaml}
tables:
  customers:
    rows: 2000
    columns:
      customer_id: {type: int64, gen: sequence}
      vip: {type: bool, gen: boolean, p: 0.3}
      label: {type: string, gen: table_lookup, table: tiers, by: vip, column: label}
      credit: {type: int32, gen: switch, by: vip, cases: {"true": {gen: uniform, low: 1000, high: 2000}}, default: {gen: uniform, low: 0, high: 10}}
      joined: {type: date, gen: date, start: 2024-11-01, end: 2024-12-31}
      joined_on: {type: string, gen: calendar_event, time: joined, events: [black_friday]}
"""
    )
    out = tmp_path / "out"
    result = run_cli("generate", tmp_path / "spec.yaml", "-o", out, "--workers", 1)
    assert result.exit_code == 0, result.output
    rows = query(f"select vip, label, min(credit), max(credit) from {table(out, 'customers')} group by all order by vip")
    assert [(vip, label) for vip, label, _, _ in rows] == [(False, "standard"), (True, "gold")]
    assert rows[0][3] <= 10 and rows[1][2] >= 1000
    days = query(f"select distinct joined from {table(out, 'customers')} where joined_on = 'black_friday'")
    assert days == [(dt.date(2024, 11, 29),)]
    assert scalar(f"select count(*) from {table(out, 'customers')} where joined = '2024-11-29' and joined_on is null") == 0
