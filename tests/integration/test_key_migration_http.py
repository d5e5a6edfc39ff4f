"""The key migration endpoints over HTTP (mosip-api.md §9), in memory with a controllable clock:
/migrateBaseKey, /getZKTempCertificate and /migrateZKKeys, their statuses, their errors (the
reference's and our deliberate ones), the rows they write and the audit records they leave.

Keys are wrapped and pool keys encrypted here with `cryptography` only, from mosip-crypto.md §3.5
and §4 (tests/support/key_migration.py); the rows are read back through the store.
"""
from __future__ import annotations

import base64
import hashlib
import os
import threading
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from domain.key_migration import MIGRATION_FAILED, MIGRATION_NOT_ALLOWED, MIGRATION_SUCCESS, ZK_TEMP_KEY
from domain.keys import KeyAlias, KeyTuple
from domain.zk import ZK_MASTER, ZkPoolRow
from entrypoints.http.app import create_app
from tests.support.http_api import (
    API,
    OAEP,
    b64url,
    certificate,
    decrypt,
    encrypt,
    error,
    ok,
    open_envelope,
    post,
)
from tests.support.key_migration import instant, wrap_private_key
from tests.support.oidc import bearer
from tests.support.repo import START

APP = "REGISTRATION"
REF = "migrated-1"
PKCS8 = serialization.PrivateFormat.PKCS8


# -- helpers ---------------------------------------------------------------------------------------


def key_and_certificate(name: str = "REGISTRATION-migrated-1", *, start: datetime = START - timedelta(days=10),
                        days: int = 730) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A base key as another deployment made it: RSA-2048 and a certificate (here self-signed)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + timedelta(days=days)).sign(key, hashes.SHA256())
    )
    return key, cert


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def pkcs8(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, PKCS8, serialization.NoEncryption())


