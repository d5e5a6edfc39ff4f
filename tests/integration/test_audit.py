"""The audit trail end to end (ADR 0011): one hash-chained record per audited request, through
the Flask test client with the default dev authentication, stored with the key store, and
``keymanager audit verify`` catching an edited, a deleted and a swapped record.
"""
from __future__ import annotations

import base64
import hashlib
import io
import multiprocessing
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from domain.audit import SUCCESS, AuditEvent, canonical, verify_chain
from entrypoints.cli import main, run_audit
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.http_api import self_signed_pem
from tests.support.oidc import bearer

API = "/v1/keymanager"
APP, REF = "REGISTRATION", "10001_110011"
#: Values that must never reach the audit trail.
PLAINTEXT = b"audit-sentinel-plaintext-7f3a9c"
SIGN_DATA = b'{"audit":"sentinel-to-sign-51d2"}'
NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def wrap(request: Any) -> dict[str, Any]:
    return {"id": "mosip.test", "version": "1.0", "requesttime": "2025-01-15T09:30:00.000Z", "metadata": {},
            "request": request}


def call(client, path: str, request: Any, method: str = "post") -> dict[str, Any]:
    response = getattr(client, method)(API + path, json=wrap(request))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ok(client, path: str, request: Any, method: str = "post") -> dict[str, Any]:
    body = call(client, path, request, method)
    assert body["errors"] is None, body
    return body["response"]


def crypto(data: str, app: str = APP, ref: str = REF) -> dict[str, Any]:
    return {"applicationId": app, "referenceId": ref, "timeStamp": "2025-01-15T09:30:00.000Z", "data": data,
            "salt": None, "aad": None}


def pem_thumbprint(pem: str) -> str:
    cert = x509.load_pem_x509_certificate(pem.encode())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def exercise(client) -> dict[str, Any]:
    """Every audited operation once (and two failing calls); returns what the records should say."""
    seen: dict[str, Any] = {}
    master = ok(client, "/generateMasterKey/CERTIFICATE", {"applicationId": APP, "referenceId": "", "force": False})
    seen["master_thumbprint"] = pem_thumbprint(master["certificate"])
    ec = ok(client, "/generateECSignKey/CERTIFICATE", {"applicationId": APP, "referenceId": "EC_SECP256R1_SIGN",
                                                        "force": False})
    seen["ec_thumbprint"] = pem_thumbprint(ec["certificate"])
    wire = ok(client, "/encrypt", crypto(b64url(PLAINTEXT)))["data"]
    seen["ciphertext"] = wire
    raw = b64url_decode(wire)
    assert raw.startswith(b"VER_R2")
    seen["envelope_thumbprint"] = raw[6:38].hex().upper()
    assert b64url_decode(ok(client, "/decrypt", crypto(wire))["data"]) == PLAINTEXT
    failed = call(client, "/decrypt", crypto(b64url(b"not an envelope at all")))
    seen["decrypt_error"] = failed["errors"][0]["errorCode"]
    jwt = ok(client, "/jwtSign", {"dataToSign": b64url(SIGN_DATA), "applicationId": "KERNEL", "referenceId": "SIGN",
                                  "includePayload": True})["jwtSignedData"]
    seen["jwt"] = jwt
    ok(client, "/jwtSign/v2", {"dataToSign": b64url(SIGN_DATA), "applicationId": "KERNEL", "referenceId": "SIGN"})
    ok(client, "/jwsSign", {"dataToSign": b64url(SIGN_DATA), "applicationId": "KERNEL", "referenceId": "SIGN",
                            "validateJson": False})
    ok(client, "/jwsSign/v2", {"dataToSign": b64url(SIGN_DATA), "applicationId": "KERNEL", "referenceId": "SIGN",
                               "validateJson": False})
    ok(client, "/jwtVerify", {"jwtSignatureData": jwt, "applicationId": "KERNEL", "referenceId": "SIGN"})
    ok(client, "/jwtVerify/v2", {"jwtSignatureData": jwt, "applicationId": "KERNEL", "referenceId": "SIGN"})
    raw_request = {"dataToSign": b64url(SIGN_DATA), "applicationId": "KERNEL", "referenceId": "SIGN",
                   "responseEncodingFormat": "base64url", "signAlgorithm": "RS256"}
    ok(client, "/signV2", raw_request)
    ok(client, "/signRawData", raw_request)
    signature = ok(client, "/sign", {"data": SIGN_DATA.decode()})["signature"]
    ok(client, "/validate", {"signature": signature, "data": SIGN_DATA.decode(),
                             "timestamp": "2025-01-15T09:30:00.000Z"})
    uploaded = self_signed_pem("ida-audit")
    seen["uploaded_thumbprint"] = pem_thumbprint(uploaded)
    ok(client, "/uploadOtherDomainCertificate", {"applicationId": "IDA", "referenceId": "PUBLIC_KEY",
                                                 "certificateData": uploaded})
    ok(client, "/revokeKey", {"applicationId": APP, "referenceId": REF}, method="put")
    refused = call(client, "/revokeKey", {"applicationId": "KERNEL", "referenceId": "SIGN"}, method="put")
    seen["revoke_error"] = refused["errors"][0]["errorCode"]
    # not audited: reading a certificate changes nothing
    assert client.get(f"{API}/getAllCertificates", query_string={"applicationId": APP}).status_code == 200
    return seen


