"""Rows/s of the Dask engine against the local engine on the same plan (transactions by default).

    .venv/bin/python benchmarks/dask_engine.py --rows 5000000 --format null
    .venv/bin/python benchmarks/dask_engine.py --rows 5000000 --format parquet --address tcp://host:8786

Three runs: local; dask including the start and stop of its LocalCluster (what one CLI run pays); dask on a
running cluster (what a long-lived cluster gives). With `--address`, the last two are both on that scheduler.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from typing import Any

from dataset_generator import DaskEngine, Engine, LocalEngine, WriterOptions, create_writer, generate
from dataset_generator.engine import default_workers
from dataset_generator.engine.dask import dask_client


def measure(label: str, engine: Engine, *, dataset: str, rows: int, writer_format: str, output: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dg-bench-") as scratch:
        target = output or os.path.join(scratch, "out")
        writer = create_writer(writer_format, output_uri=target, options=WriterOptions(mode="overwrite"))
        started = time.perf_counter()
        summary = generate(dataset, writer, params={"rows": rows}, engine=engine)
        seconds = time.perf_counter() - started
    return {
        "engine": label,
        "format": writer_format,
        "workers": summary.workers,
        "rows": summary.rows,
        "files": summary.files,
        "seconds": round(seconds, 2),
        "rows_per_second": round(summary.rows / seconds),
    }


def benchmark(
    dataset: str = "transactions",
    *,
    rows: int = 5_000_000,
    workers: int | None = None,
    writer_format: str = "null",
    output: str | None = None,
    address: str | None = None,
) -> list[dict[str, Any]]:
    """The three runs above, as rows of a table."""
    count = workers or default_workers()
    common: dict[str, Any] = {"dataset": dataset, "rows": rows, "writer_format": writer_format, "output": output}
    results = [
        measure("local", LocalEngine(workers=count), **common),
        measure("dask", DaskEngine(address=address, workers=count), **common),
    ]
    if address:
        results.append(measure("dask-warm", DaskEngine(address=address), **common))
    else:
        with dask_client(None, workers=count) as client:
            results.append(measure("dask-warm", DaskEngine(client=client, workers=count), **common))
    return results


def print_benchmark(results: list[dict[str, Any]]) -> None:
    print(f"{'engine':<10} {'format':<8} {'workers':>7} {'rows':>12} {'files':>6} {'seconds':>8} {'rows/s':>12}")
    for row in results:
        print(
            f"{row['engine']:<10} {row['format']:<8} {row['workers']:>7} {row['rows']:>12,} {row['files']:>6} "
            f"{row['seconds']:>8.2f} {row['rows_per_second']:>12,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="transactions")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--format", dest="writer_format", default="null")
    parser.add_argument("--address", default=None, help="a Dask scheduler; default: a LocalCluster")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    args = parser.parse_args()
    results = benchmark(
        args.dataset, rows=args.rows, workers=args.workers, writer_format=args.writer_format, address=args.address
    )
    if args.json:
        for row in results:
            print(json.dumps(row))
        return
    print(f"{platform.processor() or platform.machine()}, {default_workers()} cores, Python {platform.python_version()}")
    print_benchmark(results)


if __name__ == "__main__":
    main()
