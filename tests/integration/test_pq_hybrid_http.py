"""Issue 18 through HTTP: /encrypt pqHybrid, /decrypt of VER_Q1, getPqPublicKey with the client
library (clients/pq_envelope.py), /rewrap; tampering with each part; SQLite and PostgreSQL stores."""
from __future__ import annotations

import base64
import hashlib
import json
import struct
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from clients.pq_envelope import HybridRecipient, StatementError
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.http_api import (
    API,
    APP,
    PLAINTEXT,
    REF,
    b64url,
    b64url_decode,
    certificate,
    crypto_request,
    decrypt,
    encrypt,
    error,
    ok,
    post,
    self_signed,
    wrap,
)

HEADER_LENGTH = 6 + 32 + 32 + 4  # "VER_Q1", RSA thumbprint, ML-KEM key id, two lengths
KEM_AT, RSA_AT = HEADER_LENGTH, HEADER_LENGTH + 1088
DATA_AT = RSA_AT + 256 + 14  # after the splitter: aad32 ‖ ct ‖ tag


def der_thumbprint(cert: x509.Certificate) -> bytes:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()


def hybrid(client, data: bytes = PLAINTEXT, **extra) -> bytes:
    return encrypt(client, data, pqHybrid=True, **extra)


def statement(client, app: str = APP, ref: str = REF) -> dict:
    return ok(client.get(f"{API}/getPqPublicKey", query_string={"applicationId": app, "referenceId": ref}))


def module_certificate(client, app: str = APP) -> x509.Certificate:
    return certificate(client, app, "")


def flip(wire: bytes, at: int) -> bytes:
    return wire[:at] + bytes([wire[at] ^ 0x01]) + wire[at + 1:]


def rewrap(client, wire: bytes, **extra):
    return post(client, "/rewrap", {"applicationId": APP, "referenceId": REF, "data": b64url(wire), **extra})


# -- /encrypt and /decrypt --------------------------------------------------------------------------


def test_hybrid_round_trip_and_layout(client) -> None:
    wire = hybrid(client)
    cert = certificate(client)
    assert wire[:6] == b"VER_Q1"
    assert wire[6:38] == der_thumbprint(cert)
    key = statement(client)
    assert wire[38:70].hex().upper() == key["keyId"]
    assert struct.unpack(">HH", wire[70:74]) == (1088, 256)
    assert wire[RSA_AT + 256:DATA_AT] == b"#KEY_SPLITTER#"
    assert len(wire) == DATA_AT + 32 + len(PLAINTEXT) + 16
    assert decrypt(client, wire) == PLAINTEXT


def test_default_stays_ver_r2_and_both_formats_decrypt(client) -> None:
    classic, post_quantum = encrypt(client, PLAINTEXT), hybrid(client)
    assert classic.startswith(b"VER_R2") and post_quantum.startswith(b"VER_Q1")
    assert decrypt(client, classic) == decrypt(client, post_quantum) == PLAINTEXT
    # one ML-KEM key per RSA key: the second hybrid envelope names the same one
    assert hybrid(client)[38:70] == post_quantum[38:70]


def test_pq_hybrid_false_is_ver_r2(client) -> None:
    assert encrypt(client, PLAINTEXT, pqHybrid=False).startswith(b"VER_R2")


def test_per_application_policy(tmp_path, clock, make_container) -> None:
    settings = Settings(data_dir=tmp_path, store="memory", keystore="memory", pq_hybrid_apps=("registration",))
    container = make_container(settings, clock)
    init_master_keys(container)
    client = create_app(settings, container).test_client()
    wire = encrypt(client, PLAINTEXT)  # no pqHybrid in the request
    assert wire.startswith(b"VER_Q1")
    assert encrypt(client, PLAINTEXT, pqHybrid=False).startswith(b"VER_Q1")  # the policy is a floor
    assert decrypt(client, wire) == PLAINTEXT


