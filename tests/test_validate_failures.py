"""`validate` fails, naming the problem, when the output differs from its plan: a data file deleted, rows added
by another writer, a table left uncommitted, staged or unknown files, a declared check violated, another
codec or file size; the CLI exits 0, 1 or 2; and an S3 output is read over httpfs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_validate import OPTIONS, RUNS, check, write

from dataset_generator import S3Config, WriterOptions, create_writer, generate, plan_dataset, validate

from helpers import run_cli

ECOMMERCE = ["ecommerce", "--scale", "0.001", "--param", "end_date=2024-01-04"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One good run per format, copied by each test before it damages it."""
    root = tmp_path_factory.mktemp("pristine")
    return {name: write("ecommerce", name, root / name).output_uri for name in ("parquet", "csv", "delta")}


def copy_of(pristine: dict[str, Path], format_name: str, tmp_path: Path) -> tuple[Path, Any]:
    out = tmp_path / format_name
    shutil.copytree(pristine[format_name], out)
    return out, create_writer(format_name, output_uri=str(out), options=OPTIONS)


def failures(report: Any) -> dict[str, str]:
    return {item.name: item.detail for item in report.failures}


def first_file(directory: Path, pattern: str = "*.parquet") -> Path:
    return sorted(path for path in directory.rglob(pattern) if "_delta_log" not in path.parts)[0]


def test_a_deleted_data_file_is_named(pristine: dict[str, Path], tmp_path: Path) -> None:
    out, writer = copy_of(pristine, "parquet", tmp_path)
    victim = first_file(out / "orders")
    victim.unlink()
    failed = failures(check("ecommerce", writer))
    assert "1 missing (year=2024/month=01/day=01/part-00000.parquet)" in failed["orders.files"]
    assert "orders.rows" in failed and "orders.partitions" in failed


