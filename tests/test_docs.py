"""The examples of the README and the writer pages run as written (sizes shrunk, S3 and readers needing
network left out): CLI commands through the CLI, Python blocks with exec, in a scratch directory."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs" / "writers").glob("*.md")),
    ROOT / "docs" / "schemas.md",
    ROOT / "docs" / "distributed.md",
    ROOT / "docs" / "changes.md",
]
# What an example may not do here: reach a real bucket or cluster, or stand for arguments ("$ARGS", "...").
_NOT_HERE = ("s3://", "--dask-address", "$", "...", "dask_kubernetes", "dask_jobqueue")
_BLOCK = re.compile(r"```(bash|python)\n(.*?)```", re.S)


def blocks(page: Path, language: str) -> list[str]:
    return [body for kind, body in _BLOCK.findall(page.read_text()) if kind == language]


def cli_commands(page: Path) -> list[list[str]]:
    commands = []
    for body in blocks(page, "bash"):
        for command in body.replace("\\\n", " ").splitlines():
            command = command.split("#", 1)[0].strip()
            if not command.startswith(("dataset-generator generate", "dataset-generator validate-schema", "dataset-generator info")):
                continue
            if any(marker in command for marker in _NOT_HERE):
                continue
            args = [_shrink(arg) for arg in shlex.split(command)[1:]]
            if args[0] != "generate" or "-o" not in args and "--output" not in args:
                commands.append(args)
                continue
            if "--scale" in args:
                args[args.index("--scale") + 1] = str(min(float(args[args.index("--scale") + 1]), 0.0005))
            elif not any(arg.startswith("rows=") for arg in args):
                args += ["--scale", "0.0005"]
            commands.append(args + ["--workers", "1"])
    return commands


def _shrink(arg: str) -> str:
    """Documented sizes are for real use; tests run the same command on a few thousand rows."""
    if arg.startswith("rows="):
        return f"rows={min(int(arg[5:]), 20_000)}"
    return arg


def runnable_python(page: Path) -> list[str]:
    # Readers of table formats need DuckDB extensions that DuckDB would download; the writer tests cover them.
    return [
        body
        for body in blocks(page, "python")
        if "duckdb" not in body and "scan_" not in body and "read_delta" not in body and not any(marker in body for marker in _NOT_HERE)
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")  # examples name these files
    shutil.copy(ROOT / "docs" / "examples" / "fleet.yaml", tmp_path / "my.yaml")  # "my.yaml": the user's own spec
    monkeypatch.chdir(tmp_path)
    for args in cli_commands(page):
        result = run_cli(*args)
        assert result.exit_code == 0, f"{page.name}: dataset-generator {' '.join(args)}\n{result.output}"
    for body in runnable_python(page):
        source = body.replace("scale=0.01", "scale=0.0005")
        exec(compile(source, f"{page.name} example", "exec", dont_inherit=True), {"__name__": "docs_example"})
