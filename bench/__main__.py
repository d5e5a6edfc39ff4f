"""``python -m bench``: EncryptData / DecryptData against the raw primitives they are made of.

One run measures, on the in-process use cases (no HTTP):

* GetCertificate of an existing base key, EncryptData and DecryptData of a 1 KiB payload, all
  warm (one call made before timing), with the in-memory store + keystore, with SQLite + PKCS#12
  in a temporary directory and, when the server is reachable, with PostgreSQL + PKCS#12 in a
  throwaway database (``km_bench_<random>``, created and dropped through the URL in
  KEYMANAGER_BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres);
* for PostgreSQL, the database round trips per call (statements sent, from
  ``PostgresDatabase.round_trips``) over the timed calls, and a strict check right after the
  warm-up: at most 1 per warm GetCertificate (and EncryptData), 0 per warm DecryptData;
* the raw bounds, measured directly with `cryptography`:
  decrypt = RSA-2048 OAEP-SHA256 decrypt + AES-256-GCM decrypt of 1 KiB,
  encrypt = RSA-2048 OAEP-SHA256 encrypt + AES-256-GCM encrypt of 1 KiB;

and prints ops/s and the ratio use case / raw, with the machine description.
Each figure is the best of ``--rounds`` rounds of about ``--seconds`` seconds; rounds of the
different measurements are interleaved so machine noise affects them alike.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

import cryptography
from cryptography.hazmat.backends.openssl.backend import backend as openssl_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.use_cases.decrypt_data import DecryptCommand
from application.use_cases.encrypt_data import EncryptCommand
from application.use_cases.generate_master_key import GenerateMasterKeyCommand
from application.use_cases.get_certificate import GetCertificateCommand
from entrypoints.containers import Container, build_container
from entrypoints.settings import Settings

APP, REF = "REGISTRATION", "BENCH_REF"
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
TARGET_DECRYPT_RATIO = 0.8
PG_ADMIN_URL_VARIABLE = "KEYMANAGER_BENCH_PG_URL"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
#: Most database round trips a warm call may need (the strict check after the warm-up).
TARGET_ROUND_TRIPS = {"GetCertificate warm": 1, "EncryptData": 1, "DecryptData warm": 0}
#: Warm calls of the strict round-trip check.
PROBE_CALLS = 50


@dataclass
class Row:
    name: str
    ops_per_second: float
    raw: str | None = None  # the raw row this one is compared with
    ratio: float | None = None
    round_trips_per_call: float | None = None  # PostgreSQL statements per timed call
    calls: int | None = None  # timed calls (PostgreSQL rows)
    round_trips: int | None = None  # statements over those calls


@dataclass
class Operation:
    call: Callable[[], object]
    #: reads a round-trip counter (PostgreSQL rows), sampled around each timed round
    counter: Callable[[], int] | None = None


@dataclass
class Figure:
    ops_per_second: float = 0.0
    calls: int = 0
    round_trips: int = 0


def one_round(operation: Callable[[], object], seconds: float) -> tuple[float, int]:
    """(ops/s, calls) of one round of about ``seconds`` (time.perf_counter)."""
    count = 0
    start = now = time.perf_counter()
    deadline = start + seconds
    while now < deadline:
        for _ in range(8):
            operation()
        count += 8
        now = time.perf_counter()
    return count / (now - start), count


def measure_all(operations: dict[str, Operation], seconds: float, rounds: int) -> dict[str, Figure]:
    """Best ops/s of each operation over ``rounds`` rounds, with every timed call and
    round trip counted. Rounds are interleaved (round 1 of every operation, then
    round 2, ...) so that a noisy neighbour slows the raw bound and the use case
    alike instead of skewing the ratio. Only one operation runs at a time, so the
    counter's delta over a round belongs to that round's operation."""
    figures = {name: Figure() for name in operations}
    for _ in range(rounds):
        for name, operation in operations.items():
            before = operation.counter() if operation.counter else 0
            ops, calls = one_round(operation.call, seconds)
            figure = figures[name]
            figure.ops_per_second = max(figure.ops_per_second, ops)
            figure.calls += calls
            if operation.counter:
                figure.round_trips += operation.counter() - before
    return figures


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cryptography": cryptography.__version__,
        "openssl": openssl_backend.openssl_version_text(),
    }


LABELS = {"memory": "memory", "sqlite": "SQLite+PKCS#12", "postgres": "PostgreSQL+PKCS#12"}


def make_container(kind: str, directory: Path, db_url: str | None = None) -> Container:
    if kind == "memory":
        settings = Settings(data_dir=directory, store="memory", keystore="memory")
    elif kind == "sqlite":
        settings = Settings(data_dir=directory, store="sqlite", keystore="pkcs12", keystore_password="bench-password")
    else:
        settings = Settings(
            data_dir=directory, store="postgres", db_url=db_url, keystore="pkcs12", keystore_password="bench-password"
        )
    container = build_container(settings)
    generate = container.generate_master_key()
    for app in ("ROOT", APP):
        generate.execute(GenerateMasterKeyCommand(app_id=app))
    return container


def use_case_operations(container: Container, kind: str, payload: bytes) -> dict[str, Operation]:
    get_certificate = container.get_certificate()
    encrypt = container.encrypt_data()
    decrypt = container.decrypt_data()
    certificate_command = GetCertificateCommand(app_id=APP, ref_id=REF)
    encrypt_command = EncryptCommand(app_id=APP, ref_id=REF, data=payload)
    certificate = get_certificate.execute(certificate_command).certificate_pem  # creates the base key
    wire = encrypt.execute(encrypt_command).data  # later calls find the key current
    decrypt_command = DecryptCommand(app_id=APP, ref_id=REF, data=wire)
    if decrypt.execute(decrypt_command).data != payload:  # warms the unwrapped-key cache
        raise SystemExit("DecryptData did not return the plaintext")
    if get_certificate.execute(certificate_command).certificate_pem != certificate:
        raise SystemExit("GetCertificate returned another certificate for an existing key")
    database = container.database() if kind == "postgres" else None
    counter = (lambda: database.round_trips) if database is not None else None
    label = LABELS[kind]
    return {
        f"GetCertificate warm ({label})": Operation(lambda: get_certificate.execute(certificate_command), counter),
        f"EncryptData ({label})": Operation(lambda: encrypt.execute(encrypt_command), counter),
        f"DecryptData warm ({label})": Operation(lambda: decrypt.execute(decrypt_command), counter),
    }


def probe_round_trips(operations: dict[str, Operation], calls: int = PROBE_CALLS) -> dict[str, dict[str, object]]:
    """The strict check: round trips of ``calls`` warm calls made right after the warm-up
    (every cache fresh), against TARGET_ROUND_TRIPS; run before the timed rounds."""
    probes = {}
    for name, operation in operations.items():
        if operation.counter is None:
            continue
        target = next(value for prefix, value in TARGET_ROUND_TRIPS.items() if name.startswith(prefix))
        before = operation.counter()
        for _ in range(calls):
            operation.call()
        per_call = (operation.counter() - before) / calls
        probes[name] = {"calls": calls, "round_trips_per_call": per_call, "target": target, "met": per_call <= target}
    return probes


def postgres_admin_url() -> str:
    return os.environ.get(PG_ADMIN_URL_VARIABLE, "").strip() or DEFAULT_PG_ADMIN_URL


@contextmanager
def throwaway_postgres(admin_url: str) -> Iterator[str | None]:
    """The URL of a new database km_bench_<random> on the server of ``admin_url``
    (dropped afterwards), or None with a printed note when the server is unreachable."""
    import pg8000.native as pg

    from adapters.postgres.key_repository import PostgresOptions

    try:
        admin = PostgresOptions.from_url(admin_url)
        connection = pg.Connection(admin.user, host=admin.host, port=admin.port, database=admin.database,
                                   password=admin.password, timeout=5)
    except Exception as error:  # noqa: BLE001 - any failure means "no server here"
        print(f"note: PostgreSQL not reachable through {PG_ADMIN_URL_VARIABLE} or the default "
              f"({type(error).__name__}: {error}); the PostgreSQL rows are skipped.", file=sys.stderr)
        yield None
        return
    name = f"km_bench_{uuid.uuid4().hex[:12]}"
    try:
        connection.run(f"CREATE DATABASE {name}")
        auth = quote(admin.user, safe="") + (f":{quote(admin.password, safe='')}" if admin.password else "")
        yield f"postgresql://{auth}@{admin.host}:{admin.port}/{name}"
    finally:
        try:
            connection.run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            connection.close()


def raw_operations(payload: bytes) -> dict[str, Operation]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_key = private_key.public_key()
    session_key = os.urandom(32)
    aad = os.urandom(32)
    nonce = aad[:12]
    encrypted_key = public_key.encrypt(session_key, OAEP)
    sealed = AESGCM(session_key).encrypt(nonce, payload, aad)

    def raw_decrypt() -> bytes:
        key = private_key.decrypt(encrypted_key, OAEP)
        return AESGCM(key).decrypt(nonce, sealed, aad)

    def raw_encrypt() -> tuple[bytes, bytes]:
        return public_key.encrypt(session_key, OAEP), AESGCM(session_key).encrypt(nonce, payload, aad)

    if raw_decrypt() != payload:
        raise SystemExit("raw decrypt did not return the plaintext")
    return {"raw encrypt": Operation(raw_encrypt), "raw decrypt": Operation(raw_decrypt)}


def run(seconds: float, rounds: int, size: int) -> dict[str, object]:
    payload = os.urandom(size)
    admin_url = postgres_admin_url()
    with tempfile.TemporaryDirectory(prefix="keymanager-bench-") as temporary, \
            throwaway_postgres(admin_url) as postgres_url:
        operations = raw_operations(payload)
        operations.update(use_case_operations(make_container("memory", Path(temporary) / "memory"), "memory", payload))
        operations.update(use_case_operations(make_container("sqlite", Path(temporary) / "sqlite"), "sqlite", payload))
        postgres = None
        if postgres_url is not None:
            postgres = make_container("postgres", Path(temporary) / "postgres", postgres_url)
            operations.update(use_case_operations(postgres, "postgres", payload))
        try:
            probes = probe_round_trips(operations)
            figures = measure_all(operations, seconds, rounds)
        finally:
            if postgres is not None:
                postgres.database().close()  # before the database is dropped
    rows = []
    for name, figure in figures.items():
        bound = "raw decrypt" if name.startswith("DecryptData") else "raw encrypt" if name.startswith("EncryptData") else None
        row = Row(name, figure.ops_per_second, bound,
                  figure.ops_per_second / figures[bound].ops_per_second if bound else None)
        if operations[name].counter is not None:
            row.calls, row.round_trips = figure.calls, figure.round_trips
            row.round_trips_per_call = figure.round_trips / figure.calls
        rows.append(row)
    decrypt_ratios = [row.ratio for row in rows if row.name.startswith("DecryptData") and row.ratio is not None]
    return {
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "payload_bytes": size,
        "seconds_per_round": seconds,
        "rounds": rounds,
        "machine": machine(),
        "postgres": {"measured": postgres_url is not None,
                     "server": admin_url.rsplit("@", 1)[-1].rsplit("/", 1)[0]},
        "rows": [asdict(row) for row in rows],
        "target_decrypt_ratio": TARGET_DECRYPT_RATIO,
        "decrypt_target_met": all(ratio >= TARGET_DECRYPT_RATIO for ratio in decrypt_ratios),
        "round_trip_probe": probes,
        "round_trip_target_met": all(probe["met"] for probe in probes.values()) if probes else None,
    }


def render(result: dict[str, object]) -> str:
    rows = result["rows"]
    assert isinstance(rows, list)
    lines = [
        f"| Measurement ({result['payload_bytes']} B payload) | ops/s | compared with | ratio | DB round trips/call |",
        "|---|---:|---|---:|---:|",
    ]
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "—"
        trips = f"{row['round_trips_per_call']:.3f}" if row["round_trips_per_call"] is not None else "—"
        lines.append(
            f"| {row['name']} | {row['ops_per_second']:,.0f} | {row['raw'] or '—'} | {ratio} | {trips} |"
        )
    info = result["machine"]
    assert isinstance(info, dict)
    postgres = result["postgres"]
    assert isinstance(postgres, dict)
    probes = result["round_trip_probe"]
    assert isinstance(probes, dict)
    if postgres["measured"]:
        timed = "; ".join(
            f"{row['name'].split(' (')[0]} {row['round_trips']:,} over {row['calls']:,} calls"
            for row in rows if row["round_trips"] is not None
        )
        checks = "; ".join(
            f"{name.split(' (')[0]} {probe['round_trips_per_call']:g} (≤ {probe['target']}: "
            f"{'met' if probe['met'] else 'NOT met'})"
            for name, probe in probes.items()
        )
        trips_note = (
            f"PostgreSQL at {postgres['server']} (throwaway database). Round trips over the timed calls: {timed}. "
            f"Strict check, {PROBE_CALLS} warm calls right after the warm-up: {checks}."
        )
    else:
        trips_note = "PostgreSQL not reachable: its rows were skipped."
    lines += [
        "",
        f"Machine: {info['platform']}; CPU {info['cpu']}; {info['cores']} cores ({info['usable_cores']} usable); "
        f"{info['python']}; cryptography {info['cryptography']} ({info['openssl']}).",
        f"Best of {result['rounds']} rounds of ~{result['seconds_per_round']} s each. "
        f"DecryptData target ≥ {result['target_decrypt_ratio']} of raw: "
        f"{'met' if result['decrypt_target_met'] else 'NOT met'}.",
        trips_note,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of one measurement round (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measurement; the best is kept (default 3)")
    parser.add_argument("--size", type=int, default=1024, help="payload size in bytes (default 1024)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.rounds < 1 or args.size < 1:
        parser.error("--seconds, --rounds and --size must be positive")
    result = run(args.seconds, args.rounds, args.size)
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
