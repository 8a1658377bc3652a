"""The built-in market, sensors and weather datasets: written to Parquet, read back with DuckDB, and
their documented guarantees checked; plus byte-identical output across workers and chunk sizes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from dataset_generator.api import generate
from dataset_generator.generation.layout import build_layouts
from dataset_generator.generation.runtime import DatasetRuntime
from dataset_generator.options import WriterOptions
from dataset_generator.schemas.loader import list_datasets, load_schema
from dataset_generator.writers.registry import create_writer

MARKET_NYSE = {"symbols": "AAA,BBB,CCC", "days": 7, "bar_minutes": 5, "quotes_per_bar": 4}
MARKET_CRYPTO = {
    "symbols": "BTC,ETH",
    "days": 8,
    "bar_minutes": 15,
    "calendar": "crypto",
    "quotes_per_bar": 2,
}
SENSORS = {"devices": 6, "end_date": "2024-01-03", "anomaly_rate": 0.02, "missing_rate": 0.05}
WEATHER = {"stations": 4, "end_date": "2024-01-10"}


def _generate(
    dataset: str, out: Path, params: dict[str, Any], workers: int = 1, chunk_rows: int = 131_072
) -> Path:
    writer = create_writer(
        "parquet", output_uri=str(out), options=WriterOptions(mode="overwrite", file_rows_target=5_000)
    )
    generate(dataset, writer, params=params, workers=workers, chunk_rows=chunk_rows)
    return out


def _scan(root: Path, table: str) -> str:
    return f"read_parquet('{root / table}/**/*.parquet', hive_partitioning = false)"


def _one(sql: str) -> tuple[Any, ...]:
    row = duckdb.sql(sql).fetchone()
    assert row is not None
    return row


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate("market", tmp_path_factory.mktemp("market"), MARKET_NYSE)


@pytest.fixture(scope="module")
def crypto(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate("market", tmp_path_factory.mktemp("crypto"), MARKET_CRYPTO)


@pytest.fixture(scope="module")
def sensors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate("sensors", tmp_path_factory.mktemp("sensors"), SENSORS)


@pytest.fixture(scope="module")
def weather(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate("weather", tmp_path_factory.mktemp("weather"), WEATHER)


def test_catalogue_lists_every_dataset() -> None:
    assert {"ecommerce", "transactions", "market", "sensors", "weather"} <= set(list_datasets())


@pytest.mark.parametrize(
    ("name", "low", "high"), [("market", 2e6, 5e7), ("sensors", 2e6, 5e7), ("weather", 2e6, 5e7)]
)
def test_scale_one_sizes(name: str, low: float, high: float) -> None:
    spec = load_schema(name)
    layouts = build_layouts(spec, 42)
    assert low <= sum(layout.rows for layout in layouts.values()) <= high
    # Time tables are partitioned by date; weather by month (a day of 500 stations is a tiny file).
    assert all(
        table.partition_by[:2] == ["year", "month"] for table in spec.tables.values() if table.rows is None
    )


def test_market_bars(market: Path) -> None:
    bars = _scan(market, "ohlcv")
    bad, non_positive, rows = _one(
        f"SELECT count(*) FILTER (WHERE low > least(open, close) OR high < greatest(open, close) OR low > high), "
        f"count(*) FILTER (WHERE low <= 0), count(*) FROM {bars}"
    )
    assert (bad, non_positive) == (0, 0)
    assert rows == 3 * 5 * 78  # 3 symbols, 5 weekdays in 2024-01-02..08, 390/5 bars
    # Continuity: every bar opens at the previous bar's close of the same symbol within a session (nyse
    # sessions open with an overnight gap; crypto is continuous across sessions, see below).
    gaps, pairs = _one(
        f"SELECT count(*) FILTER (WHERE open <> prev), count(prev) FROM "
        f"(SELECT open, lag(close) OVER (PARTITION BY symbol, CAST(timestamp AS DATE) ORDER BY timestamp) AS prev FROM {bars})"
    )
    assert gaps == 0 and pairs == rows - 3 * 5
    # NYSE: 09:30-16:00, Monday to Friday only, on the bar grid.
    first, last, weekend, off_grid = _one(
        f"SELECT min(CAST(timestamp AS TIME)), max(CAST(timestamp AS TIME)), "
        f"count(*) FILTER (WHERE isodow(timestamp) > 5), count(*) FILTER (WHERE minute(timestamp) % 5 <> 0) FROM {bars}"
    )
    assert str(first) == "09:30:00" and str(last) == "15:55:00" and weekend == 0 and off_grid == 0


def test_market_sessions_aggregate_bars(market: Path) -> None:
    mismatched = _one(
        f"SELECT count(*) FROM {_scan(market, 'sessions')} s JOIN ("
        f"  SELECT symbol, CAST(timestamp AS DATE) AS day, max(high) AS hi, min(low) AS lo, sum(volume) AS vol,"
        f"         arg_min(open, timestamp) AS o, arg_max(close, timestamp) AS c"
        f"  FROM {_scan(market, 'ohlcv')} GROUP BY ALL) b"
        f" ON s.symbol = b.symbol AND CAST(s.session_open AS DATE) = b.day"
        f" WHERE s.high <> b.hi OR s.low <> b.lo OR s.volume <> b.vol OR s.open <> b.o OR s.close <> b.c"
    )[0]
    assert mismatched == 0


def test_market_quotes(market: Path) -> None:
    quotes = _scan(market, "quotes")
    crossed, unordered, outside_bar, rows = _one(
        f"SELECT count(*) FILTER (WHERE bid_price >= ask_price OR bid_size <= 0 OR ask_size <= 0),"
        f" count(*) FILTER (WHERE sequence <= prev_sequence OR timestamp < prev_ts), "
        f" (SELECT count(*) FROM {quotes} q JOIN {_scan(market, 'ohlcv')} b ON q.symbol = b.symbol"
        f"   AND q.timestamp >= b.timestamp AND q.timestamp < b.timestamp + INTERVAL 5 MINUTE"
        f"   WHERE (q.bid_price + q.ask_price) / 2 < b.low * 0.999 OR (q.bid_price + q.ask_price) / 2 > b.high * 1.001),"
        f" count(*) FROM (SELECT *, lag(sequence) OVER w AS prev_sequence, lag(timestamp) OVER w AS prev_ts"
        f"   FROM {quotes} WINDOW w AS (PARTITION BY symbol ORDER BY sequence))"
    )
    assert (crossed, unordered, outside_bar) == (0, 0, 0)
    assert rows >= 3 * 5 * 78  # at least one quote per bar
    bad_spread = _one(
        f"SELECT count(*) FROM {quotes} WHERE abs(spread_bps - (ask_price - bid_price) / ((ask_price + bid_price) / 2) * 1e4) > 0.001"
    )[0]
    assert bad_spread == 0


def test_market_crypto_trades_around_the_clock(crypto: Path) -> None:
    bars = _scan(crypto, "ohlcv")
    days, hours, weekend, rows = _one(
        f"SELECT count(DISTINCT CAST(timestamp AS DATE)), count(DISTINCT hour(timestamp)),"
        f" count(*) FILTER (WHERE isodow(timestamp) > 5), count(*) FROM {bars}"
    )
    assert (days, hours, rows) == (8, 24, 2 * 8 * 96) and weekend > 0
    gaps, pairs = _one(
        f"SELECT count(*) FILTER (WHERE open <> prev), count(prev) FROM "
        f"(SELECT open, lag(close) OVER (PARTITION BY symbol ORDER BY timestamp) AS prev FROM {bars})"
    )
    assert gaps == 0 and pairs == rows - 2  # 24/7: no overnight gap


def test_sensors_readings(sensors: Path) -> None:
    readings = _scan(sensors, "readings")
    cadence = duckdb.sql(
        f"SELECT DISTINCT epoch(timestamp - lag(timestamp) OVER (PARTITION BY device_id ORDER BY timestamp)) "
        f"FROM {readings} WHERE true QUALIFY lag(timestamp) OVER (PARTITION BY device_id ORDER BY timestamp) IS NOT NULL"
    ).fetchall()
    assert cadence == [(300.0,)]
    rows, missing_rate, anomaly_rate, null_when_missing, null_otherwise = _one(
        f"SELECT count(*), avg(CAST(is_missing AS INT)), avg(CAST(is_anomaly AS INT)),"
        f" count(*) FILTER (WHERE is_missing AND value IS NULL), count(*) FILTER (WHERE NOT is_missing AND value IS NULL)"
        f" FROM {readings}"
    )
    assert rows == 6 * 288 * 3
    # Missing readings and anomalies come in windows: 18 device-days hold only a few (rates: tests/test_sensors.py).
    assert abs(missing_rate - 0.05) < 0.03 and 0 < anomaly_rate < 0.06
    assert null_when_missing == round(missing_rate * rows) and null_otherwise == 0
    # Every reading's device exists, with the metric its type measures.
    orphans = _one(
        f"SELECT count(*) FROM {readings} r ANTI JOIN read_parquet('{sensors / 'devices'}/*.parquet') d"
        f" ON r.device_id = d.device_id AND r.metric = d.metric"
    )[0]
    assert orphans == 0
    summary = _one(
        f"SELECT count(*) FROM {_scan(sensors, 'device_days')} s JOIN (SELECT device_id, CAST(timestamp AS DATE) AS date,"
        f" count(*) AS n, sum(CAST(is_missing AS INT)) AS m, max(value) AS hi FROM {readings} GROUP BY ALL) r USING (device_id, date)"
        f" WHERE s.readings <> r.n OR s.missing <> r.m OR s.value_max <> r.hi"
    )[0]
    assert summary == 0
    drift_joins = _one(
        f"SELECT count(*) FROM (SELECT drift_start, lag(drift_end) OVER (PARTITION BY device_id ORDER BY date) AS prev"
        f" FROM {_scan(sensors, 'device_days')}) WHERE prev IS NOT NULL AND prev <> drift_start"
    )[0]
    assert drift_joins == 0


def test_weather_daily_matches_hourly(weather: Path) -> None:
    hourly = _scan(weather, "hourly")
    rows, per_hour = _one(f"SELECT count(*), count(DISTINCT hour(timestamp)) FROM {hourly}")
    assert rows == 4 * 10 * 24 and per_hour == 24
    mismatched, daily_rows = _one(
        f"SELECT count(*) FILTER (WHERE d.tmin <> h.lo OR d.tmax <> h.hi OR abs(d.precip_mm - h.p) > 1e-9 OR d.hours <> 24),"
        f" count(*) FROM {_scan(weather, 'daily')} d JOIN (SELECT station_id, CAST(timestamp AS DATE) AS date,"
        f" min(temperature_c) AS lo, max(temperature_c) AS hi, round(sum(precip_mm), 2) AS p FROM {hourly} GROUP BY ALL) h"
        f" USING (station_id, date)"
    )
    assert mismatched == 0 and daily_rows == 40
    # 15:00 and 03:00 local solar time (UTC + longitude / 15 hours).
    local_hour = "(hour(timestamp) + round(s.lon / 15)::INT + 48) % 24"
    afternoon, night = _one(
        f"SELECT avg(temperature_c) FILTER (WHERE {local_hour} = 15), avg(temperature_c) FILTER (WHERE {local_hour} = 3)"
        f" FROM {hourly} h JOIN read_parquet('{weather / 'stations'}/*.parquet') s USING (station_id)"
    )
    assert afternoon > night + 2
    out_of_range = _one(
        f"SELECT count(*) FROM {hourly} WHERE humidity_pct NOT BETWEEN 5 AND 100 OR wind_kph < 0 OR precip_mm < 0"
        f" OR (precip_mm = 0) <> (condition NOT IN ('rain', 'heavy rain', 'snow'))"
    )[0]
    assert out_of_range == 0
    lat_range = _one(
        f"SELECT min(lat) >= -90 AND max(lat) <= 90 AND min(lon) >= -180 FROM read_parquet('{weather / 'stations'}/*.parquet')"
    )[0]
    assert lat_range


def _digest(root: Path) -> dict[str, str]:
    files = sorted(path for path in root.rglob("*.parquet"))
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def test_market_bytes_identical_across_workers_and_chunks(tmp_path: Path) -> None:
    params = {**MARKET_NYSE, "days": 2}
    one = _digest(_generate("market", tmp_path / "one", params, workers=1))
    two = _digest(_generate("market", tmp_path / "two", params, workers=2, chunk_rows=97))
    assert one and one == two


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("market", MARKET_CRYPTO | {"days": 2}),
        ("sensors", SENSORS | {"end_date": "2024-01-02"}),
        ("weather", WEATHER),
    ],
)
def test_batches_identical_across_chunk_sizes(name: str, params: dict[str, Any]) -> None:
    spec = load_schema(name, params=params)
    runtime = DatasetRuntime(spec, 7, build_layouts(spec, 7))
    for table in spec.tables:
        rows = min(runtime.layouts[table].rows, 3_000)
        small = pa.Table.from_batches(list(runtime.batches(table, 0, rows, 7)))
        large = pa.Table.from_batches(list(runtime.batches(table, 0, rows, 1_000)))
        assert small.equals(large), table
