"""`validate` passes on every built-in dataset written in every format, at small sizes, and checks what it says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dataset_generator import PartitionSpec, WriterOptions, create_writer, generate, validate

# Small runs of every built-in dataset (a few days, a few thousand rows): the whole matrix stays near a minute.
RUNS: dict[str, dict[str, Any]] = {
    "ecommerce": {"scale": 0.001, "params": {"end_date": "2024-01-04"}},
    "transactions": {"scale": 1.0, "params": {"rows": 3000, "customers": 500, "end_date": "2024-01-31"}},
    "market": {"scale": 0.03, "params": {"symbols": "AAPL,MSFT,NVDA", "quotes_per_bar": 2}},
    "sensors": {"scale": 0.003, "params": {"end_date": "2024-01-04", "cadence_minutes": 30}},
    "weather": {"scale": 0.004, "params": {"end_date": "2024-01-05"}},
}
FORMATS = ["parquet", "csv", "jsonl", "delta", "iceberg", "ducklake"]
OPTIONS = WriterOptions(file_rows_target=400, compression="zstd")


def write(dataset: str, format_name: str, out: Path, options: WriterOptions = OPTIONS) -> Any:
    writer = create_writer(format_name, output_uri=str(out), options=options)
    run = RUNS[dataset]
    generate(dataset, writer, scale=run["scale"], params=run["params"], workers=1)
    return writer


def check(dataset: str, writer: Any, **overrides: Any) -> Any:
    run = {**RUNS[dataset], **overrides}
    return validate(dataset, writer, scale=run["scale"], params=run["params"], seed=run.get("seed", 42))


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("dataset", list(RUNS))
def test_validate_passes_on_every_dataset_in_every_format(dataset: str, format_name: str, tmp_path: Path) -> None:
    writer = write(dataset, format_name, tmp_path / "out")
    report = check(dataset, writer)
    assert report.ok, report.table()
    names = {item.name for item in report.checks}
    spec_tables = {item.name.split(".")[0] for item in report.checks if item.name.endswith(".committed")}
    for table in spec_tables:
        assert {f"{table}.committed", f"{table}.rows", f"{table}.files", f"{table}.file_rows", f"{table}.codec"} <= names
    # The declared checks ran (none skipped: every table is validated).
    declared = [item for item in report.checks if ".check[" in item.name or item.name.startswith("check[")]
    assert declared and all(item.ok and not item.skipped for item in declared), report.table()
    assert not [item for item in report.checks if item.skipped and not item.name.endswith(".partitions")], report.table()


def test_the_checks_are_real(tmp_path: Path) -> None:
    """Keys, references, partitions and codecs are each checked, with the figures in the detail."""
    writer = write("ecommerce", "parquet", tmp_path / "out")
    report = check("ecommerce", writer)
    details = {item.name: item.detail for item in report.checks}
    assert "distinct sequence values" in details["orders.key(order_id)"]
    assert details["order_items.ref(order_id->orders.order_id)"] == "all resolve"
    assert details["order_items.ref(product_id->products.product_id)"] == "all resolve"
    assert details["orders.partitions"].endswith("rows as planned")
    assert details["orders.codec"] == "column chunks ZSTD"
    assert "target 400" in details["order_items.file_rows"]
    # A plan that differs from the run (another seed here changes the per-day counts) fails, naming the tables.
    other = check("ecommerce", writer, seed=7)
    assert not other.ok
    assert "orders.partitions" in {item.name for item in other.failures}


def test_a_table_subset_skips_checks_that_need_other_tables(tmp_path: Path) -> None:
    writer = write("ecommerce", "parquet", tmp_path / "out")
    run = RUNS["ecommerce"]
    report = validate("ecommerce", writer, scale=run["scale"], params=run["params"], tables=["order_items"])
    assert report.ok, report.table()
    by_name = {item.name: item for item in report.checks}
    assert "against the planned range" in by_name["order_items.ref(order_id->orders.order_id)"].detail
    assert by_name["order_items.check[3]"].skipped  # needs products
    # Cross-table checks that read another table are skipped; one that reads order_items alone still runs.
    assert by_name["check[1]"].skipped and by_name["check[3]"].skipped
    assert not by_name["check[2]"].skipped  # no product twice in one order: order_items only


@pytest.mark.parametrize("format_name", ["jsonl", "iceberg"])
def test_other_partitioning_and_codec(format_name: str, tmp_path: Path) -> None:
    """--partition-by year,month and gzip: validate with the same options passes, with the dataset's own fails."""
    options = WriterOptions(file_rows_target=300, compression="gzip", partition=PartitionSpec(columns=("year", "month")))
    writer = write("sensors", format_name, tmp_path / "out", options)
    report = check("sensors", writer)
    assert report.ok, report.table()
    assert {item.name: item.detail for item in report.checks}["readings.partitions"] == "1 partitions, rows as planned"
    default = create_writer(format_name, output_uri=str(tmp_path / "out"), options=WriterOptions(file_rows_target=300, compression="gzip"))
    assert "readings.partitions" in {item.name for item in check("sensors", default).failures}


@pytest.mark.parametrize(
    "format_name",
    [
        *[name for name in FORMATS if name != "ducklake"],
        pytest.param(
            "ducklake",
            marks=pytest.mark.xfail(strict=True, reason="the DuckLake writer leaves the empty file of an empty table unregistered"),
        ),
    ],
)
def test_an_empty_table(format_name: str, tmp_path: Path) -> None:
    writer = create_writer(format_name, output_uri=str(tmp_path / "out"), options=OPTIONS)
    generate("transactions", writer, params={"rows": 0}, workers=1)
    report = validate("transactions", writer, params={"rows": 0})
    assert report.ok, report.table()