@pytest.mark.parametrize("field", ["salt", "aad"])
def test_hybrid_takes_neither_salt_nor_aad(client, field) -> None:
    body = crypto_request(PLAINTEXT, pqHybrid=True, **{field: b64url(b"0123456789ab")})
    error(post(client, "/encrypt", body), "KER-KMS-005")


def test_hybrid_refused_for_a_master_key(client) -> None:
    error(post(client, "/encrypt", crypto_request(PLAINTEXT, ref="", pqHybrid=True)), "KER-CRY-011")


# -- tampering ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(KEM_AT, id="mlkem-first-byte"),
        pytest.param(KEM_AT + 700, id="mlkem-middle"),
        pytest.param(RSA_AT - 1, id="mlkem-last-byte"),
        pytest.param(RSA_AT, id="rsa-first-byte"),
        pytest.param(RSA_AT + 128, id="rsa-middle"),
        pytest.param(RSA_AT + 255, id="rsa-last-byte"),
        pytest.param(DATA_AT, id="aad"),
        pytest.param(DATA_AT + 40, id="aes-ciphertext"),
        pytest.param(-1, id="gcm-tag"),
    ],
)
def test_tampered_part_is_kerfse004(client, at: int) -> None:
    wire = hybrid(client)
    at = at % len(wire)
    error(post(client, "/decrypt", crypto_request(flip(wire, at))), "KER-FSE-004",
          message="encrypted data is corrupted")


def test_ver_r2_tampering_answers_the_same(client) -> None:
    wire = encrypt(client, PLAINTEXT)
    error(post(client, "/decrypt", crypto_request(flip(wire, 6 + 32 + 10))), "KER-FSE-004")  # RSA block
    error(post(client, "/decrypt", crypto_request(flip(wire, len(wire) - 1))), "KER-FSE-004")  # tag


def test_swapping_the_rsa_part_for_another_envelopes_is_refused(client) -> None:
    """Both KEM parts are bound into K: mixing two valid envelopes does not open."""
    first, second = hybrid(client), hybrid(client)
    mixed = first[:RSA_AT] + second[RSA_AT:RSA_AT + 256] + first[RSA_AT + 256:]
    error(post(client, "/decrypt", crypto_request(mixed)), "KER-FSE-004")
    mixed = first[:KEM_AT] + second[KEM_AT:RSA_AT] + first[RSA_AT:]
    error(post(client, "/decrypt", crypto_request(mixed)), "KER-FSE-004")


@pytest.mark.parametrize(
    ("cut", "code"),
    [
        pytest.param(1, "KER-FSE-004", id="last-byte"),
        pytest.param(16, "KER-FSE-004", id="tag"),
        pytest.param(len(PLAINTEXT) + 17, "KER-CRY-003", id="into-the-aad"),
        pytest.param(len(PLAINTEXT) + 16 + 32 + 14 + 100, "KER-CRY-003", id="into-the-rsa-part"),
        pytest.param(len(PLAINTEXT) + 16 + 32 + 14 + 256 + 500, "KER-CRY-003", id="into-the-mlkem-part"),
    ],
)
def test_truncated_answers_as_ver_r2_does(client, cut: int, code: str) -> None:
    wire = hybrid(client)
    error(post(client, "/decrypt", crypto_request(wire[:-cut])), code)


def test_truncated_ver_r2_for_comparison(client) -> None:
    wire = encrypt(client, PLAINTEXT)
    error(post(client, "/decrypt", crypto_request(wire[:-1])), "KER-FSE-004")
    error(post(client, "/decrypt", crypto_request(wire[:100])), "KER-CRY-003")


@pytest.mark.parametrize("field", ["salt", "aad"])
def test_decrypting_ver_q1_with_a_salt_or_aad_is_kerfse004(client, field) -> None:
    body = crypto_request(hybrid(client), **{field: b64url(b"0123456789ab")})
    error(post(client, "/decrypt", body), "KER-FSE-004")


