"""Two identical runs into one output started together (two CLI processes): exactly one run's rows, never
both; the loser is refused with one line (exit 2) or skipped as already committed (exit 0). Issue 12.4."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dataset_generator import create_writer
from dataset_generator.writers.duckdb_extensions import connect_duckdb

from helpers import read_table_rows

CLI = str(Path(sys.executable).parent / "dataset-generator")
ARGS = ["generate", "transactions", "--param", "rows=20000", "--file-rows-target", "2000", "--seed", "3", "-q"]


def rows_of(fmt: str, output: Path) -> int:
    if fmt == "parquet":
        con = connect_duckdb([])
        try:
            return int(con.execute(f"SELECT count(*) FROM read_parquet('{output}/transactions/**/*.parquet')").fetchone()[0])
        finally:
            con.close()
    con = connect_duckdb(["delta", "iceberg", "avro", "ducklake"])
    writer: Any = create_writer(fmt, output_uri=str(output))
    try:
        return len(read_table_rows(con, writer, "transactions"))
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["delta", "iceberg", "ducklake", "parquet"])
def test_two_concurrent_identical_runs_give_one_runs_rows(tmp_path: Path, fmt: str) -> None:
    command = [CLI, *ARGS, "--format", fmt, "-o", str(tmp_path)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(process.wait(timeout=300), process.communicate()[1]) for process in processes]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results
    for code, stderr in results:
        if code == 2:
            # The loser found the winner's commit, or (plain files) the winner still holding the table's lock.
            refused = "already exists" in stderr or (fmt == "parquet" and "is being written by another run" in stderr)
            assert len(stderr.strip().splitlines()) == 1 and refused, stderr
    assert rows_of(fmt, tmp_path) == 20000
    if fmt == "delta":
        assert len(list((tmp_path / "transactions" / "_delta_log").glob("*.json"))) == 1
    if fmt == "iceberg":
        writer: Any = create_writer(fmt, output_uri=str(tmp_path))
        assert len(writer.catalog.load_table((writer.namespace, "transactions")).snapshots()) == 1
    if fmt == "parquet":
        return  # its file names carry no run id; the lock serialises the two runs
    # The loser's files were removed: every data file on disk belongs to the one commit.
    data_files = sorted(tmp_path.rglob("*.parquet"))
    run_ids = {path.name.split("-", 2)[-1] for path in data_files}
    assert len(run_ids) == 1, run_ids
