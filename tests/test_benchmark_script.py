"""The benchmark suite still runs (tiny sizes; its numbers are never asserted: timing belongs to the script)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_suite_runs_and_prints_its_table(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--size", "tiny", "--only", "transactions", "--scratch", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    table = [line for line in completed.stdout.splitlines() if line.startswith("| ")]
    assert table[0].split("|")[1].strip() == "case"
    assert len(table) == 1 + 9  # header, then 2 references, 4 codec runs, 1 single-worker, 1 threads and 1 null run
    assert "vs hand-written numpy+pyarrow" in completed.stdout
