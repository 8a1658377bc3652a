"""Benchmark suite: rows/s, MB/s written and peak memory of real runs, printed as a table.

Every case is a separate process tree (the CLI, or a reference script), timed from start to exit, with its
memory sampled every 50 ms: peak RSS summed over the tree, and peak PSS (shared pages counted once; every
250 ms). The cases whose ratios are targets (Dask, the datasets, transactions 10M with its reference) run in 3
interleaved rounds, start-up in 5: each of those reports its median round (`Case.rounds`), every round printed
under the table.

    python benchmarks/run.py                 # the full suite (about 15 minutes on 2 cores)
    python benchmarks/run.py --size small    # the same cases, 10x smaller
    python benchmarks/run.py --size tiny     # a smoke run (seconds), used by the tests
    python benchmarks/run.py --only transactions
    python benchmarks/run.py --match threads   # the cases whose name contains "threads"
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import itertools
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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
    # Cases compared with each other, or under a second, whose single runs vary by +-10-20 % here from one minute
    # to the next (Dask, the datasets, transactions 10M and its reference, start-up) run in `rounds` interleaved
    # rounds and report their median round.
    rounds: int = 1


@dataclass(frozen=True)
class Result:
    case: Case
    rows: int
    seconds: float
    bytes_written: int
    peak_rss: int
    peak_pss: int
    file_sizes: tuple[int, ...] = ()  # each data file's bytes, in path order (the size-target case)


def cli(*args: object) -> list[str]:
    return [sys.executable, "-m", "dataset_generator.cli", *map(str, args)]


def cases(size: float, workers: int, out: Path) -> list[Case]:
    def rows(count: int) -> int:
        return max(1_000, int(count * size))

    def transactions(name: str, count: int, *flags: object, group: str = "transactions", rounds: int = 1) -> Case:
        args = ("generate", "transactions", "-o", out, "--param", f"rows={count}", "--file-rows-target", 1_000_000, "-q")
        return Case(f"transactions {count / 1e6:g}M {name}", group, count, cli(*args, *flags), rounds)

    def reference(count: int, rounds: int) -> Case:
        script = [sys.executable, str(HERE / "reference_numpy.py"), "--rows", count, "--output", out]
        return Case(f"reference numpy+pyarrow {count / 1e6:g}M zstd, {workers} proc", "transactions", count,
                    [*script, "--compression", "zstd", "--processes", workers], rounds)  # fmt: skip

    def ecommerce(scale: float, count: int) -> Case:
        args = ("generate", "ecommerce", "-o", out, "--scale", scale, "--compression", "zstd", "--file-rows-target", 1_000_000)
        return Case(f"ecommerce scale {scale:g} parquet zstd, {count} worker{'s' if count > 1 else ''}", "ecommerce", None,
                    cli(*args, "--workers", count))  # fmt: skip

    tx10, tx50 = rows(10_000_000), rows(50_000_000)
    found: list[Case] = []
    for count in (tx10, tx50):
        rounds = 3 if count == tx10 else 1  # the 10M ratio is a target (issue 17.3); 50M runs long enough
        found.append(reference(count, rounds))
        for codec in ("zstd", "snappy"):
            found.append(transactions(f"parquet {codec}, {workers} worker threads", count, "--compression", codec, "--workers", workers,
                                      rounds=rounds if codec == "zstd" else 1))  # fmt: skip
    found.append(transactions("parquet zstd, 1 worker", tx10, "--compression", "zstd", "--workers", 1))
    found.append(
        transactions(f"parquet zstd, {workers} worker processes", tx10, "--compression", "zstd", "--workers", workers,
                     "--worker-type", "process")  # fmt: skip
    )
    found.append(transactions(f"null (generate+encode), {workers} workers", tx10, "--format", "null", "--compression", "zstd", "--workers", workers))
    # Dask vs local at 20 M rows (issue 17.4), start-up included; the running cluster is started before the clock.
    tx20 = rows(20_000_000)
    found.append(transactions(f"parquet zstd, local {workers} workers", tx20, "--compression", "zstd", "--workers", workers, group="dask", rounds=3))
    for worker_type in ("thread", "process"):
        found.append(
            transactions(f"parquet zstd, dask LocalCluster {workers} {worker_type} workers", tx20, "--compression", "zstd",
                         "--workers", workers, "--engine", "dask", "--worker-type", worker_type, group="dask", rounds=3)  # fmt: skip
        )
    found.append(
        transactions(f"parquet zstd, dask running cluster {workers} procs", tx20, "--compression", "zstd",
                     "--engine", "dask", "--dask-address", CLUSTER_ADDRESS, group="dask", rounds=3)  # fmt: skip
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
    # Each under a second, where one run's noise is most of the figure: the median of 5 rounds.
    found.append(Case("start: dataset-generator --help", "start", 1, cli("--help"), rounds=5))
    found.append(Case("start: transactions 1,000 rows", "start", 1_000,
                      cli("generate", "transactions", "-o", out, "--param", "rows=1000", "-q"), rounds=5))  # fmt: skip
    # S3 uploads (issue 17.6): one run's parts one at a time vs 4 in flight per file, against a local moto server.
    tx_s3 = rows(2_000_000)
    for inflight in (1, 4):
        found.append(
            Case(f"transactions {tx_s3 / 1e6:g}M to S3 (moto), {inflight} part{'s' if inflight > 1 else ''} in flight", "s3", tx_s3,
                 cli("generate", "transactions", "-o", f"s3://bench/tx-{inflight}", "--param", f"rows={tx_s3}", "--compression",
                     "zstd", "--file-rows-target", 1_000_000, "--workers", workers, "--s3-endpoint-url", S3_ENDPOINT,
                     "--s3-key", "bench", "--s3-secret", "bench", "--s3-part-size", "8MiB", "--s3-inflight-parts", inflight, "-q"))
        )  # fmt: skip
    # Planning (issue 17.1): O(files), the whole 1000x plan and one part of it, nothing written.
    found.append(Case("plan: ecommerce scale 1000, --dry-run", "plan", None,
                      cli("generate", "ecommerce", "--scale", 1000, "--dry-run", "-o", out)))  # fmt: skip
    found.append(Case("plan: ecommerce scale 1000, part 7 of 1000, --dry-run", "plan", None,
                      cli("generate", "ecommerce", "--scale", 1000, "--parts", 1000, "--part", 7, "--dry-run", "-o", out)))  # fmt: skip
    # Size-targeted files (issue 17.5): every file but the last within +-15 % of 256 MB.
    tx_size = rows(50_000_000)
    found.append(Case(f"transactions {tx_size / 1e6:g}M, --file-size-target 256MB", "size", tx_size,
                      cli("generate", "transactions", "-o", out, "--param", f"rows={tx_size}", "--file-size-target", "256MB",
                          "--workers", workers, "-q")))  # fmt: skip
    # Every built-in dataset at scale 1, same settings (issue 17.2: each >= 0.45x transactions' rows/s, same run).
    for dataset in ("transactions", "ecommerce", "market", "sensors", "weather"):
        found.append(
            Case(f"dataset {dataset} scale {size:g}, zstd 1, {workers} workers", "datasets", None,
                 cli("generate", dataset, "-o", out, "--scale", size, "--compression", "zstd", "--compression-level", 1,
                     "--file-rows-target", 1_000_000, "--workers", workers), rounds=3)
        )  # fmt: skip
    for faker_rows in (max(500, int(10_000 * min(size, 1.0))), max(1_000, int(20_000 * min(size, 1.0)))):
        found.append(
            Case(f"customers {faker_rows / 1e3:g}k Faker per row, 1 proc", "customers", faker_rows,
                 [sys.executable, str(HERE / "faker_per_row.py"), "--rows", faker_rows, "--output", out])
        )  # fmt: skip
    return found


CLUSTER_ADDRESS = "{cluster}"  # replaced by the address of a cluster started for the case


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))


@contextlib.contextmanager
def running_cluster(workers: int) -> Iterator[str]:
    """A Dask scheduler and `workers` single-threaded worker processes on 127.0.0.1, up before the clock starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": _env()}
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet)]  # type: ignore[call-overload]
    processes.append(subprocess.Popen([dask, "worker", address, "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard"], **quiet))  # type: ignore[call-overload]
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        # Warm, as a long-lived cluster is: its workers have imported the generator and run a task before.
        with tempfile.TemporaryDirectory(prefix="dg-warm-") as warm:
            subprocess.run(cli("generate", "transactions", "--param", f"rows={workers * 1000}", "--file-rows-target", 1000,
                               "--engine", "dask", "--dask-address", address, "-o", warm, "-q"), check=True, env=_env())  # fmt: skip
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)


