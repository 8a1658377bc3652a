"""Iceberg creates a table only with its first snapshot (issue 12.4): a run that stops before its commit
leaves nothing in the catalog, and a run never drops a table it did not create."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _duckdb_reader import transactions_by_partition, transactions_info, write_files
from pyiceberg.exceptions import NoSuchTableError

from dataset_generator.errors import TableExistsError
from dataset_generator.writers.registry import create_writer


def test_open_table_creates_nothing_and_abort_leaves_nothing(tmp_path: Path) -> None:
    writer: Any = create_writer("iceberg", output_uri=str(tmp_path))
    handle = writer.open_table(transactions_info())
    with pytest.raises(NoSuchTableError):
        writer.catalog.load_table((writer.namespace, "transactions"))
    writer.abort(handle, write_files(writer, handle, transactions_by_partition(500)))
    with pytest.raises(NoSuchTableError):
        writer.catalog.load_table((writer.namespace, "transactions"))
    assert not (tmp_path / "transactions").exists()


def test_a_concurrent_creator_wins_and_the_other_is_refused(tmp_path: Path) -> None:
    info = transactions_info()
    first: Any = create_writer("iceberg", output_uri=str(tmp_path))
    second: Any = create_writer("iceberg", output_uri=str(tmp_path))
    handles = [first.open_table(info), second.open_table(info)]  # both see no table
    files = [write_files(w, h, transactions_by_partition(500)) for w, h in zip((first, second), handles, strict=True)]
    first.commit(handles[0], files[0])
    with pytest.raises(TableExistsError):
        second.commit(handles[1], files[1])
    second.abort(handles[1], files[1])
    table = first.catalog.load_table((first.namespace, "transactions"))
    assert len(table.snapshots()) == 1
    assert table.scan().to_arrow().num_rows == 500
    assert all(Path(info.path).exists() for info in files[0])
    assert not any(Path(info.path).exists() for info in files[1])


def test_a_table_without_snapshot_is_kept_and_written_into(tmp_path: Path) -> None:
    writer: Any = create_writer("iceberg", output_uri=str(tmp_path))
    info = transactions_info()
    writer._stage_create(info).commit_transaction()  # as an older version's crashed run left it
    handle = writer.open_table(info)  # not dropped, not refused: it holds nothing readable
    writer.commit(handle, write_files(writer, handle, transactions_by_partition(500)))
    table = writer.catalog.load_table((writer.namespace, "transactions"))
    assert len(table.snapshots()) == 1 and table.scan().to_arrow().num_rows == 500
