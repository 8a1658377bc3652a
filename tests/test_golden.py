"""Golden hashes: the SHA-256 of every data file of small runs, pinned in tests/golden/hashes.json.

A refactor must not change a byte. A change of data on purpose updates the file in the same commit and says
why in the commit message: run `GOLDEN_UPDATE=1 python -m pytest tests/test_golden.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dataset_generator import WriterOptions, create_writer, generate

from helpers import file_digests

GOLDEN = Path(__file__).parent / "golden" / "hashes.json"
RUNS: dict[str, dict] = {
    "ecommerce": {"scale": 0.0005},
    "transactions": {"params": {"rows": 20_000}},
    "market": {"scale": 0.01},
    "sensors": {"scale": 0.001},
    "weather": {"scale": 0.01},
}


def _digests(root: Path, dataset: str) -> dict[str, str]:
    writer = create_writer("parquet", output_uri=str(root), options=WriterOptions(file_rows_target=5_000, compression="zstd"))
    generate(dataset, writer, seed=11, **RUNS[dataset])
    return file_digests(root)


@pytest.mark.parametrize("dataset", sorted(RUNS))
def test_golden_hashes(tmp_path: Path, dataset: str) -> None:
    digests = _digests(tmp_path, dataset)
    assert digests, "the run wrote no data file"
    pinned = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if os.environ.get("GOLDEN_UPDATE"):
        pinned[dataset] = digests
        GOLDEN.write_text(json.dumps(pinned, indent=1, sort_keys=True) + "\n")
    assert dataset in pinned, f"no golden hashes for {dataset}: run with GOLDEN_UPDATE=1"
    assert digests == pinned[dataset]
