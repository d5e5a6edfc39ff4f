"""Helpers of the HTTP API tests (Flask's test client): the MOSIP request envelope, success and
error checks, the /encrypt and /decrypt round trip, certificates, and the signing endpoints.

The independent checks build or open envelopes with `cryptography`, hashlib and base64 only,
from /work/shared/spec/mosip-crypto.md §2.2/§2.3: no project code.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

API = "/v1/keymanager"
REQUEST_TIME = "2024-05-01T10:15:30.123Z"
RESPONSE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ENVELOPE_KEYS = {"id", "version", "responsetime", "metadata", "response", "errors"}

SPLITTER = b"#KEY_SPLITTER#"
VER_R2 = b"VER_R2"
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)

APP = "REGISTRATION"
REF = "10001_110011"
PLAINTEXT = b'{"key":"value","n":12345}' + bytes(range(256))


# -- helpers ---------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def wrap(request: Any, *, id_: str = "mosip.crypto.service", version: str = "1.0") -> dict[str, Any]:
    return {"id": id_, "version": version, "requesttime": REQUEST_TIME, "metadata": {}, "request": request}


def post(client, path: str, request: Any, **kwargs: Any):
    return client.post(API + path, json=wrap(request, **kwargs))


def crypto_request(data: bytes | str, app: str = APP, ref: str = REF, **extra: Any) -> dict[str, Any]:
    body = {
        "applicationId": app,
        "referenceId": ref,
        "timeStamp": REQUEST_TIME,
        "data": data if isinstance(data, str) else b64url(data),
        "salt": None,
        "aad": None,
    }
    body.update(extra)
    return body


def assert_clean(response) -> None:
    """No traceback, file path or exception class text leaks into an error body."""
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert 'File "' not in text
    assert "Error(" not in text and "Exception" not in text


def ok(response) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == ENVELOPE_KEYS
    assert body["errors"] is None, body
    assert body["response"] is not None
    assert RESPONSE_TIME.match(body["responsetime"]), body["responsetime"]
    return body["response"]


def error(response, code: str, status: int = 200, message: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert_clean(response)
    body = response.get_json()
    assert set(body) == ENVELOPE_KEYS
    assert body["response"] is None
    assert body["metadata"] is None
    assert RESPONSE_TIME.match(body["responsetime"]), body["responsetime"]
    assert isinstance(body["errors"], list) and body["errors"], body
    codes = [item["errorCode"] for item in body["errors"]]
    assert codes == [code] * len(codes), body
    if message is not None:
        assert message in [item["message"] for item in body["errors"]], body
    return body


def encrypt(client, data: bytes, **extra: Any) -> bytes:
    """POST /encrypt; returns the decoded wire bytes (and checks the output is unpadded base64url)."""
    out = ok(post(client, "/encrypt", crypto_request(data, **extra)))["data"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", out), "output must be URL-safe base64 without padding"
    return b64url_decode(out)


def decrypt(client, wire: bytes | str, **extra: Any) -> bytes:
    return b64url_decode(ok(post(client, "/decrypt", crypto_request(wire, **extra)))["data"])


def certificate(client, app: str = APP, ref: str = REF) -> x509.Certificate:
    response = client.get(f"{API}/getCertificate", query_string={"applicationId": app, "referenceId": ref})
    pem = ok(response)["certificate"]
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def self_signed(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime(2025, 1, 1, tzinfo=UTC)  # before the fixture clock (2025-01-15)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def self_signed_pem(common_name: str) -> str:
    """The PEM of ``self_signed(common_name)``'s certificate."""
    return self_signed(common_name)[1].public_bytes(serialization.Encoding.PEM).decode("ascii")


def open_envelope(private_key: rsa.RSAPrivateKey, cert: x509.Certificate, wire: bytes) -> bytes:
    """Spec-only decryption of a VER_R2 envelope (mosip-crypto.md §2.2)."""
    assert wire.startswith(VER_R2)
    key_part, _, data = wire.partition(SPLITTER)
    assert len(key_part) == 6 + 32 + 256
    tp, ek = key_part[6:38], key_part[38:]
    assert tp == hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    session_key = private_key.decrypt(ek, OAEP)
    aad32, sealed = data[:32], data[32:]
    return AESGCM(session_key).decrypt(aad32[:12], sealed, aad32)


# -- the signing endpoints -------------------------------------------------------------------

P256, K1, ED = "EC_SECP256R1_SIGN", "EC_SECP256K1_SIGN", "ED25519_SIGN"
PAYLOAD = b'{"iss":"test","n":12345,"text":"caf\xc3\xa9"}'


def generate_sign_key(client, app: str, ref: str, *, force: bool = False, object_type: str = "CERTIFICATE"):
    request = {"applicationId": app, "referenceId": ref, "force": force}
    response = ok(post(client, f"/generateECSignKey/{object_type}", request))
    if object_type == "CSR":
        return x509.load_pem_x509_csr(response["certSignRequest"].encode())
    assert response["certSignRequest"] is None
    return x509.load_pem_x509_certificate(response["certificate"].encode())


def sign_request(app: str | None, ref: str | None, data: bytes = PAYLOAD, **flags: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"dataToSign": b64url(data), "applicationId": app, "referenceId": ref}
    request.update(flags)
    return request


def jwt_sign(client, app_id, ref_id, data: bytes = PAYLOAD, *, path: str = "/jwtSign", **flags: Any) -> str:
    return ok(post(client, path, sign_request(app_id, ref_id, data, **flags)))["jwtSignedData"]


def header_of(token: str) -> tuple[bytes, dict[str, Any]]:
    raw = b64url_decode(token.split(".")[0])
    return raw, json.loads(raw)


def public_key_from_x5c(header: dict[str, Any]):
    return x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0], validate=True)).public_key()