EXPECTED_OPERATIONS = [
    "generateMasterKey", "generateECSignKey", "encrypt", "decrypt", "decrypt", "jwtSign", "jwtSign/v2", "jwsSign",
    "jwsSign/v2", "jwtVerify", "jwtVerify/v2", "signV2", "signRawData", "sign", "validate",
    "uploadOtherDomainCertificate", "revokeKey", "revokeKey",
]


KEY_CREATION = ("generateKey", "rotateKey")
#: Keys the exercise creates on the way: the EC key, the base key /encrypt makes on first use.
EXPECTED_CREATED_KEYS = 2
#: Keys init_master_keys makes before any request (ROOT, REGISTRATION, KERNEL:SIGN), recorded as "system".
SETUP_KEYS = 3


def request_records(records):
    """The records of the requests themselves (without the keys they created)."""
    return [r for r in records if r.operation not in KEY_CREATION]


def check_records(records, seen: dict[str, Any]) -> None:
    assert [r.sequence for r in records] == list(range(1, len(records) + 1))
    # The fixture's key ceremony ran outside any request: its keys are recorded too, as "system".
    setup = [r for r in records if r.subject == "system"]
    assert [r.operation for r in setup] == ["generateKey"] * len(setup) and setup
    assert all(r.key_alias and r.thumbprint for r in setup)
    records = [r for r in records if r.subject != "system"]
    assert {r.subject for r in records} == {"dev"}
    created = [r for r in records if r.operation in KEY_CREATION]
    records = request_records(records)
    assert [r.operation for r in records] == EXPECTED_OPERATIONS
    by_op = {}
    for record in records:
        by_op.setdefault(record.operation, []).append(record)

    # keys created implicitly or on purpose get a record of their own, naming the key
    assert [(r.operation, r.thumbprint) for r in created] == [
        ("generateKey", seen["ec_thumbprint"]),
        ("generateKey", seen["envelope_thumbprint"]),
    ]
    assert created[1].app_id == APP and created[1].ref_id == REF and created[1].key_alias

    master = by_op["generateMasterKey"][0]
    assert (master.app_id, master.ref_id, master.outcome) == (APP, "", SUCCESS)
    assert master.thumbprint == seen["master_thumbprint"]
    assert by_op["generateECSignKey"][0].thumbprint == seen["ec_thumbprint"]
    encrypt = by_op["encrypt"][0]
    assert (encrypt.app_id, encrypt.ref_id, encrypt.outcome) == (APP, REF, SUCCESS)
    assert encrypt.thumbprint == seen["envelope_thumbprint"]
    decrypted, failed = by_op["decrypt"]
    assert decrypted.outcome == SUCCESS and decrypted.thumbprint == seen["envelope_thumbprint"]
    assert failed.outcome == seen["decrypt_error"] != SUCCESS and failed.thumbprint is None
    assert by_op["jwtSign"][0].app_id == "KERNEL" and by_op["jwtSign"][0].ref_id == "SIGN"
    assert by_op["uploadOtherDomainCertificate"][0].thumbprint == seen["uploaded_thumbprint"]
    assert [r.outcome for r in by_op["revokeKey"]] == [SUCCESS, seen["revoke_error"]]
    assert all(r.outcome == SUCCESS for r in by_op["sign"] + by_op["validate"] + by_op["signRawData"])

    # never data: no plaintext, ciphertext, payload or token, in any form, in any record
    text = b"".join(canonical(r) + r.hash.encode() + r.prev_hash.encode() for r in records)
    for secret in (PLAINTEXT, b64url(PLAINTEXT).encode(), SIGN_DATA, b64url(SIGN_DATA).encode(),
                   seen["ciphertext"].encode()[:40], seen["jwt"].encode()[:40], seen["jwt"].split(".")[2].encode()):
        assert secret not in text


