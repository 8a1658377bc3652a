"""The command line: listings, info, the seed-002 examples, and one clear line for every bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dataset_generator import S3Config, WriterOptions, create_writer, generate

from helpers import parquet_glob, run_cli, scalar


def test_list_datasets_and_formats() -> None:
    datasets = run_cli("list-datasets")
    assert datasets.exit_code == 0
    assert {line.split()[0] for line in datasets.output.splitlines()} >= {"ecommerce", "transactions"}
    formats = run_cli("list-formats")
    assert formats.exit_code == 0
    header, *rows = formats.output.splitlines()
    assert header.split()[:2] == ["format", "status"]
    status = {row.split()[0]: row.split()[1] for row in rows if row and not row.startswith(" ")}
    assert {"parquet", "csv", "jsonl", "delta", "iceberg", "ducklake", "null"} <= set(status)
    assert status["parquet"] == "installed" and status["null"] == "installed"


def test_info_describes_tables_columns_and_sizes() -> None:
    result = run_cli("info", "ecommerce", "--scale", "0.01")
    assert result.exit_code == 0, result.output
    assert "customers: 10,000 rows" in result.output
    assert "products: 500 rows" in result.output
    assert "partitioned by year/month/day" in result.output
    assert "order_ts           timestamp" in result.output


def test_dry_run_prints_the_plan(tmp_path: Path) -> None:
    result = run_cli("generate", "ecommerce", "-o", tmp_path / "out", "--scale", "0.001", "--dry-run")
    assert result.exit_code == 0
    assert "orders" in result.output and "91 partitions" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("generate", "nope", "-o", "{out}"), "unknown dataset 'nope'"),
        (("generate", "ecommerce", "-o", "{out}", "--format", "orc"), "unknown format 'orc'"),
        (("generate", "ecommerce", "-o", "{out}", "--compression", "zip"), "unknown compression 'zip'"),
        (("generate", "ecommerce", "-o", "{out}", "--compression", "snappy", "--compression-level", "3"), "takes no compression level"),
        (("generate", "ecommerce", "-o", "{out}", "--compression", "zstd", "--compression-level", "99"), "must be in 1..22"),
        (("generate", "ecommerce", "-o", "{out}", "--param", "colour=red"), "unknown parameter 'colour'"),
        (("generate", "ecommerce", "-o", "{out}", "--param", "customers=many"), "must be a int"),
        (("generate", "ecommerce", "-o", "{out}", "--param", "customers=-5"), "must be >= 1"),
        (("generate", "ecommerce", "-o", "{out}", "--param", "nokeyvalue"), "expected KEY=VALUE"),
        (("generate", "ecommerce", "-o", "{out}", "--scale", "-1"), "--scale must be a positive number"),
        (("generate", "ecommerce", "-o", "{out}", "--scale", "abc"), "not a valid float"),
        (("generate", "ecommerce", "-o", "{out}", "--file-rows-target", "0"), "file_rows_target must be at least 1"),
        (("generate", "ecommerce", "-o", "{out}", "--workers", "0"), "workers must be >= 1"),
        (("generate", "ecommerce", "-o", "{out}", "--partition-by", "week"), "prefix of year,month,day"),
        (("generate", "ecommerce", "-o", "{file}"), "is not a directory"),
        (("generate", "ecommerce", "-o", "{out}", "--schema-file", "{missing}"), "does not exist"),
        (("generate", "ecommerce", "-o", "{out}", "--tables", "nope"), "unknown table 'nope'"),
        (("generate", "ecommerce", "-o", "{out}", "--tables", ",,,"), "name at least one table"),
        (("generate", "ecommerce", "-o", "{out}", "--chunk-rows", "0"), "--chunk-rows: must be at least 1"),
        (("generate", "ecommerce", "-o", "{out}", "--parts", "2"), "--parts and --part go together"),
        (("generate", "-o", "{out}"), "name a DATASET"),
        (("generate", "ecommerce"), "Missing option"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    (tmp_path / "a-file").write_text("x")
    values = {"out": str(tmp_path / "out"), "file": str(tmp_path / "a-file"), "missing": str(tmp_path / "missing.yaml")}
    result = run_cli(*(arg.format(**values) for arg in args))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_console_script_runs_the_docs_example(tmp_path: Path) -> None:
    """Seed 002's CLI example, through the installed console script."""
    out = tmp_path / "ecommerce-data"
    completed = subprocess.run(
        [Path(sys.executable).parent / "dataset-generator", "generate", "ecommerce", "--format", "parquet", "--output", str(out),
         "--compression", "snappy", "--file-rows-target", "250000", "--scale", "0.001"],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "total" in completed.stdout
    # 1,000 customers planned, a few percent of whom closed their account by the range end (history.deleted)
    assert 900 < scalar(f"select count(*) from read_parquet('{parquet_glob(out, 'customers')}')") < 1000
    # The same run again (defaults spelled out or not): every table is already committed by it, so nothing to do.
    again = subprocess.run(
        [Path(sys.executable).parent / "dataset-generator", "generate", "ecommerce", "--output", str(out), "--scale", "0.001"],
        capture_output=True, text=True, timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert "skipped, already committed by an identical run: customers, products, orders, order_items" in again.stdout
    # Another run into the same output is refused: one line, exit 2.
    failed = subprocess.run(
        [Path(sys.executable).parent / "dataset-generator", "generate", "ecommerce", "--output", str(out), "--scale", "0.001",
         "--seed", "7"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
    assert "already exists" in failed.stderr and "--mode overwrite" in failed.stderr


def test_seed_002_python_snippets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python API calls of the user's Parquet page, unchanged, then passed to generate."""
    monkeypatch.chdir(tmp_path)
    writer = create_writer(
        "parquet",
        output_uri="./data",
        options=WriterOptions(
            file_rows_target=250_000,    # Target rows per file
            compression="snappy",        # Compression codec
        ),
    )
    summary = generate("ecommerce", writer, scale=0.001, workers=1)
    assert {table.name for table in summary.tables} == {"customers", "products", "orders", "order_items"}
    assert (tmp_path / "data" / "customers" / "customers.parquet").is_file()
    assert (tmp_path / "data" / "orders" / "year=2024" / "month=01" / "day=01" / "part-00000.parquet").is_file()
    assert summary.rows == scalar(
        "select (select count(*) from read_parquet('data/customers/*.parquet')) + (select count(*) from read_parquet('data/products/*.parquet'))"
        " + (select count(*) from read_parquet('data/orders/**/*.parquet')) + (select count(*) from read_parquet('data/order_items/**/*.parquet'))"
    )
    # The other documented constructions build without error.
    create_writer("parquet", output_uri="./data2", options=WriterOptions(file_rows_target=500_000, compression="snappy"))
    WriterOptions(file_rows_target=1_000_000, compression="zstd")
    WriterOptions(file_rows_target=50_000, compression="snappy")
    WriterOptions(compression="gzip")
    config = S3Config(uri="s3://bucket", key="access-key", secret="secret-key", endpoint_url="https://minio.example.com")
    assert "secret-key" not in repr(config)


def test_progress_bars_on_a_terminal_only(tmp_path: Path) -> None:
    import os
    import pty

    leader, follower = pty.openpty()
    command = [Path(sys.executable).parent / "dataset-generator", "generate", "ecommerce", "-o", str(tmp_path / "tty"), "--scale", "0.0005"]
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=follower, text=True, timeout=300)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert completed.returncode == 0
    lines = shown.decode().replace("\r\n", "\n").split("\r")
    assert any("orders" in line and "100%" in line and "[" + "#" * 24 + "]" in line for line in lines)
    piped = subprocess.run(command[:-4] + ["-o", str(tmp_path / "pipe"), "--scale", "0.0005"], capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0 and piped.stderr == ""