def test_rows_added_by_another_writer_are_found(pristine: dict[str, Path], tmp_path: Path) -> None:
    out, writer = copy_of(pristine, "parquet", tmp_path)
    source = first_file(out / "orders")
    extra = source.with_name("extra-from-duckdb.parquet")
    duckdb.execute(
        f"COPY (SELECT * FROM read_parquet('{source}', hive_partitioning = false) LIMIT 1) TO '{extra}' "
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    failed = failures(check("ecommerce", writer))
    assert "1 stray" in failed["orders.files"] and "extra-from-duckdb.parquet" in failed["orders.files"]
    assert "the plan has" in failed["orders.rows"]
    assert "1 duplicates" in failed["orders.key(order_id)"]


def test_a_delta_append_by_another_writer_is_found(pristine: dict[str, Path], tmp_path: Path) -> None:
    deltalake = pytest.importorskip("deltalake")
    out, writer = copy_of(pristine, "delta", tmp_path)
    table = deltalake.DeltaTable(str(out / "orders")).to_pyarrow_table()
    deltalake.write_deltalake(str(out / "orders"), table.slice(0, 1), mode="append")
    report = check("ecommerce", writer)
    failed = failures(report)
    assert "Delta version 1" in {item.name: item.detail for item in report.checks}["orders.committed"]
    assert "orders.rows" in failed and "orders.key(order_id)" in failed
    assert "orders.files" not in failed  # the log lists the appended file: nothing stray, only too many rows


def test_a_deleted_delta_file_is_named(pristine: dict[str, Path], tmp_path: Path) -> None:
    out, writer = copy_of(pristine, "delta", tmp_path)
    first_file(out / "order_items").unlink()
    failed = failures(check("ecommerce", writer))
    assert "1 missing" in failed["order_items.files"]
    assert failed["order_items.rows"].startswith("cannot read the table: IO Error")


def test_a_deleted_ducklake_file_is_named(tmp_path: Path) -> None:
    # Written in place: a DuckLake keeps its absolute DATA_PATH, so a copy would still read the original's files.
    writer = write("ecommerce", "ducklake", tmp_path / "lake")
    first_file(tmp_path / "lake" / "data" / "main" / "customers").unlink()
    failed = failures(check("ecommerce", writer))
    assert "1 missing" in failed["customers.files"]


def test_a_table_left_uncommitted_is_named(pristine: dict[str, Path], tmp_path: Path) -> None:
    out, writer = copy_of(pristine, "parquet", tmp_path)
    (out / "order_items" / "_SUCCESS").unlink()
    report = check("ecommerce", writer)
    assert [item.name for item in report.failures] == ["order_items.committed"]
    assert "no _SUCCESS" in report.failures[0].detail


def test_staged_and_unknown_files_are_named(pristine: dict[str, Path], tmp_path: Path) -> None:
    out, writer = copy_of(pristine, "csv", tmp_path)
    staged = out / "customers" / "_temporary" / "20240101T000000-deadbeef" / "customers.csv.zst"
    staged.parent.mkdir(parents=True)
    staged.write_bytes(b"")
    crashed = out / "_staging" / "orders" / "20240101T000000-deadbeef" / "part-00000.csv.zst"  # a crashed run's file
    crashed.parent.mkdir(parents=True)
    crashed.write_bytes(b"")
    (out / "products" / "notes.txt").write_text("mine")
    (out / "_manifests" / "run").mkdir(parents=True)
    (out / "_manifests" / "run" / "part-00001-of-00002.json").write_text("{}")
    failed = failures(check("ecommerce", writer))
    assert "1 staged or partial (_temporary/20240101T000000-deadbeef/customers.csv.zst)" in failed["customers.files"]
    assert "1 unknown (notes.txt)" in failed["products.files"]
    assert f"1 staged or partial ({crashed})" in failed["orders.files"]
    assert "1 staged files left at the output root" in failed["output.staging"]


def test_a_violated_check_is_named(pristine: dict[str, Path], tmp_path: Path) -> None:
    out, writer = copy_of(pristine, "parquet", tmp_path)
    path = first_file(out / "order_items")
    edited = path.with_name("edited.tmp")
    duckdb.execute(
        f"COPY (SELECT * REPLACE (CASE WHEN order_item_id = 1 THEN line_total + 1 ELSE line_total END AS line_total) "
        f"FROM read_parquet('{path}', hive_partitioning = false)) TO '{edited}' (FORMAT parquet, COMPRESSION zstd)"
    )
    edited.replace(path)
    report = check("ecommerce", writer)
    failed = failures(report)
    # The line-total formula of order_items and the order's total of orders (the 4th check of each).
    assert set(failed) == {"order_items.check[4]", "orders.check[4]"}, report.table()
    assert "abs(line_total - ROUND(qty * unit_price * (1 - discount), 2)) < 0.005: 1 rows violate it" in failed["order_items.check[4]"]
    assert '"order_item_id":1' in failed["order_items.check[4]"]


def test_codec_and_file_size_are_checked(pristine: dict[str, Path], tmp_path: Path) -> None:
    out = pristine["parquet"]
    run = RUNS["ecommerce"]
    other = WriterOptions(file_rows_target=200, compression="snappy")
    report = validate("ecommerce", create_writer("parquet", output_uri=str(out), options=other), scale=run["scale"], params=run["params"])
    failed = failures(report)
    assert failed["orders.codec"] == "column chunks ZSTD; asked for snappy"
    assert "files over 200 rows" in failed["order_items.file_rows"]


def test_cli_exit_codes(pristine: dict[str, Path], tmp_path: Path) -> None:
    good = run_cli("validate", pristine["parquet"], *ECOMMERCE, "--compression", "zstd", "--file-rows-target", "400")
    assert good.exit_code == 0, good.output
    assert good.output.strip().splitlines()[-1].startswith("all ")
    out, _writer = copy_of(pristine, "parquet", tmp_path)
    (out / "orders" / "_SUCCESS").unlink()
    bad = run_cli("validate", out, *ECOMMERCE, "--compression", "zstd", "--file-rows-target", "400")
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines()[-1] == f"1 of {len(good.output.strip().splitlines()) - 2} checks failed: orders.committed"
    assert run_cli("validate", out, "nosuch").exit_code == 2
    assert run_cli("validate", out, "ecommerce", "--format", "null").exit_code == 2
    assert run_cli("validate", out).exit_code == 2


def test_parquet_on_s3(s3_server: Any, s3_bucket: str) -> None:
    config = S3Config(key=s3_server.key, secret=s3_server.secret, endpoint_url=s3_server.endpoint_url)
    output = f"s3://{s3_bucket}/shop"
    writer = create_writer("parquet", output_uri=output, s3=config, options=OPTIONS)
    run = RUNS["ecommerce"]
    generate("ecommerce", writer, scale=run["scale"], params=run["params"], workers=1)
    report = check("ecommerce", writer)
    assert report.ok, report.table()
    key = next(key for key in s3_server.keys(s3_bucket, "shop/orders/") if key.endswith(".parquet"))
    s3_server.client().delete_object(Bucket=s3_bucket, Key=key)
    failed = failures(check("ecommerce", writer))
    assert "1 missing" in failed["orders.files"]
    flags = ["--s3-endpoint-url", s3_server.endpoint_url, "--s3-key", s3_server.key, "--s3-secret", s3_server.secret]
    result = run_cli("validate", output, *ECOMMERCE, "--compression", "zstd", "--file-rows-target", "400", *flags)
    assert result.exit_code == 1 and "orders.files" in result.output.splitlines()[-1]
    assert s3_server.secret not in result.output


def test_a_foreign_file_of_another_schema_is_named(pristine: dict[str, Path], tmp_path: Path) -> None:
    out, writer = copy_of(pristine, "parquet", tmp_path)
    source = first_file(out / "customers")
    extra = out / "customers" / "part-00009.parquet"
    duckdb.execute(f"COPY (SELECT customer_id, 'x' AS note FROM read_parquet('{source}') LIMIT 1) TO '{extra}' (FORMAT parquet)")
    failed = failures(check("ecommerce", writer))
    assert "1 stray, not in the commit (part-00009.parquet)" in failed["customers.files"]
    assert "customers.rows" in failed


def test_table_formats_left_uncommitted_are_named(tmp_path: Path) -> None:
    """Interrupted before the commit: an Iceberg table created in the catalog with no snapshot yet, a Delta
    table whose data files are there but whose log entry never landed."""
    writer = write("ecommerce", "iceberg", tmp_path / "ice")
    plan = plan_dataset("ecommerce", writer, scale=RUNS["ecommerce"]["scale"], params=RUNS["ecommerce"]["params"])
    info = next(table.info for table in plan.tables if table.name == "products")
    writer.catalog.drop_table((writer.namespace, "products"))
    # The table exists in the catalog with no snapshot, as a crashed run of an older version left it (open_table
    # no longer creates it: the table is created with its first snapshot).
    writer._stage_create(info).commit_transaction()  # type: ignore[attr-defined]
    failed = failures(check("ecommerce", writer))
    assert failed["products.committed"].startswith("no snapshot in ")
    delta = write("ecommerce", "delta", tmp_path / "delta")
    shutil.rmtree(tmp_path / "delta" / "customers" / "_delta_log")
    failed = failures(check("ecommerce", delta))
    assert failed["customers.committed"] == f"no Delta log in {tmp_path / 'delta' / 'customers'}/_delta_log"
    assert "stray" in failed["customers.files"]


@pytest.mark.parametrize("format_name", ["delta", "iceberg", "ducklake"])
def test_table_formats_on_s3(format_name: str, s3_server: Any, s3_bucket: str, tmp_path: Path) -> None:
    """delta_scan, iceberg_scan and a DuckLake DATA_PATH over httpfs, with the S3 settings of the run."""
    config = S3Config(key=s3_server.key, secret=s3_server.secret, endpoint_url=s3_server.endpoint_url)
    extra = {"iceberg": {"catalog_uri": f"sqlite:///{tmp_path}/catalog.db"}, "ducklake": {"metadata_uri": str(tmp_path / "lake.ducklake")}}
    writer = create_writer(format_name, output_uri=f"s3://{s3_bucket}/{format_name}", s3=config, options=OPTIONS, **extra.get(format_name, {}))
    run = RUNS["ecommerce"]
    generate("ecommerce", writer, scale=run["scale"], params=run["params"], workers=1)
    report = check("ecommerce", writer)
    assert report.ok, report.table()


def test_a_success_manifest_that_lists_its_files_is_used(pristine: dict[str, Path], tmp_path: Path) -> None:
    out, writer = copy_of(pristine, "parquet", tmp_path)
    table = out / "orders"
    files = sorted(str(path.relative_to(table)) for path in table.rglob("*.parquet"))
    marker = json.loads((table / "_SUCCESS").read_text())
    (table / "_SUCCESS").write_text(json.dumps({**marker, "data_files": files[1:]}))  # the commit does not list the first
    failed = failures(check("ecommerce", writer))
    assert failed["orders.files"] == f"1 stray, not in the commit ({files[0]})"


def test_a_check_cannot_read_outside_the_output(tmp_path: Path) -> None:
    """Checks are the spec's SQL: DuckDB may read only the output's files while they run."""
    secret = tmp_path / "secret.txt"
    secret.write_text("line\ntop-secret\n")
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        "name: tiny\n"
        "tables:\n"
        "  things:\n"
        "    rows: 10\n"
        "    columns:\n"
        "      thing_id: {type: int64, gen: sequence}\n"
        "    checks:\n"
        f"      - \"(SELECT count(*) FROM read_csv('{secret}')) >= 0\"\n"
        "checks:\n"
        f"  - \"SELECT * FROM read_csv('{secret}')\"\n"
    )
    writer = create_writer("parquet", output_uri=str(tmp_path / "out"))
    generate(spec, writer)
    report = validate(spec, writer)
    failed = failures(report)
    assert set(failed) == {"things.check[1]", "check[1]"}, report.table()
    assert all("Permission Error" in detail and "top-secret" not in detail for detail in failed.values())


@pytest.mark.parametrize("format_name", ["iceberg", "ducklake"])
def test_an_empty_output_is_uncommitted_and_left_as_it_was(format_name: str, tmp_path: Path) -> None:
    """No catalog or metadata yet: every table is reported uncommitted, and validate creates none."""
    (tmp_path / "out").mkdir()
    report = check("ecommerce", create_writer(format_name, output_uri=str(tmp_path / "out"), options=OPTIONS))
    assert "customers.committed" in failures(report)
    assert list((tmp_path / "out").iterdir()) == []
    result = run_cli("validate", tmp_path / "missing", *ECOMMERCE, "--format", format_name)
    assert result.exit_code == 2 and "does not exist" in result.output


def test_a_damaged_delta_log_is_named(pristine: dict[str, Path], tmp_path: Path) -> None:
    out, writer = copy_of(pristine, "delta", tmp_path)
    (out / "orders" / "_delta_log" / "00000000000000000001.json").write_text("garbage{\n")
    failed = failures(check("ecommerce", writer))
    assert failed["orders.committed"].startswith("cannot read its metadata: Invalid Input Error: Malformed JSON")
    assert "customers.committed" not in failed
