"""The Dask engine on a real LocalCluster (2 single-threaded worker processes on 127.0.0.1).

The contract: output byte-identical to the local engine, a failing task fails the run with one line and
commits nothing. One cluster serves the module; tests reach it by address, as a real cluster would be.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from dataset_generator.api import generate
from dataset_generator.contracts import FileInfo, PartitionValues, TableHandle
from dataset_generator.errors import DatasetGeneratorError, GenerationFailed
from dataset_generator.options import WriterOptions
from dataset_generator.writers.base import SUCCESS_MARKER
from dataset_generator.writers.parquet import ParquetWriter
from dataset_generator.writers.registry import create_writer

from helpers import read_table_rows

distributed = pytest.importorskip("distributed")

TX_ROWS = 60_000
TX_PARAMS = {"rows": TX_ROWS}
FILE_ROWS = 10_000


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    # Workers are spawned (not forked) and inherit sys.path, so they import this module's writer class too.
    with distributed.LocalCluster(
        host="127.0.0.1", dashboard_address=None, n_workers=2, threads_per_worker=1, silence_logs=40
    ) as cluster:
        yield cluster.scheduler_address


def data_files(root: Path) -> dict[str, bytes]:
    """Every data file's bytes by relative path; _SUCCESS holds a per-run id, so it is left out."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != SUCCESS_MARKER
    }


def parquet(output: Path, **options: Any) -> ParquetWriter:
    return create_writer("parquet", output_uri=str(output), options=WriterOptions(**options))  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("dataset", "kwargs"),
    [("transactions", {"params": TX_PARAMS}), ("ecommerce", {"scale": 0.001})],
    ids=["transactions", "ecommerce"],
)
def test_dask_output_is_byte_identical_to_local(
    tmp_path: Path, dask_address: str, dataset: str, kwargs: dict[str, Any]
) -> None:
    local = generate(dataset, parquet(tmp_path / "local", file_rows_target=FILE_ROWS), workers=1, **kwargs)
    on_dask = generate(
        dataset,
        parquet(tmp_path / "dask", file_rows_target=FILE_ROWS),
        engine="dask",
        dask_address=dask_address,
        **kwargs,
    )
    assert on_dask.rows == local.rows > 0
    assert on_dask.files == local.files > 1
    expected = data_files(tmp_path / "local")
    assert len(expected) == local.files
    assert data_files(tmp_path / "dask") == expected
    assert not list((tmp_path / "dask").rglob("_temporary")) and not list((tmp_path / "dask").rglob("_staging"))


@pytest.mark.parametrize(
    ("worker_type", "format_name"), [("thread", "parquet"), ("process", "parquet"), ("process", "delta")]
)
def test_dask_engine_without_address_starts_and_stops_its_own_cluster(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], worker_type: str, format_name: str
) -> None:
    """Same files as the local engine, and not a word on stderr (distributed's INFO logs and the tracebacks of
    comms closed while the cluster shuts down once reached it). Process workers are forked from a fork server
    that never loaded deltalake: a Delta table's files are written in them as well."""
    from dataset_generator.cli import main

    args = ["generate", "transactions", "--param", "rows=20000", "--file-rows-target", "5000", "-q", "--format", format_name]
    main([*args, "-o", str(tmp_path / "local"), "--workers", "1"])
    capfd.readouterr()
    main([*args, "-o", str(tmp_path / "dask"), "--engine", "dask", "--workers", "2", "--worker-type", worker_type])
    assert capfd.readouterr().err == ""
    local, on_dask = data_files(tmp_path / "local"), data_files(tmp_path / "dask")
    if format_name == "delta":  # its file names hold the run's id, and its log the run's time: the data files' bytes
        local = dict(enumerate(sorted(data for name, data in local.items() if "_delta_log" not in name)))
        on_dask = dict(enumerate(sorted(data for name, data in on_dask.items() if "_delta_log" not in name)))
    assert on_dask == local
    assert len(local) == 4


class FailingParquetWriter(ParquetWriter):
    """Parquet, except that every file of one table fails: the task keeps failing through Dask's retries."""

    name = "failing-parquet"
    failing_table = "order_items"

    def write_file(
        self,
        handle: TableHandle,
        partition: PartitionValues,
        file_index: int,
        batches: Iterable[pa.RecordBatch],
        *,
        only_file: bool = False,
    ) -> FileInfo:
        if handle.table.name == self.failing_table:
            raise OSError(f"disk on fire (pid {os.getpid()})\nsecond line that must not reach the user")
        return super().write_file(handle, partition, file_index, batches, only_file=only_file)


def test_a_task_that_keeps_failing_fails_the_run_and_commits_nothing(
    tmp_path: Path, dask_address: str
) -> None:
    _fails_and_leaves_nothing(tmp_path / "out", FailingParquetWriter, dask_address, "OSError: disk on fire")


