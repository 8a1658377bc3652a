"""`--parts N --part K` then `commit`: the union of the parts is the single run, committed once per table."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from dataset_generator.api import commit_parts, generate
from dataset_generator.cli import main
from dataset_generator.contracts import FileInfo, PartitionValues, TableHandle
from dataset_generator.errors import DatasetGeneratorError, GenerationFailed, WriterError
from dataset_generator.options import WriterOptions
from dataset_generator.writers.base import SUCCESS_MARKER
from dataset_generator.writers.parquet import ParquetWriter
from dataset_generator.writers.registry import create_writer

from helpers import read_table_rows

ECOMMERCE = {"scale": 0.001}
FILE_ROWS = 2_000


def data_files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != SUCCESS_MARKER
    }


def parquet(output: Path, **options: Any) -> ParquetWriter:
    options.setdefault("file_rows_target", FILE_ROWS)
    return create_writer("parquet", output_uri=str(output), options=WriterOptions(**options))  # type: ignore[return-value]


def test_three_parts_committed_are_byte_identical_to_one_run(tmp_path: Path) -> None:
    single = generate("ecommerce", parquet(tmp_path / "single"), workers=1, **ECOMMERCE)
    run_ids = set()
    for part in (3, 1, 2):  # any order: parts do not coordinate
        summary = generate(
            "ecommerce", parquet(tmp_path / "parts"), workers=1, parts=3, part=part, **ECOMMERCE
        )
        assert summary.extra["committed"] is False
        run_ids.add(summary.extra["run_id"])
    assert len(run_ids) == 1
    # Before the commit, no table looks complete.
    assert not list((tmp_path / "parts").rglob(SUCCESS_MARKER))
    manifests = sorted(path.name for path in (tmp_path / "parts" / "_manifests").rglob("*.json"))
    assert manifests == ["part-00001-of-00003.json", "part-00002-of-00003.json", "part-00003-of-00003.json"]

    committed = commit_parts(parquet(tmp_path / "parts"))
    assert [(table.name, table.rows, table.files) for table in committed.tables] == [
        (table.name, table.rows, table.files) for table in single.tables
    ]
    assert data_files(tmp_path / "parts") == data_files(tmp_path / "single")
    for table in single.tables:
        assert (tmp_path / "parts" / table.name / SUCCESS_MARKER).is_file()
    assert not (tmp_path / "parts" / "_manifests").exists()
    with pytest.raises(DatasetGeneratorError, match="no parts run to commit"):
        commit_parts(parquet(tmp_path / "parts"))


def test_cli_recipe_missing_part_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = str(tmp_path / "out")
    base = [
        "generate",
        "transactions",
        "--param",
        "rows=30000",
        "--file-rows-target",
        "5000",
        "-o",
        output,
        "-q",
    ]
    for part in ("1", "3"):
        main([*base, "--parts", "3", "--part", part, "--workers", "1"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["commit", "--format", "parquet", "--output", output])
    assert exited.value.code == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error
    assert error.startswith("error: parts run parts-") and "missing part 2 of 3" in error
    assert not list((tmp_path / "out").rglob(SUCCESS_MARKER))

    main([*base, "--parts", "3", "--part", "2", "--workers", "1"])
    main(["commit", "--format", "parquet", "--output", output, "-q"])
    main(
        [
            "generate",
            "transactions",
            "--param",
            "rows=30000",
            "--file-rows-target",
            "5000",
            "-o",
            str(tmp_path / "one"),
            "-q",
        ]
    )
    assert data_files(tmp_path / "out") == data_files(tmp_path / "one")
    assert len(data_files(tmp_path / "one")) == 6


def test_run_id_is_derived_from_what_decides_the_output(tmp_path: Path) -> None:
    def run_id(**kwargs: Any) -> str:
        arguments = {"params": {"rows": 1000}, "seed": 1, "parts": 2, "part": 2, "workers": 1, **kwargs}
        summary = generate("transactions", parquet(tmp_path / "ids", mode="overwrite"), **arguments)
        return summary.extra["run_id"]

    first = run_id()
    assert run_id() == first
    assert run_id(part=1) == first
    assert run_id(chunk_rows=100) == first  # memory knob, same bytes
    assert run_id(seed=2) != first
    assert run_id(params={"rows": 1001}) != first
    assert run_id(parts=3) != first
    assert run_id(run_id="nightly-7") == "nightly-7"


def test_parts_check_their_arguments(tmp_path: Path) -> None:
    with pytest.raises(DatasetGeneratorError, match="parts and part go together"):
        generate("transactions", parquet(tmp_path), params={"rows": 10}, parts=2)
    with pytest.raises(DatasetGeneratorError, match="part must be between 1 and parts"):
        generate("transactions", parquet(tmp_path), params={"rows": 10}, parts=2, part=3)


def test_error_mode_part_refuses_a_complete_table_and_overwrite_replaces_it(tmp_path: Path) -> None:
    params = {"rows": 12_000}
    out = tmp_path / "out"
    generate("transactions", parquet(out), params=params, seed=1, workers=1)
    with pytest.raises(WriterError, match="already exists"):
        generate("transactions", parquet(out), params=params, parts=2, part=1, workers=1)
    old = data_files(out)
    for part in (1, 2):
        generate("transactions", parquet(out, mode="overwrite"), params=params, parts=2, part=part, workers=1)
    # The old table stays complete and unchanged until the commit.
    assert (out / "transactions" / SUCCESS_MARKER).is_file()
    assert {key: data_files(out)[key] for key in old} == old
    commit_parts(parquet(out))  # the parts' options (mode=overwrite) apply, not this writer's
    generate("transactions", parquet(tmp_path / "single"), params=params, workers=1)
    assert data_files(out) == data_files(tmp_path / "single") != old


class BrokenParquetWriter(ParquetWriter):
    """Fails on one file of part 2 only."""

    name = "broken-parquet"

    def write_file(
        self,
        handle: TableHandle,
        partition: PartitionValues,
        file_index: int,
        batches: Iterable[pa.RecordBatch],
        *,
        only_file: bool = False,
    ) -> FileInfo:
        if file_index == 3:
            raise OSError("no space left on device")
        return super().write_file(handle, partition, file_index, batches, only_file=only_file)


def test_a_failed_part_removes_only_its_own_files_and_can_be_rerun(tmp_path: Path) -> None:
    params = {"rows": 10_000}
    options = WriterOptions(file_rows_target=1_000)
    generate(
        "transactions",
        ParquetWriter(str(tmp_path), options=options),
        params=params,
        parts=2,
        part=1,
        workers=1,
    )
    staged_part_1 = data_files(tmp_path / "transactions")
    with pytest.raises(GenerationFailed, match="no space left on device"):
        generate(
            "transactions",
            BrokenParquetWriter(str(tmp_path), options=options),
            params=params,
            parts=2,
            part=2,
            workers=1,
        )
    assert data_files(tmp_path / "transactions") == staged_part_1
    with pytest.raises(DatasetGeneratorError, match="missing part 2 of 2"):
        commit_parts(ParquetWriter(str(tmp_path)))
    generate(
        "transactions",
        ParquetWriter(str(tmp_path), options=options),
        params=params,
        parts=2,
        part=2,
        workers=1,
    )
    summary = commit_parts(ParquetWriter(str(tmp_path)))
    assert summary.rows == 10_000 and summary.files == 10


def test_discard_removes_a_partial_run(tmp_path: Path) -> None:
    generate("transactions", parquet(tmp_path), params={"rows": 8_000}, parts=2, part=1, workers=1)
    assert data_files(tmp_path)
    summary = commit_parts(parquet(tmp_path), discard=True)
    assert summary.extra["discarded"] is True
    assert data_files(tmp_path) == {}


class LocalOnlyWriter(ParquetWriter):
    name = "local-only"
    supports_external_commit = False


def test_writer_without_external_commit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        WriterError, match="the local-only format cannot commit files written by other processes"
    ):
        generate("transactions", LocalOnlyWriter(str(tmp_path)), params={"rows": 10}, parts=2, part=1)


def test_manifest_is_json_with_the_parts_file_infos(tmp_path: Path) -> None:
    generate("transactions", parquet(tmp_path), params={"rows": 9_000}, parts=2, part=2, workers=1)
    (manifest_path,) = (tmp_path / "_manifests").rglob("*.json")
    manifest = json.loads(manifest_path.read_text())
    assert manifest["part"] == 2 and manifest["parts"] == 2 and manifest["writer"] == "parquet"
    # Round-robin over the plan: files 1, 3 of 0..4.
    assert [Path(item["path"]).name for item in manifest["files"]] == [
        "part-00001.parquet",
        "part-00003.parquet",
    ]
    assert sum(item["rows"] for item in manifest["files"]) == 4_000


TABLE_FORMATS = ["delta", "iceberg", "ducklake"]



@pytest.mark.parametrize("format_name", TABLE_FORMATS)
def test_table_format_parts_commit_in_one_step(tmp_path: Path, duckdb_con: Any, format_name: str) -> None:
    pytest.importorskip({"delta": "deltalake", "iceberg": "pyiceberg", "ducklake": "duckdb"}[format_name])
    params = {"rows": 12_000}
    options = WriterOptions(file_rows_target=2_000)

    def writer(name: str) -> Any:
        return create_writer(format_name, output_uri=str(tmp_path / name), options=options)

    generate("transactions", writer("single"), params=params, workers=1)
    for part in (2, 1):
        generate("transactions", writer("parts"), params=params, parts=2, part=part, workers=1)
    summary = commit_parts(writer("parts"))
    assert summary.rows == 12_000 and summary.files == 6
    committed = writer("parts")
    assert read_table_rows(duckdb_con, committed, "transactions") == read_table_rows(duckdb_con, writer("single"), "transactions")
    if format_name == "delta":
        from deltalake import DeltaTable

        assert DeltaTable(committed.storage.join("transactions")).version() == 0  # one transaction