# -- memory store -------------------------------------------------------------------------------


def test_every_audited_operation_appends_one_record(client, container) -> None:
    seen = exercise(client)
    records = list(container.audit_log().records())
    check_records(records, seen)
    assert verify_chain(records).intact


def test_the_subject_comes_from_the_token_and_refusals_are_recorded(oidc_client, idp, container) -> None:
    """With OIDC: the subject is the token's user; a 403 is recorded, a 401 (no identity) is not."""
    request = wrap(crypto(b64url(PLAINTEXT)))
    allowed = oidc_client.post(f"{API}/encrypt", json=request, headers=bearer(idp.token(user="alice")))
    assert allowed.status_code == 200 and allowed.get_json()["errors"] is None
    refused = oidc_client.post(f"{API}/encrypt", json=request, headers=bearer(idp.token(user="bob", roles=[])))
    assert refused.status_code == 403
    assert oidc_client.post(f"{API}/encrypt", json=request).status_code == 401
    records = list(container.audit_log().records())
    assert verify_chain(records).intact
    records = [r for r in records if r.subject != "system"]  # the fixture's key ceremony
    assert [(r.operation, r.subject, r.outcome) for r in records] == [
        ("generateKey", "alice", SUCCESS),  # the base key the first /encrypt created
        ("encrypt", "alice", SUCCESS),
        ("encrypt", "bob", "KER-ATH-403"),
    ]


def test_no_record_no_answer(client, app, container, caplog) -> None:
    """Fail closed (ADR 0014): when the request's record cannot be made durable the caller gets
    the audit error envelope (503), never the result; the failure is logged without data."""

    class Broken:
        def append_batch(self, events, at):
            raise RuntimeError("disk on fire " + str(events))

    ok(client, "/encrypt", crypto(b64url(PLAINTEXT)))  # the base key exists: only the request's record is due
    container.audit_writer().audit_log = Broken()
    with caplog.at_level("ERROR", logger="keymanager.audit"):
        response = client.post(API + "/encrypt", json=wrap(crypto(b64url(PLAINTEXT))))
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    body = response.get_json()
    assert body["response"] is None and body["id"] == "mosip.test"
    assert body["errors"][0]["errorCode"] == "KER-KMS-500" and "audit" in body["errors"][0]["message"]
    assert app.extensions["keymanager.audit"].failures == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "keymanager.audit"]
    rid = response.headers["X-Request-ID"]
    assert any(f"answer withheld: audit record NOT durable for encrypt (RuntimeError) rid={rid}" in m for m in messages)
    assert "disk on fire" not in caplog.text and b64url(PLAINTEXT) not in caplog.text


