"""The process primitives `ar1` and `markov`: their statistics on written output, read back with DuckDB,
and their independence from workers and chunk sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import file_digests, parquet_glob, query, run_cli

SPEC = """
name: proc
tables:
  days:
    time: {column: date, start: 2024-01-01, end: 2024-12-31, per_day: 20}
    columns:
      date: {type: date, gen: day_start}
      station: {type: int64, gen: foreign_key, table: st, column: id, distribution: cycle}
      anomaly: {type: float64, gen: ar1, group: station, time: date, correlation: 0.7, std: 3}
      p: {type: float64, gen: uniform, low: 0.2, high: 0.3, hidden: true}
      wet: {type: bool, gen: markov, group: station, time: date, p_enter: p, p_stay: 0.6}
  hours:
    parent: {table: days, count: {distribution: fixed, value: 24}}
    columns:
      station: {type: int64, gen: parent, column: station}
      ts: {type: timestamp, gen: child_time, start: date, every_seconds: 3600}
      wind: {type: float64, gen: ar1, group: station, time: ts, step_seconds: 21600, correlation: 0.6, smooth: true, mean: 15, std: 4}
  st:
    rows: 20
    columns:
      id: {type: int64, gen: sequence, start: 1}
"""


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("proc") / "proc.yaml"
    path.write_text(SPEC)
    return path


def _run(spec: Path, out: Path, *extra: str) -> Path:
    result = run_cli("generate", spec, "--output", out, "--seed", "3", *extra)
    assert result.exit_code == 0, result.output
    return out


def test_ar1_and_markov_statistics(spec: Path, tmp_path: Path) -> None:
    out = _run(spec, tmp_path / "o")
    days = parquet_glob(out, "days")
    ((lag1, std, p11, p01, wet),) = query(f"""
        WITH d AS (SELECT anomaly, wet, lag(anomaly) OVER w AS prev_anomaly, lag(wet) OVER w AS prev_wet
                   FROM read_parquet('{days}') WINDOW w AS (PARTITION BY station ORDER BY date))
        SELECT corr(anomaly, prev_anomaly), stddev(anomaly), avg(CASE WHEN prev_wet THEN wet::INT END),
               avg(CASE WHEN NOT prev_wet THEN wet::INT END), avg(wet::INT) FROM d""")
    assert 0.62 < lag1 < 0.78 and 2.7 < std < 3.3
    assert 0.54 < p11 < 0.66 and 0.21 < p01 < 0.29 and 0.33 < wet < 0.44
    # Smooth hourly series: hour-to-hour changes are small against the spread, and strongly autocorrelated.
    hours = parquet_glob(out, "hours")
    ((step_std, level_std, step_lag1),) = query(f"""
        WITH h AS (SELECT station, ts, wind - lag(wind) OVER w AS change, wind FROM read_parquet('{hours}')
                   WINDOW w AS (PARTITION BY station ORDER BY ts)),
             c AS (SELECT change, lag(change) OVER (PARTITION BY station ORDER BY ts) AS prev, wind FROM h)
        SELECT stddev(change), stddev(wind), corr(change, prev) FROM c""")
    assert step_std < 0.4 * level_std and 3.5 < level_std < 4.5 and step_lag1 > 0.5


def test_processes_do_not_depend_on_workers_or_chunks(spec: Path, tmp_path: Path) -> None:
    one = _run(spec, tmp_path / "a", "--workers", "1")
    other = _run(spec, tmp_path / "b", "--workers", "2", "--file-rows-target", "333")
    ordered = "SELECT * FROM read_parquet('{}') ORDER BY ALL"
    for table in ("days", "hours"):
        assert query(ordered.format(parquet_glob(one, table))) == query(ordered.format(parquet_glob(other, table)))
    assert file_digests(one) == file_digests(_run(spec, tmp_path / "c", "--workers", "2"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("correlation: 0.7, std: 3", "correlation: 1.5, std: 3"), "less than or equal to 0.995"),
        (("group: station, time: date, correlation", "group: nope, time: date, correlation"), "ar1 group column 'nope' does not exist"),
        (("p_stay: 0.6}", "p_stay: 1.6}"), "p_stay must be a probability"),
        (("time: ts, step_seconds", "time: station, step_seconds"), "must be a timestamp or date"),
        (("{type: int64, gen: sequence, start: 1}", "{type: string, gen: place, field: lat}"), "place field 'lat' is written as float64"),
    ],
)
def test_misuse_is_a_located_one_line_error(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    assert change[0] in SPEC
    path = tmp_path / "bad.yaml"
    path.write_text(SPEC.replace(change[0], change[1], 1))
    result = run_cli("validate-schema", path)
    assert result.exit_code != 0 and message in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_place_names_stay_unique_past_the_gazetteer(tmp_path: Path) -> None:
    path = tmp_path / "places.yaml"
    path.write_text(
        "name: places\ntables:\n  p:\n    rows: 40000\n    columns:\n"
        "      id: {type: int64, gen: sequence, start: 1}\n"
        "      name: {type: string, gen: place, field: name}\n"
        "      tz: {type: string, gen: place, field: timezone}\n"
        "      lat: {type: float64, gen: place, field: lat}\n"
    )
    out = _run(path, tmp_path / "o", "--file-rows-target", "9999")
    glob = parquet_glob(out, "p")
    ((rows, names, zones, places),) = query(
        f"SELECT count(*), count(DISTINCT name), count(DISTINCT tz), count(DISTINCT (lat, tz)) FROM read_parquet('{glob}')"
    )
    assert rows == names == 40000 and zones > 300 and places > 30000
