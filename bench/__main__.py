"""``python -m bench``: EncryptData / DecryptData and jwtSign / jwtVerify against the raw primitives.

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
  encrypt = RSA-2048 OAEP-SHA256 encrypt + AES-256-GCM encrypt of 1 KiB,
  sign / verify = RSA-2048 PKCS#1 v1.5 SHA-256 over the JWS signing input of the jwtSign rows;
* jwtSign and jwtVerify (RS256, KERNEL/SIGN, a JSON payload of ``--size`` bytes, payload included)
  with the in-memory store + keystore;
* when a throwaway SoftHSM2 token can be made (softhsm2-util and the module of PKCS11_MODULE,
  default /usr/lib/softhsm/libsofthsm2.so; in a temporary directory, through SOFTHSM2_CONF), with
  the in-memory store + the PKCS#11 keystore on that token: jwtSign / jwtVerify (KERNEL/SIGN in
  the token), DecryptData warm, DecryptData cold (the unwrapped-key cache cleared before every
  call, so the base key is unwrapped with the REGISTRATION master key in the token), and the
  token's own RSA-2048 private-operation rate (CKM_RSA_X_509 on a 256-byte block with that master
  key, through python-pkcs11) as the bound of the cold path;

* zkEncrypt of 10 attributes (in-memory and, when reachable, PostgreSQL) against the raw work it is
  made of: the resident-key derivation (AES-ECB of SHA-256(id)), 10 AES-256-GCM encryptions of a
  short value and one RSA-2048 OAEP encryption of the random key; and encryptWithPin (PBKDF2-HMAC-
  SHA512 at the reference's 100,000 iterations) against raw PBKDF2 + AES-GCM, same parameters;

* the hybrid post-quantum envelope VER_Q1 (issue 18) in the same run: EncryptData and DecryptData
  (warm) with pqHybrid, compared with the VER_R2 rows of the same store, and the raw hybrid decrypt
  (RSA-2048 OAEP + ML-KEM-768 decapsulation + SHA3-256 + AES-256-GCM of 1 KiB) against the raw decrypt;

and prints ops/s and the ratio use case / raw, with the machine description.
Each figure is the best of ``--rounds`` rounds of about ``--seconds`` seconds; rounds of the
different measurements are interleaved so machine noise affects them alike.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cryptography
from cryptography.hazmat.backends.openssl.backend import backend as openssl_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import mlkem, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.crypto.pin import decrypt_with_pin, derive_pin_key
from application.support.work_limiter import WorkLimiter
from application.use_cases.cryptomanager.decrypt_data import DecryptCommand
from application.use_cases.cryptomanager.encrypt_data import EncryptCommand
from application.use_cases.cryptomanager.pin_encryption import PinEncryption
from application.use_cases.keymanager.generate_master_key import GenerateMasterKeyCommand
from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from application.use_cases.signature.jwt_headers import JwtSignCommand
from application.use_cases.signature.verify_jwt import JwtVerifyCommand
from application.use_cases.zk.attributes import ZkAttribute
from application.use_cases.zk.zk_decrypt import ZkDecryptCommand
from application.use_cases.zk.zk_encrypt import ZkEncryptCommand
from bench.timing import one_round
from domain.codec import b64url_decode, b64url_encode
from domain.keys import KeyPolicy, KeyTuple
from entrypoints.containers import Container
from tests.support import containers as support
from tests.support.backends import (
    DEFAULT_POSTGRES_ADMIN_URL,
    BackendUnavailable,
    throwaway_database,
    throwaway_softhsm_token,
)

APP, REF = "REGISTRATION", "BENCH_REF"
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
TARGET_DECRYPT_RATIO = 0.8
PG_ADMIN_URL_VARIABLE = "KEYMANAGER_BENCH_PG_URL"
#: Most database round trips a warm call may need (the strict check after the warm-up).
TARGET_ROUND_TRIPS = {"GetCertificate warm": 1, "EncryptData": 1, "DecryptData warm": 0, "zkEncrypt 10 attributes": 2}
#: Warm calls of the strict round-trip check.
PROBE_CALLS = 50
#: The key jwtSign uses without an application id, and the one the bench makes for it.
SIGN_TUPLE = ("KERNEL", "SIGN")
KEYSTORE_PASSWORD = "bench-password"


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
    #: the raw row this one is compared with
    bound: str | None = None


@dataclass
class Figure:
    ops_per_second: float = 0.0
    calls: int = 0
    round_trips: int = 0


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


LABELS = {"memory": "memory", "sqlite": "SQLite+PKCS#12", "postgres": "PostgreSQL+PKCS#12",
          "pkcs11": "memory+PKCS#11 SoftHSM2"}


def make_container(kind: str, directory: Path, db_url: str | None = None,
                   token: dict[str, str] | None = None) -> Container:
    """A container of ``kind`` (the settings builders the tests use, tests/support/containers.py) with
    ROOT, the benchmark's application and KERNEL/SIGN made; every key freshly generated."""
    if kind == "memory":
        settings = support.memory_settings(directory)
    elif kind == "sqlite":
        settings = support.sqlite_settings(directory, password=KEYSTORE_PASSWORD)
    elif kind == "pkcs11":
        assert token is not None
        settings = support.pkcs11_settings(directory, token, store="memory")
    else:
        assert db_url is not None
        settings = support.postgres_settings(directory, db_url, password=KEYSTORE_PASSWORD)
    container = support.make_container(settings)
    support.init_master_keys(container, ("ROOT", APP, ":".join(SIGN_TUPLE)))
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
    operations = {
        f"GetCertificate warm ({label})": Operation(lambda: get_certificate.execute(certificate_command), counter),
        f"EncryptData ({label})": Operation(lambda: encrypt.execute(encrypt_command), counter, "raw encrypt"),
        f"DecryptData warm ({label})": Operation(lambda: decrypt.execute(decrypt_command), counter, "raw decrypt"),
    }
    if kind == "pkcs11":  # only the decryption rows; and the cold path, through the token
        del operations[f"GetCertificate warm ({label})"], operations[f"EncryptData ({label})"]
        key_cache = container.key_cache()

        def cold_decrypt() -> object:
            key_cache.clear()  # the base key is unwrapped again: an RSA private operation in the token
            return decrypt.execute(decrypt_command)

        key_cache.clear()
        if cold_decrypt().data != payload or len(key_cache) != 1:
            raise SystemExit("cold DecryptData did not unwrap the base key again")
        operations[f"DecryptData cold ({label})"] = Operation(cold_decrypt, None, TOKEN_RAW)
    return operations