S3_ENDPOINT = "{s3-endpoint}"  # replaced by the endpoint of a moto server started for the case


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 with the bucket `bench`."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        import botocore.session

        client = botocore.session.get_session().create_client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench"
        )
        for _ in range(100):
            try:
                client.create_bucket(Bucket="bench")
                break
            except Exception:
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(case: Case, out: Path) -> Result:
    if S3_ENDPOINT in case.command:
        with s3_server() as endpoint:
            return run(Case(case.name, case.group, case.rows, [endpoint if part == S3_ENDPOINT else part for part in case.command]), out)
    if CLUSTER_ADDRESS in case.command:
        with running_cluster(int(os.environ.get("BENCH_WORKERS", "2"))) as address:
            return run(Case(case.name, case.group, case.rows, [address if part == CLUSTER_ADDRESS else part for part in case.command]), out)
    shutil.rmtree(out, ignore_errors=True)
    env = _env()
    started = time.perf_counter()
    process = psutil.Popen(
        [str(part) for part in case.command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    peak_rss = peak_pss = 0
    for sample in itertools.count():
        if process.poll() is not None:
            break
        rss = pss = 0
        try:
            members = [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        alive = []
        for member in members:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                rss += member.memory_info().rss
                alive.append(member)
        if sample % PSS_EVERY == 0 or rss > peak_rss:  # and at each new peak of RSS (start-up, short cases)
            for member in alive:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, OSError):
                    pss += _pss(member)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.05)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"benchmark case {case.name!r} failed:\n{stderr}")
    rows = case.rows if case.rows is not None else _rows_from_summary(stdout)
    sizes = {path: path.stat().st_size for path in sorted(out.rglob("*")) if path.is_file()} if out.exists() else {}
    parquet = tuple(size for path, size in sizes.items() if path.suffix == ".parquet")
    return Result(case, rows, seconds, sum(sizes.values()), peak_rss, peak_pss, parquet)


