"""File tables (Parquet, CSV, JSON lines) touch only files they can prove are their own, stage outside the
table's glob, publish overwrites without a mixed committed state, serialise concurrent runs, and clear the
leftovers of crashed runs (issue 12, items 2 and 3)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from dataset_generator import S3Config, WriterError, WriterOptions, create_writer, generate

from helpers import run_cli, scalar

ARGS = ("generate", "transactions", "--workers", "1")


def count(root: Path, table: str = "transactions") -> int:
    return scalar(f"select count(*) from read_parquet('{root}/{table}/**/*.parquet')")


def user_files(table_dir: Path) -> None:
    table_dir.mkdir(parents=True)
    (table_dir / "my_2023_export.parquet").write_bytes(b"the user's own export")
    (table_dir / ".env").write_text("SECRET=1\n")


def test_a_table_directory_with_the_users_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    user_files(lake / "transactions")
    result = run_cli(*ARGS, "-o", lake, "--param", "rows=1000")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "not written by dataset-generator" in lines[0] and "overwrite" in lines[0]
    assert (lake / "transactions" / "my_2023_export.parquet").read_bytes() == b"the user's own export"
    assert (lake / "transactions" / ".env").read_text() == "SECRET=1\n"
    assert sorted(path.name for path in (lake / "transactions").iterdir()) == [".env", "my_2023_export.parquet"]
    # append is refused too (no complete table there)
    assert run_cli(*ARGS, "-o", lake, "--param", "rows=1000", "--mode", "append").exit_code == 2
    assert (lake / "transactions" / "my_2023_export.parquet").exists()


def test_overwrite_removes_only_files_of_its_format_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lake = tmp_path / "lake"
    user_files(lake / "transactions")
    (lake / "transactions" / "README.md").write_text("notes")
    writer = create_writer("parquet", output_uri=str(lake), options=WriterOptions(mode="overwrite"))
    with caplog.at_level("WARNING", logger="dataset_generator.writers"):
        generate("transactions", writer, params={"rows": 1000}, workers=1)
    assert "removed 1 file(s) it had not written: my_2023_export.parquet" in caplog.text
    kept = sorted(path.name for path in (lake / "transactions").iterdir())
    assert kept[:3] == [".env", "README.md", "_SUCCESS"] and len(kept) == 4
    assert kept[3].startswith("part-00000-") and kept[3].endswith(".parquet")  # run-unique: it replaced files
    assert count(lake) == 1000


def test_a_table_named_docs_keeps_the_docs(tmp_path: Path) -> None:
    """A user spec whose table is called `docs`, written over a copy of a project: overwrite keeps the *.md."""
    spec = tmp_path / "docs.yaml"
    spec.write_text(
        textwrap.dedent(
            """
            name: notes
            tables:
              docs:
                rows: 50
                columns:
                  id: {type: int64, gen: sequence}
            """
        )
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# guide")
    result = run_cli("generate", "--schema-file", spec, "-o", tmp_path, "--mode", "overwrite", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "docs" / "guide.md").read_text() == "# guide"
    assert count(tmp_path, "docs") == 50


def test_success_lists_the_tables_files_and_append_extends_it(tmp_path: Path) -> None:
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=3000", "--file-rows-target", "1000").exit_code == 0
    marker = json.loads((tmp_path / "transactions" / "_SUCCESS").read_text())
    assert marker["data_files"] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=1000", "--mode", "append").exit_code == 0
    marker = json.loads((tmp_path / "transactions" / "_SUCCESS").read_text())
    assert len(marker["data_files"]) == 4 and sum(marker["run_id"] in name for name in marker["data_files"]) == 1
    on_disk = sorted(str(p.relative_to(tmp_path / "transactions")) for p in (tmp_path / "transactions").rglob("*.parquet"))
    assert on_disk == marker["data_files"] and count(tmp_path) == 4000


CRASHER = """
import os, sys
from dataset_generator import WriterOptions, generate
from dataset_generator.writers.parquet import ParquetWriter
from dataset_generator.writers import file_runs

class Crash(ParquetWriter):
    def write_file(self, handle, partition, file_index, batches, *, only_file=False):
        info = super().write_file(handle, partition, file_index, batches, only_file=only_file)
        if sys.argv[3] == "write" and file_index == 3:
            os._exit(9)  # kill -9 while writing
        return info

if sys.argv[3] == "commit":  # kill -9 inside the commit: files published, _SUCCESS not yet written
    original = file_runs.Manifest.to_bytes
    file_runs.Manifest.to_bytes = lambda self: os._exit(9)
