"""Issue 16, as-of snapshots and the history API (generation/history.py): what exists and what values hold at a
time, that the snapshot at the range end is the default run, determinism across workers, chunk sizes and
engines, the events every change is found by, and one-line errors for bad windows and misused specs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from dataset_generator.api import plan_dataset
from dataset_generator.generation.history import (
    TimeView,
    changes_after_creation,
    event_rows,
    range_bounds,
    snapshot,
    table_key,
)
from dataset_generator.options import WriterOptions

from helpers import file_digests, parquet_glob, run_cli, scalar

SCALE = "0.001"
DAY = 86_400_000_000
AS_OF = "2024-02-15"


def _table(root: Path, name: str) -> str:
    return f"read_parquet('{parquet_glob(root, name)}', hive_partitioning = false)"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The default run, the snapshot at the range end, and a snapshot in the middle of the range."""
    found = {}
    for name, extra in (("default", ()), ("at_end", ("--as-of", "2024-03-31")), ("as_of", ("--as-of", AS_OF))):
        out = tmp_path_factory.mktemp(name)
        result = run_cli("generate", "ecommerce", "-o", out, "--scale", SCALE, "-q", *extra)
        assert result.exit_code == 0, result.output
        found[name] = out
    return found


def test_the_snapshot_at_the_range_end_is_the_default_run(runs: dict[str, Path]) -> None:
    assert file_digests(runs["at_end"]) == file_digests(runs["default"])


def test_as_of_holds_only_what_existed_then_with_its_values_then(runs: dict[str, Path]) -> None:
    root, full = runs["as_of"], runs["default"]
    end = "TIMESTAMP '2024-02-16'"
    # Nothing created after the end of that day; every order and item of before it is there.
    assert scalar(f"SELECT count(*) FROM {_table(root, 'customers')} WHERE signup_date > DATE '{AS_OF}'") == 0
    assert scalar(f"SELECT count(*) FROM {_table(root, 'orders')} WHERE order_ts >= {end}") == 0
    assert scalar(f"SELECT count(*) FROM {_table(root, 'orders')}") == scalar(f"SELECT count(*) FROM {_table(full, 'orders')} WHERE order_ts < {end}")
    # Customers deleted later are still there; the default run (later) has lost some and gained sign-ups.
    ids_then = {row for row in scalar(f"SELECT list(customer_id) FROM {_table(root, 'customers')}")}
    ids_end = {row for row in scalar(f"SELECT list(customer_id) FROM {_table(full, 'customers')}")}
    assert ids_then - ids_end and ids_end - ids_then
    # Statuses as of that day: nothing delivered within a day of ordering (at least 28 h of delays), nothing older
    # than a week still pending or processing (at most 48 h + 120 h).
    assert scalar(f"SELECT count(*) FROM {_table(root, 'orders')} WHERE status IN ('delivered', 'returned') AND order_ts > {end} - INTERVAL 28 HOUR") == 0
    assert scalar(f"SELECT count(*) FROM {_table(root, 'orders')} WHERE status IN ('pending', 'processing') AND order_ts < {end} - INTERVAL 168 HOUR") == 0
    # ... and statuses move on by the range end: an order delivered then is still delivered or returned.
    moved = scalar(
        f"SELECT count(*) FROM {_table(root, 'orders')} a JOIN {_table(full, 'orders')} b USING (order_id) WHERE a.status <> b.status"
    )
    assert moved > 0
    assert scalar(
        f"SELECT count(*) FROM {_table(root, 'orders')} a JOIN {_table(full, 'orders')} b USING (order_id) "
        "WHERE a.status = 'delivered' AND b.status NOT IN ('delivered', 'returned')"
    ) == 0
    # Order lines' unit prices are the prices when ordered: the same in both snapshots.
    assert scalar(
        f"SELECT count(*) FROM {_table(root, 'order_items')} a JOIN {_table(full, 'order_items')} b USING (order_item_id) WHERE a.unit_price <> b.unit_price"
    ) == 0
    # Customers who moved between the two times moved city, state and postcode together, kept names and country.
    same_person = scalar(
        f"SELECT count(*) FROM {_table(root, 'customers')} a JOIN {_table(full, 'customers')} b USING (customer_id) "
        "WHERE a.first_name <> b.first_name OR a.last_name <> b.last_name OR a.country <> b.country OR a.phone <> b.phone"
    )
    assert same_person == 0


