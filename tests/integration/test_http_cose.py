"""coseSign1, coseVerify1, cwtSign and cwtVerify through Flask's test client (mosip-cose-pdf.md part A).

Everything the service signs is verified with an independent COSE implementation (python-cwt) and
its CBOR read with cbor2; messages python-cwt makes with keys the test holds are verified by the
service. Rejections must be a clear errorCode or ``signatureValid: false``, never a 500.
"""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from adapters.clock import ManualClock
from domain.audit import SUCCESS
from domain.identifiers import key_id
from domain.keys import KeyTuple
from entrypoints.http.app import create_app
from tests.support.containers import init_master_keys
from tests.support.cose import independent_sign, independent_verify, sign1_parts, spec_vectors
from tests.support.http_api import API, APP, ED, K1, P256, REF, b64url, error, generate_sign_key, ok, post
from tests.support.pki import make_hierarchy
from tests.support.repo import START

PAYLOAD = b'{"iss":"payload-issuer","n":12345,"text":"caf\xc3\xa9"}'
START_S = int(START.timestamp())
DAY = 86400
TRUST = ("TRUST_NOT_VERIFIED", "TRUST_NOT_VERIFIED_NO_DOMAIN", "TRUST_CERT_PATH_VALID", "TRUST_CERT_PATH_NOT_VALID")

#: (applicationId, referenceId) sent, the key tuple that signs, the requested and the COSE algorithm.
KINDS = [
    pytest.param(None, None, ("KERNEL", "SIGN"), None, -257, id="kernel-sign-RS256"),
    pytest.param(APP, "", (APP, ""), None, -257, id="master-RS256"),
    pytest.param(APP, None, (APP, ""), "PS256", -37, id="master-PS256-null-ref"),
    pytest.param(APP, P256, (APP, P256), None, -7, id="p256-ES256"),
    pytest.param(APP, K1, (APP, K1), None, -47, id="k1-ES256K"),
    pytest.param(APP, ED, (APP, ED), None, -8, id="ed25519-EdDSA"),
]


# -- helpers --------------------------------------------------------------------------------------


def certificate_of(client, container, key_tuple: tuple[str, str]) -> x509.Certificate:
    if key_tuple[1] in (P256, K1, ED):
        return generate_sign_key(client, *key_tuple)
    response = client.get(f"{API}/getCertificate", query_string={"applicationId": key_tuple[0],
                                                                  "referenceId": key_tuple[1]})
    return x509.load_pem_x509_certificate(ok(response)["certificate"].encode())


def uni_ident(container, key_tuple: tuple[str, str]) -> str:
    now = container.clock().now()
    with container.uow_factory()() as uow:
        (alias,) = [a for a in uow.keys.aliases_for(KeyTuple(*key_tuple)) if a.generated_at <= now < a.expires_at]
    return alias.uni_ident


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def cose_sign(client, app=None, ref=None, payload: bytes = PAYLOAD, **fields: Any) -> dict[str, Any]:
    return ok(post(client, "/coseSign1", {"payload": b64url(payload), "applicationId": app, "referenceId": ref,
                                          **fields}))


def cwt_sign(client, app=None, ref=None, **fields: Any) -> dict[str, Any]:
    return ok(post(client, "/cwtSign", {"applicationId": app, "referenceId": ref, **fields}))


def verify(client, path: str, signed: str, **fields: Any) -> dict[str, Any]:
    result = ok(post(client, path, {"coseSignedData": signed, **fields}))
    assert set(result) == {"signatureValid", "message", "trustValid"}
    assert result["message"] == ("Validation Successful" if result["signatureValid"] else "Validation Failed")
    assert result["trustValid"] in TRUST
    return result


def self_signed(key: Any, *, not_before: datetime | None = None, not_after: datetime | None = None,
                name: str = "cose-test") -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    not_before = not_before or START - timedelta(days=1)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(not_before)
               .not_valid_after(not_after or not_before + timedelta(days=365)))
    return builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