writer = Crash(sys.argv[1], options=WriterOptions(file_rows_target=1000, mode=sys.argv[2]))
generate("transactions", writer, params={"rows": 5000}, seed=7, workers=1)
"""


def crash(tmp_path: Path, mode: str, where: str) -> None:
    done = subprocess.run([sys.executable, "-c", CRASHER, str(tmp_path), mode, where], capture_output=True, timeout=120)
    assert done.returncode == 9, done.stderr


@pytest.mark.parametrize("where", ["write", "commit"])
def test_a_crashed_overwrite_is_invisible_to_a_glob_reader_and_cleared_by_the_next_run(tmp_path: Path, where: str) -> None:
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=5000", "--file-rows-target", "1000").exit_code == 0
    before = sorted(p.name for p in (tmp_path / "transactions").rglob("*.parquet"))
    crash(tmp_path, "overwrite", where)
    # The committed manifest still names the old files, all intact.
    assert json.loads((tmp_path / "transactions" / "_SUCCESS").read_text())["data_files"] == before
    if where == "write":
        # Killed while writing: the table directory is as the committed run left it, so a glob reader sees
        # 5,000 rows, not 5,000 + staged (the leftovers are outside the table).
        assert sorted(p.name for p in (tmp_path / "transactions").rglob("*.parquet")) == before
        assert count(tmp_path) == 5000
    # (Killed inside the commit, between publishing and _SUCCESS, a glob reader sees both until the next run.)
    assert list((tmp_path / "_staging" / "transactions").iterdir())
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=5000", "--mode", "overwrite", "--seed", "1").exit_code == 0
    assert count(tmp_path) == 5000 and not (tmp_path / "_staging").exists()
    marker = json.loads((tmp_path / "transactions" / "_SUCCESS").read_text())
    assert sorted(str(p.relative_to(tmp_path / "transactions")) for p in (tmp_path / "transactions").rglob("*.parquet")) == marker["data_files"]


def test_a_crashed_append_then_a_good_append_gives_exactly_the_rows(tmp_path: Path) -> None:
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=5000").exit_code == 0
    crash(tmp_path, "append", "write")
    assert count(tmp_path) == 5000
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=5000", "--mode", "append").exit_code == 0
    assert count(tmp_path) == 10_000 and not (tmp_path / "_staging").exists()


def test_a_crash_inside_a_fresh_commit_is_rolled_back_by_the_rerun(tmp_path: Path) -> None:
    crash(tmp_path, "error", "commit")
    # Published but never committed: no _SUCCESS; the same command again clears them and writes the table.
    assert not (tmp_path / "transactions" / "_SUCCESS").exists()
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=5000", "--seed", "7", "--file-rows-target", "1000").exit_code == 0
    assert count(tmp_path) == 5000
    assert sorted(p.name for p in (tmp_path / "transactions").rglob("*.parquet")) == [f"part-0000{i}.parquet" for i in range(5)]


def lock(tmp_path: Path, pid: int, run_id: str = "20240101T000000-cafef00d") -> Path:
    path = tmp_path / "_staging" / "transactions" / "_LOCK"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run_id": run_id, "pid": pid, "host": socket.gethostname(), "started": time.time()}))
    return path


def test_a_concurrent_run_is_refused_with_one_line_and_a_dead_ones_lock_is_taken_over(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path = lock(tmp_path, sleeper.pid)
        result = run_cli(*ARGS, "-o", tmp_path, "--param", "rows=100")
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "being written by another run" in lines[0] and str(path) in lines[0]
        assert not (tmp_path / "transactions").exists() and path.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    # The holder is gone (same host, no such process): its lock is stale and the run proceeds.
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=100").exit_code == 0
    assert count(tmp_path) == 100 and not (tmp_path / "_staging").exists()


def test_two_overwrites_at_once_never_interleave(tmp_path: Path) -> None:
    """Two processes overwrite one table with different seeds: one wins or both run one after the other;
    the committed table is always exactly one run's files."""
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=20000", "--file-rows-target", "2000").exit_code == 0
    command = [str(Path(sys.executable).parent / "dataset-generator"), *ARGS, "-o", str(tmp_path), "--param", "rows=20000",
               "--file-rows-target", "2000", "--mode", "overwrite", "-q"]  # fmt: skip
    runs = [subprocess.Popen([*command, "--seed", str(seed)], stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    outcomes = [(run.wait(timeout=120), run.stderr.read() if run.stderr else "") for run in runs]
    assert any(code == 0 for code, _ in outcomes), outcomes
    for code, err in outcomes:
        assert code == 0 or "being written by another run" in err, err
    marker = json.loads((tmp_path / "transactions" / "_SUCCESS").read_text())
    on_disk = sorted(str(p.relative_to(tmp_path / "transactions")) for p in (tmp_path / "transactions").rglob("*.parquet"))
    assert on_disk == marker["data_files"] and all(marker["run_id"] in name for name in on_disk)
    assert count(tmp_path) == 20_000


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_text_formats_refuse_foreign_files_and_overwrite_only_their_own_format(tmp_path: Path, fmt: str) -> None:
    table = tmp_path / "transactions"
    table.mkdir()
    (table / "mine.csv").write_text("a\n1\n")
    (table / "mine.jsonl").write_text('{"a": 1}\n')
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=100", "--format", fmt).exit_code == 2
    assert run_cli(*ARGS, "-o", tmp_path, "--param", "rows=100", "--format", fmt, "--mode", "overwrite").exit_code == 0
    other = "mine.jsonl" if fmt == "csv" else "mine.csv"
    assert (table / other).exists() and not (table / f"mine.{fmt}").exists()


def test_on_s3_foreign_files_are_refused_and_nothing_is_left_in_staging(s3_server: Any, s3_bucket: str) -> None:
    config = S3Config(key=s3_server.key, secret=s3_server.secret, endpoint_url=s3_server.endpoint_url)
    client = s3_server.client()
    client.put_object(Bucket=s3_bucket, Key="lake/transactions/my_2023_export.parquet", Body=b"mine")
    writer = create_writer("parquet", output_uri=f"s3://{s3_bucket}/lake", s3=config)
    with pytest.raises(WriterError, match="not written by dataset-generator"):
        generate("transactions", writer, params={"rows": 100}, workers=1)
    assert s3_server.keys(s3_bucket) == ["lake/transactions/my_2023_export.parquet"]
    fresh = create_writer("parquet", output_uri=f"s3://{s3_bucket}/fresh", s3=config, options=WriterOptions(file_rows_target=40))
    generate("transactions", fresh, params={"rows": 100}, workers=1)
    keys = s3_server.keys(s3_bucket, "fresh/")
    assert keys == ["fresh/transactions/_SUCCESS"] + [f"fresh/transactions/part-0000{i}.parquet" for i in range(3)]
    marker = json.loads(client.get_object(Bucket=s3_bucket, Key="fresh/transactions/_SUCCESS")["Body"].read())
    assert marker["data_files"] == [f"part-0000{i}.parquet" for i in range(3)]


def test_on_s3_a_killed_run_is_cleared_by_the_rerun_through_its_markers(s3_server: Any, s3_bucket: str, tmp_path: Path) -> None:
    """Files go straight to their final keys on S3: the staging markers prove which ones a crashed run wrote."""
    script = CRASHER.replace(
        "writer = Crash(sys.argv[1],",
        "from dataset_generator import S3Config\nwriter = Crash(sys.argv[1], "
        f"s3=S3Config(key={s3_server.key!r}, secret={s3_server.secret!r}, endpoint_url={s3_server.endpoint_url!r}),",
    )
    output = f"s3://{s3_bucket}/crash"
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    done = subprocess.run([sys.executable, "-c", script, output, "error", "write"], capture_output=True, timeout=120, env=env)
    assert done.returncode == 9, done.stderr
    leftovers = s3_server.keys(s3_bucket, "crash/")
    assert any(key.startswith("crash/transactions/part-") for key in leftovers)
    assert any(key.startswith("crash/_staging/transactions/") for key in leftovers)
    config = S3Config(key=s3_server.key, secret=s3_server.secret, endpoint_url=s3_server.endpoint_url)
    writer = create_writer("parquet", output_uri=output, s3=config, options=WriterOptions(file_rows_target=1000))
    generate("transactions", writer, params={"rows": 5000}, seed=7, workers=1)
    keys = s3_server.keys(s3_bucket, "crash/")
    assert keys == ["crash/transactions/_SUCCESS"] + [f"crash/transactions/part-0000{i}.parquet" for i in range(5)]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "delta", "iceberg", "ducklake"])
def test_the_identical_run_again_is_skipped_and_another_refused(tmp_path: Path, fmt: str) -> None:
    """Each format records the run's fingerprint with its commit (`is_committed`): re-running the same command
    after a crash between two tables' commits skips what is done; a different run is still refused."""
    args = (*ARGS, "-o", tmp_path, "--param", "rows=300", "--format", fmt)
    assert run_cli(*args).exit_code == 0
    again = run_cli(*args)
    assert again.exit_code == 0, again.output
    other = run_cli(*args, "--seed", "9")
    assert other.exit_code == 2 and "already exists" in other.output


def test_discarding_a_parts_run_leaves_no_staging(tmp_path: Path) -> None:
    from dataset_generator.parts import commit_parts

    writer = create_writer("parquet", output_uri=str(tmp_path), options=WriterOptions(file_rows_target=100))
    generate("transactions", writer, params={"rows": 500}, parts=2, part=1, workers=1)
    assert list((tmp_path / "_staging" / "transactions").rglob("*.parquet"))
    commit_parts(create_writer("parquet", output_uri=str(tmp_path)), discard=True)
    assert list(tmp_path.iterdir()) == []
