"""Local storage on a full disk: a real 1 MiB tmpfs, mounted in a private mount namespace (`unshare -rm`, so
no root is needed and nothing outside the test process sees it). Skipped where namespaces are not allowed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dataset_generator.errors import StorageError
from dataset_generator.storage.local import LocalStorage

SCRIPT = r"""
import json, subprocess, sys
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
from dataset_generator.errors import StorageFailure
from dataset_generator.storage.local import LocalStorage

root = sys.argv[1]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", root], check=True)
storage = LocalStorage(root)
found = {}
try:
    storage.write_bytes(storage.join("t", "_SUCCESS"), b"0" * (2 * 1024 * 1024))
except StorageFailure as error:
    found["write_bytes"] = [str(error), error.exit_code]
table = pa.table({"v": np.random.default_rng(0).random(400_000)})
try:
    with storage.open_write(storage.join("t", "part-00000.parquet")) as sink:
        pq.write_table(table, sink, compression="none")
except StorageFailure as error:
    found["parquet"] = [str(error), error.exit_code]
found["left"] = storage.list_files(storage.join("t"))
print(json.dumps(found))
"""


def test_disk_full_names_the_device_and_the_path(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1)")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("user and mount namespaces are not allowed here")
    root = tmp_path / "full"
    root.mkdir()
    done = subprocess.run(
        ["unshare", "-rm", sys.executable, "-c", SCRIPT, str(root)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    for where, name in (("write_bytes", "_SUCCESS"), ("parquet", "part-00000.parquet")):
        message, exit_code = found[where]
        assert message.startswith("no space left on device writing ") and "\n" not in message
        assert message.split(" writing ")[1].split(":")[0] == str(root / "t" / name)
        assert exit_code == 1
    assert found["left"] == []  # no partial file stays behind


def test_a_path_cannot_climb_out_of_the_output(tmp_path: Path) -> None:
    """Issue 12.7: every path a writer builds stays under the output root ('..' refused, not resolved)."""
    storage = LocalStorage(str(tmp_path / "out"))
    for parts in (("..", "_SUCCESS"), ("../escape", "_SUCCESS"), ("orders/../../escape",)):
        with pytest.raises(StorageError, match="would leave"):
            storage.join(*parts)
    with pytest.raises(StorageError, match="would leave"):
        storage.join(storage.join("orders"), "../../escape")
    assert storage.join("orders", "..data") == str(tmp_path / "out" / "orders" / "..data")
