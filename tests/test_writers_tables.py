"""Delta Lake, Iceberg and DuckLake writers, driven through the protocol as an engine would (write_file in
spawned worker processes, commit on the client), and read back with a different engine than the writer."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from _duckdb_reader import (
    child_by_partition,
    child_info,
    transactions_by_partition,
    transactions_info,
    write_files,
)

from dataset_generator.errors import WriterError
from dataset_generator.options import WriterOptions
from dataset_generator.writers.base import TableWriter
from dataset_generator.writers.registry import create_writer

# Polars' optional Iceberg planner plugin is not installed; PyIceberg planning is what we want to exercise.
os.environ.setdefault("POLARS_ICEBERG_PLANNER", "pyiceberg")

ROWS = 3000
CHILD_ROWS = 600


@pytest.fixture(scope="module")
def spawn_pool() -> Iterator[object]:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        yield pool


def _files_on_disk(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def _data_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*.parquet") if not path.name.startswith("."))


def _run(writer: TableWriter, info=None, parts=None, pool: object | None = None):
    info = info or transactions_info(rows=ROWS)
    handle = writer.open_table(info)
    files = write_files(
        writer, handle, parts if parts is not None else transactions_by_partition(ROWS), pool=pool
    )
    return writer.commit(handle, files)


def _delta(tmp_path: Path, **options: object) -> TableWriter:
    return create_writer("delta", output_uri=str(tmp_path), options=WriterOptions(**options))


# ---------------------------------------------------------------- Delta Lake


def test_delta_create_read_back(tmp_path: Path, duckdb_con, spawn_pool) -> None:
    from deltalake import DeltaTable

    result = _run(
        _delta(tmp_path, compression="zstd", compression_level=3, row_group_rows=400), pool=spawn_pool
    )
    assert (result.rows, result.files, result.version) == (ROWS, 6, "0")
    location = tmp_path / "transactions"
    assert len(DeltaTable(str(location)).history()) == 1

    count, ids, days, first = duckdb_con.execute(
        "SELECT count(*), count(DISTINCT transaction_id), count(DISTINCT (year, month, day)), min(datetime) "
        f"FROM delta_scan('{location}')"
    ).fetchone()
    assert (count, ids, days) == (ROWS, ROWS, 3) and str(first).startswith("2024-01-30")
    types = {
        row[0]: row[1]
        for row in duckdb_con.execute(f"DESCRIBE SELECT * FROM delta_scan('{location}')").fetchall()
    }
    assert types == {
        "transaction_id": "VARCHAR",
        "datetime": "TIMESTAMP",
        "customer_id": "BIGINT",
        "order_qty": "INTEGER",
        "order_amount": "DOUBLE",
        "is_refund": "BOOLEAN",
        "order_date": "DATE",
        "year": "VARCHAR",
        "month": "VARCHAR",
        "day": "VARCHAR",
    }
    # Partition values must agree with the time column they derive from.
    mismatched = duckdb_con.execute(
        f"SELECT count(*) FROM delta_scan('{location}') WHERE strftime(datetime, '%Y-%m-%d') <> year||'-'||month||'-'||day"
    ).fetchone()[0]
    assert mismatched == 0

    frame = pl.scan_delta(str(location)).filter(pl.col("month") == "02").collect()
    assert (
        frame.height
        == ROWS
        - duckdb_con.execute(f"SELECT count(*) FROM delta_scan('{location}') WHERE month = '01'").fetchone()[
            0
        ]
    )

    # File stats (min/max in the log) must not make readers skip files they need.
    cutoff = "2024-01-31 12:00:00"
    pushed = duckdb_con.execute(
        f"SELECT count(*) FROM delta_scan('{location}') WHERE datetime >= '{cutoff}'"
    ).fetchone()[0]
    scanned = duckdb_con.execute(
        f"SELECT count(*) FROM read_parquet('{location}/**/*.parquet') WHERE datetime >= '{cutoff}'"
    ).fetchone()[0]
    assert 0 < pushed == scanned < ROWS

    files = _data_files(location)
    assert len(files) == 6 and all("year=2024" in str(path) for path in files)
    metadata = pq.ParquetFile(files[0]).metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert metadata.row_group(0).num_rows <= 400
    assert "year" not in pq.read_schema(files[0]).names  # Delta keeps partition values in the log only


def test_delta_modes_and_time_travel(tmp_path: Path, duckdb_con) -> None:
    from deltalake import DeltaTable

    location = tmp_path / "transactions"
    _run(_delta(tmp_path))
    with pytest.raises(WriterError, match="mode=.overwrite."):
        _delta(tmp_path).open_table(transactions_info())

    _run(_delta(tmp_path, mode="append"))
    table = DeltaTable(str(location))
    assert table.version() == 1 and len(table.history()) == 2
    assert duckdb_con.execute(f"SELECT count(*) FROM delta_scan('{location}')").fetchone()[0] == 2 * ROWS

    result = _run(_delta(tmp_path, mode="overwrite"), parts=transactions_by_partition(1000, seed=7))
    assert result.version == "2"
    assert duckdb_con.execute(f"SELECT count(*) FROM delta_scan('{location}')").fetchone()[0] == 1000
    assert pl.read_delta(str(location), version=1).height == 2 * ROWS
    assert pl.read_delta(str(location), version=0).height == ROWS


def test_delta_abort_keeps_previous_version(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    location = tmp_path / "transactions"
    _run(_delta(tmp_path))
    before = _files_on_disk(location)
    for mode in ("append", "overwrite"):
        writer = _delta(tmp_path, mode=mode)
        handle = writer.open_table(transactions_info())
        files = write_files(writer, handle, transactions_by_partition(ROWS))
        assert _files_on_disk(location) != before
        writer.abort(handle, files)
        assert _files_on_disk(location) == before
        assert DeltaTable(str(location)).version() == 0

    # Aborting the very first run leaves nothing at all.
    writer = _delta(tmp_path / "fresh")
    handle = writer.open_table(transactions_info())
    writer.abort(handle, write_files(writer, handle, transactions_by_partition(ROWS)))
    assert not (tmp_path / "fresh" / "transactions").exists()


def test_delta_child_table_partitioned_by_parent_time(tmp_path: Path, duckdb_con) -> None:
    _run(_delta(tmp_path), info=child_info(), parts=child_by_partition())
    location = tmp_path / "order_items"
    rows = duckdb_con.execute(
        f"SELECT year, month, day, count(*) FROM delta_scan('{location}') GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert rows == [("2024", "01", "30", 200), ("2024", "01", "31", 200), ("2024", "02", "01", 200)]


def test_delta_refuses_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "transactions").mkdir()
    (tmp_path / "transactions" / "notes.txt").write_text("mine")
    with pytest.raises(WriterError, match="not a Delta table"):
        _delta(tmp_path, mode="overwrite").open_table(transactions_info())


# ---------------------------------------------------------------- Iceberg


def _iceberg(tmp_path: Path, **options: object) -> TableWriter:
    return create_writer("iceberg", output_uri=str(tmp_path), options=WriterOptions(**options))


def _iceberg_table(tmp_path: Path, name: str = "transactions"):
    from pyiceberg.catalog import load_catalog

    catalog = load_catalog(
        "dataset_generator",
        type="sql",
        uri=f"sqlite:///{tmp_path}/_catalog/catalog.db",
        warehouse=f"file://{tmp_path}",
    )
    return catalog.load_table(("default", name))


def test_iceberg_create_read_back(tmp_path: Path, duckdb_con, spawn_pool) -> None:
    result = _run(
        _iceberg(tmp_path, compression="zstd", compression_level=5, row_group_rows=500), pool=spawn_pool
    )
    assert (result.rows, result.files) == (ROWS, 6)
    table = _iceberg_table(tmp_path)
    assert len(table.snapshots()) == 1 and str(table.current_snapshot().snapshot_id) == result.version
    assert str(table.spec()).count("day(") == 1
    assert table.properties["write.parquet.compression-codec"] == "zstd"
    assert table.location() == f"file://{tmp_path}/transactions"

    metadata = table.metadata_location
    count, ids, first = duckdb_con.execute(
        f"SELECT count(*), count(DISTINCT transaction_id), min(datetime) FROM iceberg_scan('{metadata}')"
    ).fetchone()
    assert (count, ids) == (ROWS, ROWS) and str(first).startswith("2024-01-30")
    types = {
        row[0]: row[1]
        for row in duckdb_con.execute(f"DESCRIBE SELECT * FROM iceberg_scan('{metadata}')").fetchall()
    }
    assert types == {
        "transaction_id": "VARCHAR",
        "datetime": "TIMESTAMP",
        "customer_id": "BIGINT",
        "order_qty": "INTEGER",
        "order_amount": "DOUBLE",
        "is_refund": "BOOLEAN",
        "order_date": "DATE",
    }
    february = pl.scan_iceberg(table).filter(pl.col("datetime") >= pl.datetime(2024, 2, 1)).collect()
    expected = duckdb_con.execute(
        f"SELECT count(*) FROM iceberg_scan('{metadata}') WHERE datetime >= '2024-02-01'"
    ).fetchone()[0]
    assert february.height == expected > 0
    # Hidden partitioning: each data file belongs to exactly one day partition.
    partitions = {(row["partition"]["datetime_day"]) for row in table.inspect.files().to_pylist()}
    assert len(partitions) == 3

    files = _data_files(tmp_path / "transactions" / "data")
    assert len(files) == 6
    column = pq.ParquetFile(files[0]).metadata.row_group(0).column(0)
    assert column.compression == "ZSTD"
    assert pq.ParquetFile(files[0]).metadata.row_group(0).num_rows <= 500


def test_iceberg_modes_and_time_travel(tmp_path: Path, duckdb_con) -> None:
    _run(_iceberg(tmp_path))
    with pytest.raises(WriterError, match="mode=.overwrite."):
        _iceberg(tmp_path).open_table(transactions_info())

    _run(_iceberg(tmp_path, mode="append"))
    table = _iceberg_table(tmp_path)
    assert len(table.snapshots()) == 2 and table.scan().count() == 2 * ROWS
    first, second = (snapshot.snapshot_id for snapshot in table.snapshots())

    _run(
        _iceberg(tmp_path, mode="overwrite", compression="gzip"),
        parts=transactions_by_partition(1000, seed=7),
    )
    table = _iceberg_table(tmp_path)
    assert len(table.snapshots()) == 3
    assert table.current_snapshot().summary.operation.value == "overwrite"
    assert table.properties["write.parquet.compression-codec"] == "gzip"
    metadata = table.metadata_location
    assert duckdb_con.execute(f"SELECT count(*) FROM iceberg_scan('{metadata}')").fetchone()[0] == 1000
    assert table.scan(snapshot_id=first).to_arrow().num_rows == ROWS
    assert table.scan(snapshot_id=second).count() == 2 * ROWS
    old = duckdb_con.execute(
        f"SELECT count(*) FROM iceberg_scan('{metadata}', snapshot_from_id = {second})"
    ).fetchone()[0]
    assert old == 2 * ROWS


def test_iceberg_abort_keeps_previous_snapshot(tmp_path: Path) -> None:
    _run(_iceberg(tmp_path))
    location = tmp_path / "transactions"
    before = _files_on_disk(location)
    snapshot = _iceberg_table(tmp_path).current_snapshot().snapshot_id
    for mode in ("append", "overwrite"):
        writer = _iceberg(tmp_path, mode=mode)
        handle = writer.open_table(transactions_info())
        files = write_files(writer, handle, transactions_by_partition(ROWS))
        writer.abort(handle, files)
        assert _files_on_disk(location) == before
        assert _iceberg_table(tmp_path).current_snapshot().snapshot_id == snapshot

    writer = _iceberg(tmp_path / "fresh")
    handle = writer.open_table(transactions_info())
    writer.abort(handle, write_files(writer, handle, transactions_by_partition(ROWS)))
    assert not (tmp_path / "fresh" / "transactions").exists()
    # The catalog no longer knows the table, so a new run in "error" mode just works.
    _run(_iceberg(tmp_path / "fresh"))


def test_iceberg_child_table_identity_partitions(tmp_path: Path, duckdb_con) -> None:
    _run(_iceberg(tmp_path), info=child_info(), parts=child_by_partition())
    table = _iceberg_table(tmp_path, "order_items")
    assert [field.name for field in table.spec().fields] == ["year", "month", "day"]
    rows = duckdb_con.execute(
        f"SELECT year, month, day, count(*) FROM iceberg_scan('{table.metadata_location}') GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert rows == [("2024", "01", "30", 200), ("2024", "01", "31", 200), ("2024", "02", "01", 200)]
    assert pl.scan_iceberg(table).filter(pl.col("day") == "31").collect().height == 200


def test_iceberg_other_catalog_and_namespace(tmp_path: Path) -> None:
    catalog_db = tmp_path / "elsewhere" / "catalog.db"
    catalog_db.parent.mkdir()
    writer = create_writer(
        "iceberg",
        output_uri=str(tmp_path / "out"),
        options=WriterOptions(),
        catalog_uri=f"sqlite:///{catalog_db}",
        catalog_name="mine",
        namespace="sales",
    )
    _run(writer, info=child_info(), parts=child_by_partition())
    from pyiceberg.catalog import load_catalog

    catalog = load_catalog(
        "mine", type="sql", uri=f"sqlite:///{catalog_db}", warehouse=f"file://{tmp_path}/out"
    )
    assert catalog.load_table(("sales", "order_items")).scan().count() == CHILD_ROWS
    assert not (tmp_path / "out" / "_catalog").exists()


# ---------------------------------------------------------------- DuckLake


def _ducklake(tmp_path: Path, **options: object) -> TableWriter:
    return create_writer("ducklake", output_uri=str(tmp_path), options=WriterOptions(**options))


def _attach(con, tmp_path: Path) -> None:
    con.execute(f"ATTACH 'ducklake:{tmp_path}/catalog.ducklake' AS lake (READ_ONLY)")


def _snapshots(tmp_path: Path) -> int:
    from dataset_generator.writers.duckdb_extensions import connect_duckdb

    con = connect_duckdb(["ducklake"])
    try:
        _attach(con, tmp_path)
        return con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0]
    finally:
        con.close()


def test_ducklake_create_read_back(tmp_path: Path, duckdb_con, spawn_pool) -> None:
    result = _run(_ducklake(tmp_path, compression="zstd", row_group_rows=500), pool=spawn_pool)
    assert (result.rows, result.files) == (ROWS, 6)
    # Snapshot 0 creates the schema; this run is exactly one more.
    assert _snapshots(tmp_path) == 2 and result.version == "1"

    _attach(duckdb_con, tmp_path)
    count, ids, first = duckdb_con.execute(
        "SELECT count(*), count(DISTINCT transaction_id), min(datetime) FROM lake.transactions"
    ).fetchone()
    assert (count, ids) == (ROWS, ROWS) and str(first).startswith("2024-01-30")
    types = {row[0]: row[1] for row in duckdb_con.execute("DESCRIBE lake.transactions").fetchall()}
    assert types == {
        "transaction_id": "VARCHAR",
        "datetime": "TIMESTAMP",
        "customer_id": "BIGINT",
        "order_qty": "INTEGER",
        "order_amount": "DOUBLE",
        "is_refund": "BOOLEAN",
        "order_date": "DATE",
    }
    # Each file carries its day partition (derived by DuckLake from the file), so filters prune files.
    per_file = duckdb_con.execute(
        "SELECT data_file_id, string_agg(partition_value, ',' ORDER BY partition_value) "
        "FROM __ducklake_metadata_lake.ducklake_file_partition_value GROUP BY ALL"
    ).fetchall()
    assert len(per_file) == 6 and {values for _, values in per_file} == {"1,2024,30", "1,2024,31", "1,2,2024"}
    february = duckdb_con.execute(
        "SELECT count(*) FROM lake.transactions WHERE datetime >= '2024-02-01'"
    ).fetchone()[0]

    # The data files are plain Parquet that other engines read directly.
    files = _data_files(tmp_path / "data" / "main" / "transactions")
    assert len(files) == 6 and all("year=2024" in str(path) for path in files)
    frame = pl.scan_parquet([str(path) for path in files]).collect()
    assert (
        frame.height == ROWS
        and frame.filter(pl.col("datetime") >= pl.datetime(2024, 2, 1)).height == february
    )
    metadata = pq.ParquetFile(files[0]).metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD" and metadata.row_group(0).num_rows <= 500
    assert pq.read_table(files[0]).schema.field("datetime").type == "timestamp[us]"


def test_ducklake_modes_and_time_travel(tmp_path: Path, duckdb_con) -> None:
    _run(_ducklake(tmp_path))
    with pytest.raises(WriterError, match="mode=.overwrite."):
        _ducklake(tmp_path).open_table(transactions_info())
    _run(_ducklake(tmp_path, mode="append"))
    assert _snapshots(tmp_path) == 3
    result = _run(_ducklake(tmp_path, mode="overwrite"), parts=transactions_by_partition(1000, seed=7))
    assert _snapshots(tmp_path) == 4 and result.version == "3"

    _attach(duckdb_con, tmp_path)
    counts = [
        duckdb_con.execute(f"SELECT count(*) FROM lake.transactions AT (VERSION => {version})").fetchone()[0]
        for version in (1, 2, 3)
    ]
    assert counts == [ROWS, 2 * ROWS, 1000]


def test_ducklake_abort_keeps_previous_snapshot(tmp_path: Path) -> None:
    _run(_ducklake(tmp_path))
    before = _files_on_disk(tmp_path / "data")
    for mode in ("append", "overwrite"):
        writer = _ducklake(tmp_path, mode=mode)
        handle = writer.open_table(transactions_info())
        files = write_files(writer, handle, transactions_by_partition(ROWS))
        writer.abort(handle, files)
        assert _files_on_disk(tmp_path / "data") == before
    assert _snapshots(tmp_path) == 2

    writer = _ducklake(tmp_path)
    handle = writer.open_table(child_info())
    writer.abort(handle, write_files(writer, handle, child_by_partition()))
    assert not (tmp_path / "data" / "main" / "order_items").exists()


def test_ducklake_child_table_identity_partitions(tmp_path: Path, duckdb_con) -> None:
    _run(_ducklake(tmp_path), info=child_info(), parts=child_by_partition())
    _attach(duckdb_con, tmp_path)
    rows = duckdb_con.execute(
        "SELECT year, month, day, count(*) FROM lake.order_items GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert rows == [("2024", "01", "30", 200), ("2024", "01", "31", 200), ("2024", "02", "01", 200)]
    files = _data_files(tmp_path / "data" / "main" / "order_items")
    assert pq.read_table(files[0]).column_names == [
        "item_id",
        "transaction_id",
        "sku",
        "year",
        "month",
        "day",
    ]


def test_ducklake_sqlite_metadata(tmp_path: Path) -> None:
    pytest.importorskip("duckdb_extension_sqlite_scanner")
    from dataset_generator.writers.duckdb_extensions import connect_duckdb

    metadata = tmp_path / "meta" / "lake.sqlite"
    writer = create_writer(
        "ducklake",
        output_uri=str(tmp_path / "out"),
        options=WriterOptions(),
        metadata_uri=f"sqlite:{metadata}",
    )
    _run(writer, info=child_info(), parts=child_by_partition())
    assert metadata.is_file() and not (tmp_path / "out" / "catalog.ducklake").exists()
    con = connect_duckdb(["ducklake", "sqlite_scanner"])
    try:
        con.execute(f"ATTACH 'ducklake:sqlite:{metadata}' AS lake (READ_ONLY)")
        assert con.execute("SELECT count(*) FROM lake.order_items").fetchone()[0] == CHILD_ROWS
    finally:
        con.close()


# ---------------------------------------------------------------- `--parts`: files written under part handles


@pytest.mark.parametrize("fmt", ["delta", "iceberg", "ducklake", "null"])
def test_parts_protocol(tmp_path: Path, fmt: str) -> None:
    """Parts write with `part_handle` (no checks, no side effects); the commit re-opens with the run id."""
    run_id = "run-0001"
    writer = create_writer(fmt, output_uri=str(tmp_path), options=WriterOptions())
    info = transactions_info()
    part = writer.part_handle(info, run_id)
    files = write_files(writer, part, transactions_by_partition(ROWS))
    handle = writer.open_table(info, run_id=run_id)  # type: ignore[call-arg]
    assert handle.location.rstrip("/") == part.location.rstrip("/") and handle.run_id == run_id
    result = writer.commit(handle, files)
    assert result.rows == ROWS

    # A discarded second run leaves the committed table as it was.
    appender = create_writer(fmt, output_uri=str(tmp_path), options=WriterOptions(mode="append"))
    before = _files_on_disk(tmp_path)
    part = appender.part_handle(info, "run-0002")
    appender.abort(part, write_files(appender, part, transactions_by_partition(ROWS)))
    assert _files_on_disk(tmp_path) == before
