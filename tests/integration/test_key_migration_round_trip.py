"""Key migration between two deployments with different keystores (issue 16), over HTTP (Flask's test
client): data encrypted (/encrypt) and ZK-encrypted (/zkEncrypt) on A before the migration decrypts on
B after it, once the stand-in for the reference's keys-migrator job (tests/support/key_migration.py)
has moved A's base keys through B's /migrateBaseKey (re-wrapped for B's master key, from B's
/getCertificate) and A's pool keys through B's /getZKTempCertificate and /migrateZKKeys. Then one key
goes the other way, B to A. On the embedded store (SQLite, PKCS#12 each), on PostgreSQL (a schema
each) and with B on the PKCS#11 keystore (SoftHSM2).
"""
from __future__ import annotations

import io
import threading
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from domain.key_migration import MIGRATION_NOT_ALLOWED, MIGRATION_SUCCESS, ZK_TEMP_KEY
from domain.keys import KeyTuple
from entrypoints.cli import run_zk_init
from tests.support import containers as support
from tests.support.containers import init_master_keys
from tests.support.http_api import API, certificate, crypto_request, decrypt, encrypt, error, ok, post, self_signed
from tests.support.key_migration import (
    Deployment,
    export_base_keys,
    export_zk_keys,
    zk_migration_request,
)
from tests.support.required import adapter_params

APP = "REGISTRATION"
REFS = ("mig-1", "mig-2")
POOL = 6
RESIDENTS = ("4829174650", "7391046285")


def _settings(variant: str, tmp_path: Path, request: pytest.FixtureRequest):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    if variant == "sqlite":
        return support.sqlite_settings(a_dir), support.sqlite_settings(b_dir)
    if variant == "postgres":
        url = request.getfixturevalue("postgres_url")
        schemas = [f"{url}?schema=mig_{side}_{uuid.uuid4().hex[:10]}" for side in "ab"]
        return support.postgres_settings(a_dir, schemas[0]), support.postgres_settings(b_dir, schemas[1])
    token = request.getfixturevalue("softhsm_token")  # A: PKCS#12 file keystore, B: the HSM
    return support.sqlite_settings(a_dir), support.pkcs11_settings(b_dir, token)


def _put(client, path: str, request: dict):
    return client.put(API + path, json={"id": "t", "version": "1.0", "requesttime": None, "request": request})


def _zk(client, path: str, resident: str, attributes: list[dict]) -> dict:
    return ok(post(client, path, {"id": resident, "zkDataAttributes": attributes}))


def _upload(client, app: str, ref: str, cert: x509.Certificate) -> None:
    pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    body = {"applicationId": app, "referenceId": ref, "certificateData": pem}
    assert ok(post(client, "/uploadOtherDomainCertificate", body))["status"] == "Upload Success"