def flipped(signed_hex: str, index: int = -2) -> str:
    """The hex with one nibble changed (in the signature when ``index`` is near the end)."""
    digits = list(signed_hex)
    digits[index] = "0" if digits[index] != "0" else "1"
    return "".join(digits)


# -- coseSign1 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("app_id, ref_id, key_tuple, algorithm, alg", KINDS)
def test_cose_sign1_is_verified_by_an_independent_implementation(client, container, app_id, ref_id, key_tuple,
                                                                  algorithm, alg) -> None:
    certificate = certificate_of(client, container, key_tuple)
    response = cose_sign(client, app_id, ref_id, algorithm=algorithm,
                         protectedHeader={"kid": True, "includeCertificateHash": True, "custom": {"a": [1]}},
                         unprotectedHeader={"includeCertificate": True, "iv": "12"})
    signed = response["signedData"]
    assert signed == signed.lower() and signed.startswith("d284")
    assert response["timestamp"].startswith(START.strftime("%Y-%m-%dT%H:%M:%S"))  # LocalDateTime, UTC
    protected, unprotected, payload = independent_verify(signed, certificate.public_key())
    kid = key_id(uni_ident(container, key_tuple)).encode()
    assert list(protected.items()) == [(1, alg), (34, hashlib.sha256(der(certificate)).digest()),
                                       ("custom", {"a": [1]}), (4, kid)]
    assert list(unprotected.items()) == [(33, der(certificate)), (5, b"12")]
    assert payload == PAYLOAD
    if alg in (-7, -47, -8):
        assert len(sign1_parts(signed)[3]) == 64
    # our own verification: with the certificate in the message, and with the key of (app, ref)
    assert verify(client, "/coseVerify1", signed)["signatureValid"] is True
    assert verify(client, "/coseVerify1", signed, applicationId=app_id, referenceId=ref_id)["signatureValid"] is True
    assert verify(client, "/coseVerify1", flipped(signed))["signatureValid"] is False


def test_cose_sign1_default_layout_and_the_kernel_sign_fallback(client, container) -> None:
    signed = cose_sign(client)["signedData"]
    protected_bytes, unprotected, payload, signature = sign1_parts(signed)
    assert protected_bytes.hex() == "a1013901" + "00" and unprotected == {} and payload == PAYLOAD
    assert len(signature) == 256
    # no certificate in the message: a blank applicationId means KERNEL/SIGN
    assert verify(client, "/coseVerify1", signed)["signatureValid"] is True
    assert verify(client, "/coseVerify1", signed, applicationId=APP, referenceId="")["signatureValid"] is False
    # and another key type than the message's alg: the signature cannot be checked
    generate_sign_key(client, APP, ED)
    ed_signed = cose_sign(client, APP, ED)["signedData"]
    error(post(client, "/coseVerify1", {"coseSignedData": ed_signed}), "KER-CWS-110")


def test_invalid_utf8_is_signed_as_the_reference_reads_it(client) -> None:
    signed = cose_sign(client, payload=b"ok\xff")["signedData"]
    assert sign1_parts(signed)[2] == b"ok\xef\xbf\xbd"


def test_kid_and_certificate_chain(client, container) -> None:
    ed_certificate = generate_sign_key(client, APP, ED)
    signed = cose_sign(client, APP, ED, protectedHeader={"includeCertificateChain": True},
                       unprotectedHeader={"kid": 0, "includeCertificateChain": True})["signedData"]
    protected = cbor2.loads(sign1_parts(signed)[0])
    unprotected = sign1_parts(signed)[1]
    chain = [x509.load_der_x509_certificate(item) for item in protected[33]]
    # the Ed25519 key, the REGISTRATION master key, ROOT
    assert chain[0] == ed_certificate
    assert len(chain) == 3 and chain[2].subject == chain[2].issuer
    for child, parent in zip(chain, chain[1:]):
        child.verify_directly_issued_by(parent)
    assert unprotected == {4: key_id(uni_ident(container, (APP, ED))).encode()}
    assert verify(client, "/coseVerify1", signed)["signatureValid"] is True