def thumbprint_hex(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def base_key_request(key, cert: x509.Certificate, master: x509.Certificate | None, *, app: str = APP,
                     ref: str = REF, not_before: datetime | None = None, not_after: datetime | None = None,
                     **overrides) -> dict:
    body = {
        "applicationId": app,
        "referenceId": ref,
        "encryptedKeyData": "NA" if master is None else wrap_private_key(pkcs8(key), master),
        "certificateData": pem(cert),
        "notBefore": instant(not_before or cert.not_valid_before_utc),
        "notAfter": instant(not_after or cert.not_valid_after_utc),
    }
    body.update(overrides)
    return body


def seal_envelope(cert: x509.Certificate, data: bytes) -> bytes:
    """A VER_R2 envelope made with the spec alone (mosip-crypto.md §2.2), the inverse of open_envelope."""
    session_key, aad = AESGCM.generate_key(bit_length=256), os.urandom(32)
    key_part = b"VER_R2" + bytes.fromhex(thumbprint_hex(cert)) + cert.public_key().encrypt(session_key, OAEP)
    return key_part + b"#KEY_SPLITTER#" + aad + AESGCM(session_key).encrypt(aad[:12], data, aad)


def migrate(client, body: dict):
    return post(client, "/migrateBaseKey", body)


def master_certificate(client, app: str = APP) -> x509.Certificate:
    return certificate(client, app, "")


def aliases(container, app: str = APP, ref: str = REF) -> list[KeyAlias]:
    with container.uow_factory()() as uow:
        return uow.keys.aliases_for(KeyTuple(app, ref))


def stored(container, alias: str):
    with container.uow_factory()() as uow:
        return uow.keys.stored_key(alias)


def sha1_upper(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest().upper()


def temp_certificate(client) -> x509.Certificate:
    response = ok(client.get(API + "/getZKTempCertificate"))
    return x509.load_pem_x509_certificate(response["certificate"].encode("ascii"))


def seal_for(cert: x509.Certificate, data: bytes) -> str:
    return b64url(cert.public_key().encrypt(data, OAEP))


def zk_request(items: list[dict], purge=None) -> dict:
    return {"zkEncryptedDataList": items, "purgeTempKeyFlag": purge}


def ecb(key: bytes, data: bytes, *, encrypt_: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.ECB())
    worker = cipher.encryptor() if encrypt_ else cipher.decryptor()
    return worker.update(data) + worker.finalize()


def zk_value(random_key: bytes, index: int, resident: str, value: str) -> str:
    """A zkEncrypt value made with the spec alone (mosip-crypto.md §4)."""
    derived = ecb(random_key, hashlib.sha256(resident.encode()).digest(), encrypt_=True)
    nonce, aad = os.urandom(12), os.urandom(32)
    sealed = AESGCM(derived).encrypt(nonce, value.encode(), aad)
    return b64url(index.to_bytes(4, "big") + nonce + aad + sealed)


def zk_master(client) -> None:
    body = {"applicationId": "KERNEL", "referenceId": "IDENTITY_CACHE", "force": False}
    assert ok(post(client, "/generateSymmetricKey", body))["status"] == "Generation Success"


def pool_row(container, index: int):
    with container.uow_factory()() as uow:
        return uow.zk.row(index)


# -- migrateBaseKey ----------------------------------------------------------------------------------


def test_a_base_key_migrates_and_is_this_deployments_key_from_then_on(client, container, clock) -> None:
    key, cert = key_and_certificate()
    master = master_certificate(client)
    answer = ok(migrate(client, base_key_request(key, cert, master)))
    assert answer == {"status": MIGRATION_SUCCESS, "timestamp": "2025-01-15T09:30:00"}

    (row,) = aliases(container)
    assert row.thumbprint == thumbprint_hex(cert)
    assert row.generated_at == cert.not_valid_before_utc and row.expires_at == cert.not_valid_after_utc
    assert row.uni_ident == sha1_upper(f"{APP}_{REF}_{cert.not_valid_before_utc:%m-%d-%Y}")
    kept = stored(container, row.alias)
    with container.uow_factory()() as uow:
        (master_alias,) = [a.alias for a in uow.keys.aliases_for(KeyTuple(APP))]
    assert kept.master_alias == master_alias
    assert x509.load_pem_x509_certificate(kept.certificate_pem.encode()) == cert  # not re-signed

    # /encrypt now seals to the migrated certificate, and the key opens it: it is the same key pair
    wire = encrypt(client, b"after the migration", ref=REF)
    assert open_envelope(key, cert, wire) == b"after the migration"
    assert decrypt(client, wire, ref=REF) == b"after the migration"
    assert certificate(client, APP, REF) == cert


def test_the_wrapped_key_may_come_in_either_base64_alphabet(client, container) -> None:
    key, cert = key_and_certificate()
    body = base_key_request(key, cert, master_certificate(client))
    raw = base64.urlsafe_b64decode(body["encryptedKeyData"] + "==")
    body["encryptedKeyData"] = base64.b64encode(raw).decode()  # standard alphabet, padded
    assert ok(migrate(client, body))["status"] == MIGRATION_SUCCESS
    (row,) = aliases(container)
    assert stored(container, row.alias).private_key == b64url(raw)  # kept in the form every reader expects
    assert decrypt(client, encrypt(client, b"x", ref=REF), ref=REF) == b"x"


def test_the_same_key_again_is_not_allowed(client, container) -> None:
    key, cert = key_and_certificate()
    master = master_certificate(client)
    assert ok(migrate(client, base_key_request(key, cert, master)))["status"] == MIGRATION_SUCCESS
    assert ok(migrate(client, base_key_request(key, cert, master)))["status"] == MIGRATION_NOT_ALLOWED
    assert ok(migrate(client, base_key_request(None, cert, None)))["status"] == MIGRATION_NOT_ALLOWED
    assert len(aliases(container)) == 1


def test_no_current_master_key_is_no_unique_alias(client, container, clock) -> None:
    key, cert = key_and_certificate()
    error(migrate(client, base_key_request(key, cert, None, app="RESIDENT")), "KER-KMS-003",
          message="No unique alias is found")
    with container.uow_factory()() as uow:  # the master key expires
        (master,) = uow.keys.aliases_for(KeyTuple(APP))
        uow.keys.set_expiry(master.alias, clock.now() - timedelta(seconds=1))
        uow.commit()
    error(migrate(client, base_key_request(key, cert, None)), "KER-KMS-003")
    assert aliases(container) == []


def test_a_partner_certificate_migrates_without_a_master_key(client, container) -> None:
    _, cert = key_and_certificate("partner-org")
    body = base_key_request(None, cert, None, app="PARTNER", ref="partner-42")
    assert ok(migrate(client, body))["status"] == MIGRATION_SUCCESS
    (row,) = aliases(container, "PARTNER", "partner-42")
    assert row.uni_ident == sha1_upper(f"PARTNER_partner-42_{thumbprint_hex(cert)}")
    kept = stored(container, row.alias)
    assert kept.private_key == "NA" and kept.master_alias == row.alias
    assert certificate(client, "PARTNER", "partner-42") == cert
    assert ok(migrate(client, body))["status"] == MIGRATION_NOT_ALLOWED


def test_a_partner_key_must_be_certificate_only(client, container) -> None:
    key, cert = key_and_certificate("partner-org")
    body = base_key_request(key, cert, master_certificate(client), app="PARTNER", ref="partner-42")
    error(migrate(client, body), "KER-KMS-034")
    assert aliases(container, "PARTNER", "partner-42") == []


def test_a_certificate_only_key_of_another_application(client, container) -> None:
    key, cert = key_and_certificate()
    assert ok(migrate(client, base_key_request(key, cert, None)))["status"] == MIGRATION_SUCCESS
    (row,) = aliases(container)
    kept = stored(container, row.alias)
    assert kept.private_key == "NA" and kept.master_alias != row.alias  # the master key, as the reference
    # encrypting to it works, decrypting needs the private key this deployment does not have
    wire = encrypt(client, b"for the other domain", ref=REF)
    assert open_envelope(key, cert, wire) == b"for the other domain"
    error(post(client, "/decrypt", {"applicationId": APP, "referenceId": REF, "data": b64url(wire)}), "KER-KMS-018")


@pytest.mark.parametrize(
    "case", ["another-master", "not-base64", "no-splitter", "cut", "empty-gcm"],
)
def test_a_wrapped_key_that_does_not_open_with_the_master_key_is_refused(client, container, case: str) -> None:
    key, cert = key_and_certificate()
    master = master_certificate(client)
    wrapped = {
        "another-master": wrap_private_key(pkcs8(key), key_and_certificate("other")[1]),
        "not-base64": "not base64!",
        "no-splitter": b64url(os.urandom(400)),
        "cut": wrap_private_key(pkcs8(key), master)[:600],
        "empty-gcm": b64url(master.public_key().encrypt(os.urandom(32), OAEP) + b"#KEY_SPLITTER#"),
    }[case]
    error(migrate(client, base_key_request(key, cert, master, encryptedKeyData=wrapped)), "KER-FSE-001")
    assert aliases(container) == []


def test_a_key_that_is_not_the_certificates_is_refused(client, container) -> None:
    key, cert = key_and_certificate()
    other, _ = key_and_certificate("other")
    error(migrate(client, base_key_request(other, cert, master_certificate(client))), "KER-KMS-014",
          message="Certificate Key Not Matching with stored Key.")
    assert aliases(container) == []


@pytest.mark.parametrize("certificate_data", ["not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                              "-----END CERTIFICATE-----"], ids=["text", "bad-der"])
def test_an_unparsable_certificate(client, certificate_data: str) -> None:
    key, cert = key_and_certificate()
    body = base_key_request(key, cert, master_certificate(client), certificateData=certificate_data)
    error(migrate(client, body), "KER-KMS-013")


@pytest.mark.parametrize(("app_id", "ref"), [("KERNEL", "SIGN"), ("KERNEL", "IDENTITY_CACHE"),
                                             (APP, "EC_SECP256R1_SIGN"), (APP, "EC_SECP256K1_SIGN")])
def test_keystore_held_tuples_take_no_database_key(client, app_id: str, ref: str) -> None:
    key, cert = key_and_certificate()
    body = base_key_request(key, cert, master_certificate(client), app=app_id, ref=ref)
    error(migrate(client, body), "KER-KMS-010")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"notBefore": None}, "request.notBefore must not be null"),
        ({"notAfter": None}, "request.notAfter must not be null"),
        ({"notBefore": "2025-01-01T00:00:00Z"}, "request.notBefore must match yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
        ({"notAfter": "2025-13-01T00:00:00.000Z"}, "request.notAfter must match yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
        ({"notBefore": "1900-01-01T00:00:00.000Z"}, "request.notBefore must not be before 1950-01-01"),
        ({"applicationId": " "}, "request.applicationId should not be null or empty"),
        ({"referenceId": None}, "request.referenceId should not be null or empty"),
        ({"encryptedKeyData": ""}, "request.encryptedKeyData should not be null or empty"),
        ({"certificateData": None}, "request.certificateData should not be null or empty"),
        ({"referenceId": "r" * 129}, "request.referenceId size must be between 1 and 128"),
        ({"applicationId": "A" * 37}, "request.applicationId size must be between 1 and 36"),
        ({"referenceId": "a\x00b"}, "Invalid request: the body holds a NUL character"),
    ],
)
def test_invalid_requests(client, container, change: dict, message: str) -> None:
    key, cert = key_and_certificate()
    body = base_key_request(key, cert, master_certificate(client))
    body.update(change)
    error(migrate(client, body), "KER-KMS-005", message=message)
    assert aliases(container) == []


def test_missing_validity_is_an_invalid_request(client) -> None:
    key, cert = key_and_certificate()
    body = base_key_request(key, cert, None)
    del body["notBefore"], body["notAfter"]
    answer = error(migrate(client, body), "KER-KMS-005")
    assert [e["message"] for e in answer["errors"]] == ["request.notAfter must not be null",
                                                         "request.notBefore must not be null"]


def test_a_key_that_would_be_current_beside_a_current_one_is_not_allowed(client, container, clock) -> None:
    own = certificate(client, APP, REF)  # this deployment made its own key first
    key, cert = key_and_certificate()
    master = master_certificate(client)
    assert ok(migrate(client, base_key_request(key, cert, master)))["status"] == MIGRATION_NOT_ALLOWED
    # an old key (past its use) still migrates: data encrypted to it must open here
    old_key, old_cert = key_and_certificate(start=START - timedelta(days=800), days=730)
    assert ok(migrate(client, base_key_request(old_key, old_cert, master)))["status"] == MIGRATION_SUCCESS
    assert certificate(client, APP, REF) == own  # still this deployment's key

    # the operator revokes the local key; then the current one migrates and takes over
    revoke = client.put(API + "/revokeKey", json={"request": {"applicationId": APP, "referenceId": REF}})
    assert ok(revoke)["status"] == "Key Revoked"
    assert ok(migrate(client, base_key_request(key, cert, master)))["status"] == MIGRATION_SUCCESS
    assert certificate(client, APP, REF) == cert
    assert len(aliases(container)) == 3


def test_a_key_revoked_as_it_was_made_migrates_and_is_never_current(client, container) -> None:
    """expiry = generation - 1 minute (revoked within a minute of its creation) in the old deployment."""
    key, cert = key_and_certificate()
    master = master_certificate(client)
    made = START - timedelta(days=3)
    body = base_key_request(key, cert, master, not_before=made, not_after=made - timedelta(minutes=1))
    assert ok(migrate(client, body))["status"] == MIGRATION_SUCCESS
    assert certificate(client, APP, REF) != cert  # a new key was made: the migrated one is not current
    assert len(aliases(container)) == 2
    # data the old deployment encrypted to it still opens
    assert decrypt(client, seal_envelope(cert, b"sealed before"), ref=REF) == b"sealed before"


def test_two_keys_of_a_tuple_from_the_same_day_get_distinct_identifiers(client, container) -> None:
    master = master_certificate(client)
    day = START - timedelta(days=400)
    first_key, first = key_and_certificate(start=day, days=30)
    second_key, second = key_and_certificate(start=day + timedelta(hours=2), days=30)
    assert ok(migrate(client, base_key_request(first_key, first, master)))["status"] == MIGRATION_SUCCESS
    assert ok(migrate(client, base_key_request(second_key, second, master)))["status"] == MIGRATION_SUCCESS
    rows = aliases(container)
    assert len({row.uni_ident for row in rows}) == 2
    assert rows[0].uni_ident == sha1_upper(f"{APP}_{REF}_{day:%m-%d-%Y}")


def test_concurrent_migrations_of_one_key_store_it_once(client, container) -> None:
    key, cert = key_and_certificate()
    body = base_key_request(key, cert, master_certificate(client))
    answers: list[str] = []

    def run() -> None:
        answers.append(ok(migrate(client, body))["status"])

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == sorted([MIGRATION_SUCCESS] + [MIGRATION_NOT_ALLOWED] * 3)
    assert len(aliases(container)) == 1


def test_the_audit_record_names_the_key_never_its_data(client, container) -> None:
    key, cert = key_and_certificate()
    body = base_key_request(key, cert, master_certificate(client))
    ok(migrate(client, body))
    error(migrate(client, {**body, "certificateData": "junk"}), "KER-KMS-013")
    records = [r for r in container.audit_log().records() if r.operation == "migrateBaseKey"]
    assert [r.outcome for r in records] == ["success", "KER-KMS-013"]
    (row,) = aliases(container)
    assert (records[0].app_id, records[0].ref_id) == (APP, REF)
    assert (records[0].key_alias, records[0].thumbprint) == (row.alias, thumbprint_hex(cert))
    for record in records:
        assert body["encryptedKeyData"][:32] not in repr(record)


# -- getZKTempCertificate ------------------------------------------------------------------------------


def test_the_temporary_certificate(client, container, clock) -> None:
    response = ok(client.get(API + "/getZKTempCertificate"))
    assert response["timestamp"] == "2025-01-15T09:30:00.000Z"
    cert = x509.load_pem_x509_certificate(response["certificate"].encode("ascii"))
    assert cert.subject == cert.issuer
    attributes = {a.oid: a.value for a in cert.subject}
    assert attributes[NameOID.COMMON_NAME] == "ZKKeysSelfSignedKey"
    assert attributes[NameOID.ORGANIZATION_NAME] == "IITB" and attributes[NameOID.COUNTRY_NAME] == "IN"
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 2048
    public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256())
    assert cert.not_valid_before_utc == START and cert.not_valid_after_utc == START + timedelta(days=1)

    (row,) = aliases(container, "KEY_MIGRATE", "ZK_TEMP_KEY")
    assert row.thumbprint == thumbprint_hex(cert)
    assert row.uni_ident == sha1_upper(f"KEY_MIGRATE_ZK_TEMP_KEY_{thumbprint_hex(cert)}")
    assert (row.generated_at, row.expires_at) == (START, START + timedelta(days=1))
    assert row.alias in container.keystore().aliases()
    assert stored(container, row.alias) is None  # a keystore key, no key_store row

    clock.advance(timedelta(hours=23))
    assert temp_certificate(client) == cert  # the current one, until it expires
    clock.advance(timedelta(hours=1, seconds=1))
    renewed = temp_certificate(client)
    assert renewed != cert
    rows = aliases(container, "KEY_MIGRATE", "ZK_TEMP_KEY")
    assert len(rows) == 2
    assert rows[0].alias not in container.keystore().aliases()  # the expired one is removed


def test_concurrent_first_calls_make_one_temporary_key(client, container) -> None:
    got: list[x509.Certificate] = []
    threads = [threading.Thread(target=lambda: got.append(temp_certificate(client))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 4 and len(set(got)) == 1
    assert len(aliases(container, "KEY_MIGRATE", "ZK_TEMP_KEY")) == 1


def test_two_current_temporary_keys_are_no_unique_alias(client, container, clock) -> None:
    temp_certificate(client)
    with container.uow_factory()() as uow:
        uow.keys.add_alias(KeyAlias("second", ZK_TEMP_KEY, clock.now(), clock.now() + timedelta(days=1)))
        uow.commit()
    error(client.get(API + "/getZKTempCertificate"), "KER-KMS-003")


def test_making_the_temporary_key_is_audited(client, container) -> None:
    cert = temp_certificate(client)
    records = list(container.audit_log().records())
    (made,) = [r for r in records if r.operation == "generateKey" and r.thumbprint == thumbprint_hex(cert)]
    (asked,) = [r for r in records if r.operation == "getZKTempCertificate"]
    assert asked.key_alias == made.key_alias and asked.outcome == "success"


# -- migrateZKKeys ---------------------------------------------------------------------------------


def test_pool_keys_migrate_with_one_status_each(client, container) -> None:
    zk_master(client)
    temp = temp_certificate(client)
    keys = {index: os.urandom(32) for index in (7, 8, 42)}
    with container.uow_factory()() as uow:  # index 9 is taken
        uow.zk.add_rows([ZkPoolRow(9, base64.b64encode(os.urandom(32)).decode())])
        uow.commit()
    items = [
        {"keyIndex": 7, "encryptedKeyData": seal_for(temp, keys[7])},
        {"keyIndex": 9, "encryptedKeyData": seal_for(temp, os.urandom(32))},  # taken
        {"keyIndex": 10, "encryptedKeyData": "garbage that is not base64!"},
        {"keyIndex": 11, "encryptedKeyData": b64url(os.urandom(256))},  # does not open
        {"keyIndex": 12, "encryptedKeyData": seal_for(temp, os.urandom(16))},  # not a 32-byte key
        {"keyIndex": 13, "encryptedKeyData": None},
        {"keyIndex": 14, "encryptedKeyData": seal_for(key_and_certificate("not-temp")[1], os.urandom(32))},
        {"keyIndex": 8, "encryptedKeyData": seal_for(temp, keys[8]) + "=="},  # padding is accepted
        {"keyIndex": 7, "encryptedKeyData": seal_for(temp, keys[7])},  # twice in one request
        {"keyIndex": 42, "encryptedKeyData": seal_for(temp, keys[42])},
    ]
    answer = ok(post(client, "/migrateZKKeys", zk_request(items)))
    assert answer == {"zkEncryptedDataList": [
        {"keyIndex": 7, "statusMessage": MIGRATION_SUCCESS},
        {"keyIndex": 9, "statusMessage": MIGRATION_NOT_ALLOWED},
        {"keyIndex": 10, "statusMessage": MIGRATION_FAILED},
        {"keyIndex": 11, "statusMessage": MIGRATION_FAILED},
        {"keyIndex": 12, "statusMessage": MIGRATION_FAILED},
        {"keyIndex": 13, "statusMessage": MIGRATION_FAILED},
        {"keyIndex": 14, "statusMessage": MIGRATION_FAILED},
        {"keyIndex": 8, "statusMessage": MIGRATION_SUCCESS},
        {"keyIndex": 7, "statusMessage": MIGRATION_NOT_ALLOWED},
        {"keyIndex": 42, "statusMessage": MIGRATION_SUCCESS},
    ]}
    for index in (10, 11, 12, 13, 14):
        assert pool_row(container, index) is None
    with container.uow_factory()() as uow:
        (master,) = uow.keys.aliases_for(ZK_MASTER)
    for index, random_key in keys.items():
        row = pool_row(container, index)
        assert row.status == "Active" and row.key_check is not None
        wrapped = base64.b64decode(row.key, validate=True)  # standard base64 of AES-ECB(master, R)
        assert len(row.key) == 44 and container.keystore().decrypt_blocks(master.alias, wrapped) == random_key
        # a value sealed with the spec alone under that index opens here
        value = zk_value(random_key, index, "4829174650", f"migrated {index}")
        body = {"id": "4829174650", "zkDataAttributes": [{"identifier": "n", "value": value}]}
        assert ok(post(client, "/zkDecrypt", body))["zkDataAttributes"][0]["value"] == f"migrated {index}"
    # the temporary key stays without the purge flag
    assert len([a for a in aliases(container, "KEY_MIGRATE", "ZK_TEMP_KEY")]) == 1
    assert temp_certificate(client) == temp


def test_an_empty_list_migrates_nothing(client) -> None:
    zk_master(client)
    temp_certificate(client)
    assert ok(post(client, "/migrateZKKeys", zk_request([], purge=False))) == {"zkEncryptedDataList": []}


@pytest.mark.parametrize("purge", [True, False, None])
def test_the_purge_flag_removes_the_temporary_key(client, container, purge) -> None:
    zk_master(client)
    temp = temp_certificate(client)
    (row,) = aliases(container, "KEY_MIGRATE", "ZK_TEMP_KEY")
    item = {"keyIndex": 1, "encryptedKeyData": seal_for(temp, os.urandom(32))}
    assert ok(post(client, "/migrateZKKeys", zk_request([item], purge)))["zkEncryptedDataList"][0][
        "statusMessage"] == MIGRATION_SUCCESS
    present = row.alias in container.keystore().aliases()
    assert present is not bool(purge)
    if purge:
        error(post(client, "/migrateZKKeys", zk_request([{**item, "keyIndex": 2}])), "KER-KMS-003")
        assert temp_certificate(client) != temp
    else:
        assert temp_certificate(client) == temp


def test_no_temporary_key_or_no_zk_master_key_is_no_unique_alias(client, container) -> None:
    item = {"keyIndex": 1, "encryptedKeyData": b64url(os.urandom(256))}
    zk_master(client)
    error(post(client, "/migrateZKKeys", zk_request([item])), "KER-KMS-003")  # no temporary key
    temp = temp_certificate(client)
    with container.uow_factory()() as uow:  # the ZK master key expires
        (master,) = uow.keys.aliases_for(ZK_MASTER)
        uow.keys.set_expiry(master.alias, START - timedelta(seconds=1))
        uow.commit()
    error(post(client, "/migrateZKKeys", zk_request([{**item, "encryptedKeyData": seal_for(temp, bytes(32))}])),
          "KER-KMS-003")
    assert pool_row(container, 1) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"zkEncryptedDataList": None}, "request.zkEncryptedDataList must not be null"),
        ({}, "request.zkEncryptedDataList must not be null"),
        ({"zkEncryptedDataList": [{"encryptedKeyData": "AAAA"}]}, "request.zkEncryptedDataList.0.keyIndex must not be null"),
        ({"zkEncryptedDataList": [{"keyIndex": "1", "encryptedKeyData": "AAAA"}]},
         "request.zkEncryptedDataList.0.keyIndex must be an integer"),
        ({"zkEncryptedDataList": [{"keyIndex": 2**31, "encryptedKeyData": "AAAA"}]},
         "request.zkEncryptedDataList.0.keyIndex must be an integer from -2147483648 to 2147483647"),
        ({"zkEncryptedDataList": [], "purgeTempKeyFlag": "yes please"}, "request.purgeTempKeyFlag must be true or false"),
        ({"zkEncryptedDataList": "all of them"}, "request.zkEncryptedDataList must be a list"),
    ],
)
def test_invalid_zk_requests(client, body: dict, message: str) -> None:
    error(post(client, "/migrateZKKeys", body), "KER-KMS-005", message=message)


# -- roles ---------------------------------------------------------------------------------------------


def test_only_key_migration_admins_may_migrate(oidc_settings, container, idp) -> None:
    client = create_app(oidc_settings, container).test_client()
    std = bearer(idp.token(roles=["ZONAL_ADMIN", "GLOBAL_ADMIN"]))
    admin = bearer(idp.token(roles=["KEY_MIGRATION_ADMIN"]))
    calls = [
        lambda headers: client.get(API + "/getZKTempCertificate", headers=headers),
        lambda headers: client.post(API + "/migrateZKKeys", headers=headers,
                                    json={"request": zk_request([])}),
        lambda headers: client.post(API + "/migrateBaseKey", headers=headers, json={"request": {}}),
    ]
    for call in calls:
        assert call(std).status_code == 403
        assert call(admin).status_code == 200
