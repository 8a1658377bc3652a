"""Writers' typed target specs: the CLI's format flags come from them, plugin writers take options the same
way, the registry reads a spec without importing the format's extras, and errors say which format takes what."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dataset_generator import WriterError, create_writer, generate
from dataset_generator.errors import TableExistsError
from dataset_generator.writers import registry
from dataset_generator.writers.targets import DuckLakeTarget, IcebergTarget, WriterTarget, target_flags

from helpers import run_cli

ARGS = ("generate", "transactions", "--param", "rows=200", "--workers", "1")


def test_builtin_flags_come_from_the_target_specs() -> None:
    index = registry.target_flag_index()
    assert {flag: formats for flag, (_field, formats) in index.items()} == {
        "--no-descriptions": ("parquet",),
        "--catalog-uri": ("iceberg",),
        "--catalog-type": ("iceberg",),
        "--catalog-name": ("iceberg",),
        "--namespace": ("iceberg",),
        "--catalog-property": ("iceberg",),
        "--metadata-uri": ("ducklake",),
        "--data-path": ("ducklake",),
    }
    assert index["--catalog-property"][0].field == "catalog_properties" and index["--catalog-property"][0].multiple
    # The registry's light spec is the one the writer class declares.
    for name in ("parquet", "csv", "jsonl", "delta", "iceberg", "ducklake", "null"):
        assert registry.get_target_spec(name) is registry.get_writer_class(name).target_spec


def test_a_flag_for_a_format_that_does_not_take_it_is_one_line(tmp_path: Path) -> None:
    for args, flag in (
        (("--metadata-uri", str(tmp_path / "x.ducklake")), "--metadata-uri does not apply to --format parquet"),
        (("--format", "ducklake", "--catalog-property", "a=b"), "--catalog-property does not apply to --format ducklake"),
        (("--format", "csv", "--namespace", "n"), "--namespace does not apply to --format csv"),
    ):
        result = run_cli(*ARGS, "-o", tmp_path / "out", *args)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and flag in lines[0], result.output
    assert not (tmp_path / "out").exists()


def test_catalog_properties_are_parsed_key_value(tmp_path: Path) -> None:
    result = run_cli(*ARGS, "-o", tmp_path, "--format", "iceberg", "--catalog-property", "novalue")
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.output and "--catalog-property" in result.output


def test_the_api_takes_the_spec_fields_and_refuses_others(tmp_path: Path) -> None:
    writer = create_writer("iceberg", output_uri=str(tmp_path), namespace="sales", catalog_properties={"a": "b"})
    assert writer.target == IcebergTarget(namespace="sales", catalog_properties={"a": "b"})
    assert writer.namespace == "sales"
    lake = create_writer("ducklake", output_uri=str(tmp_path), data_path=str(tmp_path / "d"), schema="s")
    assert lake.target == DuckLakeTarget(data_path=str(tmp_path / "d"), schema="s")
    with pytest.raises(WriterError, match="format 'csv' takes no option 'namespace'; it takes no target options"):
        create_writer("csv", output_uri=str(tmp_path), namespace="x")
    with pytest.raises(WriterError, match="takes no option 'catalog'; it takes catalog_uri, catalog_type, catalog_name"):
        create_writer("iceberg", output_uri=str(tmp_path), catalog="x")


def test_a_field_type_the_command_line_cannot_give_is_refused() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Odd(WriterTarget):
        ratios: list[float] | None = None

    with pytest.raises(WriterError, match="field 'ratios' has type"):
        target_flags(Odd)


def test_help_does_not_import_the_table_format_extras() -> None:
    code = (
        "import sys\nfrom dataset_generator.cli import main\n"
        "for args in (['--help'], ['generate', '--help'], ['commit', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "print(sorted(m for m in ('deltalake', 'pyiceberg', 'duckdb') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert "--catalog-property KEY=VALUE" in out and "--metadata-uri" in out


def test_table_exists_names_the_api_keywords_and_the_cli_its_flags(tmp_path: Path) -> None:
    assert run_cli(*ARGS, "-o", tmp_path).exit_code == 0
    with pytest.raises(TableExistsError) as raised:
        generate("transactions", create_writer("parquet", output_uri=str(tmp_path)), params={"rows": 200}, seed=1)
    message = str(raised.value)
    assert 'mode="overwrite"' in message and "--" not in message and raised.value.table == "transactions"
    result = run_cli(*ARGS, "-o", tmp_path, "--seed", "1")  # not the identical run (that one is skipped)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: table 'transactions' already exists at {tmp_path}/transactions; "
        "use --mode overwrite to replace it or --mode append to add to it"
    ]


PLUGIN = '''
from dataclasses import dataclass
from typing import ClassVar

from dataset_generator.writers.parquet import ParquetWriter
from dataset_generator.writers.targets import WriterTarget, target_field


@dataclass(frozen=True)
class StampTarget(WriterTarget):
    stamp: str | None = target_field("text written to <output>/STAMP.")
    copies: int | None = target_field("how many times.")
    loud: bool = target_field("upper-case it.", default=False)


class StampedParquet(ParquetWriter):
    name = "stamped"
    target_spec: ClassVar[type[StampTarget]] = StampTarget

    def check(self):
        super().check()
        text = (self.target.stamp or "") * (self.target.copies or 1)
        self.storage.write_bytes(self.storage.join("STAMP"), (text.upper() if self.target.loud else text).encode())
'''


def test_a_plugin_writer_takes_options_through_its_target_spec(tmp_path: Path) -> None:
    """A real distribution on sys.path declaring the entry point; the CLI (a fresh process) grows its flags."""
    (tmp_path / "stamped_writer.py").write_text(textwrap.dedent(PLUGIN))
    dist_info = tmp_path / "stamped_writer-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: stamped-writer\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[dataset_generator.writers]\nstamped = stamped_writer:StampedParquet\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    command = [sys.executable, "-m", "dataset_generator.cli", *ARGS]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=120)

    out = tmp_path / "out"
    done = run("-o", str(out), "--format", "stamped", "--stamp", "ab", "--copies", "2", "--loud", "-q")
    assert done.returncode == 0, done.stderr
    assert (out / "STAMP").read_text() == "ABAB"
    assert (out / "transactions" / "transactions.parquet").is_file()
    refused = run("-o", str(tmp_path / "other"), "--stamp", "x")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "error: --stamp does not apply to --format parquet (see 'dataset-generator generate --help')"
    ]
    helped = run("--help")
    assert "stamped: text written to <output>/STAMP." in " ".join(helped.stdout.split())
    listed = subprocess.run(
        [sys.executable, "-c", "from dataset_generator.writers import registry; import json; "
         "print(json.dumps([f.flag for f in registry.target_flags(registry.get_target_spec('stamped'))]))"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert json.loads(listed.stdout) == ["--stamp", "--copies", "--loud"]
