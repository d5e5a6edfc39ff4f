"""ClientCryptoController through Flask's test client (mosip-api.md §7, mosip-crypto.md §10.1).

Client keys (LOCAL, ANDROID, and TPM public areas packed here from the TPM 2.0 layout) are made by
the test with `cryptography`; every layout is built or opened here independently of the service.
Caller mistakes are HTTP 200 with an error code (never a 500), a bad signature is ``verified: false``.
"""
from __future__ import annotations

import base64
import json
import os
import re
import struct

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.keys.client_keys import ENCRYPTION_ALIAS, SIGNING_ALIAS
from tests.support.http_api import API, assert_clean, b64url, b64url_decode, error, ok, post

PLAINTEXT = b'{"registration":"packet","n":42}' + bytes(range(256))
B64URL = re.compile(r"[A-Za-z0-9_-]+")
LOCAL_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
ANDROID_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA256(), label=None)
TPM_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"\x00")
PROFILE = {"serverProfile": "Dev"}


def spki(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def tpmt_public(key: rsa.RSAPrivateKey, exponent_field: int = 0) -> bytes:
    """An RSA TPMT_PUBLIC (TPM 2.0 Part 2 §12.2.4): RSA, SHA-256, sign|decrypt attributes, no policy,
    no symmetric, no scheme, 2048 bits, the exponent field as given, the modulus."""
    modulus = key.public_key().public_numbers().n.to_bytes(256, "big")
    return (struct.pack(">HHIH", 0x0001, 0x000B, 0x00060072, 0) + struct.pack(">HH", 0x0010, 0x0010)
            + struct.pack(">HIH", 2048, exponent_field, 256) + modulus)


def sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def open_layout(private_key: rsa.RSAPrivateKey, wire: bytes, oaep: padding.OAEP) -> bytes:
    """RSA_ENC(K) ‖ iv(12) ‖ aad(32) ‖ ct‖tag (mosip-crypto.md §10.1)."""
    secret = private_key.decrypt(wire[:256], oaep)
    return AESGCM(secret).decrypt(wire[256:268], wire[300:], wire[268:300])


def seal_to(public_key: rsa.RSAPublicKey, plaintext: bytes, iv_length: int = 12, aad_length: int = 32) -> bytes:
    """What a LOCAL client sends to /tpmdecrypt (iv 16 / aad 12: a 1.1.4.4 client)."""
    secret, iv, aad = os.urandom(32), os.urandom(iv_length), os.urandom(aad_length)
    return public_key.encrypt(secret, LOCAL_OAEP) + iv + aad + AESGCM(secret).encrypt(iv, plaintext, aad)


def public_key(client, which: str) -> rsa.RSAPublicKey:
    text = ok(post(client, f"/{which}/publickey", PROFILE))["publicKey"]
    assert B64URL.fullmatch(text)
    key = serialization.load_der_public_key(b64url_decode(text))
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    return key


def verify_request(data: bytes, signature: bytes, key_bytes: bytes, **extra) -> dict:
    return {"data": b64url(data), "signature": b64url(signature), "publicKey": b64url(key_bytes), **extra}


def encrypt_request(data: bytes, key_bytes: bytes, **extra) -> dict:
    return {"value": b64url(data), "publicKey": b64url(key_bytes), **extra}


def verified(client, request: dict) -> bool:
    return ok(post(client, "/csverifysign", request))["verified"]


def tpm_encrypt(client, request: dict) -> bytes:
    value = ok(post(client, "/tpmencrypt", request))["value"]
    assert B64URL.fullmatch(value), "output must be unpadded base64url"
    return b64url_decode(value)


# -- the service's own keys -----------------------------------------------------------------------


def test_cssign_verifies_with_the_signing_public_key(client) -> None:
    signing = public_key(client, "tpmsigning")
    signature = ok(post(client, "/cssign", {"data": b64url(PLAINTEXT)}))["data"]
    assert B64URL.fullmatch(signature)
    signing.verify(b64url_decode(signature), PLAINTEXT, padding.PKCS1v15(), hashes.SHA256())
    # and the service's own verifier agrees, with the key as it was handed out
    spki_bytes = signing.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert verified(client, verify_request(PLAINTEXT, b64url_decode(signature), spki_bytes)) is True


def test_the_two_public_keys_are_distinct_and_stable(client) -> None:
    signing, encryption = public_key(client, "tpmsigning"), public_key(client, "tpmencryption")
    assert signing.public_numbers() != encryption.public_numbers()
    assert public_key(client, "tpmsigning").public_numbers() == signing.public_numbers()
    assert public_key(client, "tpmencryption").public_numbers() == encryption.public_numbers()


@pytest.mark.parametrize("iv_length, aad_length", [(12, 32), (16, 12)], ids=["current", "1.1.4.4"])
def test_tpmdecrypt_opens_a_local_layout_built_here(client, iv_length: int, aad_length: int) -> None:
    wire = seal_to(public_key(client, "tpmencryption"), PLAINTEXT, iv_length, aad_length)
    out = ok(post(client, "/tpmdecrypt", {"value": b64url(wire), "publicKey": "ignored"}))["value"]
    assert B64URL.fullmatch(out) and b64url_decode(out) == PLAINTEXT
    # publicKey is not needed; padded standard base64 is accepted too
    standard = base64.b64encode(wire).decode()
    assert b64url_decode(ok(post(client, "/tpmdecrypt", {"value": standard}))["value"]) == PLAINTEXT


def test_tpmencrypt_to_the_service_then_tpmdecrypt(client) -> None:
    encryption = public_key(client, "tpmencryption")
    key_bytes = encryption.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    wire = tpm_encrypt(client, encrypt_request(PLAINTEXT, key_bytes))
    assert b64url_decode(ok(post(client, "/tpmdecrypt", {"value": b64url(wire)}))["value"]) == PLAINTEXT


# -- a client's keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("client_type", [None, "LOCAL"])
def test_tpmencrypt_local_opens_with_oaep_sha256_mgf1_sha256(client, rsa_keys, client_type) -> None:
    key = rsa_keys()
    extra = {"clientType": client_type} if client_type else {}
    wire = tpm_encrypt(client, encrypt_request(PLAINTEXT, spki(key), **extra))
    assert len(wire) == 256 + 12 + 32 + len(PLAINTEXT) + 16
    assert open_layout(key, wire, LOCAL_OAEP) == PLAINTEXT
    with pytest.raises(ValueError):
        key.decrypt(wire[:256], ANDROID_OAEP)


def test_tpmencrypt_android_opens_with_oaep_sha256_mgf1_sha1(client, rsa_keys) -> None:
    key = rsa_keys()
    wire = tpm_encrypt(client, encrypt_request(PLAINTEXT, spki(key), clientType="ANDROID", tpm=False))
    assert open_layout(key, wire, ANDROID_OAEP) == PLAINTEXT
    with pytest.raises(ValueError):
        key.decrypt(wire[:256], LOCAL_OAEP)


@pytest.mark.parametrize("client_type", [None, "LOCAL", "ANDROID", "TPM"])
def test_tpmencrypt_to_a_tpm_public_area_uses_the_nul_label(client, rsa_keys, client_type) -> None:
    key = rsa_keys()
    extra = {"clientType": client_type} if client_type else {}
    wire = tpm_encrypt(client, encrypt_request(PLAINTEXT, tpmt_public(key), tpm=True, **extra))
    assert open_layout(key, wire, TPM_OAEP) == PLAINTEXT
    with pytest.raises(ValueError):
        key.decrypt(wire[:256], LOCAL_OAEP)  # the empty label does not open it


@pytest.mark.parametrize("client_type", [None, "LOCAL", "ANDROID"])
def test_csverifysign_with_a_clients_spki(client, rsa_keys, client_type) -> None:
    key, other = rsa_keys(), rsa_keys()
    signature = sign(key, PLAINTEXT)
    extra = {"clientType": client_type} if client_type else {}
    assert verified(client, verify_request(PLAINTEXT, signature, spki(key), **extra)) is True
    assert verified(client, verify_request(PLAINTEXT + b"x", signature, spki(key), **extra)) is False
    tampered = signature[:10] + bytes([signature[10] ^ 0x40]) + signature[11:]
    assert verified(client, verify_request(PLAINTEXT, tampered, spki(key), **extra)) is False
    assert verified(client, verify_request(PLAINTEXT, signature, spki(other), **extra)) is False


@pytest.mark.parametrize("exponent_field", [0, 65537])
def test_csverifysign_with_a_tpm_public_area(client, rsa_keys, exponent_field: int) -> None:
    key = rsa_keys()
    signature = sign(key, PLAINTEXT)
    blob = tpmt_public(key, exponent_field)
    assert verified(client, verify_request(PLAINTEXT, signature, blob, clientType="LOCAL")) is True
    assert verified(client, verify_request(PLAINTEXT, signature[::-1], blob)) is False
    # the inputs accept both base64 alphabets, with or without padding
    standard = {"data": base64.b64encode(PLAINTEXT).decode(), "signature": base64.b64encode(signature).decode(),
                "publicKey": base64.b64encode(blob).decode()}
    assert verified(client, standard) is True


# -- bad input: an error code with HTTP 200, never a 500 ------------------------------------------


NOT_BASE64 = "not base64!"


def test_malformed_base64_is_ker_cry_003(client, rsa_keys) -> None:
    key_bytes = spki(rsa_keys())
    good = verify_request(PLAINTEXT, b"sig", key_bytes)
    for field in ("data", "signature", "publicKey"):
        error(post(client, "/csverifysign", {**good, field: NOT_BASE64}), "KER-CRY-003",
              message=" input data is not base64 encoded")
    for field in ("value", "publicKey"):
        error(post(client, "/tpmencrypt", {**encrypt_request(PLAINTEXT, key_bytes), field: NOT_BASE64}), "KER-CRY-003")
    error(post(client, "/cssign", {"data": NOT_BASE64}), "KER-CRY-003")
    error(post(client, "/tpmdecrypt", {"value": NOT_BASE64}), "KER-CRY-003")


def test_missing_blank_and_mistyped_fields_are_ker_kms_005(client, rsa_keys) -> None:
    body = error(post(client, "/csverifysign", {"data": " "}), "KER-KMS-005")
    assert {item["message"] for item in body["errors"]} == {
        "request.data should not be null or empty", "request.signature should not be null or empty",
        "request.publicKey should not be null or empty",
    }
    error(post(client, "/cssign", {}), "KER-KMS-005", message="request.data should not be null or empty")
    error(post(client, "/tpmencrypt", {"value": b64url(PLAINTEXT)}), "KER-KMS-005",
          message="request.publicKey should not be null or empty")
    error(post(client, "/tpmdecrypt", {"value": None}), "KER-KMS-005",
          message="request.value should not be null or empty")
    error(post(client, "/tpmsigning/publickey", {"serverProfile": ""}), "KER-KMS-005",
          message="request.serverProfile should not be null or empty")
    error(post(client, "/tpmencryption/publickey", {}), "KER-KMS-005")
    good = encrypt_request(PLAINTEXT, spki(rsa_keys()))
    error(post(client, "/tpmencrypt", {**good, "clientType": "tpm"}), "KER-KMS-005",
          message="request.clientType must be one of: TPM, ANDROID, LOCAL")
    error(post(client, "/tpmencrypt", {**good, "tpm": "maybe"}), "KER-KMS-005", message="request.tpm must be true or false")
    error(post(client, "/cssign", None), "KER-KMS-005", message="request must not be null")


def wrong_keys(key: rsa.RSAPrivateKey) -> dict[str, bytes]:
    return {
        "ec-spki": spki(ec.generate_private_key(ec.SECP256R1())),
        "garbage": b"\x30\x82\x01\x22 not a key",
        "tpm-cut-short": tpmt_public(key)[:100],
        "tpm-ecc": struct.pack(">HHIH", 0x0023, 0x000B, 0x00040072, 0) + bytes(20),
    }


def test_wrong_key_bytes_are_ker_cc_004(client, rsa_keys) -> None:
    key = rsa_keys()
    signature = sign(key, PLAINTEXT)
    for blob in wrong_keys(key).values():
        error(post(client, "/csverifysign", verify_request(PLAINTEXT, signature, blob)), "KER-CC-004",
              message="Failed crypto operation")
        error(post(client, "/tpmencrypt", encrypt_request(PLAINTEXT, blob)), "KER-CC-004",
              message="Failed crypto operation")
    # TPM asked for, but an SPKI given
    error(post(client, "/tpmencrypt", encrypt_request(PLAINTEXT, spki(key), clientType="TPM")), "KER-CC-004")
    error(post(client, "/csverifysign", verify_request(PLAINTEXT, signature, spki(key), clientType="TPM")),
          "KER-CC-004")


def test_tampered_or_short_ciphertext_is_ker_cc_004(client) -> None:
    wire = seal_to(public_key(client, "tpmencryption"), PLAINTEXT)
    for index in (5, 256, 270, len(wire) - 1):  # RSA block, iv, aad, tag
        tampered = bytearray(wire)
        tampered[index] ^= 1
        error(post(client, "/tpmdecrypt", {"value": b64url(bytes(tampered))}), "KER-CC-004")
    for short in (wire[:10], wire[:256], wire[:300]):
        error(post(client, "/tpmdecrypt", {"value": b64url(short)}), "KER-CC-004")


def test_a_50_mb_body_gets_the_413_envelope(client) -> None:
    body = json.dumps({"request": {"value": "A" * (50 * 1024 * 1024), "publicKey": "x", "data": "x"}})
    for path in ("/cssign", "/csverifysign", "/tpmencrypt", "/tpmdecrypt", "/tpmsigning/publickey",
                 "/tpmencryption/publickey"):
        response = client.post(API + path, data=body, content_type="application/json")
        error(response, "KER-KMS-005", status=413)


# -- audit ----------------------------------------------------------------------------------------


def test_each_call_is_audited_with_the_key_and_without_data(client, container, rsa_keys) -> None:
    key = rsa_keys()
    ok(post(client, "/cssign", {"data": b64url(PLAINTEXT)}))
    ok(post(client, "/tpmencryption/publickey", PROFILE))
    error(post(client, "/tpmdecrypt", {"value": b64url(bytes(300))}), "KER-CC-004")
    ok(post(client, "/csverifysign", verify_request(PLAINTEXT, sign(key, PLAINTEXT), spki(key))))
    ok(post(client, "/tpmencrypt", encrypt_request(PLAINTEXT, spki(key))))
    records = [r for r in container.audit_log().records() if r.operation != "generateKey" or r.key_alias
               in (SIGNING_ALIAS, ENCRYPTION_ALIAS)]
    seen = [(r.operation, r.outcome, r.key_alias) for r in records if r.operation != "generateKey"][-5:]
    assert seen == [
        ("cssign", "success", SIGNING_ALIAS),
        ("tpmencryption/publickey", "success", ENCRYPTION_ALIAS),
        ("tpmdecrypt", "KER-CC-004", ENCRYPTION_ALIAS),
        ("csverifysign", "success", None),
        ("tpmencrypt", "success", None),
    ]
    created = {r.key_alias for r in records if r.operation == "generateKey"}
    assert created == {SIGNING_ALIAS, ENCRYPTION_ALIAS}
    assert all(b64url(PLAINTEXT)[:40] not in repr(r) and b64url(spki(key))[60:100] not in repr(r) for r in records)


def test_error_bodies_say_nothing_of_the_cause(client) -> None:
    response = post(client, "/tpmdecrypt", {"value": b64url(bytes(400))})
    assert_clean(response)
    assert response.get_json()["errors"] == [{"errorCode": "KER-CC-004", "message": "Failed crypto operation"}]


def test_the_documented_examples_work_on_a_fresh_service(client) -> None:
    """Swagger UI's "Try it out" starts from these: a signature that verifies, a key to encrypt to."""
    schemas = client.get(f"{API}/v3/api-docs").get_json()["components"]["schemas"]

    def example(schema: str) -> dict:
        return {name: field["example"] for name, field in schemas[schema]["properties"].items() if "example" in field}

    assert verified(client, example("TpmSignVerifyRequest")) is True
    assert len(tpm_encrypt(client, example("TpmEncryptRequest"))) > 300
    ok(post(client, "/cssign", example("TpmSignRequest")))
    ok(post(client, "/tpmsigning/publickey", example("ClientPublicKeyRequest")))