def _plan(**window: object):  # type: ignore[no-untyped-def]
    return plan_dataset("ecommerce", WriterOptions(), scale=0.001, **window)  # type: ignore[arg-type]


def test_history_api_snapshot_events_and_keys() -> None:
    runtime = _plan().runtime
    start, end = range_bounds(runtime)
    assert (start, end) == (19723 * DAY, 19814 * DAY - 1)  # 2024-01-01 .. the last microsecond of 2024-03-31
    spec = runtime.spec
    assert [table_key(spec, name) for name in spec.tables] == [["customer_id"], ["product_id"], ["order_id"], ["order_item_id"]]
    assert [changes_after_creation(spec, name) for name in spec.tables] == [True, True, True, False]
    # Every row whose snapshot differs between the end of one day and the end of a week later is an event row.
    for table in ("customers", "products", "orders"):
        rows = runtime.layouts[table].rows
        index = np.arange(rows, dtype=np.int64)
        day_end = 19760 * DAY - 1  # 2024-02-07
        before_exists, before = snapshot(runtime, table, index, day_end)
        after_exists, after = snapshot(runtime, table, index, day_end + 7 * DAY)
        differs = before_exists != after_exists
        for name in before.schema.names:
            a, b = before.column(name).to_pylist(), after.column(name).to_pylist()
            differs |= np.array([x != y for x, y in zip(a, b, strict=True)])
        differs &= before_exists | after_exists
        events = event_rows(runtime, table, day_end + 1, day_end + 1 + 7 * DAY)
        assert np.all(np.isin(np.flatnonzero(differs), events)), table
        assert differs.any(), table  # something happens every week in every changing table
        assert len(events) < rows or table == "products", table  # events are found without listing every row


def test_slices_and_snapshots_are_identical_across_workers_chunks_and_engines(tmp_path: Path) -> None:
    window = ("--since", "2024-02-01", "--until", "2024-02-29", "--as-of", "2024-03-10")
    digests = []
    for name, extra in (
        ("one", ("--workers", "1")),
        ("two", ("--workers", "2", "--chunk-rows", "1000")),
        ("dask", ("--engine", "dask", "--workers", "2")),
    ):
        out = tmp_path / name
        result = run_cli("generate", "ecommerce", "-o", out, "--scale", SCALE, "-q", "--file-rows-target", "5000", *window, *extra)
        assert result.exit_code == 0, result.output
        digests.append(file_digests(out))
    assert digests[0] == digests[1] == digests[2]
    assert len(digests[0]) > 4


def test_the_view_selects_rows_by_creation_and_existence() -> None:
    plan = _plan(since="2024-02-01", until="2024-02-29", as_of="2024-03-10")
    view = plan.runtime.view
    assert view == TimeView(as_of=19793 * DAY - 1, since=19754 * DAY, until=19783 * DAY)  # 2024-03-10 end, 02-01, 03-01
    orders = next(table for table in plan.tables if table.name == "orders")
    assert {task.partition[2][1] for task in orders.files} == {f"{day:02d}" for day in range(1, 30)}  # only February's days
    assert sum(task.rows for task in orders.files) < _plan().tables[2].rows / 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "2024-03-01", "--until", "2024-02-01"), "is after --until"),
        (("--since", "2023-12-31"), "outside the dataset's range 2024-01-01..2024-03-31"),
        (("--until", "2024-04-01"), "end_date"),
        (("--as-of", "1969-12-31"), "before 1970"),
        (("--as-of", "yesterday"), "is not a date"),
        (("--since", "2024-02-01T10:00:00"), "takes a day"),
    ],
)
def test_bad_windows_are_one_line_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = run_cli("generate", "ecommerce", "-o", tmp_path / "out", "--scale", "0.0005", "--dry-run", *args)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output