def test_caller_text_never_breaks_the_record(client, container) -> None:
    """Control characters and over-long text in a recorded field are escaped or clipped with a
    marker: the record is written and the chain verifies. A NUL is refused before the body is read,
    and that refusal is recorded too."""
    ok(client, "/encrypt", crypto(b64url(PLAINTEXT)))
    odd = "ref\x01\x1b[31m\n" + "x" * 10_000
    body = call(client, "/encrypt", {**crypto(b64url(PLAINTEXT)), "referenceId": odd})
    record = list(container.audit_log().records())[-1]
    outcome = body["errors"][0]["errorCode"] if body["errors"] else SUCCESS  # refused or not: recorded
    assert record.operation == "encrypt" and record.outcome == outcome
    assert record.ref_id.startswith("ref\\u0001\\u001b[31m\\u000a") and record.ref_id.endswith("...[truncated]")
    assert len(record.ref_id) == 256

    body = call(client, "/encrypt", {**crypto(b64url(PLAINTEXT)), "referenceId": "ref\x00"})
    assert [e["errorCode"] for e in body["errors"]] == ["KER-KMS-005"]
    record = list(container.audit_log().records())[-1]
    assert record.operation == "encrypt" and record.outcome == "KER-KMS-005" and record.ref_id is None
    assert verify_chain(container.audit_log().records()).intact


# -- SQLite: the CLI catches tampering -----------------------------------------------------------


def cli(monkeypatch, capsys, data_dir: Path, *args: str) -> tuple[int, str]:
    for name in ("KEYMANAGER_STORE", "KEYMANAGER_KEYSTORE", "KEYMANAGER_DB_URL", "KEYMANAGER_KEYSTORE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KEYMANAGER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KEYMANAGER_KEYSTORE_PASSWORD", "test-password")
    capsys.readouterr()
    code = main(["audit", *args])
    return code, capsys.readouterr().out


COLUMNS = ("event_dtimes", "subject", "operation", "app_id", "ref_id", "key_alias", "cert_thumbprint", "outcome",
           "prev_hash", "record_hash")


def test_sqlite_trail_verifies_and_every_tampering_is_caught(
    make_container, sqlite_settings, monkeypatch, capsys
) -> None:
    container = make_container(sqlite_settings)
    init_master_keys(container)
    client = create_app(sqlite_settings, container).test_client()
    seen = exercise(client)
    check_records(list(container.audit_log().records()), seen)
    total = SETUP_KEYS + len(EXPECTED_OPERATIONS) + EXPECTED_CREATED_KEYS

    code, out = cli(monkeypatch, capsys, sqlite_settings.data_dir, "verify")
    assert code == 0, out
    head = list(container.audit_log().records())[-1]
    assert f"audit trail intact: {total} records; head sequence {total} hash {head.hash}" in out
    code, out = cli(monkeypatch, capsys, sqlite_settings.data_dir, "list", "--limit", "3")
    assert code == 0 and "revokeKey" in out and "dev" in out and "SEQ" in out
    assert len(out.strip().splitlines()) == 4

    path = sqlite_settings.sqlite_path
    connection = sqlite3.connect(path, isolation_level=None)
    original = connection.execute("SELECT * FROM km_audit_log ORDER BY seq_no").fetchall()

    def restore() -> None:
        connection.execute("DELETE FROM km_audit_log")
        connection.executemany(f"INSERT INTO km_audit_log VALUES ({', '.join('?' * len(original[0]))})", original)

    def verify_fails_at(sequence: int) -> None:
        code, out = cli(monkeypatch, capsys, sqlite_settings.data_dir, "verify")
        assert code == 1, out
        assert f"BROKEN at sequence {sequence}" in out, out
        restore()
        assert cli(monkeypatch, capsys, sqlite_settings.data_dir, "verify")[0] == 0

    try:
        # edited: one field of one record
        connection.execute("UPDATE km_audit_log SET subject = 'mallory' WHERE seq_no = 5")
        verify_fails_at(5)
        failed = next(r.sequence for r in container.audit_log().records() if r.outcome != SUCCESS)
        connection.execute("UPDATE km_audit_log SET outcome = 'success' WHERE seq_no = ?", (failed,))
        verify_fails_at(failed)
        # deleted: one record from the middle
        connection.execute("DELETE FROM km_audit_log WHERE seq_no = 7")
        verify_fails_at(7)
        # swapped: two rows exchange their contents (sequence numbers stay where they are)
        rows = {seq: row for seq, *row in connection.execute("SELECT seq_no, " + ", ".join(COLUMNS)
                                                                + " FROM km_audit_log WHERE seq_no IN (3, 9)")}
        assignments = ", ".join(f"{column} = ?" for column in COLUMNS)
        connection.execute(f"UPDATE km_audit_log SET {assignments} WHERE seq_no = 3", rows[9])
        connection.execute(f"UPDATE km_audit_log SET {assignments} WHERE seq_no = 9", rows[3])
        verify_fails_at(3)
        # renumbered: two rows exchange their sequence numbers (the order of the trail changes)
        connection.execute("UPDATE km_audit_log SET seq_no = -1 WHERE seq_no = 4")
        connection.execute("UPDATE km_audit_log SET seq_no = 4 WHERE seq_no = 6")
        connection.execute("UPDATE km_audit_log SET seq_no = 6 WHERE seq_no = -1")
        verify_fails_at(4)
    finally:
        connection.close()