@pytest.mark.parametrize("variant", adapter_params(["sqlite", "postgres", "pkcs11"]))
def test_keys_move_between_deployments_and_old_data_opens(
    variant: str, tmp_path: Path, make_container, request: pytest.FixtureRequest
) -> None:
    a_settings, b_settings = _settings(variant, tmp_path, request)
    a = Deployment(a_settings, make_container(a_settings))
    b = Deployment(b_settings, make_container(b_settings))
    init_master_keys(a.container)
    init_master_keys(b.container)
    ida = self_signed("ida-migration")[1]
    partner = self_signed("partner-migration")[1]

    # -- A before the migration: base keys (one of them revoked and succeeded), a partner
    # certificate, a ZK pool, and data encrypted with all of them.
    encrypted: list[tuple[str, bytes, bytes]] = []
    for ref in REFS:
        plain = f"packet for {ref}".encode()
        encrypted.append((ref, encrypt(a.client, plain, ref=ref), plain))
    assert ok(_put(a.client, "/revokeKey", {"applicationId": APP, "referenceId": REFS[0]}))["status"] == "Key Revoked"
    encrypted.append((REFS[0], encrypt(a.client, b"after the revocation", ref=REFS[0]), b"after the revocation"))
    _upload(a.client, "PARTNER", "partner-mig", partner)
    _upload(a.client, "IDA", "PUBLIC_KEY", ida)
    assert run_zk_init(a.container, POOL, out=io.StringIO(), progress=lambda done, total: None) == 0
    sealed_values = []
    for resident in RESIDENTS:
        for attempt in range(4):
            attributes = [{"identifier": "name", "value": f"{resident}-{attempt}"}, {"identifier": "city", "value": "Pune"}]
            sealed_values.append((resident, _zk(a.client, "/zkEncrypt", resident, attributes)["zkDataAttributes"],
                                  attributes))

    # -- B before: its own keys (another keystore), a ZK master key and no pool
    body = {"applicationId": "KERNEL", "referenceId": "IDENTITY_CACHE", "force": False}
    assert ok(post(b.client, "/generateSymmetricKey", body))["status"] == "Generation Success"
    _upload(b.client, "IDA", "PUBLIC_KEY", ida)
    for ref, wire, _ in encrypted:  # B does not know A's keys yet
        error(post(b.client, "/decrypt", crypto_request(wire, ref=ref)), "KER-KMS-025")

    # -- base keys A -> B
    exported = export_base_keys(a.container, (APP, "PARTNER"))
    assert sorted((k.app_id, k.ref_id, k.certificate_only) for k in exported) == sorted(
        [(APP, REFS[0], False), (APP, REFS[0], False), (APP, REFS[1], False), ("PARTNER", "partner-mig", True)]
    )
    b_master = certificate(b.client, APP, "")
    for key in exported:
        answer = ok(post(b.client, "/migrateBaseKey", key.request(b_master)))
        assert answer["status"] == MIGRATION_SUCCESS, key
        assert set(answer) == {"status", "timestamp"}
    for key in exported:  # the same keys again
        assert ok(post(b.client, "/migrateBaseKey", key.request(b_master)))["status"] == MIGRATION_NOT_ALLOWED

    for ref, wire, plain in encrypted:
        assert decrypt(b.client, wire, ref=ref) == plain
    for ref in REFS:  # B's current keys are A's: what B encrypts now, A decrypts
        assert certificate(b.client, APP, ref) == certificate(a.client, APP, ref)
        assert decrypt(a.client, encrypt(b.client, b"from B", ref=ref), ref=ref) == b"from B"
    assert certificate(b.client, "PARTNER", "partner-mig") == partner

    # the audit records name the keys (alias, thumbprint), never their data
    records = [r for r in b.container.audit_log().records() if r.operation == "migrateBaseKey"]
    assert len(records) == 2 * len(exported) and {r.outcome for r in records} == {"success"}
    with b.container.uow_factory()() as uow:
        migrated = {(a.alias, a.thumbprint) for a in uow.keys.all_aliases() if a.app_id in (APP, "PARTNER") and a.ref_id}
    assert {(r.key_alias, r.thumbprint) for r in records} == migrated
    wrapped = [key.request(b_master)["encryptedKeyData"][:40] for key in exported if not key.certificate_only]
    assert not any(part in repr(record) for part in wrapped for record in records)

    # -- ZK pool A -> B
    temp = ok(b.client.get(API + "/getZKTempCertificate"))
    assert set(temp) == {"certificate", "timestamp"}
    pool = export_zk_keys(a.container)
    assert sorted(pool) == list(range(POOL))
    answer = ok(post(b.client, "/migrateZKKeys", zk_migration_request(pool, temp["certificate"], purge=True)))
    assert answer["zkEncryptedDataList"] == [{"keyIndex": i, "statusMessage": MIGRATION_SUCCESS} for i in range(POOL)]
    for resident, sealed, attributes in sealed_values:
        assert _zk(b.client, "/zkDecrypt", resident, sealed)["zkDataAttributes"] == attributes
    # B's pool is A's: what B seals now, A opens
    sealed = _zk(b.client, "/zkEncrypt", RESIDENTS[0], [{"identifier": "x", "value": "from B"}])
    assert _zk(a.client, "/zkDecrypt", RESIDENTS[0], sealed["zkDataAttributes"])["zkDataAttributes"][0]["value"] == "from B"
    # purged: the temporary key is gone from B's keystore and is no longer current
    with b.container.uow_factory()() as uow:
        (temp_alias,) = uow.keys.aliases_for(ZK_TEMP_KEY)
    assert temp_alias.alias not in b.container.keystore().aliases()
    error(post(b.client, "/migrateZKKeys", zk_migration_request({0: pool[0]}, temp["certificate"], purge=False)),
          "KER-KMS-003")
    fresh = ok(b.client.get(API + "/getZKTempCertificate"))["certificate"]
    assert fresh != temp["certificate"]
    again = ok(post(b.client, "/migrateZKKeys", zk_migration_request({0: pool[0]}, fresh, purge=False)))
    assert again["zkEncryptedDataList"] == [{"keyIndex": 0, "statusMessage": MIGRATION_NOT_ALLOWED}]

    # -- the other direction: a base key B made goes to A
    own = b"made on B, read on A"
    wire = encrypt(b.client, own, ref="b-only")
    error(post(a.client, "/decrypt", crypto_request(wire, ref="b-only")), "KER-KMS-025")
    (from_b,) = export_base_keys(b.container, (APP,), ("b-only",))
    answer = ok(post(a.client, "/migrateBaseKey", from_b.request(certificate(a.client, APP, ""))))
    assert answer["status"] == MIGRATION_SUCCESS
    assert decrypt(a.client, wire, ref="b-only") == own
    assert certificate(a.client, APP, "b-only") == certificate(b.client, APP, "b-only")
    with a.container.uow_factory()() as uow:
        assert len(uow.keys.aliases_for(KeyTuple(APP, "b-only"))) == 1


@pytest.mark.parametrize("store", adapter_params(["sqlite", "postgres"]))
def test_two_instances_of_one_deployment_make_one_temporary_key(
    store: str, tmp_path: Path, make_container, request: pytest.FixtureRequest
) -> None:
    """The temporary key is created under the store's lock of its tuple, as every key: two instances
    (one store, one keystore directory) asked at the same instant answer with the same certificate."""
    keystore_dir = tmp_path / "keystore"
    if store == "postgres":
        url = f"{request.getfixturevalue('postgres_url')}?schema=mig_one_{uuid.uuid4().hex[:10]}"
        settings = [support.postgres_settings(tmp_path / f"i{n}", url, keystore_directory=keystore_dir)
                    for n in range(2)]
    else:
        settings = [support.sqlite_settings(tmp_path / "shared", keystore_directory=keystore_dir) for _ in range(2)]
    instances = [Deployment(s, make_container(s)) for s in settings]
    start = threading.Barrier(4)
    answers: list[str] = []

    def ask(instance: Deployment) -> None:
        start.wait()
        answers.append(ok(instance.client.get(API + "/getZKTempCertificate"))["certificate"])

    threads = [threading.Thread(target=ask, args=(instances[n % 2],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4 and len(set(answers)) == 1
    with instances[0].container.uow_factory()() as uow:
        assert len(uow.keys.aliases_for(ZK_TEMP_KEY)) == 1
