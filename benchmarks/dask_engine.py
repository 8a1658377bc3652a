"""Rows/s of the Dask engine against the local engine on the same plan (transactions by default).

    .venv/bin/python benchmarks/dask_engine.py --rows 5000000 --format null
    .venv/bin/python benchmarks/dask_engine.py --rows 5000000 --format parquet --address tcp://host:8786

The lead's suite imports `dataset_generator.engine.dask.benchmark` directly; this is its command line.
"""

from __future__ import annotations

import argparse
import json
import platform

from dataset_generator.engine.dask import benchmark, print_benchmark
from dataset_generator.engine.local import default_workers


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="transactions")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--format", dest="writer_format", default="null")
    parser.add_argument("--address", default=None, help="a Dask scheduler; default: a LocalCluster")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    args = parser.parse_args()
    results = benchmark(
        args.dataset,
        rows=args.rows,
        workers=args.workers,
        writer_format=args.writer_format,
        address=args.address,
    )
    if args.json:
        for row in results:
            print(json.dumps(row))
        return
    print(
        f"{platform.processor() or platform.machine()}, {default_workers()} cores, Python {platform.python_version()}"
    )
    print_benchmark(results)


if __name__ == "__main__":
    main()