def _fails_and_leaves_nothing(output: Path, writer_class: type[ParquetWriter], dask_address: str, error: str) -> None:
    """ecommerce on Dask with `writer_class` fails in order_items with a one-line `error`; nothing committed,
    nothing staged left behind (the other tables' files were aborted too)."""
    writer = writer_class(str(output), options=WriterOptions(file_rows_target=FILE_ROWS))
    with pytest.raises(GenerationFailed) as failure:
        generate("ecommerce", writer, scale=0.001, engine="dask", dask_address=dask_address)
    message = str(failure.value)
    assert "\n" not in message
    assert "order_items" in message and error in message
    assert not list(output.rglob(SUCCESS_MARKER))
    assert not [path for path in output.rglob("*") if path.is_file()]


def test_unknown_engine_and_missing_address_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetGeneratorError, match="unknown engine 'spark'; choose one of local, dask"):
        generate("transactions", parquet(tmp_path), params=TX_PARAMS, engine="spark")
    import dask

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(DatasetGeneratorError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    ):
        generate(
            "transactions",
            parquet(tmp_path),
            params={"rows": 100},
            engine="dask",
            dask_address="tcp://127.0.0.1:9",
        )
    assert not list(tmp_path.rglob(SUCCESS_MARKER))


def test_cli_unknown_engine_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from dataset_generator.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["generate", "transactions", "-o", str(tmp_path), "--engine", "spark"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == "error: unknown engine 'spark'; choose one of local, dask"


def test_dask_to_s3_matches_local(tmp_path: Path, dask_address: str, s3_server: Any, s3_bucket: str) -> None:
    local = generate(
        "transactions", parquet(tmp_path / "local", file_rows_target=FILE_ROWS), params=TX_PARAMS
    )
    writer = create_writer(
        "parquet",
        output_uri=f"s3://{s3_bucket}/seed",
        s3=s3_server.config(),
        options=WriterOptions(file_rows_target=FILE_ROWS),
    )
    remote = generate("transactions", writer, params=TX_PARAMS, engine="dask", dask_address=dask_address)
    assert remote.rows == local.rows
    client = s3_server.client()
    keys = s3_server.keys(s3_bucket, "seed/")
    assert f"seed/transactions/{SUCCESS_MARKER}" in keys
    got = {
        key[len("seed/") :]: client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
        for key in keys
        if not key.endswith(SUCCESS_MARKER)
    }
    assert got == data_files(tmp_path / "local")
    assert s3_server.pending_uploads(s3_bucket) == []


TABLE_FORMATS = ["delta", "iceberg", "ducklake"]



@pytest.mark.parametrize("format_name", TABLE_FORMATS)
def test_table_formats_hold_the_same_rows_with_dask(
    tmp_path: Path, dask_address: str, duckdb_con: Any, format_name: str
) -> None:
    pytest.importorskip({"delta": "deltalake", "iceberg": "pyiceberg", "ducklake": "duckdb"}[format_name])
    params = {"rows": 20_000}
    options = WriterOptions(file_rows_target=5_000)
    local = create_writer(format_name, output_uri=str(tmp_path / "local"), options=options)
    remote = create_writer(format_name, output_uri=str(tmp_path / "dask"), options=options)
    generate("transactions", local, params=params, workers=1)
    summary = generate("transactions", remote, params=params, engine="dask", dask_address=dask_address)
    assert summary.rows == 20_000
    expected = read_table_rows(duckdb_con, local, "transactions")
    assert len(expected) == 20_000
    assert read_table_rows(duckdb_con, remote, "transactions") == expected


_order_items_written = 0  # per worker process


class FailingAfterWriter(ParquetWriter):
    """Writes one order_items file per worker process, then fails (in the middle of a Dask task's files)."""

    def write_file(
        self, handle: TableHandle, partition: PartitionValues, file_index: int, batches: Iterable[pa.RecordBatch], *, only_file: bool = False
    ) -> FileInfo:
        global _order_items_written
        if handle.table.name == "order_items":
            _order_items_written += 1
            if _order_items_written >= 2:
                raise OSError("disk full at the second file")
        return super().write_file(handle, partition, file_index, batches, only_file=only_file)


def test_a_dask_task_writes_several_files_and_a_failure_among_them_aborts_the_finished_ones(
    tmp_path: Path, dask_address: str
) -> None:
    """Consecutive file tasks go to Dask as one task (fewer scheduler round trips), every task once and in
    order. When a later file of one fails, the run fails with the failing file's one-line error and nothing is
    left (the files written before it in that task are reported with the failure, and the abort removes all)."""
    from dataset_generator.api import plan_dataset
    from dataset_generator.engine.dask import BUNDLE_ROWS, bundles

    plan = plan_dataset("ecommerce", WriterOptions(file_rows_target=FILE_ROWS), scale=0.001, seed=42)
    grouped = bundles(plan.tasks, threads=2)
    assert [task for bundle in grouped for task in bundle] == list(plan.tasks)  # every task once, in order
    assert len(grouped) < len(plan.tasks) and len(grouped) >= min(len(plan.tasks), 8)
    assert all(sum(task.rows for task in bundle[:-1]) < BUNDLE_ROWS for bundle in grouped)
    _fails_and_leaves_nothing(tmp_path / "out", FailingAfterWriter, dask_address, "OSError: disk full at the second file")
