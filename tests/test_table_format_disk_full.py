"""Disk full (a small tmpfs) under a table run: one line naming "no space left on device", exit code 1, the
old table intact, and the same run works once space is freed (issue 12.10). Skipped where tmpfs cannot be
mounted (not root, no CAP_SYS_ADMIN)."""

from __future__ import annotations

import contextlib
import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dataset_generator import create_writer
from dataset_generator.writers.duckdb_extensions import connect_duckdb

from helpers import read_table_rows

CLI = str(Path(sys.executable).parent / "dataset-generator")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24M", "tmpfs", str(mount)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def generate(fmt: str, output: Path, rows: int, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [CLI, "generate", "transactions", "--param", f"rows={rows}", "--file-rows-target", "5000", "--seed", "4",
               "--format", fmt, "-o", str(output), "-q", *extra]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def rows_of(fmt: str, output: Path) -> int:
    con = connect_duckdb(["delta", "iceberg", "avro", "ducklake"])
    try:
        if fmt == "parquet":
            return int(con.execute(f"SELECT count(*) FROM read_parquet('{output}/transactions/**/*.parquet')").fetchone()[0])
        writer: Any = create_writer(fmt, output_uri=str(output))
        return len(read_table_rows(con, writer, "transactions"))
    finally:
        con.close()


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte; the filler file is returned so the test can free the space."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as sink, contextlib.suppress(OSError):
        while True:
            sink.write(b"\0" * 65536)
    with open(filler, "ab", buffering=0) as sink, contextlib.suppress(OSError):
        while True:
            sink.write(b"\0")
    return filler


@pytest.mark.parametrize("fmt", ["delta", "iceberg", "ducklake", "parquet"])
def test_disk_full_keeps_the_old_table_and_says_so(small_disk: Path, fmt: str) -> None:
    output = small_disk / "out"
    first = generate(fmt, output, 2000)
    assert first.returncode == 0, first.stderr
    filler = fill(small_disk)
    failed = generate(fmt, output, 50000, "--mode", "overwrite")
    assert failed.returncode == 1, failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert "no space left on device" in failed.stderr.lower(), failed.stderr
    filler.unlink()
    assert rows_of(fmt, output) == 2000  # the old table is intact
    again = generate(fmt, output, 50000, "--mode", "overwrite")
    assert again.returncode == 0, again.stderr
    assert rows_of(fmt, output) == 50000


@pytest.mark.parametrize(
    "fmt",
    ["delta", "iceberg", pytest.param("ducklake", marks=pytest.mark.xfail(
        strict=False, reason="after ENOSPC at its COMMIT, DuckDB keeps the lake file locked in this process"))],
)  # fmt: skip
def test_disk_full_at_the_commit_itself(small_disk: Path, fmt: str) -> None:
    """The data files are written, then the disk fills before the format's commit: the commit fails with
    StorageFailure naming the full disk (not DuckDB's "no transaction is active"), the old table is intact."""
    from _duckdb_reader import transactions_by_partition, transactions_info, write_files

    from dataset_generator.errors import StorageFailure
    from dataset_generator.options import WriterOptions

    output = small_disk / "out"
    first: Any = create_writer(fmt, output_uri=str(output))
    old = first.open_table(transactions_info())
    first.commit(old, write_files(first, old, transactions_by_partition(2000)))
    writer: Any = create_writer(fmt, output_uri=str(output), options=WriterOptions(mode="overwrite"))
    handle = writer.open_table(transactions_info())
    files = write_files(writer, handle, transactions_by_partition(3000))
    filler = fill(small_disk)
    with pytest.raises(StorageFailure, match="no space left on device") as raised:
        writer.commit(handle, files)
    assert len(str(raised.value).splitlines()) == 1
    del raised  # its traceback holds the failed DuckDB connection, and with it the lake file's lock
    gc.collect()
    filler.unlink()
    writer.abort(handle, files)
    assert not any(Path(info.path).exists() for info in files)
    # Read in a fresh process: DuckDB refuses a second in-process attachment of the same lake file.
    script = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_table_format_disk_full as t; print(t.rows_of({fmt!r}, t.Path({str(output)!r})))"
    counted = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert counted.stdout.strip() == "2000", counted.stderr