# -- cwtSign --------------------------------------------------------------------------------------


@pytest.mark.parametrize("app_id, ref_id, key_tuple, algorithm, alg", KINDS)
def test_cwt_sign_is_verified_by_an_independent_implementation(client, container, app_id, ref_id, key_tuple,
                                                                algorithm, alg) -> None:
    certificate = certificate_of(client, container, key_tuple)
    claim169 = spec_vectors()["claim169"]
    signed = cwt_sign(client, app_id, ref_id, algorithm=algorithm, payload=b64url(b'{"name":"x","age":"42","01":"y"}'),
                      claim169Payload=claim169, issuer="mosip.io", subject="s", audience="a", cwtid="id-1",
                      expireDays=10, notBeforeDays=0, protectedHeader={"cty": "application/cwt"})["signedData"]
    assert signed.startswith("d83dd284")
    protected, unprotected, payload = independent_verify(signed, certificate.public_key(), cwt_tag=True)
    assert protected == {1: alg, 3: "application/cwt"} and unprotected == {}
    claims = cbor2.loads(payload)
    assert list(claims.items()) == [
        (1, "y"), (2, "s"), (3, "a"), (4, START_S + 10 * DAY), (5, START_S), (6, START_S), (7, b"id-1"),
        (169, bytes.fromhex(claim169)), ("name", "x"), ("age", 42),
    ]
    mine = {"applicationId": app_id, "referenceId": ref_id}
    assert verify(client, "/cwtVerify", signed, **mine)["signatureValid"] is True
    assert verify(client, "/cwtVerify", flipped(signed), **mine)["signatureValid"] is False


def test_cwt_sign_defaults_and_the_claims_checks(client, clock) -> None:
    signed = cwt_sign(client, payload=b64url(b'{"a":1}'))["signedData"]
    claims = cbor2.loads(sign1_parts(signed, (61, 18))[2])
    assert claims == {4: START_S + 180 * DAY, 5: START_S, 6: START_S, "a": 1}
    clock.advance(timedelta(days=179))
    assert verify(client, "/cwtVerify", signed)["signatureValid"] is True
    clock.advance(timedelta(days=1))
    error(post(client, "/cwtVerify", {"coseSignedData": signed}), "KER-SIG-116")

    later = cwt_sign(client, claim169Payload="a0", notBeforeDays=2)["signedData"]
    error(post(client, "/cwtVerify", {"coseSignedData": later}), "KER-SIG-115")
    assert cbor2.loads(sign1_parts(later, (61, 18))[2])[169] == b"\xa0"


def test_cwt_id_uuid(client) -> None:
    signed = cwt_sign(client, claim169Payload="a0", cwtid="uuid")["signedData"]
    cti = cbor2.loads(sign1_parts(signed, (61, 18))[2])[7].decode()
    assert len(cti) == 36 and cti.count("-") == 4
    # the DTO's JSON name is "cwtid": other spellings are ignored, as Jackson ignores them
    signed = cwt_sign(client, claim169Payload="a0", cwtId="x", CWTId="y")["signedData"]
    assert 7 not in cbor2.loads(sign1_parts(signed, (61, 18))[2])


# -- verifying messages made elsewhere ------------------------------------------------------------


