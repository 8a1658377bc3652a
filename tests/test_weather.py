"""The weather dataset behaves like weather (issue 14, W1-W7): measured with DuckDB on the written output of
the issue's own run, `weather --scale 0.1 --seed 11` (50 stations, a full year: about 3 s), plus the
dataset's byte-identity across workers, chunk sizes and --parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import file_digests, query, run_cli


@pytest.fixture(scope="module")
def weather(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("weather") / "out"
    result = run_cli("generate", "weather", "--scale", "0.1", "--seed", "11", "--output", out, "-q")
    assert result.exit_code == 0, result.output
    return out


def _scan(root: Path, table: str) -> str:
    return f"read_parquet('{root / table}/**/*.parquet', hive_partitioning = false)"


def _one(sql: str) -> tuple:
    return query(sql)[0]


def test_w1_stations_are_real_places_with_unique_names(weather: Path) -> None:
    stations = _scan(weather, "stations")
    unique, rows, countries, zones = _one(
        f"SELECT count(DISTINCT name), count(*), count(DISTINCT country), count(timezone) FROM {stations}"
    )
    assert unique == rows == zones == 50 and countries >= 10
    (bad_zones,) = _one(f"SELECT count(*) FROM {stations} WHERE timezone NOT LIKE '%/%' OR length(country) <> 2")
    assert bad_zones == 0


def test_w2_climates_differ_in_rain_and_humidity(weather: Path) -> None:
    ratio, spread = _one(
        f"WITH s AS (SELECT station_id, sum(precip_mm) AS rain, avg(humidity_mean_pct) AS humidity"
        f" FROM {_scan(weather, 'daily')} GROUP BY 1)"
        f" SELECT quantile_cont(rain, 0.9) / quantile_cont(rain, 0.1),"
        f" quantile_cont(humidity, 0.9) - quantile_cont(humidity, 0.1) FROM s"
    )
    assert ratio >= 3 and spread >= 15, (ratio, spread)


def test_w3_temperature_anomalies_persist(weather: Path) -> None:
    (lag1,) = _one(
        f"WITH a AS (SELECT station_id, date, tmean - lag(tmean) OVER (PARTITION BY station_id ORDER BY date) AS change"
        f" FROM {_scan(weather, 'daily')}),"
        f" b AS (SELECT change, lag(change) OVER (PARTITION BY station_id ORDER BY date) AS previous FROM a)"
        f" SELECT corr(change, previous) FROM b"
    )
    assert lag1 >= -0.3, lag1  # white noise anomalies give -0.5


def test_w4_wet_days_come_in_spells(weather: Path) -> None:
    wet, persistence = _one(
        f"WITH a AS (SELECT station_id, date, precip_mm > 0.1 AS wet FROM {_scan(weather, 'daily')}),"
        f" b AS (SELECT wet, lag(wet) OVER (PARTITION BY station_id ORDER BY date) AS before FROM a)"
        f" SELECT avg(wet::INT), avg(CASE WHEN before THEN wet::INT END) - avg(CASE WHEN NOT before THEN wet::INT END) FROM b"
    )
    assert 0.15 <= wet <= 0.55 and persistence >= 0.15, (wet, persistence)


def test_w5_afternoons_are_warmest_in_local_solar_time(weather: Path) -> None:
    (share,) = _one(
        f"WITH h AS (SELECT station_id, (hour(timestamp) + round(s.lon / 15)::INT + 48) % 24 AS local_hour,"
        f" temperature_c FROM {_scan(weather, 'hourly')} JOIN {_scan(weather, 'stations')} s USING (station_id)),"
        f" a AS (SELECT station_id, local_hour, avg(temperature_c) AS t FROM h GROUP BY ALL)"
        f" SELECT avg((warmest BETWEEN 12 AND 17)::INT) FROM (SELECT arg_max(local_hour, t) AS warmest FROM a GROUP BY station_id)"
    )
    assert share >= 0.9, share


def test_w6_condition_changes_a_few_times_a_day(weather: Path) -> None:
    (changes,) = _one(
        f"WITH a AS (SELECT condition <> lag(condition) OVER (PARTITION BY station_id ORDER BY timestamp) AS changed"
        f" FROM {_scan(weather, 'hourly')}) SELECT sum(changed::INT) / (count(*) / 24) FROM a"
    )
    assert changes <= 4, changes


def test_w7_seasons_swing_more_far_from_the_equator(weather: Path) -> None:
    tropics, high = _one(
        f"WITH m AS (SELECT station_id, month(date) AS month, avg(tmean) AS t FROM {_scan(weather, 'daily')} GROUP BY ALL),"
        f" r AS (SELECT station_id, max(t) - min(t) AS swing FROM m GROUP BY 1)"
        f" SELECT median(swing) FILTER (WHERE abs(lat) < 15), median(swing) FILTER (WHERE abs(lat) > 50)"
        f" FROM r JOIN {_scan(weather, 'stations')} USING (station_id)"
    )
    assert tropics <= 8 and high >= 15, (tropics, high)


def test_hours_are_smooth_and_rain_is_humid(weather: Path) -> None:
    pressure_step, wind_lag1, dry_rain = _one(
        f"WITH a AS (SELECT pressure_hpa - lag(pressure_hpa) OVER w AS dp, wind_kph, lag(wind_kph) OVER w AS wind_before,"
        f" precip_mm, humidity_pct FROM {_scan(weather, 'hourly')} WINDOW w AS (PARTITION BY station_id ORDER BY timestamp))"
        f" SELECT avg(abs(dp)), corr(wind_kph, wind_before), count(*) FILTER (WHERE precip_mm > 0 AND humidity_pct < 50) FROM a"
    )
    assert pressure_step < 1.5 and wind_lag1 > 0.8 and dry_rain == 0


def test_weather_is_identical_across_workers_chunks_and_parts(tmp_path: Path) -> None:
    params = ("--param", "stations=7", "--param", "end_date=2024-02-03", "--seed", "5")
    runs = {
        "one": ("--workers", "1"),
        "two": ("--workers", "2", "--chunk-rows", "1000"),
    }
    digests = []
    for name, flags in runs.items():
        result = run_cli("generate", "weather", "--output", tmp_path / name, *params, *flags, "-q")
        assert result.exit_code == 0, result.output
        digests.append(file_digests(tmp_path / name))
    for part in (2, 1):
        result = run_cli("generate", "weather", "--output", tmp_path / "parts", *params, "--parts", "2", "--part", part, "-q")
        assert result.exit_code == 0, result.output
    assert run_cli("commit", "--output", tmp_path / "parts").exit_code == 0
    assert digests[0] and digests[0] == digests[1] == file_digests(tmp_path / "parts")