def test_sqlite_trail_survives_a_restart(make_container, sqlite_settings) -> None:
    first = make_container(sqlite_settings)
    first.audit_log().append_batch([AuditEvent(operation="encrypt", subject="a")], NOW)
    second = make_container(sqlite_settings)  # a new process would build a new container too
    second.audit_log().append_batch([AuditEvent(operation="decrypt", subject="b")], NOW)
    records = list(second.audit_log().records())
    assert [(r.sequence, r.subject) for r in records] == [(1, "a"), (2, "b")]
    assert verify_chain(records).intact


def test_sqlite_migration_two_adds_the_audit_table(make_container, sqlite_settings) -> None:
    container = make_container(sqlite_settings)
    assert container.database().schema_version() >= 2
    out = io.StringIO()
    assert run_audit(container, "verify", out=out) == 0
    assert "intact: 0 records" in out.getvalue()


# -- PostgreSQL ---------------------------------------------------------------------------------


def _append_many(url: str, subject: str, count: int) -> None:
    from adapters.clock import SystemClock
    from adapters.postgres.audit_log import PostgresAuditLog
    from adapters.postgres.key_repository import PostgresDatabase, PostgresOptions

    database = PostgresDatabase(PostgresOptions.from_url(url, pool_size=2))
    try:
        audit_log = PostgresAuditLog(database)
        for index in range(count):
            event = AuditEvent(operation="encrypt", subject=subject, ref_id=str(index))
            audit_log.append_batch([event], SystemClock().now())
    finally:
        database.close()


def postgres_container(make_container, url: str):
    settings = Settings(store="postgres", keystore="memory", db_url=url)
    return make_container(settings)


def test_postgres_trail_through_http_verifies_and_catches_tampering(make_container, postgres_schema_url) -> None:
    container = postgres_container(make_container, postgres_schema_url)
    init_master_keys(container)
    client = create_app(Settings(store="postgres", keystore="memory", db_url=postgres_schema_url),
                        container).test_client()
    seen = exercise(client)
    records = list(container.audit_log().records())
    check_records(records, seen)
    out = io.StringIO()
    assert run_audit(container, "verify", out=out) == 0, out.getvalue()
    assert f"intact: {SETUP_KEYS + len(EXPECTED_OPERATIONS) + EXPECTED_CREATED_KEYS} records" in out.getvalue()

    database = container.database()
    from adapters.postgres.key_repository import PostgresUnitOfWork

    with PostgresUnitOfWork(database) as unit:
        unit.write(f"UPDATE {unit.table('km_audit_log')} SET app_id = 'OTHER' WHERE seq_no = 2", {})
        unit.commit()
    out = io.StringIO()
    assert run_audit(container, "verify", out=out) == 1
    assert "BROKEN at sequence 2" in out.getvalue()


