"""Engines as objects: any `Engine` drives a run, the caller owns the list of written files (reported through
`on_file`, also while a run fails), and output does not depend on the engine or the order tasks run in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pytest

from dataset_generator import GenerationFailed, LocalEngine, WriterOptions, create_writer, generate
from dataset_generator.contracts import FileInfo, FileTask, PartitionValues, TableHandle
from dataset_generator.engine import WorkerContext, engine_for
from dataset_generator.engine.base import task_failure, write_task
from dataset_generator.errors import DatasetGeneratorError
from dataset_generator.writers.parquet import ParquetWriter

from helpers import file_digests

PARAMS = {"rows": 30_000}


def parquet(root: Path) -> ParquetWriter:
    return create_writer("parquet", output_uri=str(root), options=WriterOptions(file_rows_target=4_000))  # type: ignore[return-value]


class ReversedEngine:
    """A user-written engine: runs the tasks last to first, in this thread."""

    name = "reversed"

    def __init__(self) -> None:
        self.reported: list[FileInfo] = []

    def worker_count(self, planned_rows: int) -> int:
        return 1

    def run(self, context: WorkerContext, tasks: Sequence[FileTask], on_file) -> None:  # type: ignore[no-untyped-def]
        for task in reversed(tasks):
            try:
                info = write_task(context, task)
            except Exception as exc:
                raise task_failure(task, exc) from exc
            self.reported.append(info)
            on_file(task, info)


def test_any_engine_object_gives_the_same_bytes(tmp_path: Path) -> None:
    generate("transactions", parquet(tmp_path / "name"), params=PARAMS, engine="local")
    generate("transactions", parquet(tmp_path / "local"), params=PARAMS, engine=LocalEngine(workers=2))
    custom = ReversedEngine()
    summary = generate("transactions", parquet(tmp_path / "custom"), params=PARAMS, engine=custom)
    reference = file_digests(tmp_path / "name")
    assert len(reference) == 8  # 30,000 rows in files of 4,000: something was written
    assert file_digests(tmp_path / "local") == reference == file_digests(tmp_path / "custom")
    assert summary.workers == 1 and summary.rows == 30_000 and len(custom.reported) == 8


class FailingParquet(ParquetWriter):
    """Fails the fourth file it is asked to write."""

    def write_file(
        self, handle: TableHandle, partition: PartitionValues, file_index: int, batches: Iterable[pa.RecordBatch], *, only_file: bool = False
    ) -> FileInfo:
        if file_index == 3:
            raise OSError("disk on fire")
        return super().write_file(handle, partition, file_index, batches, only_file=only_file)


@pytest.mark.parametrize("engine", [LocalEngine(workers=1), LocalEngine(workers=2), ReversedEngine()], ids=["one", "two", "custom"])
def test_a_failing_run_removes_every_file_it_reported(tmp_path: Path, engine: object) -> None:
    writer = FailingParquet(str(tmp_path), options=WriterOptions(file_rows_target=4_000))
    with pytest.raises(GenerationFailed, match="file 3: OSError: disk on fire"):
        generate("transactions", writer, params=PARAMS, engine=engine)  # type: ignore[arg-type]
    if isinstance(engine, ReversedEngine):
        assert len(engine.reported) == 4  # files 7..4 were written before file 3 failed
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


def test_engine_names_and_settings_are_checked_before_planning() -> None:
    with pytest.raises(DatasetGeneratorError, match="unknown engine 'spark'; choose one of local, dask"):
        engine_for("spark")
    with pytest.raises(DatasetGeneratorError, match="needs the dask engine"):
        engine_for("local", dask_address="tcp://127.0.0.1:8786")
    with pytest.raises(DatasetGeneratorError, match="unknown worker type 'fiber'"):
        LocalEngine(worker_type="fiber")
    with pytest.raises(DatasetGeneratorError, match="workers must be >= 1"):
        LocalEngine(workers=0)
    assert LocalEngine().worker_count(1_000) == 1  # small runs stay on one worker
