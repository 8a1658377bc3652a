"""The sensors dataset behaves like buildings (issue 14, targets S1-S5), checked with DuckDB on the written
Parquet output of the issue's run (`sensors --scale 0.1 --seed 11`: 100 devices in 20 sites, 30 days,
864,000 readings, a few seconds), plus the building model behind them and byte-identical output across
workers, chunk sizes and parts on a smaller run."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest

from dataset_generator.api import commit_parts, generate
from dataset_generator.options import WriterOptions
from dataset_generator.writers.base import SUCCESS_MARKER
from dataset_generator.writers.duckdb_extensions import connect_duckdb
from dataset_generator.writers.registry import create_writer

SMALL = {"devices": 12, "end_date": "2024-01-03", "anomaly_rate": 0.01, "missing_rate": 0.02}


def _write(out: Path, workers: int = 1, chunk_rows: int = 131_072, **extra: Any) -> Path:
    writer = create_writer("parquet", output_uri=str(out), options=WriterOptions(mode="overwrite", file_rows_target=50_000))
    generate("sensors", writer, workers=workers, chunk_rows=chunk_rows, **extra)
    return out


@pytest.fixture(scope="module")
def issue_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("sensors"), workers=2, scale=0.1, seed=11)


def _rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run `sql` with `readings`, `devices` and `sites` views over the written files."""
    con = connect_duckdb([])
    try:
        for table in ("readings", "devices", "sites"):
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{root / table}/**/*.parquet', hive_partitioning = false)")
        return con.execute(sql).fetchall()
    finally:
        con.close()


# Readings with the site's local time (standard time: UTC + utc_offset_hours).
LOCAL = """(SELECT r.*, s.building, s.site_id, r.timestamp + to_hours(s.utc_offset_hours) AS local_time
    FROM readings r JOIN devices d USING (device_id) JOIN sites s USING (site_id))"""


def test_s1_physical_ranges(issue_run: Path) -> None:
    co2, humidity, co2_min = _rows(
        issue_run,
        "SELECT avg((value >= 350)::INT) FILTER (WHERE metric = 'co2_ppm'),"
        " avg((value BETWEEN 0 AND 100)::INT) FILTER (WHERE metric = 'humidity_pct'),"
        " min(value) FILTER (WHERE metric = 'co2_ppm' AND NOT is_anomaly) FROM readings WHERE value IS NOT NULL",
    )[0]
    assert co2 >= 0.999 and humidity >= 0.999
    assert co2_min >= 380  # indoor air never below outdoor air (~420 ppm) less the sensor's noise


def test_s2_weekdays_differ_from_weekends(issue_run: Path) -> None:
    for metric, weekday, weekend in _rows(
        issue_run,
        f"SELECT metric, avg(value) FILTER (WHERE isodow(local_time) <= 5), avg(value) FILTER (WHERE isodow(local_time) > 5)"
        f" FROM {LOCAL} WHERE metric IN ('power_w', 'co2_ppm') GROUP BY 1",
    ):
        assert abs(weekday / weekend - 1) >= 0.10, (metric, weekday, weekend)


def test_s3_noise_is_autocorrelated(issue_run: Path) -> None:
    """Lag-1 autocorrelation of consecutive changes of a device's readings, per metric (white noise gives
    -0.5): the median over metrics, with and without the anomalies' readings. Readings of the last 3 days
    are left out: some still await their late correction (changes: on value), a spike until it lands."""
    changes = """(SELECT metric, d, lag(d) OVER w AS previous, flagged OR lag(flagged) OVER w AS near_anomaly
        FROM (SELECT device_id, timestamp, metric, value - lag(value) OVER v AS d, is_anomaly OR lag(is_anomaly) OVER v AS flagged
              FROM readings WHERE timestamp < TIMESTAMP '2024-01-28' WINDOW v AS (PARTITION BY device_id ORDER BY timestamp))
        WINDOW w AS (PARTITION BY device_id ORDER BY timestamp))"""
    every = dict(_rows(issue_run, f"SELECT metric, corr(d, previous) FROM {changes} GROUP BY 1"))
    clean = dict(_rows(issue_run, f"SELECT metric, corr(d, previous) FROM {changes} WHERE NOT near_anomaly GROUP BY 1"))
    assert len(every) == 5
    assert statistics.median(every.values()) >= -0.3, every
    assert statistics.median(clean.values()) >= -0.3, clean
    assert min(clean.values()) >= -0.3, clean


def test_s4_missing_readings_come_in_outages(issue_run: Path) -> None:
    share, after_missing, ratio = _rows(
        issue_run,
        "SELECT avg(m::INT), avg(m::INT) FILTER (WHERE before), avg(m::INT) FILTER (WHERE before) / avg(m::INT)"
        " FROM (SELECT is_missing AS m, lag(is_missing) OVER (PARTITION BY device_id ORDER BY timestamp) AS before FROM readings)"
        " WHERE before IS NOT NULL",
    )[0]
    assert 0.003 <= share <= 0.008  # missing_rate 0.005
    assert ratio >= 10, (share, after_missing)


