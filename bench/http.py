"""``python -m bench.http``: HTTP load on the real server (wrk) against the raw primitives.

Starts the server the way ``make run`` does (``python -m entrypoints.cli serve``: the key ceremony
on first start, then the HTTP server with its default workers, SQLite + PKCS#12 keystore, dev auth)
on a free port with its data directory in a fresh temporary directory, and loads it with wrk
(``-t2 -c8 -d15s`` by default), one endpoint at a time, each with one fixed JSON body POSTed again
and again:

* ``/decrypt`` of a 1 KiB VER_R2 envelope (made first by one ``/encrypt`` of 1024 random bytes for
  REGISTRATION / BENCH);
* ``/encrypt`` of 1 KiB (REGISTRATION / BENCH);
* ``/jwtSign`` (RS256 with KERNEL / SIGN) of a small JSON payload;
* ``decrypt:VER_Q1``: ``/decrypt`` of a 1 KiB hybrid post-quantum VER_Q1 envelope (``/encrypt`` with
  ``pqHybrid``, issue 18), against the raw hybrid decrypt (RSA-2048 OAEP + ML-KEM-768 decapsulation
  + SHA3-256 + AES-256-GCM), and compared with the VER_R2 ``/decrypt`` of the same run.

Before the load, a few warm-up requests of each body (new connections, so every worker is likely
reached) must all answer HTTP 200 with a success envelope (``errors`` null). During the load, the
wrk script counts the non-2xx responses and the 2xx responses whose envelope carries errors.

The raw bound of each endpoint is measured in this process, on one core, with `cryptography`
(decrypt = RSA-2048 OAEP-SHA256 decrypt of a 32-byte key + AES-256-GCM decrypt of 1 KiB;
encrypt = RSA-2048 OAEP-SHA256 encrypt + AES-256-GCM encrypt of 1 KiB; jwtSign = RSA-2048 PKCS#1
v1.5 SHA-256 signature), for ``--raw-seconds`` right before and right after each HTTP run; the
mean of the two is the figure, and both are kept so that machine drift shows. The server's CPU
use (all processes of its process group, from /proc) and wrk's own are measured over each run.

Note that wrk runs on the same machine: on 2 cores, wrk and the server's workers share them, so
"HTTP/raw" compares a whole machine's throughput with one core's raw rate, and "per CPU" divides
the HTTP rate by the server's CPU use (req per server CPU-second) before comparing.

``--profile`` adds one more /decrypt load run, with ``py-spy record`` (``pip install py-spy``)
sampling the server's worker processes for ``--profile-seconds``, and prints the top frames by
self and by inclusive share of the samples (Python frames only: granian's Rust side is not seen).
Its run is separate so that the profiler's pauses do not touch the table's figures.

Exit status: 0, or 1 when any response was not a success (non-2xx or an error envelope), or 2
when wrk is missing (``bash tests/support/ensure_wrk.sh`` installs it) or the server fails.
Not a test: figures depend on the machine; see docs/performance.md.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cryptography
from cryptography.hazmat.backends.openssl.backend import backend as openssl_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import mlkem, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.server_process import stop_server
from bench.timing import one_round

REPO_ROOT = Path(__file__).resolve().parents[1]
API = "/v1/keymanager"
REQUEST_TIME = "2024-05-01T10:15:30.123Z"
APP, REF = "REGISTRATION", "BENCH"
SIGN_APP, SIGN_REF = "KERNEL", "SIGN"
PAYLOAD_SIZE = 1024
SIGN_PAYLOAD = b'{"iss":"bench","sub":"http","n":12345,"iat":1714558530}'
# -- ML-DSA and batch (issue 18) --: each batch endpoint carries BATCH_ITEMS copies of its single endpoint's body.
SINGLE_ENDPOINTS = ("decrypt", "encrypt", "jwtSign")
ENDPOINTS = (*SINGLE_ENDPOINTS, "decrypt/batch", "encrypt/batch", "jwtSign/batch")
BATCH_ITEMS = 100
# -- post-quantum hybrid (issue 18) --: /decrypt of a VER_Q1 envelope; the part after ":" only names the body.
HYBRID_DECRYPT = "decrypt:VER_Q1"
ENDPOINTS = (*ENDPOINTS, HYBRID_DECRYPT)


def path_of(endpoint: str) -> str:
    """The URL path below the API prefix of an endpoint name (``decrypt:VER_Q1`` -> ``decrypt``)."""
    return endpoint.partition(":")[0]
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
STARTUP_TIMEOUT = 300.0  # the first start runs the key ceremony (ZK pool of 10,000 keys by default)
STOP_TIMEOUT = 30.0
WARM_UP_REQUESTS = 8
RESULT_MARK = "BENCH_RESULT "
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def envelope(request: dict[str, Any]) -> bytes:
    body = {"id": "bench", "version": "1.0", "requesttime": REQUEST_TIME, "metadata": {}, "request": request}
    return json.dumps(body, separators=(",", ":")).encode()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BenchError(Exception):
    """The bench cannot go on (the server did not start, a warm-up request failed...)."""


# -- the server ------------------------------------------------------------------------------------


class Server:
    """``python -m entrypoints.cli serve`` in its own session (so its workers share its process
    group), with KEYMANAGER_DATA_DIR in ``directory`` and the other KEYMANAGER_* settings at their
    defaults unless ``extra_env`` names them."""

    def __init__(self, directory: Path, extra_env: dict[str, str]) -> None:
        self.directory = directory
        self.port = free_port()
        self.log_path = directory / "server.log"
        self.extra_env = extra_env
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    def output(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return "(no output captured)"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEYMANAGER_")}
        env.update(
            KEYMANAGER_DATA_DIR=str(self.directory / "data"),
            KEYMANAGER_HOST="127.0.0.1",
            KEYMANAGER_PORT=str(self.port),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "entrypoints.cli", "serve"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the server exited with {self.process.returncode} before answering:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base}/getCertificate?applicationId=ROOT", timeout=2) as answer:
                    answer.read()
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.25)
        raise BenchError(f"the server did not answer within {STARTUP_TIMEOUT:.0f}s:\n{self.output()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_server(process, STOP_TIMEOUT)

    def group_pids(self) -> list[int]:
        """The server process and its workers (its process group), from /proc."""
        assert self.process is not None
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                fields = read_stat(int(entry.name))
                if fields is not None and int(fields[2]) == self.process.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the processes of the group alive now."""
        total = 0
        for pid in self.group_pids():
            fields = read_stat(pid)
            if fields is not None:
                total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS

    def post(self, endpoint: str, body: bytes) -> dict[str, Any]:
        """One POST on a new connection; the ``response`` of a success envelope, else BenchError."""
        request = urllib.request.Request(
            f"{self.base}/{path_of(endpoint)}", data=body, method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, text = answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as error:
            raise BenchError(f"POST /{endpoint}: {error}") from None
        if status != 200:
            raise BenchError(f"POST /{endpoint}: HTTP {status}: {text[:500]}")
        try:
            answer_body = json.loads(text)
        except ValueError:
            raise BenchError(f"POST /{endpoint}: not JSON: {text[:500]}") from None
        if answer_body.get("errors") is not None or not isinstance(answer_body.get("response"), dict):
            raise BenchError(f"POST /{endpoint}: not a success envelope: {text[:500]}")
        return answer_body["response"]


def read_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat fields after the command name: [state, ppid, pgrp, ..., utime (11), stime (12)]."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


# -- request bodies --------------------------------------------------------------------------------


def make_bodies(server: Server) -> dict[str, bytes]:
    """The fixed body of each endpoint; the decrypt one holds a VER_R2 envelope made by /encrypt."""
    plaintext = secrets.token_bytes(PAYLOAD_SIZE)
    encrypt = envelope({"applicationId": APP, "referenceId": REF, "timeStamp": REQUEST_TIME, "data": b64url(plaintext)})
    sealed = server.post("encrypt", encrypt)["data"]
    if not b64url_decode(sealed).startswith(b"VER_R2"):
        raise BenchError("/encrypt did not return a VER_R2 envelope")
    decrypt = envelope({"applicationId": APP, "referenceId": REF, "timeStamp": REQUEST_TIME, "data": sealed})
    if b64url_decode(server.post("decrypt", decrypt)["data"]) != plaintext:
        raise BenchError("/decrypt did not return the plaintext given to /encrypt")
    sign = envelope({"dataToSign": b64url(SIGN_PAYLOAD), "applicationId": SIGN_APP, "referenceId": SIGN_REF,
                     "includePayload": True})
    if server.post("jwtSign", sign).get("jwtSignedData", "").count(".") != 2:
        raise BenchError("/jwtSign did not return a compact JWS")
    bodies = {"decrypt": decrypt, "encrypt": encrypt, "jwtSign": sign}
    for single in SINGLE_ENDPOINTS:  # -- ML-DSA and batch (issue 18) --
        item = json.loads(bodies[single])["request"]
        batch = envelope({"items": [item] * BATCH_ITEMS})
        answered = server.post(f"{single}/batch", batch)["items"]
        if len(answered) != BATCH_ITEMS or any(entry["errors"] is not None for entry in answered):
            raise BenchError(f"/{single}/batch did not answer every item with success")
        bodies[f"{single}/batch"] = batch
    # -- post-quantum hybrid (issue 18) --
    hybrid = server.post("encrypt", envelope({"applicationId": APP, "referenceId": REF, "timeStamp": REQUEST_TIME,
                                              "data": b64url(plaintext), "pqHybrid": True}))["data"]
    if not b64url_decode(hybrid).startswith(b"VER_Q1"):
        raise BenchError("/encrypt with pqHybrid did not return a VER_Q1 envelope")
    bodies[HYBRID_DECRYPT] = envelope({"applicationId": APP, "referenceId": REF, "timeStamp": REQUEST_TIME,
                                       "data": hybrid})
    if b64url_decode(server.post(HYBRID_DECRYPT, bodies[HYBRID_DECRYPT])["data"]) != plaintext:
        raise BenchError("/decrypt did not open the VER_Q1 envelope")
    return bodies


def batch_items(endpoint: str) -> int:
    """Items per request: BATCH_ITEMS for a batch endpoint, else 1."""
    return BATCH_ITEMS if endpoint.endswith("/batch") else 1


def warm_up(server: Server, bodies: dict[str, bytes]) -> None:
    """A few requests of each body, each on a new connection; every one must be a success."""
    for endpoint, body in bodies.items():
        for _ in range(WARM_UP_REQUESTS):
            server.post(endpoint, body)


# -- raw bounds ------------------------------------------------------------------------------------


def raw_operations() -> dict[str, Callable[[], object]]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_key = private_key.public_key()
    payload = os.urandom(PAYLOAD_SIZE)
    session_key = os.urandom(32)
    aad = os.urandom(32)
    nonce = aad[:12]
    wrapped = public_key.encrypt(session_key, OAEP)
    sealed = AESGCM(session_key).encrypt(nonce, payload, aad)
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{b64url(SIGN_PAYLOAD)}".encode()

    def decrypt() -> bytes:
        return AESGCM(private_key.decrypt(wrapped, OAEP)).decrypt(nonce, sealed, aad)

    def encrypt() -> tuple[bytes, bytes]:
        return public_key.encrypt(session_key, OAEP), AESGCM(session_key).encrypt(nonce, payload, aad)

    def sign() -> bytes:
        return private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())

    if decrypt() != payload:
        raise BenchError("raw decrypt did not return the plaintext")
    operations = {"decrypt": decrypt, "encrypt": encrypt, "jwtSign": sign}
    operations.update({f"{name}/batch": operations[name] for name in SINGLE_ENDPOINTS})  # per item
    operations[HYBRID_DECRYPT] = raw_hybrid_decrypt(payload)  # -- post-quantum hybrid (issue 18) --
    return operations


