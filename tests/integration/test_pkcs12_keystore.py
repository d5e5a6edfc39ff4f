"""What only the PKCS#12 keystore promises: persistence, password protection,
file permissions, and sharing one directory between processes."""
from __future__ import annotations

import datetime
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from adapters.pkcs12.keystore import Pkcs12Keystore
from application.crypto.primitives import OAEP_SHA256, generate_rsa_key, private_key_to_pkcs8
from application.ports.keystore import KeystoreError

PASSWORD = b"s3cret-keystore-passw0rd"
ALIAS = "7d3f9a10-2b4c-4e5f-8a9b-0c1d2e3f4a5b"
REPO_ROOT = Path(__file__).resolve().parents[2]


def public_key(spki: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_der_public_key(spki)
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def certificate_for(spki: bytes, common_name: str) -> bytes:
    issuer_key = generate_rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key(spki))
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(issuer_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "keystore"


def test_a_restarted_instance_sees_keys_and_certificates(directory: Path) -> None:
    first = Pkcs12Keystore(directory, PASSWORD)
    spki = first.generate_key_pair(ALIAS)
    cert = certificate_for(spki, "root")
    first.store_certificate(ALIAS, cert)

    restarted = Pkcs12Keystore(directory, PASSWORD)
    assert restarted.aliases() == [ALIAS]
    assert restarted.certificate(ALIAS) == cert
    ciphertext = public_key(spki).encrypt(b"after restart", OAEP_SHA256)
    assert restarted.decrypt(ALIAS, ciphertext) == b"after restart"


def test_wrong_password_raises_without_revealing_it(directory: Path) -> None:
    Pkcs12Keystore(directory, PASSWORD).generate_key_pair(ALIAS)
    wrong = b"wrong-password-do-not-print"
    with pytest.raises(KeystoreError) as info:
        Pkcs12Keystore(directory, wrong).sign(ALIAS, b"data")
    text = str(info.value) + repr(info.value)
    assert PASSWORD.decode() not in text
    assert wrong.decode() not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("password", [b"", None])
def test_empty_password_is_rejected(directory: Path, password: bytes | None) -> None:
    with pytest.raises(KeystoreError, match="Provided Keystore password is not valid."):
        Pkcs12Keystore(directory, password)  # type: ignore[arg-type]


def test_files_are_0600_and_directory_0700(directory: Path) -> None:
    keystore = Pkcs12Keystore(directory, PASSWORD)
    spki = keystore.generate_key_pair(ALIAS)
    path = directory / f"{ALIAS}.p12"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keystore.store_certificate(ALIAS, certificate_for(spki, "root"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_certificate_replaced_by_one_instance_is_seen_by_another(directory: Path) -> None:
    a = Pkcs12Keystore(directory, PASSWORD)
    b = Pkcs12Keystore(directory, PASSWORD)
    spki = a.generate_key_pair(ALIAS)
    assert b.certificate(ALIAS) is None  # now cached in b
    first, second = certificate_for(spki, "first"), certificate_for(spki, "secnd")
    a.store_certificate(ALIAS, first)
    assert b.certificate(ALIAS) == first
    a.store_certificate(ALIAS, second)  # most likely the same size as `first`
    assert b.certificate(ALIAS) == second
    a.delete(ALIAS)
    assert b.certificate(ALIAS) is None
    with pytest.raises(KeystoreError, match="No such alias"):
        b.sign(ALIAS, b"data")


def test_private_key_is_not_stored_in_clear(directory: Path) -> None:
    keystore = Pkcs12Keystore(directory, PASSWORD)
    spki = keystore.generate_key_pair(ALIAS)
    keystore.store_certificate(ALIAS, certificate_for(spki, "root"))
    data = (directory / f"{ALIAS}.p12").read_bytes()
    key, _, _ = pkcs12.load_key_and_certificates(data, PASSWORD)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert private_key_to_pkcs8(key) not in data
    assert key.private_numbers().p.to_bytes(128, "big") not in data


def test_temp_and_foreign_files_are_not_aliases(directory: Path) -> None:
    keystore = Pkcs12Keystore(directory, PASSWORD)
    keystore.generate_key_pair(ALIAS)
    (directory / f".{ALIAS}.abc123.tmp").write_bytes(b"half written")
    (directory / "notes.txt").write_text("not a key")
    assert keystore.aliases() == [ALIAS]


@pytest.mark.parametrize("alias", ["../escape", "a/b", ".hidden", ""])
def test_alias_that_is_not_a_plain_file_name_is_rejected(directory: Path, alias: str) -> None:
    with pytest.raises(KeystoreError):
        Pkcs12Keystore(directory, PASSWORD).generate_key_pair(alias)


def test_corrupted_file_raises_keystore_error(directory: Path) -> None:
    keystore = Pkcs12Keystore(directory, PASSWORD)
    keystore.generate_key_pair(ALIAS)
    (directory / f"{ALIAS}.p12").write_bytes(b"garbage")
    with pytest.raises(KeystoreError):
        keystore.sign(ALIAS, b"data")


def test_health_reports_count_and_missing_directory(directory: Path) -> None:
    keystore = Pkcs12Keystore(directory, PASSWORD)
    keystore.generate_key_pair(ALIAS)
    health = keystore.health()
    assert health.ok and health.detail == f"pkcs12 keystore at {directory}, 1 keys"
    keystore.delete(ALIAS)
    directory.rmdir()
    health = keystore.health()
    assert not health.ok and "missing" in health.detail


# Each worker waits for a "go" file so that all of them write at the same time.
WORKER = """
import sys, time
from pathlib import Path
from adapters.pkcs12.keystore import Pkcs12Keystore
from application.ports.keystore import KeystoreError
directory, password, worker, go = Path(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], Path(sys.argv[4])
keystore = Pkcs12Keystore(directory, password)
while not go.exists():
    time.sleep(0.005)
try:
    keystore.generate_key_pair("shared")
    print("shared won", flush=True)
except KeystoreError:
    print("shared lost", flush=True)
for j in range(5):
    alias = f"w{worker}-k{j}"
    print(alias, keystore.generate_key_pair(alias).hex(), flush=True)
"""


def test_three_processes_generate_concurrently(directory: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(directory), PASSWORD.decode(), str(i), str(go)],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(3)
    ]
    go.touch()
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        outputs.append(out)

    lines = [line.split() for out in outputs for line in out.splitlines()]
    # The same alias raced by three processes: exactly one wins.
    assert sorted(line[1] for line in lines if line[0] == "shared") == ["lost", "lost", "won"]
    generated = {alias: bytes.fromhex(spki) for alias, spki in (l for l in lines if l[0] != "shared")}
    assert len(generated) == 15

    fresh = Pkcs12Keystore(directory, PASSWORD)
    assert sorted(fresh.aliases()) == sorted([*generated, "shared"])
    for alias, spki in generated.items():
        message = alias.encode()
        assert fresh.decrypt(alias, public_key(spki).encrypt(message, OAEP_SHA256)) == message
    assert not [p for p in directory.iterdir() if p.suffix != ".p12"], "temp files left behind"
