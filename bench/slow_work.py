"""``python -m bench.slow_work``: do PIN requests starve the other endpoints?

Starts the real server (granian, 2 workers, SQLite + PKCS#12 in a temporary directory,
dev auth), then measures getCertificate from 4 client threads for ``--seconds``:

1. alone (the baseline);
2. while 8 more client threads send encryptWithPin (PBKDF2-HMAC-SHA512, 100,000 iterations) back to
   back (waiting the 1 s of Retry-After after a 503), with the default slow-work limit (1 computation
   + 1 waiting per worker process);
3. the same with the limit effectively lifted (8 + 8 per worker), i.e. what an unbounded server does.

It prints getCertificate's throughput and latency percentiles in each phase and the PIN requests'
outcomes (200 / 503). Not a test: figures depend on the machine; see docs/performance.md.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
ENVELOPE = {"id": "bench", "version": "1.0", "requesttime": "2024-05-01T10:15:30.123Z", "metadata": {}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, directory: Path, extra_env: dict[str, str]) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "KEYMANAGER_DATA_DIR": str(directory),
            "KEYMANAGER_PORT": str(self.port),
            "KEYMANAGER_KEYSTORE_PASSWORD": "bench-password",
            "KEYMANAGER_ZK_POOL_SIZE": "0",
            "KEYMANAGER_INIT_KEYS": "ROOT,REGISTRATION",
            **extra_env,
        }
        self.log = open(directory.parent / f"server-{self.port}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"], cwd=REPO_ROOT, env=env, stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}/v1/keymanager"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.certificate_url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("the server did not start")

    @property
    def certificate_url(self) -> str:
        return f"{self.base}/getCertificate?applicationId=REGISTRATION&referenceId=BENCH"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


def hammer(stop: threading.Event, call, results: list) -> None:
    session = requests.Session()
    while not stop.is_set():
        started = time.perf_counter()
        status = call(session)
        results.append((status, time.perf_counter() - started))
        if status == 503:
            stop.wait(1.0)  # a polite client honours Retry-After: 1


def phase(server: Server, seconds: float, pin_threads: int) -> dict[str, object]:
    stop = threading.Event()
    certificate: list = []
    pin: list = []
    pin_body = {**ENVELOPE, "request": {"data": "some text", "userPin": "123456"}}
    threads = [
        threading.Thread(target=hammer, args=(stop, lambda s: s.get(server.certificate_url, timeout=60).status_code,
                                              certificate))
        for _ in range(4)
    ] + [
        threading.Thread(target=hammer, args=(stop, lambda s: s.post(f"{server.base}/encryptWithPin", json=pin_body,
                                                                     timeout=60).status_code, pin))
        for _ in range(pin_threads)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    latencies = sorted(latency for status, latency in certificate if status == 200)
    quantile = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {
        "getCertificate/s": len(latencies) / seconds,
        "p50 ms": quantile(0.50),
        "p99 ms": quantile(0.99),
        "mean ms": statistics.fmean(latencies) * 1000,
        "getCertificate errors": sum(1 for status, _ in certificate if status != 200),
        "PIN 200": sum(1 for status, _ in pin if status == 200),
        "PIN 503": sum(1 for status, _ in pin if status == 503),
        "PIN other": sum(1 for status, _ in pin if status not in (200, 503)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_work", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="keymanager-slow-work-") as temporary:
        limited = Server(Path(temporary) / "limited", {})
        try:
            phase(limited, 1.0, 0)  # warm-up: the base key, caches, connections
            rows.append(("getCertificate alone", phase(limited, args.seconds, 0)))
            rows.append(("+ 8 PIN clients, default limit (1+1 per worker)", phase(limited, args.seconds, 8)))
        finally:
            limited.stop()
        unbounded = Server(Path(temporary) / "unbounded",
                           {"KEYMANAGER_SLOW_WORK_CONCURRENCY": "8", "KEYMANAGER_SLOW_WORK_WAITING": "8"})
        try:
            phase(unbounded, 1.0, 0)
            rows.append(("+ 8 PIN clients, limit lifted (8+8 per worker)", phase(unbounded, args.seconds, 8)))
        finally:
            unbounded.stop()
    columns = list(rows[0][1])
    print("| phase | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for name, figures in rows:
        cells = [f"{v:,.1f}" if isinstance(v, float) else f"{v:,}" for v in figures.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\n{os.cpu_count()} CPUs; {args.seconds:g} s per phase; 4 getCertificate clients; granian 2 workers.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
