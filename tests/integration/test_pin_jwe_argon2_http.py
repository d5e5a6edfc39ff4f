"""encryptWithPin / decryptWithPin, jwtEncrypt / jwtDecrypt, generateArgon2Hash and /tokenid
through the HTTP API (Flask test client), checked against the spec (mosip-api.md §3.3-3.7, §8.1;
mosip-crypto.md §2.4-2.6, §10.2) and the known-answer vectors V4, V8 and derived_ids.txt.

The independent checks use hashlib, `cryptography`, argon2-cffi's low-level API and joserfc only:
never the project's own crypto modules. Unit tests of the pure modules live in tests/unit.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import os
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2.low_level import Type, hash_secret_raw
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from joserfc import jwe as joserfc_jwe
from joserfc.jwk import RSAKey

from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.repo import VECTORS_DIR

API = "/v1/keymanager"
APP = "REGISTRATION"
REF = "10001_110011"
REQUEST_TIME = "2025-01-15T09:30:00.000Z"
#: Distinctive values that must never leave the service in a response, a log line or the audit trail.
PIN = "PIN-9f3c71-never-echo"
PLAINTEXT = "plaintext-5be2a8-never-echo Zoë ✓"

V4_PIN = "AB1234"
V4_PLAINTEXT = "Test Pin Encryption."  # the vector name says "TestPinEncryption"; confirmed independently
V8_PLAINTEXT = b'{"a":1}'
TEST_KID = "dg4DTn2YhbFTa-f8fAXmTyvbWPJdUWT2g88TEov3JL8"  # base64url SHA-256 of test_cert.pem's DER

JOSERFC_REGISTRY = joserfc_jwe.JWERegistry(algorithms=["RSA-OAEP-256", "A256GCM", "DEF"])
JOSERFC_REGISTRY.max_protected_header_length = 8192  # an x5c header is ~2.5 KB; joserfc's default is 1 KB

#: The reference's public test salts (kernel-keymanager-service test properties) and the derived_ids.txt token.
UIN_SALT = "zHuDEAbmbxiUbUShgy6pwUhKh9DE0EZn9kQDKPPKbWscGajMwf"
PARTNER_SALT = "yS8w5Wb6vhIKdf1msi4LYTJks7mqkbmITk2O63Iq8h0bkRlD0d"
TOKEN_ID = "273516174950465218861486381028222425"

FAST = dict(pin_hash_iterations=1000, argon2_iterations=2, argon2_memory_kib=1024, argon2_parallelism=2)


# -- helpers ---------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    assert "=" not in text and "+" not in text and "/" not in text, text
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def wrap(request: Any) -> dict[str, Any]:
    return {"id": "mosip.test", "version": "1.0", "requesttime": REQUEST_TIME, "metadata": {}, "request": request}


def post(client, path: str, request: Any):
    return client.post(API + path, json=wrap(request))


def ok(client, path: str, request: Any) -> dict[str, Any]:
    response = post(client, path, request)
    body = response.get_json()
    assert response.status_code == 200 and body["errors"] is None, response.get_data(as_text=True)
    assert body["id"] == "mosip.test" and body["version"] == "1.0"
    return body["response"]


def error(response, code: str) -> dict[str, Any]:
    """The MOSIP error envelope with exactly ``code``, HTTP 200 (a handled business error)."""
    text = response.get_data(as_text=True)
    assert response.status_code == 200, text
    body = response.get_json()
    assert body["response"] is None, text
    assert [e["errorCode"] for e in body["errors"]] == [code], text
    assert "Traceback" not in text and 'File "' not in text
    return body["errors"][0]


def certificate_of(client, app: str = APP, ref: str = REF) -> str:
    response = client.get(f"{API}/getCertificate", query_string={"applicationId": app, "referenceId": ref})
    body = response.get_json()
    assert response.status_code == 200 and body["errors"] is None, body
    return body["response"]["certificate"]


def pem_kid(pem: str) -> str:
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    return b64url(hashlib.sha256(der).digest())


def header_pairs(token: str) -> list[tuple[str, Any]]:
    """The protected header's members in their written order."""
    return json.loads(b64url_decode(token.split(".")[0]), object_pairs_hook=list)


