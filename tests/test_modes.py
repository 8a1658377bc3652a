"""Modes error/overwrite/append, and failed runs that leave nothing looking complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataset_generator import GenerationFailed, WriterError, WriterOptions, create_writer, generate
from dataset_generator.writers.parquet import ParquetWriter

from helpers import parquet_glob, run_cli, scalar

ARGS = ("generate", "transactions", "--param", "rows=5000", "--workers", "1")


def count(root: Path) -> int:
    return scalar(f"select count(*) from read_parquet('{parquet_glob(root, 'transactions')}')")


def data_files(root: Path) -> list[Path]:
    return sorted((root / "transactions").rglob("*.parquet"))


def test_error_mode_refuses_an_existing_table(tmp_path: Path) -> None:
    assert run_cli(*ARGS, "-o", tmp_path).exit_code == 0
    result = run_cli(*ARGS, "-o", tmp_path, "--seed", "1")  # another run: the identical one is skipped
    assert result.exit_code == 2
    assert "already exists" in result.output and "--mode overwrite" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_overwrite_leaves_no_stale_files(tmp_path: Path) -> None:
    assert run_cli(*ARGS, "-o", tmp_path, "--file-rows-target", "1000").exit_code == 0
    assert len(data_files(tmp_path)) == 5
    assert run_cli(*ARGS, "-o", tmp_path, "--file-rows-target", "2500", "--mode", "overwrite", "--seed", "1").exit_code == 0
    # Run-unique names: the new files never replaced a live one, the old ones went after the new _SUCCESS.
    names = [path.name for path in data_files(tmp_path)]
    assert [name.split("-")[:2] for name in names] == [["part", "00000"], ["part", "00001"]]
    marker = json.loads((tmp_path / "transactions" / "_SUCCESS").read_text())
    assert marker["data_files"] == names and all(marker["run_id"] in name for name in names)
    assert count(tmp_path) == 5000
    assert not (tmp_path / "_staging").exists()


def test_append_adds_files_and_doubles_rows(tmp_path: Path) -> None:
    assert run_cli(*ARGS, "-o", tmp_path).exit_code == 0
    assert run_cli(*ARGS, "-o", tmp_path, "--mode", "append").exit_code == 0
    assert count(tmp_path) == 10_000
    assert len(data_files(tmp_path)) == 2


class FailingParquetWriter(ParquetWriter):
    """Fails once the third file (file index 2) is on disk, whichever worker writes it."""

    def write_file(self, handle, partition, file_index, batches, *, only_file=False):  # type: ignore[no-untyped-def]
        info = super().write_file(handle, partition, file_index, batches, only_file=only_file)
        if file_index == 2:
            raise OSError("disk full (injected)")
        return info


@pytest.mark.parametrize(("workers", "worker_type"), [(1, "thread"), (2, "thread"), (2, "process")])
def test_failed_run_leaves_nothing_complete_and_rerun_works(tmp_path: Path, workers: int, worker_type: str) -> None:
    writer = FailingParquetWriter(str(tmp_path), options=WriterOptions(file_rows_target=1000))
    with pytest.raises(GenerationFailed, match="disk full"):
        generate("transactions", writer, params={"rows": 5000}, workers=workers, worker_type=worker_type)
    assert not (tmp_path / "transactions" / "_SUCCESS").exists()
    assert data_files(tmp_path) == []
    assert not (tmp_path / "_staging").exists()
    # the same command again just works
    assert run_cli(*ARGS, "-o", tmp_path).exit_code == 0
    assert count(tmp_path) == 5000


def test_leftovers_of_a_killed_run_are_cleared_in_error_mode(tmp_path: Path) -> None:
    staging = tmp_path / "_staging" / "transactions" / "20240101T000000-deadbeef"
    staging.mkdir(parents=True)
    (staging / "_RUN").write_text('{"table": "transactions", "mode": "error"}')
    (staging / "part-00000.parquet").write_bytes(b"half a file")
    assert run_cli(*ARGS, "-o", tmp_path).exit_code == 0
    assert not (tmp_path / "_staging").exists()
    assert count(tmp_path) == 5000


def test_a_foreign_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "transactions").mkdir()
    (tmp_path / "transactions" / "notes.txt").write_text("mine")
    result = run_cli(*ARGS, "-o", tmp_path)
    assert result.exit_code == 2 and "not written by dataset-generator" in result.output
    assert (tmp_path / "transactions" / "notes.txt").exists()


def test_append_to_an_incomplete_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "transactions").mkdir()
    (tmp_path / "transactions" / "part-00000.parquet").write_bytes(b"x")
    with pytest.raises(WriterError, match="incomplete"):
        generate("transactions", create_writer("parquet", output_uri=str(tmp_path), options=WriterOptions(mode="append")), params={"rows": 10})


@pytest.mark.parametrize("worker_type", ["thread", "process"])
def test_ctrl_c_stops_cleanly_and_commits_nothing(tmp_path: Path, worker_type: str) -> None:
    """SIGINT to the whole process group, as a terminal's Ctrl-C does, while workers are writing."""
    import os
    import signal
    import subprocess
    import sys
    import time

    command = [
        str(Path(sys.executable).parent / "dataset-generator"), "generate", "transactions", "-o", str(tmp_path),
        "--param", "rows=20000000", "--file-rows-target", "200000", "--workers", "2", "--worker-type", worker_type,
    ]
    # SIGINT as Ctrl-C gives it, even when the suite runs in the background (`cmd &` leaves SIGINT ignored).
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    staging = tmp_path / "_staging" / "transactions"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(staging.rglob("*.parquet")):
        time.sleep(0.05)
    assert list(staging.rglob("*.parquet")), "the run never started writing"
    os.killpg(process.pid, signal.SIGINT)
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["error: interrupted; nothing was committed"]
    assert not (tmp_path / "transactions" / "_SUCCESS").exists()
    assert data_files(tmp_path) == []
    assert not (tmp_path / "_staging").exists()