HELD_KEYS = {
    "RS256": lambda: rsa.generate_private_key(65537, 2048),
    "PS256": lambda: rsa.generate_private_key(65537, 2048),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ES256K": lambda: ec.generate_private_key(ec.SECP256K1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}


@pytest.mark.parametrize("algorithm", list(HELD_KEYS))
def test_messages_signed_by_an_independent_implementation_verify(client, algorithm) -> None:
    key, other = HELD_KEYS[algorithm](), HELD_KEYS[algorithm]()
    certificate, other_certificate = self_signed(key), self_signed(other)
    in_header = independent_sign(key, algorithm, PAYLOAD, unprotected={33: der(certificate)})
    in_protected = independent_sign(key, algorithm, PAYLOAD, protected={33: [der(certificate), b"ignored"]})
    bare = independent_sign(key, algorithm, PAYLOAD)
    assert verify(client, "/coseVerify1", in_header)["signatureValid"] is True
    assert verify(client, "/coseVerify1", in_protected)["signatureValid"] is True
    assert verify(client, "/coseVerify1", bare, certificateData=pem(certificate))["signatureValid"] is True
    # the message's certificate wins over certificateData
    assert verify(client, "/coseVerify1", in_header, certificateData=pem(other_certificate))["signatureValid"]
    # wrong key, tampered payload
    assert verify(client, "/coseVerify1", bare, certificateData=pem(other_certificate))["signatureValid"] is False
    tampered = independent_sign(key, algorithm, PAYLOAD + b" ")
    parts = sign1_parts(tampered)
    forged = cbor2.dumps(cbor2.CBORTag(18, [parts[0], parts[1], PAYLOAD, parts[3]])).hex()
    assert verify(client, "/coseVerify1", forged, certificateData=pem(certificate))["signatureValid"] is False

    claims = {1: "issuer", 4: START_S + DAY, 5: START_S - 10, 6: START_S - 10, "k": "v"}
    token = independent_sign(key, algorithm, cbor2.dumps(claims), unprotected={33: der(certificate)}, cwt_tag=True)
    assert verify(client, "/cwtVerify", token)["signatureValid"] is True
    expired = {**claims, 4: START_S}  # exp == now is expired
    error(post(client, "/cwtVerify", {"coseSignedData": independent_sign(
        key, algorithm, cbor2.dumps(expired), unprotected={33: der(certificate)}, cwt_tag=True)}), "KER-SIG-116")
    early = {**claims, 5: START_S + 1}
    error(post(client, "/cwtVerify", {"coseSignedData": independent_sign(
        key, algorithm, cbor2.dumps(early), unprotected={33: der(certificate)}, cwt_tag=True)}), "KER-SIG-115")


def test_algorithm_mismatches(client) -> None:
    rsa_key, ec_key = rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP256R1())
    rsa_certificate = self_signed(rsa_key)
    # the protected alg says ES256, the certificate holds an RSA key
    ec_signed = independent_sign(ec_key, "ES256", PAYLOAD)
    error(post(client, "/coseVerify1", {"coseSignedData": ec_signed, "certificateData": pem(rsa_certificate)}),
          "KER-CWS-110")
    # RS256 and PS256 are told apart by the protected alg
    rs256 = sign1_parts(independent_sign(rsa_key, "RS256", PAYLOAD))
    relabelled = cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -37}), {}, PAYLOAD, rs256[3]])).hex()
    assert verify(client, "/coseVerify1", relabelled, certificateData=pem(rsa_certificate))["signatureValid"] is False
    # an alg the service does not know is not taken for RS256 (the reference's fallback)
    unknown = cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -258}), {}, PAYLOAD, rs256[3]])).hex()
    error(post(client, "/coseVerify1", {"coseSignedData": unknown, "certificateData": pem(rsa_certificate)}),
          "KER-CWS-110")


def test_certificate_problems(client) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    expired = self_signed(key, not_before=START - timedelta(days=30), not_after=START - timedelta(days=1))
    bare = independent_sign(key, "ES256", PAYLOAD)
    error(post(client, "/coseVerify1", {"coseSignedData": bare, "certificateData": pem(expired)}), "KER-JWS-107")
    error(post(client, "/coseVerify1", {"coseSignedData": bare, "certificateData": "not a PEM"}), "KER-KMS-013")
    garbage = independent_sign(key, "ES256", PAYLOAD, unprotected={33: b"\x30\x03\x02\x01\x01"})
    error(post(client, "/coseVerify1", {"coseSignedData": garbage}), "KER-KMS-013")
    wrong_type = independent_sign(key, "ES256", PAYLOAD, unprotected={33: "text"})
    error(post(client, "/coseVerify1", {"coseSignedData": wrong_type}), "KER-CWS-110")