# -- post-quantum hybrid (issue 18) --


def pq_operations(container: Container, kind: str, payload: bytes) -> dict[str, Operation]:
    """VER_Q1 beside VER_R2 in the same run: the hybrid rows compare with the VER_R2 use-case rows."""
    encrypt, decrypt = container.encrypt_data(), container.decrypt_data()
    encrypt_command = EncryptCommand(app_id=APP, ref_id=REF, data=payload, pq_hybrid=True)
    wire = encrypt.execute(encrypt_command).data  # makes the ML-KEM twin
    if not wire.startswith(b"VER_Q1"):
        raise SystemExit("EncryptData did not return a VER_Q1 envelope")
    decrypt_command = DecryptCommand(app_id=APP, ref_id=REF, data=wire)
    if decrypt.execute(decrypt_command).data != payload:  # warms both unwrapped-key caches
        raise SystemExit("DecryptData did not open the VER_Q1 envelope")
    label = LABELS[kind]
    return {
        f"Hybrid VER_Q1 EncryptData ({label})": Operation(
            lambda: encrypt.execute(encrypt_command), None, f"EncryptData ({label})"),
        f"Hybrid VER_Q1 DecryptData warm ({label})": Operation(
            lambda: decrypt.execute(decrypt_command), None, f"DecryptData warm ({label})"),
    }