def raw_hybrid_decrypt(payload: bytes) -> Callable[[], object]:
    """RSA-2048 OAEP + ML-KEM-768 decapsulation + SHA3-256 + AES-256-GCM of ``payload`` (VER_Q1's work)."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kem_key = mlkem.MLKEM768PrivateKey.generate()
    kem_secret, kem_ciphertext = kem_key.public_key().encapsulate()
    rsa_secret = os.urandom(32)
    rsa_ciphertext = rsa_key.public_key().encrypt(rsa_secret, OAEP)
    aad, context = os.urandom(32), os.urandom(64)

    def key(kem: bytes, rsa_part: bytes) -> bytes:
        return hashlib.sha3_256(kem + rsa_part + kem_ciphertext + rsa_ciphertext + context).digest()

    sealed = AESGCM(key(kem_secret, rsa_secret)).encrypt(aad[:12], payload, aad)

    def decrypt() -> bytes:
        data_key = key(kem_key.decapsulate(kem_ciphertext), rsa_key.decrypt(rsa_ciphertext, OAEP))
        return AESGCM(data_key).decrypt(aad[:12], sealed, aad)

    if decrypt() != payload:
        raise BenchError("raw hybrid decrypt did not return the plaintext")
    return decrypt


def raw_rate(operation: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``operation`` over about ``seconds``, in this thread (one core)."""
    return one_round(operation, seconds)[0]