def test_malformed_input(client) -> None:
    vectors = spec_vectors()
    cose_message, cwt_message, claim169 = vectors["v1"], vectors["v3"], vectors["claim169"]
    cases = [
        ("/coseVerify1", "invalid-hex-data", "KER-SIG-114"),
        ("/coseVerify1", "abc", "KER-SIG-114"),
        ("/coseVerify1", cwt_message, "KER-CWS-112"),
        ("/coseVerify1", cose_message[2:], "KER-CWS-112"),  # untagged
        ("/coseVerify1", cose_message[:-10], "KER-CWS-110"),  # truncated
        ("/coseVerify1", "d28443a10127a0f65840" + "00" * 64, "KER-CWS-110"),  # detached payload
        ("/cwtVerify", cose_message, "KER-CWS-111"),
        ("/cwtVerify", claim169.replace("D83DD2", "D83DD3", 1), "KER-CWS-110"),
        ("/cwtVerify", claim169.replace("D83DD2", "D83DD1", 1), "KER-CWS-112"),
        ("/cwtVerify", cwt_message[:-10], "KER-CWS-110"),
        ("/cwtVerify", "d83dd28443a10127a0" + "4118" + "4100", "KER-SIG-114"),  # payload not CBOR
        ("/cwtVerify", "d83dd28443a10127a0" + "40" + "4100", "KER-CRY-003"),  # empty payload
        ("/cwtVerify", "d83dd28443a10127a0" + "41a0" + "4100", "KER-JWS-103"),  # empty claims map
    ]
    for path, data, code in cases:
        error(post(client, path, {"coseSignedData": data}), code)
    for path in ("/coseVerify1", "/cwtVerify"):
        for request in ({"coseSignedData": " "}, {}, {"coseSignedData": None}):
            error(post(client, path, request), "KER-KMS-005", message="request.coseSignedData must not be blank")


# -- trust ----------------------------------------------------------------------------------------


def test_trust_of_the_signing_certificate_in_a_partner_domain(client, container, clock) -> None:
    init_master_keys(container, ("PMS",))
    h = make_hierarchy(clock.now(), prefix="Cose")
    for ca in (h.root, h.intermediate):
        assert ok(post(client, "/uploadCACertificate", {"certificateData": ca.pem, "partnerDomain": "AUTH"}))
    partner = h.partner
    in_header = independent_sign(partner.private_key, "RS256", PAYLOAD, unprotected={33: partner.der})
    bare = independent_sign(partner.private_key, "RS256", PAYLOAD)

    def trust(signed: str, path: str = "/coseVerify1", **fields: Any) -> str:
        return verify(client, path, signed, **fields)["trustValid"]

    assert trust(in_header) == "TRUST_NOT_VERIFIED"
    assert trust(in_header, validateTrust=False, domain="AUTH") == "TRUST_NOT_VERIFIED"
    assert trust(in_header, validateTrust=True) == "TRUST_NOT_VERIFIED_NO_DOMAIN"
    assert trust(in_header, validateTrust=True, domain=" ") == "TRUST_NOT_VERIFIED_NO_DOMAIN"
    assert trust(in_header, validateTrust=True, domain="auth") == "TRUST_CERT_PATH_VALID"
    assert trust(in_header, validateTrust=True, domain="DEVICE") == "TRUST_CERT_PATH_NOT_VALID"
    assert trust(bare, validateTrust=True, domain="AUTH", certificateData=partner.pem) == "TRUST_CERT_PATH_VALID"
    # computed for a bad signature too, as in the reference
    result = verify(client, "/coseVerify1", flipped(in_header), validateTrust=True, domain="AUTH")
    assert result == {"signatureValid": False, "message": "Validation Failed", "trustValid": "TRUST_CERT_PATH_VALID"}
    # no certificate at all: the service's own key of (app, ref), which AUTH does not trust
    own = cose_sign(client)["signedData"]
    assert verify(client, "/coseVerify1", own, validateTrust=True, domain="AUTH") == {
        "signatureValid": True, "message": "Validation Successful", "trustValid": "TRUST_CERT_PATH_NOT_VALID"}
    error(post(client, "/coseVerify1", {"coseSignedData": own, "validateTrust": True, "domain": "NOPE"}),
          "KER-PCM-011")

    token = independent_sign(partner.private_key, "RS256", cbor2.dumps({1: "x"}), unprotected={33: partner.der},
                             cwt_tag=True)
    assert trust(token, "/cwtVerify", validateTrust=True, domain="AUTH") == "TRUST_CERT_PATH_VALID"


