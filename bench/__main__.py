"""``python -m bench``: EncryptData / DecryptData against the raw primitives they are made of.

One run measures, on the in-process use cases (no HTTP):

* EncryptData and DecryptData of a 1 KiB payload, warm (one call made before timing),
  with the in-memory store + keystore and with SQLite + PKCS#12 in a temporary directory;
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import cryptography
from cryptography.hazmat.backends.openssl.backend import backend as openssl_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.use_cases.decrypt_data import DecryptCommand
from application.use_cases.encrypt_data import EncryptCommand
from application.use_cases.generate_master_key import GenerateMasterKeyCommand
from entrypoints.containers import Container, build_container
from entrypoints.settings import Settings

APP, REF = "REGISTRATION", "BENCH_REF"
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
TARGET_DECRYPT_RATIO = 0.8


@dataclass
class Row:
    name: str
    ops_per_second: float
    raw: str | None = None  # the raw row this one is compared with
    ratio: float | None = None


def one_round(operation: Callable[[], object], seconds: float) -> float:
    """ops/s of one round of about ``seconds`` (time.perf_counter)."""
    count = 0
    start = now = time.perf_counter()
    deadline = start + seconds
    while now < deadline:
        for _ in range(8):
            operation()
        count += 8
        now = time.perf_counter()
    return count / (now - start)


def measure_all(operations: dict[str, Callable[[], object]], seconds: float, rounds: int) -> dict[str, float]:
    """Best ops/s of each operation over ``rounds`` rounds. Rounds are interleaved
    (round 1 of every operation, then round 2, ...) so that a noisy neighbour
    slows the raw bound and the use case alike instead of skewing the ratio."""
    best = dict.fromkeys(operations, 0.0)
    for _ in range(rounds):
        for name, operation in operations.items():
            best[name] = max(best[name], one_round(operation, seconds))
    return best


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


def make_container(kind: str, directory: Path) -> Container:
    if kind == "memory":
        settings = Settings(data_dir=directory, store="memory", keystore="memory")
    else:
        settings = Settings(data_dir=directory, store="sqlite", keystore="pkcs12", keystore_password="bench-password")
    container = build_container(settings)
    generate = container.generate_master_key()
    for app in ("ROOT", APP):
        generate.execute(GenerateMasterKeyCommand(app_id=app))
    return container


def use_case_operations(kind: str, directory: Path, payload: bytes) -> dict[str, Callable[[], object]]:
    container = make_container(kind, directory)
    encrypt = container.encrypt_data()
    decrypt = container.decrypt_data()
    encrypt_command = EncryptCommand(app_id=APP, ref_id=REF, data=payload)
    wire = encrypt.execute(encrypt_command).data  # creates the base key; later calls find it current
    decrypt_command = DecryptCommand(app_id=APP, ref_id=REF, data=wire)
    if decrypt.execute(decrypt_command).data != payload:  # warms the unwrapped-key cache
        raise SystemExit("DecryptData did not return the plaintext")
    label = "memory" if kind == "memory" else "SQLite+PKCS#12"
    return {
        f"EncryptData ({label})": lambda: encrypt.execute(encrypt_command),
        f"DecryptData warm ({label})": lambda: decrypt.execute(decrypt_command),
    }


def raw_operations(payload: bytes) -> dict[str, Callable[[], object]]:
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
    return {"raw encrypt": raw_encrypt, "raw decrypt": raw_decrypt}


def run(seconds: float, rounds: int, size: int) -> dict[str, object]:
    payload = os.urandom(size)
    with tempfile.TemporaryDirectory(prefix="keymanager-bench-") as temporary:
        operations = raw_operations(payload)
        operations.update(use_case_operations("memory", Path(temporary) / "memory", payload))
        operations.update(use_case_operations("sqlite", Path(temporary) / "sqlite", payload))
        figures = measure_all(operations, seconds, rounds)
    rows = []
    for name, ops in figures.items():
        bound = "raw decrypt" if name.startswith("DecryptData") else "raw encrypt" if name.startswith("EncryptData") else None
        rows.append(Row(name, ops, bound, ops / figures[bound] if bound else None))
    decrypt_ratios = [row.ratio for row in rows if row.name.startswith("DecryptData") and row.ratio is not None]
    return {
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "payload_bytes": size,
        "seconds_per_round": seconds,
        "rounds": rounds,
        "machine": machine(),
        "rows": [asdict(row) for row in rows],
        "target_decrypt_ratio": TARGET_DECRYPT_RATIO,
        "decrypt_target_met": all(ratio >= TARGET_DECRYPT_RATIO for ratio in decrypt_ratios),
    }


def render(result: dict[str, object]) -> str:
    rows = result["rows"]
    assert isinstance(rows, list)
    lines = [
        f"| Measurement ({result['payload_bytes']} B payload) | ops/s | compared with | ratio |",
        "|---|---:|---|---:|",
    ]
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "—"
        lines.append(f"| {row['name']} | {row['ops_per_second']:,.0f} | {row['raw'] or '—'} | {ratio} |")
    info = result["machine"]
    assert isinstance(info, dict)
    lines += [
        "",
        f"Machine: {info['platform']}; CPU {info['cpu']}; {info['cores']} cores ({info['usable_cores']} usable); "
        f"{info['python']}; cryptography {info['cryptography']} ({info['openssl']}).",
        f"Best of {result['rounds']} rounds of ~{result['seconds_per_round']} s each. "
        f"DecryptData target ≥ {result['target_decrypt_ratio']} of raw: "
        f"{'met' if result['decrypt_target_met'] else 'NOT met'}.",
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