# -- wrk ---------------------------------------------------------------------------------------------

#: The wrk script: POSTs the body read from a file; counts non-2xx responses and 2xx responses whose
#: envelope has errors (per thread, summed in done()), and prints one JSON line for this process.
WRK_SCRIPT = r"""
local handle = assert(io.open([==[%(body_path)s]==], "rb"))
wrk.method = "POST"
wrk.body = handle:read("*a")
handle:close()
wrk.headers["Content-Type"] = "application/json"

non_2xx = 0
envelope_errors = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  elseif string.find(body, '"errors"%%s*:%%s*%%[') or not string.find(body, '"errors"%%s*:%%s*null') then
    envelope_errors = envelope_errors + 1
  end
end

function done(summary, latency, requests)
  local non, bad = 0, 0
  for _, thread in ipairs(threads) do
    non = non + thread:get("non_2xx")
    bad = bad + thread:get("envelope_errors")
  end
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests":%%d,"duration_us":%%d,"bytes":%%d,"non_2xx":%%d,"envelope_errors":%%d,' ..
    '"socket_errors":{"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d},' ..
    '"latency_us":{"mean":%%.1f,"p50":%%d,"p90":%%d,"p99":%%d,"max":%%d}}\n',
    summary.requests, summary.duration, summary.bytes, non, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass
class WrkRun:
    requests: int
    duration_s: float
    requests_per_second: float
    non_2xx: int
    envelope_errors: int
    socket_errors: dict[str, int]
    latency_ms: dict[str, float]
    server_cpu_percent: float | None
    wrk_cpu_percent: float
    wall_s: float
    wrk_output: str = field(default="", repr=False)


def write_script(directory: Path, endpoint: str, body: bytes) -> Path:
    endpoint = endpoint.replace("/", "_").replace(":", "_")
    body_path = directory / f"body_{endpoint}.json"
    body_path.write_bytes(body)
    if "]==]" in str(body_path):
        raise BenchError(f"unusable temporary path {body_path}")
    script = directory / f"http_{endpoint}.lua"
    script.write_text(WRK_SCRIPT % {"body_path": body_path, "mark": RESULT_MARK})
    return script


def run_wrk(wrk: str, server: Server, endpoint: str, script: Path, args: argparse.Namespace,
            duration: int | None = None, during: Callable[[], None] | None = None) -> WrkRun:
    """One wrk run against ``endpoint``; ``during`` (if any) is called once wrk has started."""
    duration = duration or args.duration
    output_path = script.with_suffix(".out")
    command = [wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration}s",
               "--timeout", "10s", "-s", str(script), f"{server.base}/{path_of(endpoint)}"]
    cpu_before = server.cpu_seconds()
    started = time.monotonic()
    with open(output_path, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        if during is not None:
            during()
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        process.kill()
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    cpu_after = server.cpu_seconds()
    text = output_path.read_text(errors="replace")
    result_lines = [line for line in text.splitlines() if line.startswith(RESULT_MARK)]
    if process.returncode != 0 or not result_lines:
        raise BenchError(f"wrk failed (exit {process.returncode}) on /{endpoint}:\n{text[-3000:]}")
    result = json.loads(result_lines[-1][len(RESULT_MARK):])
    seconds = result["duration_us"] / 1e6
    server_cpu = (cpu_after - cpu_before) / wall * 100 if cpu_after >= cpu_before else None
    return WrkRun(
        requests=result["requests"],
        duration_s=seconds,
        requests_per_second=result["requests"] / seconds if seconds else 0.0,
        non_2xx=result["non_2xx"],
        envelope_errors=result["envelope_errors"],
        socket_errors=result["socket_errors"],
        latency_ms={name: value / 1000 for name, value in result["latency_us"].items()},
        server_cpu_percent=server_cpu,
        wrk_cpu_percent=(usage.ru_utime + usage.ru_stime) / wall * 100,
        wall_s=wall,
        wrk_output=text,
    )


# -- profile -----------------------------------------------------------------------------------------

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def short_frame(frame: str) -> str:
    """``function (file)`` with the file shortened to the repository or site-packages path."""
    match = FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif path.startswith(str(REPO_ROOT) + "/"):
        path = path[len(str(REPO_ROOT)) + 1:]
    elif "/lib/python" in path:
        path = "stdlib/" + path.rsplit("/", 1)[1]
    return f"{match['function']} ({path})"


#: Leaf functions of a thread that waits (py-spy does not always see such a thread as idle).
WAITING = {"Condition.wait", "Event.wait", "EpollSelector.select", "PollSelector.select", "Popen.poll", "sleep",
           "Queue.get", "SimpleQueue.get", "_wait_for_tstate_lock", "Thread.join", "Lock.acquire"}
#: Frames hidden from the inclusive table: process start-up, event loop, thread and process plumbing,
#: which are on nearly every stack and say nothing about where the time goes.
PLUMBING = ("<frozen runpy>", "entrypoints/cli.py", "entrypoints/server/run.py", "granian/", "multiprocessing/",
            "threading.py", "asyncio/", "concurrent/futures/")


def summarise_profile(raw_text: str, top: int, skip_pid: int | None = None) -> dict[str, Any]:
    """Top frames by self and inclusive share of the busy samples of py-spy's raw (collapsed)
    output: samples of ``skip_pid`` (the server's master process) are left out, and so are those
    whose leaf is a wait and those with no Python frame at all (both counted apart)."""
    self_counts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = waiting = native = 0
    processes: set[int] = set()
    for line in raw_text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames, pid = [], None
        for frame in stack.split(";"):
            if frame.startswith("process "):
                pid_text = frame[len("process "):].split(":", 1)[0]
                pid = int(pid_text) if pid_text.isdigit() else None
            elif not frame.startswith("thread ("):
                frames.append(short_frame(frame))
        if pid is not None and pid == skip_pid:
            continue
        if pid is not None:
            processes.add(pid)
        if not frames:  # a thread with no Python frame (granian's Rust threads): not seen from here
            native += count
            continue
        if frames[-1].split(" (", 1)[0] in WAITING:
            waiting += count
            continue
        total += count
        self_counts[frames[-1]] += count
        for frame in set(frames):
            if not frame.split(" (", 1)[-1].startswith(PLUMBING):
                inclusive[frame] += count

    def table(counter: Counter[str]) -> list[dict[str, Any]]:
        return [{"frame": frame, "samples": samples, "share": samples / total if total else 0.0}
                for frame, samples in counter.most_common(top)]

    return {"samples": total, "waiting_samples": waiting, "native_samples": native, "processes": len(processes),
            "self": table(self_counts), "inclusive": table(inclusive)}


def profile_decrypt(wrk: str, server: Server, script: Path, directory: Path,
                    args: argparse.Namespace) -> dict[str, Any] | None:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        print("\n--profile: py-spy is not installed (pip install py-spy into the venv: "
              f"{sys.executable} -m pip install py-spy); profile skipped.")
        return None
    raw_path = directory / "profile_decrypt.txt"
    log_path = directory / "py-spy.log"
    lead_in = 2
    recorder: list[subprocess.Popen] = []
    pid = server.process.pid if server.process else 0

    def start_profiler() -> None:
        time.sleep(lead_in)
        with open(log_path, "wb") as log:
            recorder.append(subprocess.Popen(
                [py_spy, "record", "--format", "raw", "--subprocesses", "--rate", "100",
                 "--duration", str(args.profile_seconds), "--pid", str(pid), "-o", str(raw_path)],
                stdout=log, stderr=subprocess.STDOUT,
            ))

    print(f"\nprofiling /decrypt: py-spy on the server's processes for {args.profile_seconds}s under load...",
          flush=True)
    run = run_wrk(wrk, server, "decrypt", script, args, duration=args.profile_seconds + lead_in + 2,
                  during=start_profiler)
    if recorder:
        try:
            recorder[0].wait(timeout=30)
        except subprocess.TimeoutExpired:
            recorder[0].kill()
            recorder[0].wait()
    if not raw_path.exists() or raw_path.stat().st_size == 0:
        print(f"py-spy wrote no samples:\n{log_path.read_text(errors='replace')[-2000:]}")
        return None
    summary = summarise_profile(raw_path.read_text(errors="replace"), args.profile_top, skip_pid=pid)
    summary["requests_per_second_under_profiler"] = run.requests_per_second
    summary["non_2xx"] = run.non_2xx + run.envelope_errors
    return summary


# -- report ------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        granian = version("granian")
    except Exception:  # noqa: BLE001 - only a description
        granian = "unknown"
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cryptography": cryptography.__version__,
        "openssl": openssl_backend.openssl_version_text(),
        "granian": granian,
    }


def print_table(results: dict[str, dict[str, Any]]) -> None:
    headers = ("endpoint", "HTTP req/s", "items/s", "raw ops/s", "raw before→after", "HTTP/raw", "per CPU",
               "non-2xx", "env.err", "sock.err", "p50 ms", "p99 ms", "server CPU%", "wrk CPU%")
    rows = []
    for endpoint, r in results.items():
        cpu = r["server_cpu_percent"]
        rows.append((
            f"/{endpoint}",
            f"{r['requests_per_second']:.0f}",
            f"{r['items_per_second']:.0f}",
            f"{r['raw_ops_per_second']:.0f}",
            f"{r['raw_before']:.0f}→{r['raw_after']:.0f}",
            f"{r['ratio']:.2f}",
            "-" if r["ratio_per_server_cpu"] is None else f"{r['ratio_per_server_cpu']:.2f}",
            str(r["non_2xx"]),
            str(r["envelope_errors"]),
            str(sum(r["socket_errors"].values())),
            f"{r['latency_ms']['p50']:.1f}",
            f"{r['latency_ms']['p99']:.1f}",
            "-" if cpu is None else f"{cpu:.0f}",
            f"{r['wrk_cpu_percent']:.0f}",
        ))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths))))
    for row in rows:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    singles = {e: r for e, r in results.items() if not e.endswith("/batch")}
    for endpoint, r in results.items():  # -- ML-DSA and batch (issue 18) --
        single = singles.get(endpoint.removesuffix("/batch"))
        if endpoint.endswith("/batch") and single:
            speedup = r["items_per_second"] / single["requests_per_second"]
            print(f"/{endpoint}: a batch of {r['items_per_request']} = {r['items_per_second']:.0f} items/s "
                  f"against {single['requests_per_second']:.0f} single calls/s: x{speedup:.2f}")
    hybrid, classic = results.get(HYBRID_DECRYPT), results.get("decrypt")  # -- post-quantum hybrid (issue 18) --
    if hybrid and classic:
        ratio = hybrid["requests_per_second"] / classic["requests_per_second"]
        print(f"/{HYBRID_DECRYPT}: {hybrid['requests_per_second']:.0f} req/s against VER_R2 /decrypt "
              f"{classic['requests_per_second']:.0f} req/s: x{ratio:.2f}")
    print("items/s = HTTP req/s x items per request (100 for /batch); HTTP/raw = items/s over the raw one-core "
          "rate (mean of before and after); per CPU = the same with "
          "HTTP req/s divided by the server's CPU use in cores;\nCPU% = 100 per core busy (the server's process "
          "group, and wrk, which shares the machine).")


def print_profile(profile: dict[str, Any]) -> None:
    print(f"\nwhere the time goes in /decrypt ({profile['requests_per_second_under_profiler']:.0f} req/s under the "
          f"profiler): {profile['samples']} busy samples of the {profile['processes']} worker processes' threads "
          f"(Python frames only; left out: {profile['waiting_samples']} samples of waits and "
          f"{profile['native_samples']} of threads with no Python frame, i.e. granian's Rust side)")
    print("  top by self:")
    for entry in profile["self"]:
        print(f"    {entry['share'] * 100:5.1f}%  {entry['frame']}")
    print("  top by inclusive (start-up, event-loop and thread plumbing hidden):")
    for entry in profile["inclusive"]:
        print(f"    {entry['share'] * 100:5.1f}%  {entry['frame']}")


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.startswith("KEYMANAGER_"):
            raise SystemExit(f"--server-env wants KEYMANAGER_NAME=value, got {pair!r}")
        env[name] = value
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds of each wrk run (default 15)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--raw-seconds", type=float, default=3.0,
                        help="seconds of each raw measurement, before and after each run (default 3)")
    parser.add_argument("--endpoint", action="append", choices=ENDPOINTS,
                        help="only this endpoint (repeatable; default all)")
    parser.add_argument("--profile", action="store_true", help="py-spy the server under /decrypt load")
    parser.add_argument("--profile-seconds", type=int, default=10, help="py-spy recording time (default 10)")
    parser.add_argument("--profile-top", type=int, default=15, help="frames listed (default 15)")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEYMANAGER_NAME=VALUE",
                        help="a server setting (repeatable); by default every KEYMANAGER_* is the default, "
                             "as `make run` has it")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server log, scripts)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.threads) < 1 or args.connections < args.threads:
        parser.error("--duration, --connections and --threads must be >= 1, and connections >= threads")
    server_env = parse_env(args.server_env)

    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench.http: wrk is not installed (Debian package wrk): run `bash tests/support/ensure_wrk.sh` "
              "or `apt-get install wrk`", file=sys.stderr)
        return 2
    endpoints = [e for e in ENDPOINTS if not args.endpoint or e in args.endpoint]
    description = machine()
    print(f"machine: {description['cpu']}, {description['usable_cores']} usable cores, {description['python']}, "
          f"cryptography {description['cryptography']} ({description['openssl']}), granian {description['granian']}")
    print(f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration}s per endpoint; "
          f"raw: {args.raw_seconds:g}s before and after each run, one core, in this process", flush=True)

    directory = Path(tempfile.mkdtemp(prefix="keymanager-bench-http-"))
    server = Server(directory, server_env)
    results: dict[str, dict[str, Any]] = {}
    profile = None
    try:
        started = time.monotonic()
        server.start()
        print(f"server: {server.base} ready after {time.monotonic() - started:.1f}s "
              f"(processes {server.group_pids()}, data in {directory / 'data'})", flush=True)
        bodies = make_bodies(server)
        warm_up(server, bodies)
        raw = raw_operations()
        scripts = {endpoint: write_script(directory, endpoint, bodies[endpoint]) for endpoint in endpoints}
        for endpoint in endpoints:
            before = raw_rate(raw[endpoint], args.raw_seconds)
            run = run_wrk(wrk, server, endpoint, scripts[endpoint], args)
            after = raw_rate(raw[endpoint], args.raw_seconds)
            raw_mean = (before + after) / 2
            per_cpu = None
            items = batch_items(endpoint)
            items_per_second = run.requests_per_second * items  # a batch: raw is per item (issue 18)
            if run.server_cpu_percent:
                per_cpu = items_per_second / (run.server_cpu_percent / 100) / raw_mean
            entry = {k: v for k, v in asdict(run).items() if k != "wrk_output"}
            entry.update(raw_before=before, raw_after=after, raw_ops_per_second=raw_mean,
                         items_per_request=items, items_per_second=items_per_second,
                         ratio=items_per_second / raw_mean, ratio_per_server_cpu=per_cpu)
            results[endpoint] = entry
            print(f"  /{endpoint}: {run.requests_per_second:.0f} req/s ({run.requests} requests, "
                  f"{run.non_2xx} non-2xx), raw {before:.0f}→{after:.0f} ops/s", flush=True)
        if args.profile and "decrypt" in scripts:
            profile = profile_decrypt(wrk, server, scripts["decrypt"], directory, args)
    except BenchError as error:
        print(f"bench.http: {error}", file=sys.stderr)
        return 2
    finally:
        server.stop()
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)

    print()
    print_table(results)
    if profile is not None:
        print_profile(profile)
    if args.json:
        document = {
            "machine": description,
            "load": {"tool": "wrk", "threads": args.threads, "connections": args.connections,
                     "duration_s": args.duration, "raw_seconds": args.raw_seconds,
                     "server": "python -m entrypoints.cli serve (defaults: sqlite + pkcs12, dev auth)",
                     "server_env": server_env},
            "endpoints": results,
            "profile": profile,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    failures = sum(r["non_2xx"] + r["envelope_errors"] for r in results.values())
    if failures:
        print(f"bench.http: {failures} responses were not successes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
