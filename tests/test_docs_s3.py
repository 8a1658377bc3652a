"""The "Table formats on S3" examples of docs/s3.md run as written against the suite's moto server: its endpoint for
`http://127.0.0.1:5555`, a fresh bucket for `demo`, ecommerce shrunk to a few hundred rows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from helpers import run_cli

PAGE = Path(__file__).resolve().parents[1] / "docs" / "s3.md"
SECTION = "## Table formats on S3"
DOC_ENDPOINT = "127.0.0.1:5555"


def _section_blocks(language: str) -> list[str]:
    text = PAGE.read_text()
    start = text.index(SECTION)
    section = text[start : text.index("\n## ", start + len(SECTION))]
    return [body for kind, body in re.findall(r"```(bash|python)\n(.*?)```", section, re.S) if kind == language]


def test_table_formats_on_s3_examples_run(s3_server: Any, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")

    def here(text: str) -> str:
        return text.replace(DOC_ENDPOINT, s3_server.host_port).replace("s3://demo/", f"s3://{s3_bucket}/")

    commands = [
        shlex.split(here(line))[1:]
        for body in _section_blocks("bash")
        for line in body.replace("\\\n", " ").splitlines()
        if line.startswith("dataset-generator generate")
    ]
    assert [command[command.index("--format") + 1] for command in commands] == ["iceberg", "ducklake", "delta"]
    for command in commands:
        result = run_cli(*command, "--scale", "0.0002", "--workers", "1")
        assert result.exit_code == 0, result.output
        assert "catalog:" in result.output or "delta" in command
    (python,) = _section_blocks("python")
    exec(compile(here(python), "docs/s3.md example", "exec", dont_inherit=True), {"__name__": "docs_example"})