def test_postgres_concurrent_appenders_keep_one_chain(make_container, postgres_schema_url) -> None:
    container = postgres_container(make_container, postgres_schema_url)  # applies the migrations
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(postgres_schema_url, f"worker-{n}", 40)) for n in range(2)]
    for worker in workers:
        worker.start()
    _append_many(postgres_schema_url, "parent", 40)  # and a third writer in this process
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    records = list(container.audit_log().records())
    assert len(records) == 120
    verdict = verify_chain(records)
    assert verdict.intact, verdict
    assert {r.subject for r in records} == {"worker-0", "worker-1", "parent"}


def test_signing_and_revocation_records_name_the_key(client, container) -> None:
    from domain.keys import KeyTuple

    ok(client, "/jwtSign", {"dataToSign": b64url(SIGN_DATA), "applicationId": "KERNEL", "referenceId": "SIGN"})
    ok(client, "/encrypt", crypto(b64url(PLAINTEXT)))
    with container.uow_factory()() as uow:
        (sign_key,) = uow.keys.aliases_for(KeyTuple("KERNEL", "SIGN"))
        (base_key,) = uow.keys.aliases_for(KeyTuple(APP, REF))
    ok(client, "/revokeKey", {"applicationId": APP, "referenceId": REF}, method="put")
    by_op = {r.operation: r for r in container.audit_log().records()}
    assert (by_op["jwtSign"].key_alias, by_op["jwtSign"].thumbprint) == (sign_key.alias, sign_key.thumbprint)
    assert (by_op["revokeKey"].key_alias, by_op["revokeKey"].thumbprint) == (base_key.alias, base_key.thumbprint)


def test_the_key_ceremony_is_audited(make_container, sqlite_settings) -> None:
    from entrypoints.cli import run_init

    container = make_container(sqlite_settings)
    settings = sqlite_settings.with_overrides(init_keys=("ROOT", "REGISTRATION"))
    assert run_init(container, settings, out=io.StringIO()) == 0
    assert run_init(container, settings, out=io.StringIO()) == 0  # idempotent: nothing new to record
    records = list(container.audit_log().records())
    # ROOT, the module key, and the KERNEL IDENTITY_CACHE secret key the ceremony also makes
    assert [(r.operation, r.app_id, r.ref_id) for r in records] == [
        ("generateKey", "ROOT", ""), ("generateKey", "REGISTRATION", ""), ("generateKey", "KERNEL", "IDENTITY_CACHE")
    ]
    assert all(r.subject.startswith("cli:") and r.key_alias for r in records)
    assert all(r.thumbprint for r in records[:2])  # certified key pairs (the secret key has no certificate)
    assert verify_chain(records).intact


def test_the_bridge_withholds_a_computed_answer_whose_record_failed(app) -> None:
    """Under `keymanager serve` the wait happens in the bridge: a failed ticket turns the computed 200
    into the withheld 503, with the request id of the access line."""
    import asyncio
    from concurrent.futures import Future

    from entrypoints.http.access_log import ENVIRON_KEY
    from entrypoints.http.audit import withheld_app
    from entrypoints.server.bridge import WsgiBridge

    bridge = WsgiBridge(app, max_body_bytes=1024, body_timeout_seconds=5, audit_timeout_seconds=5, inline=True)
    failed: Future = Future()
    failed.set_exception(OSError("disk full"))
    seen: list[tuple[BaseException, str]] = []
    environ = {ENVIRON_KEY: (0.0, "rid-123")}

    async def run():
        bridge.__rsgi_init__(asyncio.get_running_loop())
        return await bridge._after_durable(
            [(failed, withheld_app("mosip.test", "1.0", lambda error, rid: seen.append((error, rid))))],
            environ, (200, [("content-type", "application/json")], b'{"response": "plaintext-4242"}'),
        )

    status, headers, payload = asyncio.run(run())
    assert status == 503 and b"plaintext-4242" not in payload and b"KER-KMS-500" in payload
    assert ("X-Request-ID", "rid-123") in headers
    assert [(type(error), rid) for error, rid in seen] == [(OSError, "rid-123")]