def test_trust_takes_the_middle_of_the_senders_chain(client, container, clock) -> None:
    init_master_keys(container, ("PMS",))
    h = make_hierarchy(clock.now(), prefix="CoseChain")
    assert ok(post(client, "/uploadCACertificate", {"certificateData": h.root.pem, "partnerDomain": "AUTH"}))
    partner = h.partner

    def trust(*chain) -> str:
        signed = independent_sign(partner.private_key, "RS256", PAYLOAD, protected={33: [c.der for c in chain]})
        return verify(client, "/coseVerify1", signed, validateTrust=True, domain="AUTH")["trustValid"]

    assert trust(partner) == "TRUST_CERT_PATH_NOT_VALID"
    assert trust(partner, h.intermediate, h.root) == "TRUST_CERT_PATH_VALID"
    # the last certificate of the chain is never used: here it is the intermediate
    assert trust(partner, h.intermediate) == "TRUST_CERT_PATH_NOT_VALID"


# -- errors of the signing endpoints --------------------------------------------------------------


def test_signing_errors(client) -> None:
    generate_sign_key(client, APP, K1)
    payload = b64url(PAYLOAD)
    unknown = error(post(client, "/coseSign1", {"payload": payload, "algorithm": "RS512"}), "KER-SIG-113")
    assert unknown["errors"][0]["message"] == "Signature Algorithm Not SupportedRS512"
    cases = [
        ({"payload": payload, "applicationId": APP, "referenceId": K1, "algorithm": "PS256"}, "KER-JWS-104"),
        # deliberate: the reference labels a secp256k1 signature ES256
        ({"payload": payload, "applicationId": APP, "referenceId": K1, "algorithm": "ES256"}, "KER-JWS-104"),
        ({"payload": payload, "applicationId": APP, "referenceId": " "}, "KER-KMS-010"),
        ({"payload": payload, "applicationId": APP, "referenceId": REF}, "KER-KMS-020"),
        ({"payload": payload, "applicationId": "INVALID_APP_ID"}, "KER-JWS-108"),
        ({"payload": "e30+"}, "KER-CRY-003"),
        ({"payload": payload, "protectedHeader": {"crit": ["a"]}}, "KER-KMS-005"),
        ({"payload": payload, "unprotectedHeader": {"cty": 1}}, "KER-KMS-005"),
        ({"payload": payload, "protectedHeader": "x"}, "KER-KMS-005"),
        ({"payload": payload, "unprotectedHeader": {"crit": "a"}}, "KER-CRY-003"),
    ]
    for request, code in cases:
        error(post(client, "/coseSign1", request), code)
    error(post(client, "/coseSign1", {"payload": " "}), "KER-KMS-005", message="request.payload must not be blank")
    # with an explicit algorithm a blank reference is the master key
    assert cose_sign(client, APP, " ", algorithm="PS256")["signedData"]


def test_nested_custom_headers(client) -> None:
    nested: Any = [1.5, None, {"b": True}]
    for _ in range(25):  # the envelope allows 32 levels
        nested = {"a": nested}
    signed = cose_sign(client, protectedHeader={"deep": nested})["signedData"]
    assert cbor2.loads(sign1_parts(signed)[0])["deep"] == nested


