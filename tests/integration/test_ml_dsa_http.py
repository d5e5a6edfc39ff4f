"""ML-DSA-65 signing through HTTP (issue 18, ADR 0024): the key made by /generateECSignKey with
ML_DSA_65_SIGN, certified by the application's key; jwtSign/jwsSign with ``"alg":"ML-DSA-65"``
(RFC 9964); /jwtVerify against the key's certificate. Every token is also verified independently,
with `cryptography` directly over the JWS signing input, apart from the service's code path."""
from __future__ import annotations

import base64
import json

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import mldsa, padding
from cryptography.hazmat.primitives.serialization import Encoding

from domain.keys import KeyTuple
from tests.support.http_api import (
    APP,
    PAYLOAD,
    b64url,
    b64url_decode,
    error,
    generate_sign_key,
    header_of,
    jwt_sign,
    ok,
    post,
    sign_request,
)

ML = "ML_DSA_65_SIGN"


def independent_verify(token: str, public_key: mldsa.MLDSA65PublicKey, payload: bytes = PAYLOAD) -> None:
    """The JWS signing input rebuilt by hand (RFC 7515 §5.2, RFC 7797 for b64:false) and checked by
    `cryptography`'s ML-DSA-65 with the empty context; raises InvalidSignature."""
    head, middle, signature = token.split(".")
    _, header = header_of(token)
    assert header["alg"] == "ML-DSA-65"
    if header.get("b64") is False:
        signing_input = head.encode() + b"." + payload
    else:
        signing_input = head.encode() + b"." + (middle or b64url(payload)).encode()
    raw = b64url_decode(signature)
    assert len(raw) == 3309
    public_key.verify(raw, signing_input)


@pytest.fixture
def ml_certificate(client) -> x509.Certificate:
    return generate_sign_key(client, APP, ML)


def test_the_key_is_certified_by_the_application_key_and_kept_in_the_database(client, container, ml_certificate):
    public_key = ml_certificate.public_key()
    assert isinstance(public_key, mldsa.MLDSA65PublicKey)
    master = x509.load_pem_x509_certificate(
        ok(client.get("/v1/keymanager/getCertificate", query_string={"applicationId": APP}))["certificate"].encode()
    )
    assert ml_certificate.issuer == master.subject
    master.public_key().verify(  # RSA-signed X.509 certificate carrying the ML-DSA-65 key
        ml_certificate.signature, ml_certificate.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256()
    )
    with container.uow_factory()() as uow:
        [alias] = uow.keys.aliases_for(KeyTuple(APP, ML))
        stored = uow.keys.stored_key(alias.alias)
    assert stored is not None and stored.private_key  # wrapped by the master key, not in the keystore
    assert alias.alias not in container.keystore().aliases()
    # idempotent unless forced, like the other signing keys
    assert generate_sign_key(client, APP, ML).public_key().public_bytes_raw() == public_key.public_bytes_raw()
    forced = generate_sign_key(client, APP, ML, force=True)
    assert forced.public_key().public_bytes_raw() != public_key.public_bytes_raw()


def test_jwt_sign_round_trip(client, ml_certificate) -> None:
    for include_payload in (True, False):
        token = jwt_sign(client, APP, ML, includePayload=include_payload, includeCertificate=True,
                         includeCertHash=True)
        _, header = header_of(token)
        assert list(header)[:2] == ["alg", "x5c"] and header["alg"] == "ML-DSA-65"
        assert base64.b64decode(header["x5c"][0]) == ml_certificate.public_bytes(Encoding.DER)
        independent_verify(token, ml_certificate.public_key())
        request = {"jwtSignatureData": token, "applicationId": APP, "referenceId": ML}
        if not include_payload:
            request["actualData"] = b64url(PAYLOAD)
        for path in ("/jwtVerify", "/jwtVerify/v2"):
            assert ok(post(client, path, request))["signatureValid"] is True


@pytest.mark.parametrize("b64_header", [False, True])
def test_jws_sign_round_trip(client, ml_certificate, b64_header) -> None:
    token = ok(post(client, "/jwsSign", sign_request(
        APP, ML, validateJson=False, includePayload=False, b64JWSHeaderParam=b64_header)))["jwtSignedData"]
    _, header = header_of(token)
    assert header["alg"] == "ML-DSA-65"
    assert ("b64" in header) is (not b64_header)
    independent_verify(token, ml_certificate.public_key())
    result = ok(post(client, "/jwtVerify", {"jwtSignatureData": token, "actualData": b64url(PAYLOAD),
                                             "applicationId": APP, "referenceId": ML}))
    assert result["signatureValid"] is True


def test_tampered_tokens_are_invalid(client, ml_certificate) -> None:
    token = jwt_sign(client, APP, ML, includePayload=True)
    head, middle, signature = token.split(".")
    raw = bytearray(b64url_decode(signature))
    raw[100] ^= 0x01
    other_payload = b64url(json.dumps({"iss": "test", "n": 12346}).encode())
    forged_header = b64url(json.dumps({"alg": "EdDSA"}).encode())
    for bad in (f"{head}.{middle}.{b64url(bytes(raw))}", f"{head}.{other_payload}.{signature}",
                f"{forged_header}.{middle}.{signature}", f"{head}.{middle}.{signature[:-8]}"):
        with pytest.raises((InvalidSignature, AssertionError)):  # a wrong alg fails independent_verify's check
            independent_verify(bad, ml_certificate.public_key(), PAYLOAD)
        result = ok(post(client, "/jwtVerify", {"jwtSignatureData": bad, "applicationId": APP, "referenceId": ML}))
        assert result["signatureValid"] is False and result["message"] == "Validation Failed"


def test_a_token_of_another_key_type_does_not_verify_against_the_ml_dsa_certificate(client, ml_certificate):
    rsa_token = jwt_sign(client, APP, "", includePayload=True)
    result = ok(post(client, "/jwtVerify", {"jwtSignatureData": rsa_token, "applicationId": APP, "referenceId": ML}))
    assert result["signatureValid"] is False


def test_signing_before_the_key_is_made_and_algorithm_mismatch(client) -> None:
    error(post(client, "/jwtSign", sign_request(APP, ML)), "KER-KMS-012")
    generate_sign_key(client, APP, ML)
    error(post(client, "/jwsSign", sign_request(APP, ML, signAlgorithm="PS256")), "KER-KMS-020")
    # an RSA key cannot sign ML-DSA-65
    error(post(client, "/jwsSign", sign_request(APP, "", signAlgorithm="ML-DSA-65")), "KER-KMS-020")


def test_get_certificate_does_not_create_the_key(client) -> None:
    response = client.get("/v1/keymanager/getCertificate", query_string={"applicationId": APP, "referenceId": ML})
    assert response.get_json()["errors"]