def test_unknown_keys_are_kerkms025(client) -> None:
    wire = hybrid(client)
    error(post(client, "/decrypt", crypto_request(flip(wire, 6))), "KER-KMS-025")  # RSA thumbprint
    error(post(client, "/decrypt", crypto_request(flip(wire, 38))), "KER-KMS-025")  # ML-KEM key id


def test_ml_kem_key_of_another_rsa_key_is_refused(client) -> None:
    """The key id must name the twin of the RSA key the thumbprint names."""
    ours = hybrid(client)
    theirs = hybrid(client, ref="OTHER_REF")
    mixed = ours[:38] + theirs[38:70] + ours[70:]
    error(post(client, "/decrypt", crypto_request(mixed)), "KER-KMS-025")


def test_other_application_cannot_open(client) -> None:
    wire = hybrid(client)
    error(post(client, "/decrypt", crypto_request(wire, app="KERNEL")), "KER-KMS-024")


# -- the public-key statement and the client library ---------------------------------------------


def test_statement_fields_and_signature(client) -> None:
    key = statement(client)
    assert key["algorithm"] == "ML-KEM-768"
    public_key = b64url_decode(key["publicKey"])
    assert len(public_key) == 1184
    assert key["keyId"] == hashlib.sha256(public_key).hexdigest().upper()
    assert key["rsaCertificateThumbprint"] == der_thumbprint(certificate(client)).hex().upper()
    header_b64, payload_b64, _ = key["signature"].split(".")
    header = json.loads(b64url_decode(header_b64))
    payload = json.loads(b64url_decode(payload_b64))
    assert payload == {k: v for k, v in key.items() if k != "signature"}
    signer = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    assert signer == module_certificate(client)
    assert header["alg"] == "RS256"


def test_client_library_output_opens_through_decrypt(client) -> None:
    recipient = HybridRecipient.from_statement(
        statement(client), certificate(client).public_bytes(serialization.Encoding.PEM),
        trusted_issuer=module_certificate(client),
    )
    envelope = recipient.encrypt_b64url(PLAINTEXT)
    assert decrypt(client, envelope) == PLAINTEXT


def test_client_library_anchored_at_root(client) -> None:
    root = certificate(client, "ROOT", "")
    recipient = HybridRecipient.from_statement(statement(client), certificate(client), trusted_issuer=root)
    assert decrypt(client, recipient.encrypt(PLAINTEXT)) == PLAINTEXT


def test_client_library_refuses_bad_statements(client, clock) -> None:
    key, cert = statement(client), certificate(client)
    other = statement(client, ref="OTHER_REF")
    with pytest.raises(StatementError, match="another RSA certificate"):
        HybridRecipient.from_statement(other, cert)
    with pytest.raises(StatementError, match="differs"):
        HybridRecipient.from_statement({**key, "publicKey": other["publicKey"]}, cert)
    header, payload, signature = key["signature"].split(".")
    forged = json.loads(b64url_decode(payload)) | {"publicKey": other["publicKey"], "keyId": other["keyId"]}
    with pytest.raises(StatementError, match="signature"):
        HybridRecipient.from_statement(
            {"signature": f"{header}.{b64url(json.dumps(forged).encode())}.{signature}"}, cert
        )
    with pytest.raises(StatementError, match="trusted issuer"):
        HybridRecipient.from_statement(key, cert, trusted_issuer=self_signed("someone else")[1])
    with pytest.raises(StatementError, match="expired"):
        HybridRecipient.from_statement(key, cert, now=clock.now() + timedelta(days=20000))


# -- /rewrap ----------------------------------------------------------------------------------------


