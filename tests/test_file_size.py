"""Size-targeted files (issue 17.5): `--file-size-target` derives rows per file from a pilot sample, so files land
near the target, the same way on every run, whatever the workers; `validate` checks such a run."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "dataset-generator")


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


def _files(output: Path, suffix: str) -> list[Path]:
    return sorted(output.rglob(f"*{suffix}"))


@pytest.mark.parametrize(
    ("fmt", "suffix", "target", "extra"),
    [
        ("parquet", ".parquet", 2_000_000, ["--compression", "zstd"]),
        ("parquet", ".parquet", 500_000, ["--compression", "snappy"]),  # files smaller than a row group
        ("csv", ".csv.gz", 1_000_000, ["--compression", "gzip"]),
    ],
)
def test_files_land_within_15_percent_of_the_target(tmp_path: Path, fmt: str, suffix: str, target: int, extra: list[str]) -> None:
    result = _run("generate", "transactions", "--param", "rows=400000", "--format", fmt, "--file-size-target", target,
                  *extra, "-o", tmp_path, "-q")  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = _files(tmp_path, suffix)
    assert len(files) >= 3
    for path in files[:-1]:
        assert abs(path.stat().st_size - target) <= 0.15 * target, (path.name, path.stat().st_size)
    assert files[-1].stat().st_size <= 1.15 * target


def test_size_targeted_runs_are_deterministic_across_workers(tmp_path: Path) -> None:
    digests = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        result = _run("generate", "ecommerce", "--scale", "0.002", "--file-size-target", "256KiB", "--workers", workers,
                      "--compression", "zstd", "-o", out, "-q")  # fmt: skip
        assert result.returncode == 0, result.stderr
        digests.append({str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in _files(out, ".parquet")})
    assert digests[0] == digests[1]
    assert len(digests[0]) > 4
    check = _run("validate", tmp_path / "w1", "ecommerce", "--scale", "0.002", "--file-size-target", "256KiB",
                 "--compression", "zstd")  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [("12XB", "is not a size"), ("1KB", "file_bytes_target must be at least"), ("abc", "is not a size")],
)
def test_bad_sizes_are_one_line_errors(tmp_path: Path, value: str, message: str) -> None:
    result = _run("generate", "transactions", "--param", "rows=1000", "--file-size-target", value, "-o", tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
