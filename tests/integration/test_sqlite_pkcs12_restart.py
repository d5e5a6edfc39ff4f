"""The embedded default (SQLite + PKCS#12 directory) across a restart and across
several OS processes sharing one data directory."""
from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from application.use_cases.cryptomanager.decrypt_data import DecryptCommand
from application.use_cases.cryptomanager.encrypt_data import EncryptCommand
from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from domain import envelope
from domain.codec import b64url_decode
from domain.current_key import current_aliases, pre_expire_days
from domain.keys import KeyTuple
from entrypoints.containers import Container, build_container
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.lockstep import run_in_lockstep
from tests.support.repo import sqlite_pkcs12_env

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = "REGISTRATION"
REF = "10001_110011"
#: DER prefix of an RSA PKCS#8 PrivateKeyInfo: version 0, rsaEncryption, NULL.
PKCS8_RSA_PREFIX = bytes.fromhex("020100300d06092a864886f70d0101010500")


def certificate_pem(container: Container, app: str, ref: str = "") -> str:
    result = container.get_certificate().execute(GetCertificateCommand(app, ref))
    assert result.certificate_pem is not None
    return result.certificate_pem


def key_rows(container: Container):
    with container.uow_factory()() as uow:
        return uow.keys.all_aliases()


def current_of(container: Container, key_tuple: KeyTuple):
    now = container.hierarchy().clock.now()
    with container.uow_factory()() as uow:
        window = pre_expire_days(key_tuple, uow.keys.policy)
        all_rows = uow.keys.aliases_for(key_tuple)
        return all_rows, current_aliases(all_rows, now, window)


def stored_files(settings: Settings) -> bytes:
    """Every byte SQLite may hold the data in: the file, its WAL and its journal."""
    content = b""
    for suffix in ("", "-wal", "-journal"):
        path = Path(f"{settings.sqlite_path}{suffix}")
        if path.exists():
            content += path.read_bytes()
    return content


# -- restart ------------------------------------------------------------------------------------


def test_restart_keeps_keys_and_old_data_decrypts(sqlite_settings: Settings) -> None:
    first = build_container(sqlite_settings)
    init_master_keys(first)
    certificate = certificate_pem(first, APP, REF)
    master = certificate_pem(first, APP)
    packet = first.encrypt_data().execute(EncryptCommand(APP, REF, b"packet before restart")).data
    salted = first.encrypt_data().execute(EncryptCommand(APP, REF, b"salted", salt=b"0123456789ab")).data
    rows_before = key_rows(first)
    keystore_before = first.keystore().aliases()
    assert len(rows_before) == 4  # ROOT, REGISTRATION, KERNEL/SIGN, the base key

    restarted = build_container(sqlite_settings)

    assert certificate_pem(restarted, APP, REF) == certificate
    assert certificate_pem(restarted, APP) == master
    decrypt = restarted.decrypt_data()
    assert decrypt.execute(DecryptCommand(APP, REF, packet)).data == b"packet before restart"
    assert decrypt.execute(DecryptCommand(APP, REF, salted, salt=b"0123456789ab")).data == b"salted"
    assert key_rows(restarted) == rows_before
    for key_tuple in {row.key_tuple for row in rows_before}:
        all_rows, now_current = current_of(restarted, key_tuple)
        assert len(all_rows) == 1 and len(now_current) == 1
    # The key ceremony run again after the restart makes nothing new.
    init_master_keys(restarted)
    assert key_rows(restarted) == rows_before
    assert restarted.keystore().aliases() == keystore_before
    assert restarted.decrypt_data().execute(
        DecryptCommand(APP, REF, restarted.encrypt_data().execute(EncryptCommand(APP, REF, b"after")).data)
    ).data == b"after"


def test_base_private_key_is_stored_wrapped(sqlite_settings: Settings) -> None:
    container = build_container(sqlite_settings)
    init_master_keys(container)
    base_certificate = x509.load_pem_x509_certificate(certificate_pem(container, APP, REF).encode())
    with container.uow_factory()() as uow:
        (row,) = uow.keys.aliases_for(KeyTuple(APP, REF))
        stored = uow.keys.stored_key(row.alias)
        master_alias = uow.keys.aliases_for(KeyTuple(APP))[0].alias

    connection = sqlite3.connect(sqlite_settings.sqlite_path)
    try:
        private_key, master_key = connection.execute(
            "SELECT private_key, master_key FROM key_store WHERE id = ?", (row.alias,)
        ).fetchone()
        hsm_rows = connection.execute(
            "SELECT COUNT(*) FROM key_store WHERE id IN (SELECT id FROM key_alias WHERE ref_id = '')"
        ).fetchone()[0]
    finally:
        connection.close()

    assert master_key == master_alias
    assert hsm_rows == 0  # keystore-held keys have no key_store row
    blob = b64url_decode(private_key)
    encrypted_key, sealed = envelope.unwrap_blob(blob)
    assert len(encrypted_key) == 256
    assert PKCS8_RSA_PREFIX not in blob

    # The plain PKCS#8 of that key appears nowhere in the database files.
    assert stored is not None and stored.private_key == private_key
    plain = container.hierarchy().unwrap_private_key(stored)
    assert plain.public_key().public_numbers() == base_certificate.public_key().public_numbers()
    pkcs8 = plain.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    on_disk = stored_files(sqlite_settings)

    for encoding in (pkcs8, base64.b64encode(pkcs8), base64.urlsafe_b64encode(pkcs8).rstrip(b"=")):
        assert encoding[:400] not in on_disk
    assert PKCS8_RSA_PREFIX not in on_disk


# -- several processes --------------------------------------------------------------------------

CHILD = r"""
import json, sys, time
from pathlib import Path
from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from entrypoints.containers import build_container
from entrypoints.settings import Settings

ready, go, refs = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
container = build_container(Settings.from_env())
use_case = container.get_certificate()
ready.write_text("ready")
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("no start signal")
    time.sleep(0.002)
out = {}
for ref in refs:
    out[ref] = use_case.execute(GetCertificateCommand("REGISTRATION", ref)).certificate_pem
print(json.dumps(out))
"""


def test_processes_racing_for_fresh_keys_agree_on_one_key_per_tuple(sqlite_settings: Settings, tmp_path: Path) -> None:
    parent = build_container(sqlite_settings)
    init_master_keys(parent)
    masters_before = key_rows(parent)
    keystore_before = parent.keystore().aliases()

    processes = 4
    refs = [f"race-ref-{n}" for n in range(5)]
    env = sqlite_pkcs12_env(sqlite_settings.data_dir, sqlite_settings.keystore_password)
    # each child visits the refs in another order
    orders = [["race1", *(refs[number:] + refs[:number])] for number in range(processes)]
    results = run_in_lockstep(tmp_path, CHILD, orders, env)

    checker = build_container(sqlite_settings)
    for ref in ["race1", *refs]:
        pems = {result[ref] for result in results}
        assert len(pems) == 1, f"processes got {len(pems)} different certificates for {ref}"
        all_rows, now_current = current_of(checker, KeyTuple(APP, ref))
        assert len(all_rows) == 1 and len(now_current) == 1, ref
        assert certificate_pem(checker, APP, ref) == pems.pop()
    # Nothing else was made: no second master, no stray keystore entries.
    assert [r for r in key_rows(checker) if r.ref_id in ("", "SIGN")] == masters_before
    assert checker.keystore().aliases() == keystore_before
