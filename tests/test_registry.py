"""Writers found by name: built-ins, register_writer, and third-party plugins through the entry-point group."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from dataset_generator import WriterError, WriterOptions, create_writer, generate
from dataset_generator.writers import registry

from helpers import scalar


def test_builtins_and_unknown_names() -> None:
    assert type(create_writer("parquet", output_uri="./x")).__name__ == "ParquetWriter"
    with pytest.raises(WriterError, match="unknown format 'orc'; choose one of"):
        create_writer("orc", output_uri="./x")


def test_missing_extra_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        registry.known_writers,
        "fancy",
        registry.WriterEntry("dataset_generator_missing_module:Writer", "fancy", "needs an extra"),
    )
    registry.get_writer_class.cache_clear()
    with pytest.raises(WriterError, match=r"pip install 'dataset-generator\[fancy\]'"):
        create_writer("fancy", output_uri="./x")
    installed, detail = registry.writer_status("fancy")
    assert not installed and "dataset-generator[fancy]" in detail
    registry.get_writer_class.cache_clear()


def test_a_plugin_registered_through_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real distribution on sys.path declaring the `dataset_generator.writers` group, as pip would install it."""
    package = tmp_path / "shouty_writer.py"
    package.write_text(
        textwrap.dedent(
            '''
            from dataset_generator.writers.parquet import ParquetWriter

            class ShoutyParquet(ParquetWriter):
                name = "shouty"
                extension = ".PARQUET"
            '''
        )
    )
    dist_info = tmp_path / "shouty_writer-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: shouty-writer\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[dataset_generator.writers]\nshouty = shouty_writer:ShoutyParquet\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._plugin_entries.cache_clear()
    registry.get_writer_class.cache_clear()
    try:
        assert "shouty" in registry.available_writers()
        out = tmp_path / "out"
        generate("transactions", create_writer("shouty", output_uri=str(out), options=WriterOptions()), params={"rows": 100}, workers=1)
        assert (out / "transactions" / "transactions.PARQUET").is_file()
        assert scalar(f"select count(*) from read_parquet('{out}/transactions/*.PARQUET')") == 100
    finally:
        registry._plugin_entries.cache_clear()
        registry.get_writer_class.cache_clear()
        sys.modules.pop("shouty_writer", None)
