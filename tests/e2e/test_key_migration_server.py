"""Key migration between two real server processes (issue 16), each with its own data directory
(embedded store, PKCS#12 keystore): base keys and ZK pool keys of A move into B over HTTP and B
decrypts what A encrypted before; then a key of B moves into A. The stand-in for the reference's
keys-migrator job (tests/support/key_migration.py) opens A's keys with A's store and keystore, as the
reference's job does with the old deployment's database and HSM."""
from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from domain.key_migration import MIGRATION_NOT_ALLOWED, MIGRATION_SUCCESS
from tests.support.containers import make_container, sqlite_settings
from tests.support.http_api import self_signed
from tests.support.key_migration import export_base_keys, export_zk_keys, zk_migration_request
from tests.support.server import requests, server_factory

pytestmark = pytest.mark.slow

APP = "REGISTRATION"
PASSWORDS = {"a": "keystore-of-a", "b": "keystore-of-b"}
RESIDENT = "4829174650"


def _env(name: str, pool: int) -> dict[str, str]:
    return {"KEYMANAGER_STORE": "sqlite", "KEYMANAGER_KEYSTORE": "pkcs12",
            "KEYMANAGER_KEYSTORE_PASSWORD": PASSWORDS[name], "KEYMANAGER_ZK_POOL_SIZE": str(pool)}


def _certificate(server, app: str, ref: str = ""):
    return x509.load_pem_x509_certificate(server.certificate(app, ref).encode("ascii"))


def _zk(server, path: str, attributes: list[dict]) -> list[dict]:
    return server.ok("POST", path, {"id": RESIDENT, "zkDataAttributes": attributes})["zkDataAttributes"]


def test_two_servers_migrate_keys_over_http(tmp_path: Path) -> None:
    ida_pem = self_signed("ida-e2e")[1].public_bytes(serialization.Encoding.PEM).decode("ascii")
    with server_factory(tmp_path) as make:
        a = make("a", **_env("a", 5)).start()
        b = make("b", **_env("b", 0)).start()
        for server in (a, b):
            body = {"applicationId": "IDA", "referenceId": "PUBLIC_KEY", "certificateData": ida_pem}
            assert server.ok("POST", "/uploadOtherDomainCertificate", body)["status"] == "Upload Success"
        body = {"applicationId": "KERNEL", "referenceId": "IDENTITY_CACHE", "force": False}
        assert b.ok("POST", "/generateSymmetricKey", body)["status"] == "Generation Success"

        # A encrypts with two base keys, and ZK-encrypts
        packets = {ref: f"packet {ref}".encode() for ref in ("e2e-1", "e2e-2")}
        sealed = {ref: a.encrypt(plain, ref=ref) for ref, plain in packets.items()}
        attributes = [{"identifier": "name", "value": "Jane Roe"}, {"identifier": "city", "value": "Ålesund"}]
        zk_sealed = [_zk(a, "/zkEncrypt", attributes) for _ in range(3)]

        # A's keys into B, over HTTP
        a_store = make_container(sqlite_settings(a.data_dir, PASSWORDS["a"]))
        exported = export_base_keys(a_store, (APP,))
        assert sorted(k.ref_id for k in exported) == ["e2e-1", "e2e-2"]
        b_master = _certificate(b, APP)
        for key in exported:
            assert b.ok("POST", "/migrateBaseKey", key.request(b_master))["status"] == MIGRATION_SUCCESS
            assert b.ok("POST", "/migrateBaseKey", key.request(b_master))["status"] == MIGRATION_NOT_ALLOWED
        for ref, plain in packets.items():
            assert b.decrypt(sealed[ref], ref=ref) == plain

        temp = b.ok("GET", "/getZKTempCertificate")["certificate"]
        pool = export_zk_keys(a_store)
        answer = b.ok("POST", "/migrateZKKeys", zk_migration_request(pool, temp, purge=True))
        assert {item["statusMessage"] for item in answer["zkEncryptedDataList"]} == {MIGRATION_SUCCESS}
        assert len(answer["zkEncryptedDataList"]) == 5
        for values in zk_sealed:
            assert _zk(b, "/zkDecrypt", values) == attributes
        purged = requests.post(f"{b.base}/migrateZKKeys", json={"request": zk_migration_request({}, temp, False)},
                               timeout=30).json()
        assert purged["errors"][0]["errorCode"] == "KER-KMS-003"

        # and one of B's keys into A
        from_b = b.encrypt(b"made on B", ref="e2e-b")
        b_store = make_container(sqlite_settings(b.data_dir, PASSWORDS["b"]))
        (key,) = export_base_keys(b_store, (APP,), ("e2e-b",))
        assert a.ok("POST", "/migrateBaseKey", key.request(_certificate(a, APP)))["status"] == MIGRATION_SUCCESS
        assert a.decrypt(from_b, ref="e2e-b") == b"made on B"
        assert b.decrypt(a.encrypt(b"from A", ref="e2e-b"), ref="e2e-b") == b"from A"  # one key pair in both