def test_cwt_signing_errors(client) -> None:
    cases = [
        ({}, "KER-JWS-102"),
        ({"payload": " ", "claim169Payload": ""}, "KER-JWS-102"),
        ({"payload": b64url(b"{}"), "expireDays": -1}, "KER-SIG-117"),
        ({"payload": b64url(b"{}"), "notBeforeDays": -1}, "KER-SIG-117"),
        ({"claim169Payload": "xyz"}, "KER-SIG-114"),
        ({"payload": b64url(b"not json")}, "KER-JWS-103"),
        ({"payload": b64url(b'{"10":"nonce"}')}, "KER-CRY-003"),
        ({"payload": b64url(b"{}"), "expireDays": 1.5}, "KER-KMS-005"),
        ({"payload": b64url(b"{}"), "expireDays": 2**31}, "KER-KMS-005"),
    ]
    for request, code in cases:
        error(post(client, "/cwtSign", request), code)
    # the largest days still make a token (dates far beyond a datetime's range)
    signed = cwt_sign(client, payload=b64url(b"{}"), expireDays=2**31 - 1, notBeforeDays=2**31 - 1)["signedData"]
    assert cbor2.loads(sign1_parts(signed, (61, 18))[2])[4] == START_S + 2 * (2**31 - 1) * DAY


def test_null_reference_ids_are_blank(client) -> None:
    signed = cose_sign(client, APP, None)["signedData"]
    assert verify(client, "/coseVerify1", signed, applicationId=APP, referenceId=None)["signatureValid"] is True
    token = cwt_sign(client, APP, None, claim169Payload="a0")["signedData"]
    assert verify(client, "/cwtVerify", token, applicationId=APP, referenceId=None)["signatureValid"] is True


# -- settings -------------------------------------------------------------------------------------


@pytest.fixture
def configured(memory_settings, make_container):
    """An app with the COSE settings changed (and a clock of its own)."""

    def build(**overrides: Any):
        settings = memory_settings.with_overrides(**overrides)
        container = make_container(settings, ManualClock(START))
        init_master_keys(container)
        return create_app(settings, container).test_client(), container

    return build


def test_cwt_issuer_and_subject_checks(configured) -> None:
    client, _ = configured(cwt_issuer="mosip.io", cwt_verify_issuer=True, cwt_expected_issuer="mosip.io",
                           cwt_verify_subject=True, cwt_expected_subject="holder")
    with_subject = cwt_sign(client, claim169Payload="a0", subject="holder")["signedData"]
    assert cbor2.loads(sign1_parts(with_subject, (61, 18))[2])[1] == "mosip.io"
    assert verify(client, "/cwtVerify", with_subject)["signatureValid"] is True
    missing = cwt_sign(client, claim169Payload="a0")["signedData"]
    body = error(post(client, "/cwtVerify", {"coseSignedData": missing}), "KER-SIG-118")
    assert body["errors"][0]["message"] == "Subject Claim not found in the CWT Token."
    body = error(post(client, "/cwtVerify", {"coseSignedData": with_subject, "subject": "other"}), "KER-SIG-119")
    assert body["errors"][0]["message"] == "Provided Subject Claim value not matched with CWT."
    no_issuer = cwt_sign(client, claim169Payload="a0", issuer="", subject="holder")["signedData"]
    body = error(post(client, "/cwtVerify", {"coseSignedData": no_issuer}), "KER-SIG-118")
    assert body["errors"][0]["message"] == "Issuer Claim not found in the CWT Token."
    error(post(client, "/cwtVerify", {"coseSignedData": with_subject, "issuer": "x"}), "KER-SIG-119")
    # the claims are checked before the signature: a forged token gets the claim error too
    error(post(client, "/cwtVerify", {"coseSignedData": flipped(missing)}), "KER-SIG-118")


def test_cwt_days_from_the_settings(configured) -> None:
    # the reference's application-local values: a fresh token is not valid for a day
    client, container = configured(cwt_expire_days=365, cwt_not_before_days=1)
    signed = cwt_sign(client, claim169Payload="a0")["signedData"]
    claims = cbor2.loads(sign1_parts(signed, (61, 18))[2])
    assert (claims[4], claims[5], claims[6]) == (START_S + 366 * DAY, START_S + DAY, START_S)
    error(post(client, "/cwtVerify", {"coseSignedData": signed}), "KER-SIG-115")
    container.clock().advance(timedelta(days=1))
    assert verify(client, "/cwtVerify", signed)["signatureValid"] is True