def raw_hybrid_operations(payload: bytes) -> dict[str, Operation]:
    """The primitives VER_Q1 decryption is made of (RSA-OAEP, ML-KEM-768 decapsulation, SHA3-256,
    AES-GCM), compared with the raw VER_R2 decrypt (RSA-OAEP and AES-GCM)."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kem_key = mlkem.MLKEM768PrivateKey.generate()
    kem_secret, kem_ciphertext = kem_key.public_key().encapsulate()
    rsa_secret = os.urandom(32)
    rsa_ciphertext = rsa_key.public_key().encrypt(rsa_secret, OAEP)
    aad = os.urandom(32)
    context = os.urandom(64)  # the two key identities

    def key(kem: bytes, rsa_part: bytes) -> bytes:
        digest = hashlib.sha3_256(kem + rsa_part + kem_ciphertext + rsa_ciphertext + context)
        return digest.digest()

    sealed = AESGCM(key(kem_secret, rsa_secret)).encrypt(aad[:12], payload, aad)

    def raw_hybrid_decrypt() -> bytes:
        data_key = key(kem_key.decapsulate(kem_ciphertext), rsa_key.decrypt(rsa_ciphertext, OAEP))
        return AESGCM(data_key).decrypt(aad[:12], sealed, aad)

    if raw_hybrid_decrypt() != payload:
        raise SystemExit("raw hybrid decrypt did not return the plaintext")
    return {"raw hybrid decrypt": Operation(raw_hybrid_decrypt, None, "raw decrypt")}


def json_document(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (at least the bare skeleton)."""
    head, tail = b'{"iss":"bench","sub":"jwt","data":"', b'"}'
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def jwt_operations(container: Container, kind: str, document: bytes) -> tuple[dict[str, Operation], bytes]:
    """jwtSign / jwtVerify (RS256) with KERNEL/SIGN, and the JWS signing input they produce."""
    sign, verify = container.jwt_sign(), container.jwt_verify()
    sign_command = JwtSignCommand(data_to_sign=b64url_encode(document), include_payload=True)
    token = sign.execute(sign_command).jwt_signed_data
    header = json.loads(b64url_decode(token.split(".")[0]))
    if header.get("alg") != "RS256":
        raise SystemExit(f"jwtSign with {SIGN_TUPLE} signed {header.get('alg')}, not RS256")
    verify_command = JwtVerifyCommand(jwt_signature_data=token, app_id=SIGN_TUPLE[0], ref_id=SIGN_TUPLE[1])
    if not verify.execute(verify_command).signature_valid:
        raise SystemExit("jwtVerify did not accept the token jwtSign made")
    label = LABELS[kind]
    return {
        f"jwtSign RS256 ({label})": Operation(lambda: sign.execute(sign_command), bound="raw sign"),
        f"jwtVerify RS256 ({label})": Operation(lambda: verify.execute(verify_command), bound="raw verify"),
    }, token.rsplit(".", 1)[0].encode("ascii")


def raw_signature_operations(signing_input: bytes) -> dict[str, Operation]:
    """RSA-2048 PKCS#1 v1.5 SHA-256 sign and verify of the same bytes jwtSign signs."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_key = private_key.public_key()
    signature = private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())

    def raw_verify() -> None:
        public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())

    raw_verify()
    return {
        "raw sign": Operation(lambda: private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())),
        "raw verify": Operation(raw_verify),
    }


TOKEN_RAW = "token RSA-2048 private op (CKM_RSA_X_509)"


def token_operations(container: Container, token: dict[str, str]) -> dict[str, Operation]:
    """The token's raw RSA-2048 private operation, through python-pkcs11 directly: CKM_RSA_X_509
    on a 256-byte block (< n) with the REGISTRATION master key, the key the cold path uses. It
    holds the module's process-wide lock as every caller must (adapters/pkcs11/keystore.py)."""
    import pkcs11
    from pkcs11 import Attribute, Mechanism, ObjectClass
    from pkcs11 import exceptions as p11

    from adapters.pkcs11.keystore import library_lock

    with container.uow_factory()() as uow:
        (master,) = uow.keys.aliases_for(KeyTuple(APP))
    lock = library_lock(token["module"])
    with lock:
        slot_token = pkcs11.lib(token["module"]).get_token(token_label=token["label"])
        try:
            session = slot_token.open(user_pin=token["pin"])
        except p11.UserAlreadyLoggedIn:  # the keystore logged this process in already
            session = slot_token.open()
        key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=master.alias.encode())
        modulus = int.from_bytes(bytes(key[Attribute.MODULUS]), "big")
    block = (int.from_bytes(os.urandom(256), "big") % modulus).to_bytes(256, "big")

    def raw_private_operation() -> bytes:
        with lock:
            return key.decrypt(block, mechanism=Mechanism.RSA_X_509)

    raw_private_operation()
    # The session stays open: closing a session that logged in would log the keystore out.
    return {TOKEN_RAW: Operation(raw_private_operation)}


@contextmanager
def throwaway_softhsm(directory: Path) -> Iterator[dict[str, str] | None]:
    """A new SoftHSM2 token in ``directory`` (tests/support/backends.py; SOFTHSM2_CONF points at it for
    this process), or None with a printed note when SoftHSM2 is not installed or the token cannot be made."""
    with ExitStack() as stack:
        try:
            token = stack.enter_context(throwaway_softhsm_token(directory, label_prefix="km-bench"))
        except BackendUnavailable as error:
            print(f"note: {error}: the PKCS#11 rows are skipped.", file=sys.stderr)
            token = None
        if token is not None:
            version = subprocess.run(["softhsm2-util", "--version"], capture_output=True, text=True, timeout=60)
            token = {**token, "softhsm": version.stdout.strip()}
        yield token


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
    return os.environ.get(PG_ADMIN_URL_VARIABLE, "").strip() or DEFAULT_POSTGRES_ADMIN_URL


