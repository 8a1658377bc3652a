"""Fast start (issue 17.3): the CLI's help and the API's import load none of the heavy libraries; they are
imported where they are used. The time itself is measured in benchmarks/run.py (group `start`), not here."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("pyarrow", "polars", "numpy", "pydantic", "faker", "deltalake", "pyiceberg", "duckdb", "botocore")


def _loaded(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('loaded:', *sorted(m for m in {list(HEAVY)!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(result.stdout.splitlines()[-1].split()[1:])


@pytest.mark.parametrize(
    "code",
    [
        "import dataset_generator",
        "import dataset_generator.cli",
        "from dataset_generator.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
        # The CLI starts a LocalCluster's fork server from here before it imports the API.
        "import dataset_generator.engine.dask_workers",
    ],
)
def test_start_loads_no_heavy_library(code: str) -> None:
    assert _loaded(code) == set()
