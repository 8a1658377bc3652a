"""The shape of the package (docs/architecture.md): the layer contract, no import cycles, no package-internal
import hidden inside a function, no module over 450 lines."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dataset_generator"
MAX_LINES = 450
# The CLI may import package modules inside its commands, for its start-up time.
LAZY_ALLOWED = PACKAGE / "cli"


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_over_450_lines() -> None:
    long = {str(path.relative_to(PACKAGE)): n for path in modules() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long


def _internal_imports_in_functions(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and (inner.level > 0 or (inner.module or "").startswith("dataset_generator")):
                found.append(f"{path.relative_to(PACKAGE)}:{inner.lineno} from {'.' * inner.level}{inner.module or ''}")
            elif isinstance(inner, ast.Import) and any(alias.name.startswith("dataset_generator") for alias in inner.names):
                found.append(f"{path.relative_to(PACKAGE)}:{inner.lineno} import {inner.names[0].name}")
    return found


def test_no_package_internal_import_inside_a_function() -> None:
    found = [hit for path in modules() if path.parent != LAZY_ALLOWED for hit in _internal_imports_in_functions(path)]
    assert not found


def test_layer_contract_and_no_cycles() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is a test dependency"
    completed = subprocess.run([lint, "--no-cache"], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:]


_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")


def _flags_in_raised_messages(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for inner in ast.walk(node.exc):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and _FLAG.search(inner.value):
                    found.append(f"{path.relative_to(PACKAGE)}:{inner.lineno} {_FLAG.search(inner.value).group()}")  # type: ignore[union-attr]
    return found


def test_library_errors_name_no_cli_flag() -> None:
    """Errors raised outside cli/ speak in API terms (`scale`, `mode="overwrite"`); the CLI names the flags."""
    found = [hit for path in modules() if LAZY_ALLOWED not in path.parents for hit in _flags_in_raised_messages(path)]
    assert not found