def self_signed(key, common_name: str = "jwe-test") -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def pin_key(pin: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", pin.encode("utf-8"), salt, iterations, 32)


def open_pin_blob(blob: str, pin: str, iterations: int) -> bytes:
    """Spec §2.4, independently: salt(32) ‖ nonce(12) ‖ ct ‖ tag, AAD = salt."""
    raw = b64url_decode(blob)
    salt, nonce, sealed = raw[:32], raw[32:44], raw[44:]
    return AESGCM(pin_key(pin, salt, iterations)).decrypt(nonce, sealed, salt)


@pytest.fixture(scope="module")
def test_key() -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key((VECTORS_DIR / "rsa2048_test_key.pk8.pem").read_bytes(), password=None)


@pytest.fixture(scope="module")
def test_cert_pem() -> str:
    return (VECTORS_DIR / "test_cert.pem").read_text()


@pytest.fixture
def fast_settings(memory_settings: Settings) -> Settings:
    return memory_settings.with_overrides(**FAST)


@pytest.fixture
def container(
    make_container, fast_settings: Settings, clock
):  # overrides conftest's: the same, with fast PBKDF2/Argon2
    built = make_container(fast_settings, clock)
    init_master_keys(built)
    return built


@pytest.fixture
def app(fast_settings: Settings, container):
    return create_app(fast_settings, container)


@pytest.fixture
def client(app):
    return app.test_client()


def build_client(make_container, settings: Settings, clock, *, master_keys: bool = True):
    built = make_container(settings, clock)
    if master_keys:
        init_master_keys(built)
    return create_app(settings, built).test_client(), built


# ================================================================================================
# encryptWithPin / decryptWithPin
# ================================================================================================


def test_pin_round_trip_and_layout(client) -> None:
    blob = ok(client, "/encryptWithPin", {"data": PLAINTEXT, "userPin": PIN})["data"]
    raw = b64url_decode(blob)  # base64url without padding
    plaintext = PLAINTEXT.encode("utf-8")  # text, not base64
    assert len(raw) == 32 + 12 + len(plaintext) + 16
    # salt(32) ‖ nonce(12) ‖ ct ‖ tag under PBKDF2-HMAC-SHA512(PIN, salt, 1000) with AAD = salt
    assert open_pin_blob(blob, PIN, FAST["pin_hash_iterations"]) == plaintext
    assert ok(client, "/decryptWithPin", {"data": blob, "userPin": PIN}) == {"data": PLAINTEXT}
    # random salt and nonce: a second encryption differs in both
    again = b64url_decode(ok(client, "/encryptWithPin", {"data": PLAINTEXT, "userPin": PIN})["data"])
    assert again[:32] != raw[:32] and again[32:44] != raw[32:44]


def test_pin_blob_made_independently_decrypts(client) -> None:
    salt, nonce = os.urandom(32), os.urandom(12)
    sealed = AESGCM(pin_key(PIN, salt, FAST["pin_hash_iterations"])).encrypt(nonce, PLAINTEXT.encode(), salt)
    blob = b64url(salt + nonce + sealed)
    assert ok(client, "/decryptWithPin", {"data": blob, "userPin": PIN}) == {"data": PLAINTEXT}
    # padding is optional on input
    assert ok(client, "/decryptWithPin", {"data": blob + "=" * (-len(blob) % 4), "userPin": PIN})["data"] == PLAINTEXT


def test_v4_blob_decrypts_with_the_reference_iterations(
    make_container, memory_settings: Settings, clock, vectors
) -> None:
    client, _ = build_client(
        make_container, memory_settings.with_overrides(pin_hash_iterations=100000), clock, master_keys=False
    )
    blob = vectors["V4.encryptWithPin_pin_AB1234_data_TestPinEncryption_iter100000"]
    assert ok(client, "/decryptWithPin", {"data": blob, "userPin": V4_PIN}) == {"data": V4_PLAINTEXT}
    # its salt is V4's, and the key derived from it is V4.hash100000
    assert b64url_decode(blob)[:32].hex().upper() == vectors["V4.salt"]
    assert pin_key(V4_PIN, bytes.fromhex(vectors["V4.salt"]), 100000).hex().upper() == vectors["V4.hash100000"]
    error(post(client, "/decryptWithPin", {"data": blob, "userPin": "AB1235"}), "KER-FSE-004")


def test_v4_blob_does_not_open_with_other_iterations(client, vectors) -> None:
    blob = vectors["V4.encryptWithPin_pin_AB1234_data_TestPinEncryption_iter100000"]
    error(post(client, "/decryptWithPin", {"data": blob, "userPin": V4_PIN}), "KER-FSE-004")


def test_configured_iterations_are_used(make_container, memory_settings: Settings, clock) -> None:
    client, _ = build_client(
        make_container, memory_settings.with_overrides(pin_hash_iterations=10), clock, master_keys=False
    )
    blob = ok(client, "/encryptWithPin", {"data": "ten", "userPin": V4_PIN})["data"]
    assert open_pin_blob(blob, V4_PIN, 10) == b"ten"


def test_data_and_pin_are_used_as_given_not_trimmed(client) -> None:
    blob = ok(client, "/encryptWithPin", {"data": "  spaced\n", "userPin": " 1234 "})["data"]
    assert open_pin_blob(blob, " 1234 ", FAST["pin_hash_iterations"]) == b"  spaced\n"
    assert ok(client, "/decryptWithPin", {"data": blob, "userPin": " 1234 "}) == {"data": "  spaced\n"}
    error(post(client, "/decryptWithPin", {"data": blob, "userPin": "1234"}), "KER-FSE-004")


def test_wrong_pin_is_fse_004(client) -> None:
    blob = ok(client, "/encryptWithPin", {"data": PLAINTEXT, "userPin": PIN})["data"]
    error(post(client, "/decryptWithPin", {"data": blob, "userPin": PIN + "x"}), "KER-FSE-004")


def test_tampered_pin_blob_is_fse_004(client) -> None:
    raw = bytearray(b64url_decode(ok(client, "/encryptWithPin", {"data": PLAINTEXT, "userPin": PIN})["data"]))
    for index in (0, 40, len(raw) - 1):  # the salt (AAD and KDF input), the nonce, the tag
        tampered = bytearray(raw)
        tampered[index] ^= 1
        error(post(client, "/decryptWithPin", {"data": b64url(bytes(tampered)), "userPin": PIN}), "KER-FSE-004")


@pytest.mark.parametrize("data", ["ab+c", "ab/c", "!!!not base64!!!", "a", "abc$"])
def test_non_url_safe_base64_is_cry_003(client, data: str) -> None:
    body = error(post(client, "/decryptWithPin", {"data": data, "userPin": PIN}), "KER-CRY-003")
    assert body["message"] == " input data is not base64 encoded"


def test_standard_alphabet_is_refused(client) -> None:
    # URL-safe only (spec §1.7): a blob holding '+' or '/' in its standard form is refused.
    while True:
        blob = ok(client, "/encryptWithPin", {"data": PLAINTEXT, "userPin": PIN})["data"]
        if "-" in blob or "_" in blob:
            break
    standard = blob.replace("-", "+").replace("_", "/")
    error(post(client, "/decryptWithPin", {"data": standard, "userPin": PIN}), "KER-CRY-003")


@pytest.mark.parametrize("length", [4, 32, 44, 59])  # shorter than salt ‖ nonce ‖ tag (60 bytes)
def test_too_short_is_fse_003(client, length: int) -> None:
    error(post(client, "/decryptWithPin", {"data": b64url(os.urandom(length)), "userPin": PIN}), "KER-FSE-003")


def test_sixty_random_bytes_pass_the_length_check_and_fail_with_fse_004(client) -> None:
    # 60 bytes pass the length check and fail authentication
    error(post(client, "/decryptWithPin", {"data": b64url(os.urandom(60)), "userPin": PIN}), "KER-FSE-004")


@pytest.mark.parametrize("path", ["/encryptWithPin", "/decryptWithPin"])
@pytest.mark.parametrize(
    "request_, field",
    [
        ({"data": "", "userPin": PIN}, "data"),
        ({"data": "   ", "userPin": PIN}, "data"),
        ({"data": None, "userPin": PIN}, "data"),
        ({"userPin": PIN}, "data"),
        ({"data": "abcd", "userPin": ""}, "userPin"),
        ({"data": "abcd", "userPin": " \t"}, "userPin"),
        ({"data": "abcd", "userPin": None}, "userPin"),
        ({"data": "abcd"}, "userPin"),
    ],
)
def test_blank_fields_are_kms_005(client, path: str, request_: dict, field: str) -> None:
    body = error(post(client, path, request_), "KER-KMS-005")
    assert body["message"] == f"request.{field} should not be null or empty"


def test_missing_request_is_kms_005(client) -> None:
    response = client.post(API + "/encryptWithPin", json={"id": "x", "version": "1"})
    error(response, "KER-KMS-005")


def test_failing_pin_requests_leak_neither_pin_nor_plaintext(app, container, caplog, monkeypatch) -> None:
    for name in ("keymanager", "keymanager.http", "keymanager.audit", "werkzeug"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="keymanager")
    client = app.test_client()
    blob = ok(client, "/encryptWithPin", {"data": PLAINTEXT, "userPin": PIN})["data"]
    caplog.clear()
    failures = [
        post(client, "/decryptWithPin", {"data": blob, "userPin": PIN + "-wrong"}),  # wrong PIN
        post(client, "/decryptWithPin", {"data": blob + "+", "userPin": PIN}),  # not base64url
        post(client, "/decryptWithPin", {"data": blob[:40], "userPin": PIN}),  # too short
        post(client, "/decryptWithPin", {"data": blob[:-3] + ("A" if blob[-3] != "A" else "B") + blob[-2:],
                                         "userPin": PIN}),  # tampered tag
        post(client, "/encryptWithPin", {"data": PLAINTEXT, "userPin": " "}),  # blank PIN
        post(client, "/encryptWithPin", {"data": " ", "userPin": PIN}),  # blank data
        post(client, "/decryptWithPin", {"data": blob, "userPin": PLAINTEXT}),  # the plaintext as a wrong PIN
    ]
    texts = []
    for response in failures:
        body = response.get_json()
        assert response.status_code == 200 and body["response"] is None and body["errors"], body
        texts.append(response.get_data(as_text=True))
        texts.extend(f"{k}: {v}" for k, v in response.headers.items())
    logged = []
    for record in caplog.records:
        logged.append(caplog.handler.format(record))
        logged.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            logged.append(repr(record.exc_info[1]))
    audited = [json.dumps(dataclasses.asdict(r), ensure_ascii=False) for r in container.audit_log().records()]
    haystack = "\n".join(texts + logged + audited)
    for secret in (PIN, PLAINTEXT, PLAINTEXT.encode().hex(), b64url(PLAINTEXT.encode())[:20], PIN.encode().hex()):
        assert secret not in haystack
    assert "9f3c71" not in haystack and "5be2a8" not in haystack  # no fragment either


# ================================================================================================
# generateArgon2Hash
# ================================================================================================


def reference_argon2(data: str, salt: bytes, *, t: int, m: int, p: int) -> bytes:
    return hash_secret_raw(secret=data.encode("utf-8"), salt=salt, time_cost=t, memory_cost=m, parallelism=p,
                           hash_len=32, type=Type.ID, version=19)


def test_argon2_with_salt_matches_an_independent_computation(client) -> None:
    salt = os.urandom(16)
    result = ok(client, "/generateArgon2Hash", {"inputData": "correct horse ✓", "salt": b64url(salt)})
    assert result["salt"] == b64url(salt)  # echoed
    expected = reference_argon2("correct horse ✓", salt, t=2, m=1024, p=2)
    assert b64url_decode(result["hashValue"]) == expected
    # deterministic for a given salt; padding on the salt is optional
    padded = b64url(salt) + "=" * (-len(b64url(salt)) % 4)
    again = ok(client, "/generateArgon2Hash", {"inputData": "correct horse ✓", "salt": padded})
    assert again["hashValue"] == result["hashValue"]
    assert b64url_decode(again["salt"]) == salt


def test_argon2_reference_parameters(make_container, memory_settings: Settings, clock) -> None:
    # The reference's defaults (t=10, m=65536 KiB, p=2); Settings() defaults must be them.
    defaults = Settings()
    assert (defaults.argon2_iterations, defaults.argon2_memory_kib, defaults.argon2_parallelism) == (10, 65536, 2)
    client, _ = build_client(make_container, memory_settings, clock, master_keys=False)
    salt = bytes(range(24))
    result = ok(client, "/generateArgon2Hash", {"inputData": "MOSIP", "salt": b64url(salt)})
    assert b64url_decode(result["hashValue"]) == reference_argon2("MOSIP", salt, t=10, m=65536, p=2)
    assert result["salt"] == b64url(salt)


def test_argon2_input_is_used_as_given(client) -> None:
    salt = os.urandom(12)
    result = ok(client, "/generateArgon2Hash", {"inputData": " pw ", "salt": b64url(salt)})
    assert b64url_decode(result["hashValue"]) == reference_argon2(" pw ", salt, t=2, m=1024, p=2)


def test_argon2_without_salt_generates_24_bytes(client) -> None:
    first = ok(client, "/generateArgon2Hash", {"inputData": "secret"})
    second = ok(client, "/generateArgon2Hash", {"inputData": "secret", "salt": None})
    third = ok(client, "/generateArgon2Hash", {"inputData": "secret", "salt": "  "})  # blank = absent
    salts = [b64url_decode(r["salt"]) for r in (first, second, third)]
    assert all(len(s) == 24 for s in salts)
    assert len(set(salts)) == 3
    for result, salt in zip((first, second, third), salts):
        assert b64url_decode(result["hashValue"]) == reference_argon2("secret", salt, t=2, m=1024, p=2)
    assert len({r["hashValue"] for r in (first, second, third)}) == 3


@pytest.mark.parametrize("salt", ["ab+cdefghijk", "ab/cdefghijk", "%%%%", "a"])
def test_argon2_bad_salt_base64_is_cry_003(client, salt: str) -> None:
    error(post(client, "/generateArgon2Hash", {"inputData": "x", "salt": salt}), "KER-CRY-003")


@pytest.mark.parametrize("length", [1, 4, 7])
def test_argon2_salt_shorter_than_8_bytes_is_an_error_not_a_500(client, length: int) -> None:
    response = post(client, "/generateArgon2Hash", {"inputData": "x", "salt": b64url(os.urandom(length))})
    assert response.status_code == 200
    body = response.get_json()
    assert body["response"] is None and len(body["errors"]) == 1
    assert body["errors"][0]["errorCode"] != "KER-KMS-500"
    assert body["errors"][0]["errorCode"] == "KER-FSE-002"  # as implemented: "check input data length"


def test_argon2_salt_of_exactly_8_bytes_works(client) -> None:
    salt = os.urandom(8)
    result = ok(client, "/generateArgon2Hash", {"inputData": "x", "salt": b64url(salt)})
    assert b64url_decode(result["hashValue"]) == reference_argon2("x", salt, t=2, m=1024, p=2)


@pytest.mark.parametrize("request_", [{"inputData": ""}, {"inputData": "  "}, {"inputData": None}, {}])
def test_argon2_blank_input_is_kms_005(client, request_: dict) -> None:
    body = error(post(client, "/generateArgon2Hash", request_), "KER-KMS-005")
    assert body["message"] == "request.inputData should not be null or empty"


# ================================================================================================
# jwtEncrypt / jwtDecrypt
# ================================================================================================


def json_data(value: Any) -> str:
    return b64url(json.dumps(value).encode())


def jwt_encrypt(client, **request: Any) -> str:
    request.setdefault("applicationId", APP)
    request.setdefault("referenceId", REF)
    request.setdefault("data", json_data({"sub": "1234567890", "name": "Zoë"}))
    result = ok(client, "/jwtEncrypt", request)
    token = result["data"]
    assert len(token.split(".")) == 5
    assert "timestamp" in result
    return token


def jwt_decrypt(client, token: str, app: str = APP, ref: str = REF) -> bytes:
    result = ok(client, "/jwtDecrypt", {"applicationId": app, "referenceId": ref, "encData": token})
    return b64url_decode(result["data"])


def joserfc_open(token: str, key: rsa.RSAPrivateKey):
    return joserfc_jwe.decrypt_compact(token, RSAKey.import_key(key), registry=JOSERFC_REGISTRY)


@pytest.mark.parametrize("compress", [None, True, False])
def test_jwt_round_trip_through_both_endpoints(client, compress) -> None:
    payload = json.dumps({"sub": "1234567890", "claims": ["a"] * 50, "name": "Zoë"}).encode()
    request: dict[str, Any] = {"data": b64url(payload)}
    if compress is not None:
        request["enableDefCompression"] = compress
    token = jwt_encrypt(client, **request)
    assert all("=" not in part for part in token.split("."))
    parts = token.split(".")
    assert len(b64url_decode(parts[1])) == 256 and len(b64url_decode(parts[2])) == 12
    assert len(b64url_decode(parts[4])) == 16
    assert jwt_decrypt(client, token) == payload
    assert dict(header_pairs(token)).get("zip") == (None if compress is False else "DEF")


def test_jwt_header_order_and_kid(client) -> None:
    token = jwt_encrypt(client)
    kid = pem_kid(certificate_of(client))
    assert header_pairs(token) == [
        ("cty", "JWT"), ("typ", "JWT"), ("alg", "RSA-OAEP-256"), ("enc", "A256GCM"), ("kid", kid), ("zip", "DEF"),
    ]
    # compact header JSON, as jose4j writes it
    assert b"\": " not in b64url_decode(token.split(".")[0])


def test_jwt_no_compression_has_no_zip(client) -> None:
    token = jwt_encrypt(client, enableDefCompression=False)
    assert [name for name, _ in header_pairs(token)] == ["cty", "typ", "alg", "enc", "kid"]


def test_jwt_optional_headers(client) -> None:
    pem = certificate_of(client)
    token = jwt_encrypt(client, includeCertificate=True, includeCertHash=True, jwkSetUrl="https://example.org/jwks")
    pairs = header_pairs(token)
    assert [name for name, _ in pairs] == ["cty", "typ", "alg", "enc", "kid", "zip", "x5c", "x5t#S256", "jku"]
    header = dict(pairs)
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    assert header["x5c"] == [base64.b64encode(der).decode()]  # standard base64 (RFC 7515)
    assert header["x5t#S256"] == header["kid"] == pem_kid(pem)
    assert header["jku"] == "https://example.org/jwks"
    only_hash = dict(header_pairs(jwt_encrypt(client, includeCertHash=True, enableDefCompression=False)))
    assert list(only_hash) == ["cty", "typ", "alg", "enc", "kid", "x5t#S256"]


def test_jwt_compact_jws_is_encrypted_verbatim(client, test_key, test_cert_pem) -> None:
    jws = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLW5vdC1iYXNlNjQtY2hlY2tlZA"
    token = jwt_encrypt(client, data=jws)
    assert jwt_decrypt(client, token) == jws.encode()
    # and to an external certificate, opened independently
    external = jwt_encrypt(client, data=jws, x509Certificate=test_cert_pem)
    assert joserfc_open(external, test_key).plaintext == jws.encode()


@pytest.mark.parametrize("data", [b"not json", b"{\"a\":", b"\xff\xfe{}"])
def test_jwt_non_json_is_cry_013(client, data: bytes) -> None:
    body = error(post(client, "/jwtEncrypt", {"applicationId": APP, "referenceId": REF, "data": b64url(data)}),
                 "KER-CRY-013")
    assert body["message"] == "Input data to encrypt is not valid JSON."


@pytest.mark.parametrize("options", [
    {},
    {"enableDefCompression": False},
    {"includeCertificate": True, "includeCertHash": True, "jwkSetUrl": "https://example.org/jwks"},
])
def test_jwt_to_the_vector_certificate_opens_with_joserfc(client, test_key, test_cert_pem, options) -> None:
    payload = json.dumps({"sub": "ext", "n": list(range(40))}).encode()
    token = jwt_encrypt(client, applicationId=None, referenceId=None, data=b64url(payload),
                        x509Certificate=test_cert_pem, **options)
    opened = joserfc_open(token, test_key)
    assert opened.plaintext == payload
    assert opened.protected["kid"] == TEST_KID
    assert opened.protected["alg"] == "RSA-OAEP-256" and opened.protected["enc"] == "A256GCM"
    assert opened.protected.get("zip") == (None if options.get("enableDefCompression") is False else "DEF")


def test_jwt_unparsable_certificate_falls_back_to_app_and_ref(client) -> None:
    token = jwt_encrypt(client, x509Certificate="-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n")
    assert dict(header_pairs(token))["kid"] == pem_kid(certificate_of(client))
    assert jwt_decrypt(client, token) == json.dumps({"sub": "1234567890", "name": "Zoë"}).encode()


def test_jwt_ec_certificate_is_cry_011(client) -> None:
    pem = self_signed(ec.generate_private_key(ec.SECP256R1()))
    error(post(client, "/jwtEncrypt", {"data": json_data({"a": 1}), "x509Certificate": pem}), "KER-CRY-011")
    # with app/ref given too: the certificate still wins
    error(post(client, "/jwtEncrypt", {"applicationId": APP, "referenceId": REF, "data": json_data({"a": 1}),
                                       "x509Certificate": pem}), "KER-CRY-011")


def test_jwt_rsa_key_not_2048_is_cry_011(client) -> None:
    pem = self_signed(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    error(post(client, "/jwtEncrypt", {"data": json_data({"a": 1}), "x509Certificate": pem}), "KER-CRY-011")


@pytest.mark.parametrize("app_id, ref", [(APP, ""), (APP, "  "), (APP, None), ("KERNEL", "SIGN"),
                                         ("kernel", "sign"), ("KERNEL", "IDENTITY_CACHE")])
def test_jwt_encrypt_master_key_refs_are_cry_011(client, app_id, ref) -> None:
    request = {"applicationId": app_id, "referenceId": ref, "data": json_data({"a": 1})}
    error(post(client, "/jwtEncrypt", request), "KER-CRY-011")


@pytest.mark.parametrize("app_id, ref", [("KERNEL", "SIGN"), ("KERNEL", "IDENTITY_CACHE")])
def test_jwt_decrypt_master_key_refs_are_cry_011(client, app_id, ref) -> None:
    token = jwt_encrypt(client)
    error(post(client, "/jwtDecrypt", {"applicationId": app_id, "referenceId": ref, "encData": token}), "KER-CRY-011")


@pytest.mark.parametrize("field", ["applicationId", "referenceId", "encData"])
def test_jwt_decrypt_blank_fields_are_kms_005(client, field) -> None:
    request = {"applicationId": APP, "referenceId": REF, "encData": "a.b.c.d.e", field: " "}
    body = error(post(client, "/jwtDecrypt", request), "KER-KMS-005")
    assert body["message"] == f"request.{field} should not be null or empty"


def test_jwt_encrypt_blank_data_is_kms_005(client) -> None:
    error(post(client, "/jwtEncrypt", {"applicationId": APP, "referenceId": REF, "data": " "}), "KER-KMS-005")


def test_jwt_decrypt_with_a_master_key_kid_is_kms_018(client) -> None:
    master = certificate_of(client, APP, "")
    token = jwt_encrypt(client, applicationId=None, referenceId=None, x509Certificate=master)
    assert dict(header_pairs(token))["kid"] == pem_kid(master)
    error(post(client, "/jwtDecrypt", {"applicationId": APP, "referenceId": REF, "encData": token}), "KER-KMS-018")


def test_jwt_decrypt_with_an_other_domain_key_is_kms_018(client, test_cert_pem) -> None:
    ok(client, "/uploadOtherDomainCertificate",
       {"applicationId": APP, "referenceId": "OTHER_DOMAIN", "certificateData": test_cert_pem})
    token = jwt_encrypt(client, referenceId="OTHER_DOMAIN")
    assert dict(header_pairs(token))["kid"] == TEST_KID
    error(post(client, "/jwtDecrypt", {"applicationId": APP, "referenceId": "OTHER_DOMAIN", "encData": token}),
          "KER-KMS-018")


def test_jwt_decrypt_unknown_kid_is_kms_025(client, test_cert_pem) -> None:
    token = jwt_encrypt(client, x509Certificate=test_cert_pem)  # a key this store does not hold
    error(post(client, "/jwtDecrypt", {"applicationId": APP, "referenceId": REF, "encData": token}), "KER-KMS-025")


def test_jwt_decrypt_kid_of_another_app_is_kms_024(client) -> None:
    token = jwt_encrypt(client)
    error(post(client, "/jwtDecrypt", {"applicationId": "ID_REPO", "referenceId": REF, "encData": token}),
          "KER-KMS-024")


def test_jwt_decrypt_tampered_ciphertext_is_cry_015(client) -> None:
    token = jwt_encrypt(client)
    parts = token.split(".")
    for index in (1, 2, 3, 4):  # encrypted key, IV, ciphertext, tag
        raw = bytearray(b64url_decode(parts[index]))
        raw[0] ^= 0x01
        tampered = parts.copy()
        tampered[index] = b64url(bytes(raw))
        body = error(post(client, "/jwtDecrypt", {"applicationId": APP, "referenceId": REF,
                                                  "encData": ".".join(tampered)}), "KER-CRY-015")
        assert body["message"] == "Internal Error while decrypting data using JWE."
    # the protected header is the GCM AAD: an edited header (kid kept) fails too
    header = dict(header_pairs(token))
    header["typ"] = "JOSE"
    forged = ".".join([b64url(json.dumps(header, separators=(",", ":")).encode()), *parts[1:]])
    error(post(client, "/jwtDecrypt", {"applicationId": APP, "referenceId": REF, "encData": forged}), "KER-CRY-015")


@pytest.mark.parametrize("enc_data", ["garbage", "a.b.c.d.e", "....", "eyJhbGciOiJub25lIn0.e30.", "x" * 2000,
                                      "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.AA.AA.AA.AA"])
def test_jwt_decrypt_garbage_is_cry_015(client, enc_data: str) -> None:
    error(post(client, "/jwtDecrypt", {"applicationId": APP, "referenceId": REF, "encData": enc_data}),
          "KER-CRY-015")


def test_v8_jwe_decrypts_on_a_store_holding_the_vector_key(client, container, clock, test_key, test_cert_pem,
                                                           vectors) -> None:
    """The V8 jose4j JWE opens through /jwtDecrypt once the vector key is a base key of the store
    (as a migrated base key would be: wrapped by the application's master key)."""
    from application.keys.hierarchy import KeyHierarchy
    from domain.keys import KeyAlias, KeyTuple, StoredKey

    certificate_of(client, APP, REF)  # make sure the master exists and is current
    hierarchy: KeyHierarchy = container.hierarchy()
    master = hierarchy.current_key(KeyTuple(APP))
    alias = str(uuid.uuid4())
    now = clock.now()
    with hierarchy.uow_factory() as uow:
        uow.keys.add_alias(KeyAlias(alias=alias, key_tuple=KeyTuple(APP, "V8_REF"), generated_at=now,
                                    expires_at=now + timedelta(days=365),
                                    thumbprint=hashlib.sha256(
                                        x509.load_pem_x509_certificate(test_cert_pem.encode())
                                        .public_bytes(serialization.Encoding.DER)).hexdigest().upper(),
                                    uni_ident=None))
        uow.keys.add_stored_key(StoredKey(alias=alias, master_alias=master.alias.alias,
                                          private_key=hierarchy.wrap_private_key(master, test_key),
                                          certificate_pem=test_cert_pem))
        uow.commit()
    assert jwt_decrypt(client, vectors["V8.jwe"], APP, "V8_REF") == V8_PLAINTEXT
    # and a JWE of ours to that key round-trips and opens with joserfc as well
    token = jwt_encrypt(client, referenceId="V8_REF", data=b64url(V8_PLAINTEXT))
    assert dict(header_pairs(token))["kid"] == TEST_KID
    assert jwt_decrypt(client, token, APP, "V8_REF") == V8_PLAINTEXT
    assert joserfc_open(token, test_key).plaintext == V8_PLAINTEXT


# ================================================================================================
# /tokenid/{uin}/{partnercode}
# ================================================================================================


def token_of(client, path: str) -> dict[str, Any]:
    response = client.get(API + path)
    assert response.status_code == 200
    return response.get_json()


def reference_token(uin: str, partner: str, uin_salt: str, partner_salt: str, length: int = 36) -> str:
    """Spec §10.2, independently."""
    def h(text: str) -> str:
        return hashlib.sha256(hashlib.sha256(text.encode()).digest()).hexdigest().upper()

    digest = h(partner_salt + partner + h(uin + uin_salt))
    return str(int.from_bytes(digest.encode("ascii"), "big", signed=True))[:length]


@pytest.fixture
def salted_client(make_container, memory_settings: Settings, clock):
    settings = memory_settings.with_overrides(tokenid_uin_salt=UIN_SALT, tokenid_partner_code_salt=PARTNER_SALT)
    client, _ = build_client(make_container, settings, clock, master_keys=False)
    return client


def test_token_id_vector(salted_client) -> None:
    body = token_of(salted_client, "/tokenid/1234567890/partner123")
    assert body["errors"] is None
    assert body["response"] == {"tokenID": TOKEN_ID}
    assert reference_token("1234567890", "partner123", UIN_SALT, PARTNER_SALT) == TOKEN_ID


@pytest.mark.parametrize("path", ["/tokenid/%201234567890%20/partner123", "/tokenid/1234567890/%20partner123%09",
                                  "/tokenid/%0A1234567890/partner123%20%20"])
def test_token_id_trims_its_inputs(salted_client, path: str) -> None:
    assert token_of(salted_client, path)["response"] == {"tokenID": TOKEN_ID}


@pytest.mark.parametrize("path", ["/tokenid/%20/partner123", "/tokenid/1234567890/%20", "/tokenid/%20%20/%09"])
def test_token_id_blank_is_tig_010(salted_client, path: str) -> None:
    body = token_of(salted_client, path)
    assert body["response"] is None
    assert body["errors"] == [{"errorCode": "KER-TIG-010", "message": "UIN and partner code cannot be empty"}]


def test_token_id_length_setting(make_container, memory_settings: Settings, clock) -> None:
    settings = memory_settings.with_overrides(tokenid_uin_salt=UIN_SALT, tokenid_partner_code_salt=PARTNER_SALT,
                                              tokenid_length=20)
    client, _ = build_client(make_container, settings, clock, master_keys=False)
    assert token_of(client, "/tokenid/1234567890/partner123")["response"]["tokenID"] == TOKEN_ID[:20]


def test_token_id_salts_generated_into_the_data_dir(make_container, tmp_path: Path, clock) -> None:
    first_dir, other_dir = tmp_path / "one", tmp_path / "two"
    settings = Settings(data_dir=first_dir, store="memory", keystore="memory")
    first, _ = build_client(make_container, settings, clock, master_keys=False)
    token = token_of(first, "/tokenid/1234567890/partner123")["response"]["tokenID"]
    salts = first_dir / "tokenid.salts"
    assert salts.exists()
    assert stat.S_IMODE(salts.stat().st_mode) == 0o600
    uin_salt, partner_salt = salts.read_text().split()
    assert token == reference_token("1234567890", "partner123", uin_salt, partner_salt)
    assert len(token) == 36 and token.lstrip("-").isdigit()
    assert token != TOKEN_ID
    # a second app on the same data dir: the same salts, the same token
    second, _ = build_client(make_container, Settings(data_dir=first_dir, store="memory", keystore="memory"), clock,
                             master_keys=False)
    assert token_of(second, "/tokenid/1234567890/partner123")["response"]["tokenID"] == token
    assert salts.read_text().split() == [uin_salt, partner_salt]
    # another data dir: other salts, another token
    third, _ = build_client(make_container, Settings(data_dir=other_dir, store="memory", keystore="memory"), clock,
                            master_keys=False)
    assert token_of(third, "/tokenid/1234567890/partner123")["response"]["tokenID"] != token
    assert (other_dir / "tokenid.salts").read_text() != salts.read_text()


# ================================================================================================
# audit
# ================================================================================================


def test_new_endpoints_are_audited_without_secrets(client, container) -> None:
    blob = ok(client, "/encryptWithPin", {"data": PLAINTEXT, "userPin": PIN})["data"]
    assert ok(client, "/decryptWithPin", {"data": blob, "userPin": PIN})["data"] == PLAINTEXT
    error(post(client, "/decryptWithPin", {"data": blob, "userPin": PIN + "x"}), "KER-FSE-004")
    payload = json.dumps({"secret": PLAINTEXT}).encode()
    token = jwt_encrypt(client, data=b64url(payload))
    assert jwt_decrypt(client, token) == payload
    error(post(client, "/jwtDecrypt", {"applicationId": APP, "referenceId": REF, "encData": "garbage"}),
          "KER-CRY-015")

    records = list(container.audit_log().records())
    by_operation: dict[str, list] = {}
    for record in records:
        by_operation.setdefault(record.operation, []).append(record)
    assert [r.outcome for r in by_operation["encryptWithPin"]] == ["success"]
    assert [r.outcome for r in by_operation["decryptWithPin"]] == ["success", "KER-FSE-004"]
    assert [r.outcome for r in by_operation["jwtEncrypt"]] == ["success"]
    assert [r.outcome for r in by_operation["jwtDecrypt"]] == ["success", "KER-CRY-015"]
    for operation in ("jwtEncrypt", "jwtDecrypt"):
        assert all((r.app_id, r.ref_id) == (APP, REF) for r in by_operation[operation])
    assert all(r.subject == "dev" for op in by_operation for r in by_operation[op] if op != "generateKey")

    text = "\n".join(json.dumps(dataclasses.asdict(r), ensure_ascii=False) for r in records)
    for secret in (PIN, PLAINTEXT, blob[:40], token.split(".")[3][:20], b64url(payload)[:20], payload.hex()[:32]):
        assert secret not in text