def test_rewrap_old_key_envelope_names_the_current_key(client, clock) -> None:
    old_classic, old_hybrid = encrypt(client, PLAINTEXT), hybrid(client)
    old_key = statement(client)
    clock.advance(timedelta(hours=1))
    ok(client.put(f"{API}/revokeKey", json=wrap({"applicationId": APP, "referenceId": REF})))
    clock.advance(timedelta(minutes=1))
    current = certificate(client)

    for old, want in ((old_classic, False), (old_hybrid, True)):
        response = ok(rewrap(client, old))
        new = b64url_decode(response["data"])
        assert response["pqHybrid"] is want
        assert new[:6] == (b"VER_Q1" if want else b"VER_R2")
        assert new[6:38] == der_thumbprint(current) != old[6:38]
        assert decrypt(client, new) == PLAINTEXT
        assert b64url(PLAINTEXT) not in json.dumps(response)
    assert decrypt(client, old_hybrid) == PLAINTEXT  # the old envelope still opens
    new_key = statement(client)
    assert new_key["keyId"] != old_key["keyId"]  # the ML-KEM key rotated with its RSA twin
    assert new_key["rsaCertificateThumbprint"] == der_thumbprint(current).hex().upper()


def test_rewrap_into_and_out_of_the_hybrid_format(client) -> None:
    classic = encrypt(client, PLAINTEXT)
    upgraded = b64url_decode(ok(rewrap(client, classic, pqHybrid=True))["data"])
    assert upgraded.startswith(b"VER_Q1") and decrypt(client, upgraded) == PLAINTEXT
    downgraded = b64url_decode(ok(rewrap(client, upgraded, pqHybrid=False))["data"])
    assert downgraded.startswith(b"VER_R2") and decrypt(client, downgraded) == PLAINTEXT


def test_rewrap_refuses_what_it_cannot_open(client) -> None:
    wire = hybrid(client)
    error(rewrap(client, flip(wire, RSA_AT + 3)), "KER-FSE-004")
    salted = encrypt(client, PLAINTEXT, salt=b64url(b"0123456789ab"))  # no header: needs the caller's salt
    error(rewrap(client, salted), "KER-CRY-003")
    error(post(client, "/rewrap", {"applicationId": "KERNEL", "referenceId": REF, "data": b64url(wire)}),
          "KER-KMS-024")


def test_rewrap_is_audited(client, container) -> None:
    wire = hybrid(client)
    ok(rewrap(client, wire))
    error(rewrap(client, flip(wire, -1)), "KER-FSE-004")
    records = [r for r in container.audit_log().records() if r.operation == "rewrap"]
    assert [r.outcome for r in records] == ["success", "KER-FSE-004"]
    assert all(r.thumbprint == wire[6:38].hex().upper() for r in records)
    created = [r for r in container.audit_log().records() if r.operation == "generatePqKey"]
    assert len(created) == 1 and created[0].ref_id == REF


# -- real stores --------------------------------------------------------------------------------------


def exercise_store(client) -> None:
    wire = hybrid(client)
    assert decrypt(client, wire) == PLAINTEXT
    key = statement(client)
    recipient = HybridRecipient.from_statement(key, certificate(client), trusted_issuer=module_certificate(client))
    assert decrypt(client, recipient.encrypt(PLAINTEXT)) == PLAINTEXT
    assert decrypt(client, b64url_decode(ok(rewrap(client, wire))["data"])) == PLAINTEXT


def test_sqlite_store(sqlite_settings, clock, make_container) -> None:
    container = make_container(sqlite_settings, clock)
    init_master_keys(container)
    exercise_store(create_app(sqlite_settings, container).test_client())
    # a second container on the same files (a restart: no caches) opens what the first made
    again = make_container(sqlite_settings, clock)
    client = create_app(sqlite_settings, again).test_client()
    assert decrypt(client, hybrid(client)) == PLAINTEXT


@pytest.mark.postgres
def test_postgres_store(tmp_path, clock, make_container, postgres_schema_url) -> None:
    settings = Settings(data_dir=tmp_path, store="postgres", keystore="memory", db_url=postgres_schema_url)
    container = make_container(settings, clock)
    init_master_keys(container)
    exercise_store(create_app(settings, container).test_client())
