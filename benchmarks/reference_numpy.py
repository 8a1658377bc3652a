"""The physical limit for this stack: the same `transactions` data written by hand with plain numpy + pyarrow.

No specs, no planner, no determinism across chunkings: one numpy Generator per file, the same five columns
(uuid4 strings, timestamps with an hour-of-day shape, Zipf-ish customer ids, quantities, rounded amounts),
one Parquet file per `rows_per_file`, written by `--processes` processes (fork) in parallel.

    python benchmarks/reference_numpy.py --rows 10000000 --output /tmp/ref --compression zstd --processes 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_PAIRS = (
    np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1)
    .copy()
    .view(np.uint16)
    .reshape(256)
)
_GROUPS = np.dtype(
    {
        "names": list("abcde"),
        "formats": ["V8", "V4", "V4", "V4", "V12"],
        "offsets": [0, 8, 12, 16, 20],
        "itemsize": 32,
    }
)
_DASHED = np.dtype(
    {
        "names": list("abcde"),
        "formats": ["V8", "V4", "V4", "V4", "V12"],
        "offsets": [0, 9, 14, 19, 24],
        "itemsize": 36,
    }
)
START_US = 1_704_067_200_000_000  # 2024-01-01
YEAR_US = 366 * 86_400_000_000
SCHEMA = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("datetime", pa.timestamp("us")),
        ("customer_id", pa.int64()),
        ("order_qty", pa.int32()),
        ("order_amount", pa.float64()),
    ]
)


def uuid_strings(rng: np.random.Generator, rows: int) -> pa.Array:
    words = rng.integers(0, 2**63, size=(rows, 2), dtype=np.int64).astype(">u8")
    words[:, 0] = (words[:, 0] & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    words[:, 1] = (words[:, 1] & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    digits = _HEX_PAIRS[words.view(np.uint8).reshape(rows, 16)].view(_GROUPS).reshape(rows)
    text = np.empty(rows, dtype=_DASHED)
    raw = text.view(np.uint8).reshape(rows, 36)
    raw[:, [8, 13, 18, 23]] = ord("-")
    for name in "abcde":
        text[name] = digits[name]
    offsets = np.arange(0, 36 * (rows + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(raw.reshape(-1)))


def write_file(job: tuple[int, int, str, str, int]) -> int:
    file_index, rows, output, compression, row_group_rows = job
    rng = np.random.default_rng(file_index)
    day = np.sort(rng.integers(0, 366, rows))
    seconds = np.clip(rng.normal(14 * 3600, 4 * 3600, rows), 0, 86_399)
    timestamps = START_US + day * 86_400_000_000 + (seconds * 1_000_000).astype(np.int64)
    customers = np.minimum(rng.zipf(1.3, rows), 1_000_000).astype(np.int64)
    quantities = rng.integers(1, 51, rows).astype(np.int32)
    amounts = np.round(quantities * np.clip(rng.lognormal(3.2, 1.0, rows), 0.5, 5000), 2)
    table = pa.Table.from_arrays(
        [
            uuid_strings(rng, rows),
            pa.array(timestamps).view(pa.timestamp("us")),
            pa.array(customers),
            pa.array(quantities),
            pa.array(amounts),
        ],
        schema=SCHEMA,
    )
    pq.write_table(
        table,
        os.path.join(output, f"part-{file_index:05d}.parquet"),
        compression=compression,
        row_group_size=row_group_rows,
        use_dictionary=False,
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--compression", default="zstd")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rows-per-file", type=int, default=1_000_000)
    parser.add_argument("--row-group-rows", type=int, default=262_144)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    jobs = [
        (
            index,
            min(args.rows_per_file, args.rows - start),
            args.output,
            args.compression,
            args.row_group_rows,
        )
        for index, start in enumerate(range(0, args.rows, args.rows_per_file))
    ]
    with multiprocessing.get_context("fork").Pool(args.processes) as pool:
        written = sum(pool.imap_unordered(write_file, jobs))
    assert written == args.rows


if __name__ == "__main__":
    main()