SPEC = """
name: shop
tables:
  customers:
    rows: 100
    history: {key: [customer_id], created: signup, deleted: gone}
    columns:
      customer_id: {type: int64, gen: sequence, start: 1}
      signup: {type: date, gen: date, start: 2024-01-01, end: 2024-01-31}
      gone: {type: timestamp, gen: waiting_time, per_year: 2.0, hidden: true}
      email: {type: string, gen: template, template: "c{customer_id}@example.com", changes: {per_year: 1.0}}
  orders:
    time: {column: ts, start: 2024-01-01, end: 2024-01-31, per_day: 10}
    columns:
      order_id: {type: int64, gen: sequence, start: 1}
      ts: {type: timestamp, gen: event_time}
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("key: [customer_id]", "key: [nobody]", "history key 'nobody' is not a column of this table"),
        ("deleted: gone", "deleted: email", "history deleted 'email' must be a date or timestamp column"),
        ("start: 1}\n      signup", "start: 1, changes: {per_year: 1.0}}\n      signup", "a history key column cannot change"),
        ("order_id: {type: int64, gen: sequence, start: 1}", "order_id: {type: int64, gen: sequence, start: 1, changes: {per_year: 1.0}}", "gen sequence cannot take changes"),
        ("history: {key: [customer_id], ", "history: {", "needs history: {key: [...]}"),
        ("changes: {per_year: 1.0}}", "changes: {per_year: 1.0, step: {sigma: 0.1}}}", "a changes step multiplies the value"),
        ("changes: {per_year: 1.0}}", "changes: {p: 0.1}}", "changes needs per_year, or p, after and correction together"),
    ],
)
def test_history_misuse_is_a_located_one_line_error(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in SPEC
    path = tmp_path / "shop.yaml"
    path.write_text(SPEC.replace(old, new, 1))
    result = run_cli("validate-schema", path)
    assert result.exit_code == 2
    assert message in result.output and "shop.yaml:" in result.output, result.output


def test_a_spec_with_history_snapshots_and_soft_deletes(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SPEC.replace("hidden: true}", "}").replace("deleted: gone", "created: signup"))
    day = dt.date(2024, 1, 20)
    out = tmp_path / "out"
    assert run_cli("generate", "--schema-file", path, "-o", out, "--as-of", str(day), "-q").exit_code == 0
    customers = _table(out, "customers")
    # A soft delete is a visible column: null until its time, then the time (never after the as-of).
    assert scalar(f"SELECT count(*) FROM {customers} WHERE gone > TIMESTAMP '2024-01-21'") == 0
    assert scalar(f"SELECT count(*) FROM {customers} WHERE gone IS NOT NULL") > 0
    assert scalar(f"SELECT count(*) FROM {customers} WHERE signup > DATE '{day}'") == 0


AGGREGATES = """
name: probes
tables:
  days:
    time: {column: day, start: 2024-01-01, end: 2024-01-10, per_day: 3}
    history: {key: [day_id]}
    columns:
      day_id: {type: int64, gen: sequence, start: 1}
      day: {type: timestamp, gen: event_time}
      total: {type: float64, gen: children_agg, table: obs, column: value, agg: sum}
  obs:
    parent: {table: days, count: {distribution: fixed, value: 4}}
    history: {key: [obs_id]}
    columns:
      obs_id: {type: int64, gen: sequence, start: 1}
      value: {type: float64, gen: uniform, low: 1, high: 2, round: 2,
              changes: {p: 0.5, after: {median: 30, sigma: 0.5, max: 100}, correction: {missing: true}}}
"""


def test_late_corrections_keep_parents_aggregates_and_their_events(tmp_path: Path) -> None:
    path = tmp_path / "probes.yaml"
    path.write_text(AGGREGATES)
    runtime = plan_dataset(path, WriterOptions()).runtime
    end = range_bounds(runtime)[1]
    for days_back in range(1, 5):
        at = end - days_back * DAY
        exists, obs = snapshot(runtime, "obs", np.arange(120, dtype=np.int64), at)
        _, days = snapshot(runtime, "days", np.arange(30, dtype=np.int64), at)
        values = np.array(obs.column("value").to_pylist(), dtype=float)
        assert np.isnan(values[exists]).any()  # some readings are still missing, waiting for their correction
        # the parent's aggregate is the aggregate of its children as they stood then (nulls skipped)
        assert np.allclose(np.nansum(values.reshape(30, 4), axis=1), np.array(days.column("total").to_pylist(), dtype=float))
        _, later = snapshot(runtime, "days", np.arange(30, dtype=np.int64), at + DAY)
        changed = np.flatnonzero(np.array(days.column("total").to_pylist()) != np.array(later.column("total").to_pylist()))
        assert np.isin(changed, event_rows(runtime, "days", at + 1, at + 1 + DAY)).all()
