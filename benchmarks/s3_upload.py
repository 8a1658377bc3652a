"""Upload throughput of `S3Storage.open_write` against a local moto server, by parts in flight per file.

    .venv/bin/python benchmarks/s3_upload.py [--mb 200] [--part-mib 16] [--inflight 1,4] [--repeat 2]
                                             [--link-mb-s 25]

Starts `moto_server` on 127.0.0.1 (nothing leaves the machine), streams `--mb` MB of random bytes into one object
in 1 MiB writes (as a Parquet encoder does), and prints MB/s for each setting. On loopback the two cores are the
limit (moto is a Python server). `--link-mb-s N` puts a relay in front of moto that caps every TCP connection at
N MB/s, as a WAN link to a real store does per stream: that is where concurrent parts pay off.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from dataset_generator.storage.config import MIB, S3Config
from dataset_generator.storage.s3 import S3Storage


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    script = Path(sys.executable).with_name("moto_server")
    command = [str(script) if script.exists() else shutil.which("moto_server") or "moto_server"]
    env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
    process = subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("moto_server did not start")


def _pipe(source: socket.socket, target: socket.socket, bytes_per_s: float | None) -> None:
    started, sent = time.perf_counter(), 0
    try:
        while data := source.recv(256 * 1024):
            target.sendall(data)
            sent += len(data)
            if bytes_per_s:
                ahead = sent / bytes_per_s - (time.perf_counter() - started)
                if ahead > 0:
                    time.sleep(ahead)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


def start_throttle(upstream: str, mb_per_s: float) -> str:
    """A loopback TCP relay to `upstream` capping each connection's upload direction at `mb_per_s` MB/s."""
    host, port = upstream.rsplit("/", 1)[-1].split(":")
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            client, _ = listener.accept()
            server = socket.create_connection((host, int(port)))
            threading.Thread(target=_pipe, args=(client, server, mb_per_s * 1e6), daemon=True).start()
            threading.Thread(target=_pipe, args=(server, client, None), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def upload_mb_per_s(endpoint: str, bucket: str, data: bytes, part_mib: int, inflight: int) -> float:
    """Seconds-timed upload of `data` as one object; returns MB/s (10^6 bytes)."""
    config = S3Config(
        key="bench",
        secret="bench",
        endpoint_url=endpoint,
        region="us-east-1",
        multipart_chunk_bytes=part_mib * MIB,
        max_inflight_parts=inflight,
    )
    storage = S3Storage(f"s3://{bucket}/bench", config)
    path = storage.join(f"object-{inflight}.bin")
    view = memoryview(data)
    started = time.perf_counter()
    with storage.open_write(path) as sink:
        for offset in range(0, len(data), MIB):
            sink.write(view[offset : offset + MIB])
    seconds = time.perf_counter() - started
    assert storage.size(path) == len(data)
    storage.remove([path])
    return len(data) / seconds / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--part-mib", type=int, default=16)
    parser.add_argument("--inflight", default="1,4")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--link-mb-s", type=float, default=None)
    args = parser.parse_args()
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    process, endpoint = _start_moto()
    try:
        storage = S3Storage("s3://bench-bucket", S3Config(key="bench", secret="bench", endpoint_url=endpoint))
        storage.s3.must("CreateBucket", "bench-bucket")
        data = np.random.default_rng(0).bytes(args.mb * 1_000_000)
        link = "loopback" if not args.link_mb_s else f"links capped at {args.link_mb_s:g} MB/s per connection"
        print(f"{args.mb} MB in {args.part_mib} MiB parts, moto on 127.0.0.1, {link}")
        if args.link_mb_s:
            endpoint = start_throttle(endpoint, args.link_mb_s)
        for inflight in (int(value) for value in args.inflight.split(",")):
            rates = [
                upload_mb_per_s(endpoint, "bench-bucket", data, args.part_mib, inflight) for _ in range(args.repeat)
            ]
            print(f"parts in flight {inflight}: best {max(rates):.1f} MB/s (runs: {', '.join(f'{r:.1f}' for r in rates)})")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