@contextmanager
def throwaway_postgres(admin_url: str) -> Iterator[str | None]:
    """The URL of a new database km_bench_<random> on the server of ``admin_url`` (dropped afterwards;
    tests/support/backends.py), or None with a printed note when the server is unreachable."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_database(admin_url, prefix="km_bench"))
        except BackendUnavailable as error:
            print(f"note: {error}, through {PG_ADMIN_URL_VARIABLE} or the default; the PostgreSQL rows "
                  "are skipped.", file=sys.stderr)
            url = None
        yield url


ZK_ATTRIBUTES = 10
ZK_VALUE = "Jane Doe-Smith, 12 Rose Street"
PIN_ITERATIONS = 100_000


def zk_operations(container: Container, kind: str) -> dict[str, Operation]:
    """zkEncrypt of 10 attributes with a pool of 100 keys and one IDA certificate (the IDA key is a
    base key of this store, made under a policy saved for the benchmark)."""
    with container.uow_factory()() as uow:
        uow.keys.save_policy(KeyPolicy("IDA", 1095, 60, "NA", True))
        uow.commit()
    container.generate_master_key().execute(GenerateMasterKeyCommand(app_id="IDA"))
    container.get_certificate().execute(GetCertificateCommand(app_id="IDA", ref_id="PUBLIC_KEY"))
    container.init_zk_pool().execute(100)
    encrypt, decrypt = container.zk_encrypt(), container.zk_decrypt()
    attributes = [ZkAttribute(f"attribute{i}", ZK_VALUE) for i in range(ZK_ATTRIBUTES)]
    command = ZkEncryptCommand("1234567890", attributes)
    result = encrypt.execute(command)
    opened = decrypt.execute(ZkDecryptCommand("1234567890", result.attributes))
    if [a.value for a in opened] != [ZK_VALUE] * ZK_ATTRIBUTES:
        raise SystemExit("zkDecrypt did not return what zkEncrypt sealed")
    database = container.database() if kind == "postgres" else None
    counter = (lambda: database.round_trips) if database is not None else None
    return {f"zkEncrypt 10 attributes ({LABELS[kind]})": Operation(lambda: encrypt.execute(command), counter, "raw zk")}


def pin_operations(container: Container) -> dict[str, Operation]:
    pin = PinEncryption(PIN_ITERATIONS, WorkLimiter(1, 0, 0))
    if decrypt_with_pin(pin.encrypt("bench data", "1234"), "1234", PIN_ITERATIONS) != "bench data":
        raise SystemExit("decryptWithPin did not return what encryptWithPin sealed")

    def raw_pin() -> bytes:
        salt, nonce = os.urandom(32), os.urandom(12)
        return AESGCM(derive_pin_key("1234", salt, PIN_ITERATIONS)).encrypt(nonce, b"bench data", salt)

    return {
        "raw PBKDF2-SHA512 100k + AES-GCM": Operation(raw_pin),
        "encryptWithPin 100k (memory)": Operation(lambda: pin.encrypt("bench data", "1234"),
                                                  bound="raw PBKDF2-SHA512 100k + AES-GCM"),
    }


def raw_zk_operations() -> dict[str, Operation]:
    random_key, public_key = os.urandom(32), rsa.generate_private_key(65537, 2048).public_key()
    value = ZK_VALUE.encode()

    def raw_zk() -> object:
        digest = hashes.Hash(hashes.SHA256())
        digest.update(b"1234567890")
        encryptor = Cipher(algorithms.AES(random_key), modes.ECB()).encryptor()
        key = encryptor.update(digest.finalize()) + encryptor.finalize()
        sealed = [AESGCM(key).encrypt(os.urandom(12), value, os.urandom(32)) for _ in range(ZK_ATTRIBUTES)]
        return sealed, public_key.encrypt(random_key, OAEP)

    return {"raw zk": Operation(raw_zk)}


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
    document = json_document(size)
    admin_url = postgres_admin_url()
    pkcs11_info: dict[str, Any] = {"measured": False}
    with tempfile.TemporaryDirectory(prefix="keymanager-bench-") as temporary, \
            throwaway_postgres(admin_url) as postgres_url, \
            throwaway_softhsm(Path(temporary) / "softhsm") as token:
        operations = raw_operations(payload)
        memory = make_container("memory", Path(temporary) / "memory")
        operations.update(use_case_operations(memory, "memory", payload))
        operations.update(raw_hybrid_operations(payload))  # -- post-quantum hybrid (issue 18) --
        operations.update(pq_operations(memory, "memory", payload))
        operations.update(raw_zk_operations())
        operations.update(zk_operations(memory, "memory"))
        operations.update(pin_operations(memory))
        sqlite = make_container("sqlite", Path(temporary) / "sqlite")
        operations.update(use_case_operations(sqlite, "sqlite", payload))
        operations.update(pq_operations(sqlite, "sqlite", payload))  # -- post-quantum hybrid (issue 18) --
        postgres = None
        if postgres_url is not None:
            postgres = make_container("postgres", Path(temporary) / "postgres", postgres_url)
            operations.update(use_case_operations(postgres, "postgres", payload))
            operations.update(pq_operations(postgres, "postgres", payload))  # -- post-quantum hybrid (issue 18) --
            operations.update(zk_operations(postgres, "postgres"))
        jwt_memory, signing_input = jwt_operations(memory, "memory", document)
        operations.update(raw_signature_operations(signing_input))
        operations.update(jwt_memory)
        if token is not None:
            hsm = make_container("pkcs11", Path(temporary) / "pkcs11", token=token)
            operations.update(jwt_operations(hsm, "pkcs11", document)[0])
            operations.update(token_operations(hsm, token))
            operations.update(use_case_operations(hsm, "pkcs11", payload))
            pkcs11_info = {"measured": True, "module": token["module"], "softhsm": token["softhsm"],
                           "python_pkcs11": _version("python-pkcs11")}
        try:
            probes = probe_round_trips(operations)
            figures = measure_all(operations, seconds, rounds)
        finally:
            if postgres is not None:
                postgres.database().close()  # before the database is dropped
    rows = []
    for name, figure in figures.items():
        bound = operations[name].bound
        row = Row(name, figure.ops_per_second, bound,
                  figure.ops_per_second / figures[bound].ops_per_second if bound else None)
        if operations[name].counter is not None:
            row.calls, row.round_trips = figure.calls, figure.round_trips
            row.round_trips_per_call = figure.round_trips / figure.calls
        rows.append(row)
    decrypt_ratios = [row.ratio for row in rows if row.name.startswith("DecryptData warm") and row.ratio is not None]
    return {
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "payload_bytes": size,
        "jwt_payload": f"JSON object of {len(document)} bytes",
        "seconds_per_round": seconds,
        "rounds": rounds,
        "machine": machine(),
        "postgres": {"measured": postgres_url is not None,
                     "server": admin_url.rsplit("@", 1)[-1].rsplit("/", 1)[0]},
        "pkcs11": pkcs11_info,
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
    pkcs11_info = result["pkcs11"]
    assert isinstance(pkcs11_info, dict)
    if pkcs11_info["measured"]:
        pkcs11_note = (
            f"PKCS#11: a throwaway SoftHSM2 token ({pkcs11_info['softhsm']}, {pkcs11_info['module']}; "
            f"python-pkcs11 {pkcs11_info['python_pkcs11']}), in-memory store; calls into the module are "
            "serialised per process. DecryptData cold clears the unwrapped-key cache before every call."
        )
    else:
        pkcs11_note = "PKCS#11: no SoftHSM2 token could be made: its rows were skipped."
    lines += [
        "",
        f"Machine: {info['platform']}; CPU {info['cpu']}; {info['cores']} cores ({info['usable_cores']} usable); "
        f"{info['python']}; cryptography {info['cryptography']} ({info['openssl']}).",
        f"Best of {result['rounds']} rounds of ~{result['seconds_per_round']} s each. "
        f"DecryptData target ≥ {result['target_decrypt_ratio']} of raw: "
        f"{'met' if result['decrypt_target_met'] else 'NOT met'}.",
        trips_note,
        f"jwtSign / jwtVerify: RS256 with KERNEL/SIGN over a {result['jwt_payload']}, payload included; "
        "raw sign / verify: RSA-2048 PKCS#1 v1.5 SHA-256 over the same signing input.",
        pkcs11_note,
    ]
    return "\n".join(lines)


def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


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