# RSS is read every 50 ms (15 us a process); PSS every 5th sample and at each new peak of RSS: the kernel walks
# every page of a process for it (2 ms each from /proc/PID/smaps_rollup, 4.5 ms through psutil's
# memory_full_info, measured here). Read for every process every 50 ms, it took ~10 % of a core from a
# one-process case and ~45 % from a Dask case of five processes.
PSS_EVERY = 5


def _pss(member: psutil.Process) -> int:
    try:
        with open(f"/proc/{member.pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:  # not Linux >= 4.14
        pass
    info = member.memory_full_info()
    return int(getattr(info, "pss", info.rss))


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
    parser.add_argument("--only", choices=["transactions", "ecommerce", "customers", "dask", "datasets", "start", "s3", "plan", "size"], default=None)
    parser.add_argument(
        "--scratch", default=None, help="Directory for outputs (default: a temporary directory)."
    )
    parser.add_argument("--match", default=None, help="Only the cases whose name contains this text.")
    args = parser.parse_args()
    os.environ["BENCH_WORKERS"] = str(args.workers)
    # The package as an installed wheel has it: byte-compiled modules. An editable checkout with
    # PYTHONDONTWRITEBYTECODE set (as on this machine) would compile every module in every case (~0.1 s).
    import dataset_generator

    compileall.compile_dir(str(Path(dataset_generator.__file__).parent), quiet=1)
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
    rounds: dict[str, list[float]] = {}
    for batch in _batches(selected):
        for result in _run_rounds(batch, out, rounds):
            results.append(result)
            print(
                f"| {result.case.name:<58} | {result.rows:>12,} | {result.seconds:>8.2f} | {result.rows / result.seconds:>12,.0f} | "
                f"{result.bytes_written / 2**20 / result.seconds:>12.1f} | {result.peak_rss / 2**20:>11.0f} | {result.peak_pss / 2**20:>11.0f} |",
                flush=True,
            )  # fmt: skip
    shutil.rmtree(out, ignore_errors=True)
    if rounds:
        print()
        for name, seconds in rounds.items():
            print(f"{name}: seconds in rounds {' / '.join(f'{value:.2f}' for value in seconds)}")
        print("(the table shows each such case's median round)")
    _print_ratios(results)


def _batches(selected: list[Case]) -> Iterator[list[Case]]:
    """Cases one by one, except that a group's cases of several rounds come together, where the first was."""
    done: set[str] = set()
    for case in selected:
        if case.rounds == 1:
            yield [case]
        elif case.group not in done:
            done.add(case.group)
            yield [other for other in selected if other.group == case.group and other.rounds > 1]


def _run_rounds(batch: list[Case], out: Path, rounds: dict[str, list[float]]) -> list[Result]:
    count = batch[0].rounds
    found: dict[str, list[Result]] = {case.name: [] for case in batch}
    for _ in range(count):
        for case in batch:
            found[case.name].append(run(case, out))
    if count > 1:
        rounds.update({name: [result.seconds for result in results] for name, results in found.items()})
    return [sorted(results, key=lambda result: result.seconds)[count // 2] for results in found.values()]


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
            target = "0.9" if label == "10M" else "0.8"  # issue 17.3 at 10 M rows; 0.8x before it
            print(
                f"transactions {label} parquet zstd vs hand-written numpy+pyarrow: {ours / reference:.2f}x (target >= {target}x)"
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
    _print_plan_and_size(results)
    serial, concurrent = rate("to S3", "1 part in flight"), rate("to S3", "4 parts in flight")
    if serial and concurrent:
        print(f"S3 uploads, 4 parts in flight vs 1: {concurrent / serial:.2f}x rows/s")
    local = rate("parquet zstd, local")
    for label, target in (("LocalCluster", "0.7"), ("running cluster", "0.9")):
        for result in results:
            if result.case.group == "dask" and label in result.case.name and local:
                print(f"{result.case.name} vs local engine: {result.rows / result.seconds / local:.2f}x (target >= {target}x)")
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


def _print_plan_and_size(results: list[Result]) -> None:
    for result in results:
        if result.case.group == "plan":
            print(f"{result.case.name}: {result.seconds:.1f} s, {result.peak_rss / 2**20:.0f} MB peak RSS "
                  f"(target <= 30 s{'' if '--parts' in result.case.command else ', <= 500 MB'})")  # fmt: skip
        if result.case.group == "size" and result.file_sizes:
            target = 256 * 10**6  # "256MB": decimal megabytes, as the CLI reads them
            # The last file of a run takes the remainder; files are named in order, so it sorts last.
            deviations = [size / target - 1 for size in result.file_sizes[:-1]] or [0.0]
            print(f"{result.case.name}: {len(result.file_sizes)} files, all but the last within "
                  f"{min(deviations):+.2%} .. {max(deviations):+.2%} of the target (target +-15 %)")  # fmt: skip


def steady_rate(results: list[Result], words: str) -> float | None:
    """Rows per second between the two runs of a case at two sizes: start-up cancels out."""
    runs = sorted((result for result in results if words in result.case.name), key=lambda result: result.rows)
    if len(runs) < 2 or runs[-1].seconds <= runs[0].seconds:
        return None
    return (runs[-1].rows - runs[0].rows) / (runs[-1].seconds - runs[0].seconds)


if __name__ == "__main__":
    main()