@pytest.mark.parametrize("overrides, expected_prefix", [
    ({"sign_kid_prefix": "mosip#"}, "mosip#"),
    ({"sign_kid_prefix": "payload_issuer"}, "payload-issuer#"),
    ({"sign_include_keyid": False}, None),
])
def test_kid_settings(configured, overrides, expected_prefix) -> None:
    client, container = configured(**overrides)
    signed = cose_sign(client, protectedHeader={"kid": True})["signedData"]
    protected = cbor2.loads(sign1_parts(signed)[0])
    if expected_prefix is None:
        assert protected == {1: -257}
        return
    assert protected[4] == (expected_prefix + key_id(uni_ident(container, ("KERNEL", "SIGN")))).encode()
    if overrides.get("sign_kid_prefix") == "payload_issuer":  # a CWT: its iss claim; none: "#" alone
        token = cwt_sign(client, claim169Payload="a0", issuer="cwt-iss", protectedHeader={"kid": 1})["signedData"]
        kid = cbor2.loads(sign1_parts(token, (61, 18))[0])[4]
        assert kid.startswith(b"cwt-iss#")
        token = cwt_sign(client, claim169Payload="a0", protectedHeader={"kid": 1})["signedData"]
        assert cbor2.loads(sign1_parts(token, (61, 18))[0])[4].startswith(b"#")


# -- the API document's examples -----------------------------------------------------------------


def test_the_documented_verify_examples_verify(configured) -> None:
    client, container = configured()
    container.clock().set(datetime(2026, 6, 1, tzinfo=UTC))
    document = client.get(f"{API}/v3/api-docs").get_json()
    schemas = document["components"]["schemas"]
    for path, schema in (("/coseVerify1", "CoseVerifyRequest"), ("/cwtVerify", "CwtVerifyRequest")):
        example = schemas[schema]["properties"]["coseSignedData"]["example"]
        assert verify(client, path, example)["signatureValid"] is True
    assert spec_vectors()["v2"] == schemas["CoseVerifyRequest"]["properties"]["coseSignedData"]["example"]
    sign_example = {name: prop["example"] for name, prop in schemas["CoseSignRequest"]["properties"].items()
                    if "example" in prop}
    assert ok(post(client, "/coseSign1", sign_example))["signedData"]
    cwt_example = {name: prop["example"] for name, prop in schemas["CwtSignRequest"]["properties"].items()
                   if "example" in prop}
    token = ok(post(client, "/cwtSign", cwt_example))["signedData"]
    assert json.loads(base64.urlsafe_b64decode(cwt_example["payload"] + "==")) == {"hello": "world"}
    assert cbor2.loads(sign1_parts(token, (61, 18))[2])["hello"] == "world"


# -- audit ----------------------------------------------------------------------------------------


def test_the_four_endpoints_are_audited_without_their_data(client, container) -> None:
    signed = cose_sign(client)["signedData"]
    verify(client, "/coseVerify1", signed)
    token = cwt_sign(client, payload=b64url(PAYLOAD), issuer="audit-iss")["signedData"]
    error(post(client, "/cwtVerify", {"coseSignedData": token[:-4]}), "KER-CWS-110")
    records = [r for r in container.audit_log().records() if r.subject != "system"]
    assert [(r.operation, r.outcome) for r in records] == [
        ("coseSign1", SUCCESS), ("coseVerify1", SUCCESS), ("cwtSign", SUCCESS), ("cwtVerify", "KER-CWS-110")]
    # the signing key is named (the request named no application)
    assert records[0].key_alias and records[0].thumbprint and records[2].key_alias == records[0].key_alias
    text = repr(records).encode()
    for secret in (PAYLOAD, b64url(PAYLOAD).encode(), signed[:40].encode(), token[:40].encode(), b"audit-iss"):
        assert secret not in text
