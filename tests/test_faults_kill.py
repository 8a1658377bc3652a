"""kill -9 and Ctrl-C at the points where a crash matters, then the same command again: the data is exactly
that of a clean run, committed once, and no table ever looks committed without its data.

Points: random instants while files are being written, just before and just after each table's commit
(`DATASET_GENERATOR_FAULT`, dataset_generator/faults.py), for every table format. The kill hits the whole
process group, as a terminal's Ctrl-C or an OOM killer would.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dataset_generator import create_writer
from dataset_generator.writers.duckdb_extensions import connect_duckdb

from helpers import read_table_rows

CLI = str(Path(sys.executable).parent / "dataset-generator")
FORMATS = ["parquet", "delta", "iceberg", "ducklake"]
TABLES = ["customers", "orders", "order_items"]
# Two weeks of orders (29 files in three tables, daily partitions): every commit point is there, in ~3 s a run.
ARGS = ["generate", "ecommerce", "--scale", "0.001", "--file-rows-target", "5000", "--tables", ",".join(TABLES), "--seed", "5",
        "--param", "end_date=2024-01-14"]  # fmt: skip


def command(fmt: str, output: Path) -> list[str]:
    return [CLI, *ARGS, "--format", fmt, "-o", str(output), "-q"]


def _default_sigint() -> None:
    """In the child: SIGINT does what Ctrl-C does. A suite started in the background (`cmd &`, nohup) has SIGINT
    ignored, the child would inherit that, and an interrupt test would then prove nothing (the run goes on)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(fmt: str, output: Path, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATASET_GENERATOR_FAULT": fault} if fault else None
    return subprocess.run(command(fmt, output), capture_output=True, text=True, timeout=300, env=env, start_new_session=True,
                          preexec_fn=_default_sigint)  # fmt: skip


def read_rows(fmt: str, output: Path, con: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every committed table's rows, read by DuckDB; a table that is not committed is absent."""
    tables = {}
    for table in TABLES:
        if fmt == "parquet":
            if not (output / table / "_SUCCESS").exists():
                continue
            glob = output / table / "**" / "*.parquet"
            tables[table] = con.execute(f"SELECT * FROM read_parquet('{glob}', hive_partitioning=false) ORDER BY ALL").fetchall()
            continue
        if fmt == "delta" and not list((output / table / "_delta_log").glob("*.json")):
            continue  # no log entry: not committed (DuckDB says "No files in log segment")
        writer: Any = create_writer(fmt, output_uri=str(output))
        if fmt == "iceberg" and not _iceberg_has_snapshot(writer, table):
            continue
        reader = connect_duckdb(["ducklake"]) if fmt == "ducklake" else con  # closed: no lock left on the lake
        try:
            tables[table] = read_table_rows(reader, writer, table)
        except Exception as exc:  # not created or not committed: absent (a half-committed table fails below)
            if "does not exist" in str(exc).lower() or "not found" in str(exc).lower() or "no such" in str(exc).lower():
                continue
            raise
        finally:
            if reader is not con:
                reader.close()
    return tables


def _iceberg_has_snapshot(writer: Any, table: str) -> bool:
    from pyiceberg.exceptions import NoSuchTableError

    if not (Path(writer.output_uri) / "_catalog").exists():
        return False
    try:
        return writer.catalog.load_table((writer.namespace, table)).current_snapshot() is not None
    except NoSuchTableError:
        return False


def commits_of(fmt: str, output: Path, table: str) -> int:
    if fmt == "parquet":
        return 1 if (output / table / "_SUCCESS").exists() else 0
    if fmt == "delta":
        return len(list((output / table / "_delta_log").glob("*.json")))
    writer: Any = create_writer(fmt, output_uri=str(output))
    if fmt == "iceberg":
        return len(writer.catalog.load_table((writer.namespace, table)).snapshots())
    return -1  # DuckLake: checked through the rows (one commit per run is the writer's own test)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    found = {}
    con = connect_duckdb(["delta", "iceberg", "avro", "ducklake"])
    for fmt in FORMATS:
        out = tmp_path_factory.mktemp(f"reference-{fmt}")
        completed = run(fmt, out)
        assert completed.returncode == 0, completed.stderr
        found[fmt] = read_rows(fmt, out, con)
        assert set(found[fmt]) == set(TABLES)
    con.close()
    return found


def check_after_crash_and_rerun(fmt: str, out: Path, reference: dict[str, list[tuple[Any, ...]]], duckdb_con: Any) -> None:
    # Whatever the crash left: a table is either absent or complete, never committed without its data.
    for table, rows in read_rows(fmt, out, duckdb_con).items():
        assert rows == reference[table], f"{fmt} {table}: committed with the wrong rows after the crash"
    again = run(fmt, out)
    assert again.returncode == 0, again.stderr
    assert read_rows(fmt, out, duckdb_con) == reference
    for table in TABLES:
        assert commits_of(fmt, out, table) in (1, -1), f"{fmt} {table}: more than one commit"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("point", "action"),
    [("commit.before:orders", "kill"), ("commit.after:customers", "kill"), ("commit.after:order_items", "kill"),
     ("commit.after:customers", "int")],
)  # fmt: skip
def test_crash_at_a_commit_point_then_rerun(
    tmp_path: Path, fmt: str, point: str, action: str, reference: dict[str, Any], duckdb_con: Any
) -> None:
    crashed = run(fmt, tmp_path, f"{point}@{action}")
    assert crashed.returncode == (-signal.SIGKILL if action == "kill" else 130), crashed.stderr
    if action == "int":
        assert len(crashed.stderr.strip().splitlines()) == 1 and "interrupted" in crashed.stderr
        if point.startswith("commit.after"):
            assert "committed before the interrupt: customers" in crashed.stderr
    check_after_crash_and_rerun(fmt, tmp_path, reference[fmt], duckdb_con)


TABLE_FORMATS = ["delta", "iceberg", "ducklake"]


@pytest.mark.parametrize("fmt", TABLE_FORMATS)
@pytest.mark.parametrize("action", ["kill", "int", "raise"])
@pytest.mark.parametrize("where", ["before-commit", "after-commit"])
def test_crash_inside_a_format_commit_then_rerun(
    tmp_path: Path, fmt: str, where: str, action: str, reference: dict[str, Any], duckdb_con: Any
) -> None:
    """Inside the writer's commit of `orders`: just before the format's durable point, or just after it
    landed (before `commit` returned). After it, the table is committed and readable, whatever happens."""
    crashed = run(fmt, tmp_path, f"{fmt}.{where}:orders@{action}")
    # Ctrl-C inside the writer's commit is held until the commit returns: the commit lands either way.
    landed = where == "after-commit" or action == "int"
    if action == "kill":
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    elif action == "int":
        assert crashed.returncode == 130, crashed.stderr
        assert len(crashed.stderr.strip().splitlines()) == 1 and "interrupted" in crashed.stderr
        done = "customers, orders" if landed else "customers"
        assert f"committed before the interrupt: {done}" in crashed.stderr, crashed.stderr
    elif landed:  # an error after the durable point is swallowed: the run goes on and succeeds
        assert crashed.returncode == 0, crashed.stderr
    else:
        assert crashed.returncode != 0, crashed.stderr
        assert len(crashed.stderr.strip().splitlines()) == 1, crashed.stderr
    found = read_rows(fmt, tmp_path, duckdb_con)
    if landed:
        assert found.get("orders") == reference[fmt]["orders"], f"{fmt}: orders committed without its data"
    else:
        assert "orders" not in found
    check_after_crash_and_rerun(fmt, tmp_path, reference[fmt], duckdb_con)


@pytest.mark.parametrize("fmt", FORMATS)
def test_kill_of_the_process_group_at_random_instants_then_rerun(
    tmp_path: Path, fmt: str, reference: dict[str, Any], duckdb_con: Any
) -> None:
    chance = random.Random(f"kill-{fmt}")
    for attempt in range(3):
        out = tmp_path / f"attempt-{attempt}"
        process = subprocess.Popen(command(fmt, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                   preexec_fn=_default_sigint)  # fmt: skip
        time.sleep(chance.uniform(0.3, 2.5))
        sig = signal.SIGKILL if attempt % 2 == 0 else signal.SIGINT
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.communicate(timeout=120)
        check_after_crash_and_rerun(fmt, out, reference[fmt], duckdb_con)