def test_s5_anomaly_kinds(issue_run: Path) -> None:
    kinds = dict(_rows(issue_run, "SELECT anomaly_type, count(*) FROM readings WHERE is_anomaly GROUP BY 1"))
    assert len(kinds) >= 3 and set(kinds) <= {"spike", "stuck", "level_shift", "drift", "dropout"}, kinds
    mislabelled, share = _rows(
        issue_run, "SELECT count(*) FILTER (WHERE (anomaly_type IS NOT NULL) <> is_anomaly), avg(is_anomaly::INT) FROM readings"
    )[0]
    assert mislabelled == 0 and 0.0003 <= share <= 0.003  # anomaly_rate 0.001, in windows: a few dozen per run
    # A stuck sensor repeats one value; a dropout reads zero.
    stuck_values, dropout_values = _rows(
        issue_run,
        "SELECT max(n) FILTER (WHERE anomaly_type = 'stuck'), max(n) FILTER (WHERE anomaly_type = 'dropout')"
        " FROM (SELECT device_id, CAST(timestamp AS DATE), anomaly_type, count(DISTINCT value) AS n FROM readings"
        " WHERE is_anomaly GROUP BY ALL)",
    )[0]
    assert stuck_values in (None, 1) and dropout_values in (None, 1)


def test_building_profiles(issue_run: Path) -> None:
    """Offices draw power and fill with CO2 in working hours on weekdays (local time), not at night."""
    working, night, weekend_day = _rows(
        issue_run,
        f"SELECT avg(value) FILTER (WHERE isodow(local_time) <= 5 AND hour(local_time) BETWEEN 10 AND 15),"
        f" avg(value) FILTER (WHERE hour(local_time) BETWEEN 0 AND 4),"
        f" avg(value) FILTER (WHERE isodow(local_time) > 5 AND hour(local_time) BETWEEN 10 AND 15)"
        f" FROM {LOCAL} WHERE building = 'office' AND metric = 'power_w' AND NOT is_anomaly",
    )[0]
    assert working > 2 * night and working > 2 * weekend_day
    peak_hour = _rows(
        issue_run,
        f"SELECT arg_max(h, v) FROM (SELECT hour(local_time) AS h, avg(value) AS v FROM {LOCAL}"
        f" WHERE building = 'office' AND metric = 'co2_ppm' AND isodow(local_time) <= 5 GROUP BY 1)",
    )[0][0]
    assert 10 <= peak_hour <= 18


def test_site_shares_pressure_and_humidity_falls_as_temperature_rises(issue_run: Path) -> None:
    same_site, other_sites = _rows(
        issue_run,
        f"""WITH b AS (SELECT device_id, site_id, timestamp, value FROM {LOCAL} WHERE metric = 'pressure_hpa' AND NOT is_anomaly)
        SELECT avg(c) FILTER (WHERE same), avg(c) FILTER (WHERE NOT same) FROM (
          SELECT a.site_id = o.site_id AS same, corr(a.value, o.value) AS c FROM b a JOIN b o
          ON a.timestamp = o.timestamp AND a.device_id < o.device_id GROUP BY a.device_id, o.device_id, same)""",
    )[0]
    assert same_site >= 0.99 and other_sites < 0.5
    (humidity_vs_temperature,) = _rows(
        issue_run,
        f"""WITH s AS (SELECT site_id, metric, timestamp, avg(value) AS v FROM {LOCAL}
          WHERE metric IN ('temperature_c', 'humidity_pct') AND NOT is_anomaly GROUP BY ALL)
        SELECT median(c) FROM (SELECT t.site_id, corr(t.v, h.v) AS c FROM s t JOIN s h USING (site_id, timestamp)
          WHERE t.metric = 'temperature_c' AND h.metric = 'humidity_pct' GROUP BY 1)""",
    )[0]
    assert humidity_vs_temperature < -0.5


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet")) if p.name != SUCCESS_MARKER}


def test_bytes_identical_across_workers_chunks_and_parts(tmp_path: Path) -> None:
    one = _files(_write(tmp_path / "one", params=SMALL))
    assert one and one == _files(_write(tmp_path / "two", workers=2, chunk_rows=97, params=SMALL))
    for part in (2, 1):
        writer = create_writer("parquet", output_uri=str(tmp_path / "parts"), options=WriterOptions(file_rows_target=50_000))
        generate("sensors", writer, workers=1, params=SMALL, parts=2, part=part)
    commit_parts(create_writer("parquet", output_uri=str(tmp_path / "parts"), options=WriterOptions(file_rows_target=50_000)))
    assert _files(tmp_path / "parts") == one
