"""Benchmark suite: rows/s, MB/s written and peak memory of real runs, printed as a table.

Every case is a separate process tree (the CLI, or a reference script), timed from start to exit, with its
memory sampled every 50 ms: peak RSS summed over the tree, and peak PSS (shared pages counted once).

    python benchmarks/run.py                 # the full suite (about 10 minutes on 2 cores)
    python benchmarks/run.py --size small    # the same cases, 10x smaller
    python benchmarks/run.py --size tiny     # a smoke run (seconds), used by the tests
    python benchmarks/run.py --only transactions
    python benchmarks/run.py --match threads   # the cases whose name contains "threads"
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
SIZES = {"full": 1.0, "small": 0.1, "tiny": 0.002}


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    rows: int | None  # None: read the row count from the CLI summary
    command: list[str]


@dataclass(frozen=True)
class Result:
    case: Case
    rows: int
    seconds: float
    bytes_written: int
    peak_rss: int
    peak_pss: int


def cli(*args: object) -> list[str]:
    return [sys.executable, "-m", "dataset_generator.cli", *map(str, args)]


def cases(size: float, workers: int, out: Path) -> list[Case]:
    def rows(count: int) -> int:
        return max(1_000, int(count * size))

    def transactions(name: str, count: int, *flags: object, group: str = "transactions") -> Case:
        args = ("generate", "transactions", "-o", out, "--param", f"rows={count}", "--file-rows-target", 1_000_000, "-q")
        return Case(f"transactions {count / 1e6:g}M {name}", group, count, cli(*args, *flags))

    def reference(count: int) -> Case:
        script = [sys.executable, str(HERE / "reference_numpy.py"), "--rows", count, "--output", out]
        return Case(f"reference numpy+pyarrow {count / 1e6:g}M zstd, {workers} proc", "transactions", count,
                    [*script, "--compression", "zstd", "--processes", workers])  # fmt: skip

    def ecommerce(scale: float, count: int) -> Case:
        args = ("generate", "ecommerce", "-o", out, "--scale", scale, "--compression", "zstd", "--file-rows-target", 1_000_000)
        return Case(f"ecommerce scale {scale:g} parquet zstd, {count} worker{'s' if count > 1 else ''}", "ecommerce", None,
                    cli(*args, "--workers", count))  # fmt: skip

    tx10, tx50 = rows(10_000_000), rows(50_000_000)
    found: list[Case] = []
    for count in (tx10, tx50):
        found.append(reference(count))
        for codec in ("zstd", "snappy"):
            found.append(transactions(f"parquet {codec}, {workers} worker threads", count, "--compression", codec, "--workers", workers))
    found.append(transactions("parquet zstd, 1 worker", tx10, "--compression", "zstd", "--workers", 1))
    found.append(
        transactions(f"parquet zstd, {workers} worker processes", tx10, "--compression", "zstd", "--workers", workers,
                     "--worker-type", "process")  # fmt: skip
    )
    found.append(transactions(f"null (generate+encode), {workers} workers", tx10, "--format", "null", "--compression", "zstd", "--workers", workers))
    found.append(transactions(f"parquet zstd, local {workers} workers", tx10, "--compression", "zstd", "--workers", workers, group="dask"))
    found.append(
        transactions(f"parquet zstd, dask LocalCluster {workers} workers", tx10, "--compression", "zstd", "--workers", workers,
                     "--engine", "dask", group="dask")  # fmt: skip
    )
    for scale in (0.1 * size, 1.0 * size):
        found.extend(ecommerce(scale, count) for count in sorted({1, workers}))
    # Each side at two sizes: the difference gives the steady rate, free of interpreter start-up on both sides.
    for customers in (rows(5_000_000), rows(10_000_000)):
        found.append(
            Case(f"customers {customers / 1e6:g}M (vocabularies), {workers} workers", "customers", customers,
                 cli("generate", "ecommerce", "--tables", "customers", "-o", out, "--param", f"customers={customers}",
                     "--compression", "snappy", "--file-rows-target", 250_000, "--workers", workers, "-q"))
        )  # fmt: skip
    # Start-up (issue 17.3): the CLI's help, and a run so small that start-up is all of it.
    found.append(Case("start: dataset-generator --help", "start", 1, cli("--help")))
    found.append(Case("start: transactions 1,000 rows", "start", 1_000,
                      cli("generate", "transactions", "-o", out, "--param", "rows=1000", "-q")))  # fmt: skip
    # Every built-in dataset at scale 1, same settings (issue 17.2: each >= 0.45x transactions' rows/s, same run).
    for dataset in ("transactions", "ecommerce", "market", "sensors", "weather"):
        found.append(
            Case(f"dataset {dataset} scale {size:g}, zstd 1, {workers} workers", "datasets", None,
                 cli("generate", dataset, "-o", out, "--scale", size, "--compression", "zstd", "--compression-level", 1,
                     "--file-rows-target", 1_000_000, "--workers", workers))
        )  # fmt: skip
    for faker_rows in (max(500, int(10_000 * min(size, 1.0))), max(1_000, int(20_000 * min(size, 1.0)))):
        found.append(
            Case(f"customers {faker_rows / 1e3:g}k Faker per row, 1 proc", "customers", faker_rows,
                 [sys.executable, str(HERE / "faker_per_row.py"), "--rows", faker_rows, "--output", out])
        )  # fmt: skip
    return found


def run(case: Case, out: Path) -> Result:
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.perf_counter()
    process = psutil.Popen(
        [str(part) for part in case.command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    peak_rss = peak_pss = 0
    while process.poll() is None:
        rss = pss = 0
        try:
            for member in [process, *process.children(recursive=True)]:
                try:
                    info = member.memory_full_info()
                    rss += info.rss
                    pss += getattr(info, "pss", info.rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
        except psutil.NoSuchProcess:
            break
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.05)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"benchmark case {case.name!r} failed:\n{stderr}")
    rows = case.rows if case.rows is not None else _rows_from_summary(stdout)
    written = sum(path.stat().st_size for path in out.rglob("*") if path.is_file()) if out.exists() else 0
    return Result(case, rows, seconds, written, peak_rss, peak_pss)


def _rows_from_summary(stdout: str) -> int:
    for line in stdout.splitlines():
        if line.startswith("total"):
            return int(line.split()[1].replace(",", ""))
    raise SystemExit(f"no summary in output:\n{stdout}")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return f"{cpu}, {len(os.sched_getaffinity(0))} cores, {memory:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description="dataset-generator benchmarks")
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--only", choices=["transactions", "ecommerce", "customers", "dask", "datasets", "start"], default=None)
    parser.add_argument(
        "--scratch", default=None, help="Directory for outputs (default: a temporary directory)."
    )
    parser.add_argument("--match", default=None, help="Only the cases whose name contains this text.")
    args = parser.parse_args()
    scratch = (
        Path(args.scratch) if args.scratch else Path(tempfile.mkdtemp(prefix="dataset-generator-bench-"))
    )
    out = scratch / "out"
    selected = [
        case for case in cases(SIZES[args.size], args.workers, out) if args.only in (None, case.group) and (args.match is None or args.match in case.name)
    ]
    print(f"machine: {machine()}")
    print(f"size: {args.size}; outputs under {scratch}; each case is a fresh process tree\n")
    header = f"| {'case':<58} | {'rows':>12} | {'seconds':>8} | {'rows/s':>12} | {'MB/s written':>12} | {'peak RSS MB':>11} | {'peak PSS MB':>11} |"
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    results = []
    for case in selected:
        result = run(case, out)
        results.append(result)
        print(
            f"| {case.name:<58} | {result.rows:>12,} | {result.seconds:>8.2f} | {result.rows / result.seconds:>12,.0f} | "
            f"{result.bytes_written / 2**20 / result.seconds:>12.1f} | {result.peak_rss / 2**20:>11.0f} | {result.peak_pss / 2**20:>11.0f} |",
            flush=True,
        )
    shutil.rmtree(out, ignore_errors=True)
    _print_ratios(results)


def _print_ratios(results: list[Result]) -> None:
    """The issue's targets, computed from this run's own numbers."""

    def rate(*words: str) -> float | None:
        for result in results:
            if all(word in result.case.name for word in words):
                return result.rows / result.seconds
        return None

    print()
    labels = [result.case.name.split()[2] for result in results if result.case.name.startswith("reference")]
    for label in labels:
        ours, reference = (
            rate(f"transactions {label} parquet zstd", "worker threads"),
            rate(f"reference numpy+pyarrow {label}"),
        )
        if ours and reference:
            print(
                f"transactions {label} parquet zstd vs hand-written numpy+pyarrow: {ours / reference:.2f}x (target >= 0.8x)"
            )
    if len(labels) == 2:
        small, large = (
            rate(f"transactions {labels[0]} parquet zstd", "worker threads"),
            rate(f"transactions {labels[1]} parquet zstd", "worker threads"),
        )
        if small and large:
            # Cost per row (start-up included) must not grow with size: linear cost, no hidden O(n log n).
            print(f"seconds per row at {labels[1]} vs {labels[0]}: {small / large:.2f}x (target <= 1.10x)")
    _print_dataset_ratios(results)
    faker, ours_customers = steady_rate(results, "Faker per row"), steady_rate(results, "vocabularies")
    if faker and ours_customers:
        print(
            f"customers with vocabularies vs Faker per row, steady rates (larger minus smaller run): "
            f"{ours_customers:,.0f} vs {faker:,.0f} rows/s = {ours_customers / faker:.0f}x (target >= 300x)"
        )


def _print_dataset_ratios(results: list[Result]) -> None:
    rates = {
        result.case.name.split()[1]: result.rows / result.seconds for result in results if result.case.group == "datasets"
    }
    base = rates.get("transactions")
    for name, value in rates.items():
        if base and name != "transactions":
            print(f"dataset {name} vs transactions, rows/s at the same scale: {value / base:.2f}x (target >= 0.45x)")


def steady_rate(results: list[Result], words: str) -> float | None:
    """Rows per second between the two runs of a case at two sizes: start-up cancels out."""
    runs = sorted((result for result in results if words in result.case.name), key=lambda result: result.rows)
    if len(runs) < 2 or runs[-1].seconds <= runs[0].seconds:
        return None
    return (runs[-1].rows - runs[0].rows) / (runs[-1].seconds - runs[0].seconds)


if __name__ == "__main__":
    main()
