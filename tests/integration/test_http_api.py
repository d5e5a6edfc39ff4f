"""The HTTP API through Flask's test client: envelopes, the /encrypt variants,
independent (spec-only) checks of the wire format, key lifecycle endpoints and
the reference's error codes for bad input.

The independent checks build or open envelopes with `cryptography`, hashlib and
base64 only, from /work/shared/spec/mosip-crypto.md §2.2/§2.3: no project code.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from entrypoints.http.app import create_app
from tests.support.http_api import (
    API,
    APP,
    OAEP,
    PLAINTEXT,
    REF,
    REQUEST_TIME,
    RESPONSE_TIME,
    SPLITTER,
    VER_R2,
    assert_clean,
    b64url,
    certificate,
    crypto_request,
    decrypt,
    encrypt,
    error,
    ok,
    open_envelope,
    post,
    self_signed,
    wrap,
)

# -- envelope shape ------------------------------------------------------------------------


def test_success_envelope_echoes_id_and_version(client) -> None:
    response = post(client, "/encrypt", crypto_request(b"hello"), id_="my.id", version="9.9")
    body = response.get_json()
    ok(response)
    assert body["id"] == "my.id"
    assert body["version"] == "9.9"
    assert body["metadata"] is None
    assert response.mimetype == "application/json"


def test_error_envelope_echoes_id_and_version(client) -> None:
    response = post(client, "/encrypt", crypto_request(b"hello", ref=""), id_="err.id", version="2.0")
    body = error(response, "KER-CRY-011")
    assert body["id"] == "err.id"
    assert body["version"] == "2.0"
    assert body["errors"][0]["message"] == (
        "Not Allowed to preform encryption with Master Key. Use Base/Encrypt key to encrypt data."
    )


def test_get_has_null_id_and_version(client) -> None:
    body = client.get(f"{API}/getCertificate", query_string={"applicationId": APP, "referenceId": ""}).get_json()
    assert body["id"] is None and body["version"] is None and body["errors"] is None


# -- round trips -----------------------------------------------------------------------------


def test_default_variant_is_ver_r2(client) -> None:
    wire = encrypt(client, PLAINTEXT)
    assert wire.startswith(VER_R2)
    assert wire[294:308] == SPLITTER
    assert wire.index(SPLITTER) == 294
    cert = certificate(client)
    assert wire[6:38] == hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    assert len(wire) == 294 + len(SPLITTER) + 32 + len(PLAINTEXT) + 16
    assert decrypt(client, wire) == PLAINTEXT


def test_two_encryptions_differ(client) -> None:
    assert encrypt(client, PLAINTEXT) != encrypt(client, PLAINTEXT)


def test_salt_variant_has_no_header(client) -> None:
    salt = b64url(os.urandom(12))
    wire = encrypt(client, PLAINTEXT, salt=salt)
    assert not wire.startswith(VER_R2)
    assert wire.index(SPLITTER) == 288
    assert len(wire) == 288 + len(SPLITTER) + len(PLAINTEXT) + 16  # ct || tag, no IV appended
    assert decrypt(client, wire, salt=salt) == PLAINTEXT


def test_salt_and_aad_variant(client) -> None:
    salt, aad = b64url(os.urandom(16)), b64url(b"additional data")
    wire = encrypt(client, PLAINTEXT, salt=salt, aad=aad)
    assert wire.index(SPLITTER) == 288
    assert decrypt(client, wire, salt=salt, aad=aad) == PLAINTEXT
    error(post(client, "/decrypt", crypto_request(wire, salt=salt, aad=b64url(b"other data"))), "KER-FSE-004")


def test_aad_only_variant_appends_the_iv(client) -> None:
    aad = b64url(os.urandom(20))
    wire = encrypt(client, PLAINTEXT, aad=aad)
    assert not wire.startswith(VER_R2)
    assert wire.index(SPLITTER) == 288
    block = wire[288 + len(SPLITTER):]
    assert len(block) == len(PLAINTEXT) + 16 + 16  # ct || tag || iv16
    assert decrypt(client, wire, aad=aad) == PLAINTEXT


def test_standard_base64_with_padding_is_accepted(client) -> None:
    plaintext = b"\xfb\xff\xbf\xfe\xfa"  # standard alphabet needs '+' and '/', and one '='
    standard = base64.b64encode(plaintext).decode("ascii")
    assert "+" in standard and "/" in standard and standard.endswith("=")
    wire = encrypt(client, standard)
    assert decrypt(client, base64.b64encode(wire).decode("ascii")) == plaintext
    padded_urlsafe = base64.urlsafe_b64encode(wire).decode("ascii")
    assert decrypt(client, padded_urlsafe) == plaintext


# -- independent (spec-only) checks --------------------------------------------------------


def test_envelope_built_from_the_spec_decrypts(client) -> None:
    cert = certificate(client)
    tp = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    session_key = os.urandom(32)
    aad32 = os.urandom(32)
    ct_tag = AESGCM(session_key).encrypt(aad32[:12], PLAINTEXT, aad32)
    ek = cert.public_key().encrypt(session_key, OAEP)
    assert len(ek) == 256
    wire = VER_R2 + tp + ek + SPLITTER + aad32 + ct_tag
    assert decrypt(client, b64url(wire)) == PLAINTEXT


def test_other_domain_certificate_encryption_opens_with_its_private_key(client) -> None:
    private_key, cert = self_signed("ida-public-key")
    pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    upload = post(
        client,
        "/uploadOtherDomainCertificate",
        {"applicationId": "IDA", "referenceId": "PUBLIC_KEY", "certificateData": pem},
    )
    assert ok(upload)["status"] == "Upload Success"

    wire = encrypt(client, PLAINTEXT, app="IDA", ref="PUBLIC_KEY")
    assert open_envelope(private_key, cert, wire) == PLAINTEXT
    # we hold no private key for it, and IDA has no key policy: decryption is refused (as the reference does)
    error(post(client, "/decrypt", crypto_request(wire, app="IDA", ref="PUBLIC_KEY")), "KER-CRY-012")


# -- bad input -------------------------------------------------------------------------------


def raw_post(client, path: str, body: bytes):
    return client.post(API + path, data=body, content_type="application/json")


@pytest.mark.parametrize("path", ["/encrypt", "/decrypt", "/revokeKey"])
def test_malformed_json(client, path: str) -> None:
    method = client.put if path == "/revokeKey" else client.post
    response = method(API + path, data=b'{"id": "x", "request": {', content_type="application/json")
    body = error(response, "KER-KMS-005")
    assert body["id"] is None


@pytest.mark.parametrize("payload", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_body_not_an_object(client, payload: bytes) -> None:
    error(raw_post(client, "/encrypt", payload), "KER-KMS-005")


def test_empty_body(client) -> None:
    error(raw_post(client, "/encrypt", b""), "KER-KMS-005")


def test_missing_request(client) -> None:
    body = error(client.post(f"{API}/encrypt", json={"id": "a", "version": "1.0"}), "KER-KMS-005",
                 message="request must not be null")
    assert body["id"] == "a" and body["version"] == "1.0"
    error(client.post(f"{API}/encrypt", json={"id": "a", "request": None}), "KER-KMS-005",
          message="request must not be null")


def test_missing_application_id(client) -> None:
    request = crypto_request(b"hello")
    del request["applicationId"]
    error(post(client, "/encrypt", request), "KER-KMS-005", message="request.applicationId should not be null or empty")
    error(post(client, "/decrypt", crypto_request(b"x", app="  ")), "KER-KMS-005",
          message="request.applicationId should not be null or empty")


def test_bad_base64_data(client) -> None:
    error(post(client, "/encrypt", crypto_request("not*base64!")), "KER-CRY-003",
          message=" input data is not base64 encoded")
    error(post(client, "/decrypt", crypto_request("%%%%")), "KER-CRY-003", message=" input data is not base64 encoded")


def test_decrypt_without_splitter(client) -> None:
    error(post(client, "/decrypt", crypto_request(os.urandom(400))), "KER-CRY-003",
          message="data sent to decrypt is without key splitter or invalid")


def test_truncated_inside_the_key_part(client) -> None:
    wire = encrypt(client, PLAINTEXT)
    error(post(client, "/decrypt", crypto_request(wire[:200])), "KER-CRY-003",
          message="data sent to decrypt is without key splitter or invalid")


@pytest.mark.parametrize("keep", [0, 10, 40, 60])
def test_truncated_inside_the_data_part(client, keep: int) -> None:
    wire = encrypt(client, PLAINTEXT)
    start = wire.index(SPLITTER) + len(SPLITTER)
    response = post(client, "/decrypt", crypto_request(wire[: start + keep]))
    # too short to hold aad32 + tag: the layout is invalid; long enough: the tag fails
    expected = "KER-CRY-003" if keep < 48 else "KER-FSE-004"
    error(response, expected)


def test_truncated_key_part_with_splitter(client) -> None:
    """Bytes cut out of the key part: it is no longer thumbprint + RSA block."""
    wire = encrypt(client, PLAINTEXT)
    cut = wire[:100] + wire[294:]
    # without a thumbprint it is treated as legacy data: every key of the tuple is tried and fails
    error(post(client, "/decrypt", crypto_request(cut)), "KER-FSE-004")


def test_unknown_thumbprint(client) -> None:
    wire = bytearray(encrypt(client, PLAINTEXT))
    wire[6:38] = hashlib.sha256(b"no such certificate").digest()
    error(post(client, "/decrypt", crypto_request(bytes(wire))), "KER-KMS-025",
          message="Key Not found for the thumbprint prepended in encrypted data.")


def test_tampered_ciphertext(client) -> None:
    wire = bytearray(encrypt(client, PLAINTEXT))
    wire[-20] ^= 0x01
    error(post(client, "/decrypt", crypto_request(bytes(wire))), "KER-FSE-004", message="encrypted data is corrupted")


def test_tampered_aad(client) -> None:
    wire = bytearray(encrypt(client, PLAINTEXT))
    wire[308 + 20] ^= 0x80  # inside aad32, past the nonce
    error(post(client, "/decrypt", crypto_request(bytes(wire))), "KER-FSE-004")


def test_unknown_application_on_encrypt(client) -> None:
    error(post(client, "/encrypt", crypto_request(b"x", app="NO_SUCH_APP")), "KER-KMS-002",
          message="ApplicationId not found in Key Policy. Key/CSR generation not allowed.")


def test_unknown_application_on_decrypt(client) -> None:
    wire = encrypt(client, PLAINTEXT)
    error(post(client, "/decrypt", crypto_request(wire, app="NO_SUCH_APP")), "KER-CRY-012")


@pytest.mark.parametrize("ref", ["", "   ", None])
def test_blank_reference_on_encrypt(client, ref: str | None) -> None:
    error(post(client, "/encrypt", crypto_request(b"x", ref=ref)), "KER-CRY-011")


@pytest.mark.parametrize("ref", ["SIGN", "sign", "IDENTITY_CACHE"])
def test_kernel_master_references_on_encrypt(client, ref: str) -> None:
    error(post(client, "/encrypt", crypto_request(b"x", app="KERNEL", ref=ref)), "KER-CRY-011")


@pytest.mark.parametrize("stamp", ["2024/05/01 10:15", "yesterday", "2024-13-01T10:15:30.123Z"])
def test_bad_timestamp_format(client, stamp: str) -> None:
    error(post(client, "/encrypt", crypto_request(b"x", timeStamp=stamp)), "KER-KMS-005")


def test_salt_of_one_character(client) -> None:
    error(post(client, "/encrypt", crypto_request(b"x", salt="a")), "KER-KMS-005", message="request.salt should not be empty")
    error(post(client, "/encrypt", crypto_request(b"x", aad="a")), "KER-KMS-005", message="request.aad should not be empty")


def test_several_validation_errors_are_listed(client) -> None:
    body = error(post(client, "/encrypt", {"timeStamp": REQUEST_TIME}), "KER-KMS-005")
    messages = {item["message"] for item in body["errors"]}
    assert "request.applicationId should not be null or empty" in messages
    assert "request.data should not be null or empty" in messages


def test_unknown_path(client) -> None:
    body = error(client.get(f"{API}/noSuchEndpoint"), "KER-KMS-005", status=404)
    assert body["id"] is None
    error(client.post("/other/prefix/encrypt", json=wrap({})), "KER-KMS-005", status=404)


def test_wrong_method(client) -> None:
    error(client.get(f"{API}/encrypt"), "KER-KMS-005", status=405)
    error(client.post(f"{API}/revokeKey", json=wrap({"applicationId": APP, "referenceId": REF})), "KER-KMS-005", status=405)


def test_body_over_the_limit(memory_settings, container) -> None:
    small = create_app(memory_settings.with_overrides(max_body_bytes=1024), container).test_client()
    big = crypto_request(os.urandom(2048))
    error(small.post(f"{API}/encrypt", json=wrap(big)), "KER-KMS-005", status=413)
    ok(small.post(f"{API}/encrypt", json=wrap(crypto_request(b"fits"))))


def test_generate_master_key_unknown_object_type(client) -> None:
    error(post(client, "/generateMasterKey/FOO", {"applicationId": APP, "referenceId": ""}), "KER-KMS-009",
          message="Invalid Response Object Type.")


def test_get_certificate_missing_application_id(client) -> None:
    body = error(client.get(f"{API}/getCertificate"), "KER-KMS-005")
    assert "applicationId" in body["errors"][0]["message"]
    error(client.get(f"{API}/getAllCertificates"), "KER-KMS-005")


def test_get_certificate_unknown_application(client) -> None:
    error(client.get(f"{API}/getCertificate", query_string={"applicationId": "NO_SUCH_APP"}), "KER-KMS-002")


# -- key lifecycle endpoints ---------------------------------------------------------------


def test_generate_master_key_certificate(client) -> None:
    response = ok(post(client, "/generateMasterKey/CERTIFICATE", {"applicationId": APP, "referenceId": ""}))
    assert response["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert response["certSignRequest"] is None
    cert = x509.load_pem_x509_certificate(response["certificate"].encode())
    for field in ("issuedAt", "expiryAt", "timestamp"):
        assert RESPONSE_TIME.match(response[field]), response[field]
    assert response["issuedAt"] == cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert response["expiryAt"] == cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    # idempotent: the existing master key is returned, and it is what getCertificate serves
    again = ok(post(client, "/generateMasterKey/certificate", {"applicationId": APP, "referenceId": ""}))
    assert again["certificate"] == response["certificate"]
    assert certificate(client, APP, "") == cert


def test_generate_master_key_csr(client) -> None:
    response = ok(post(client, "/generateMasterKey/CSR", {"applicationId": APP, "referenceId": ""}))
    assert response["certificate"] is None
    assert response["certSignRequest"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    csr = x509.load_pem_x509_csr(response["certSignRequest"].encode())
    assert csr.is_signature_valid
    assert csr.public_key() == certificate(client, APP, "").public_key()
    assert RESPONSE_TIME.match(response["issuedAt"]) and RESPONSE_TIME.match(response["expiryAt"])


def test_revoke_then_new_certificate_and_both_listed(client, clock) -> None:
    first = certificate(client)
    first_wire = encrypt(client, PLAINTEXT)
    clock.advance(timedelta(hours=1))
    revoked = ok(client.put(f"{API}/revokeKey", json=wrap({"applicationId": APP, "referenceId": REF})))
    assert revoked["status"] == "Key Revoked"
    clock.advance(timedelta(minutes=1))
    second = certificate(client)
    assert second != first
    assert second.public_key() != first.public_key()
    # old data still decrypts; new data goes to the new key
    assert decrypt(client, first_wire) == PLAINTEXT
    new_wire = encrypt(client, PLAINTEXT)
    assert new_wire[6:38] == hashlib.sha256(second.public_bytes(serialization.Encoding.DER)).digest()

    listed = ok(client.get(f"{API}/getAllCertificates", query_string={"applicationId": APP, "referenceId": REF}))
    entries = listed["allCertificates"]
    assert len(entries) == 2
    pems = [x509.load_pem_x509_certificate(e["certificateData"].encode()) for e in entries]
    assert pems == [first, second]  # oldest first
    key_ids = [e["keyId"] for e in entries]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", k) for k in key_ids)
    assert key_ids[0] != key_ids[1]
    for entry in entries:
        assert RESPONSE_TIME.match(entry["issuedAt"]) and RESPONSE_TIME.match(entry["expiryAt"])


def test_revoke_errors(client) -> None:
    error(client.put(f"{API}/revokeKey", json=wrap({"applicationId": APP, "referenceId": ""})), "KER-KMS-005")
    error(client.put(f"{API}/revokeKey", json=wrap({"applicationId": "KERNEL", "referenceId": "SIGN"})), "KER-KMS-021")
    error(client.put(f"{API}/revokeKey", json=wrap({"applicationId": APP, "referenceId": "NEVER_USED"})), "KER-KMS-003")


def test_error_bodies_never_leak_internals(client) -> None:
    """A sweep of hostile inputs: every reply is an envelope without internals."""
    wire = encrypt(client, PLAINTEXT)
    bodies = [
        crypto_request(wire[:-1]),
        crypto_request(wire + b"extra"),
        crypto_request(SPLITTER + wire),
        crypto_request(VER_R2 + SPLITTER + b"x" * 64),
        crypto_request(b"\x00" * 294 + SPLITTER + b"\x00" * 64),
        crypto_request(wire, salt=b64url(b"\x00" * 12)),
        crypto_request(wire, referenceId=123),
        {**crypto_request(b"x"), "data": ["list"]},
    ]
    for request in bodies:
        response = post(client, "/decrypt", request)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["errors"], response.get_json()
        assert_clean(response)
    response = client.post(f"{API}/decrypt", data=json.dumps(wrap({"data": "\ud800"})), content_type="application/json")
    assert response.status_code == 200
    assert_clean(response)


def test_decryption_failures_are_indistinguishable(client) -> None:
    """No oracle: a corrupted RSA block (bad OAEP padding) and a corrupted tag answer alike."""
    wire = encrypt(client, PLAINTEXT)
    bad_block = bytearray(wire)
    bad_block[6 + 32 + 100] ^= 0x01  # inside the RSA block, thumbprint intact
    bad_tag = bytearray(wire)
    bad_tag[-1] ^= 0x01
    answers = [
        post(client, "/decrypt", crypto_request(bytes(variant))).get_json()["errors"]
        for variant in (bad_block, bad_tag)
    ]
    assert answers[0] == answers[1] == [{"errorCode": "KER-FSE-004", "message": "encrypted data is corrupted"}]
