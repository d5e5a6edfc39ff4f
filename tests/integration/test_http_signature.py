"""The signature endpoints and the certificate endpoints around them, through Flask's
test client (mosip-api.md §4, §2.3, §2.4, §2.9, §2.10; mosip-crypto.md §3.4, §3.8, §5).

Every token the service signs is verified here with an independent JOSE implementation,
PyJWT (`jwt`), or with `cryptography` directly; the service itself verifies with joserfc.
Tokens PyJWT makes with keys the test holds are verified by the service's /jwtVerify.
Rejections must be a clear errorCode or ``signatureValid: false``, never a 500.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from domain.identifiers import key_id
from domain.keys import KeyPolicy, KeyTuple
from entrypoints.http.app import create_app
from tests.support.containers import init_master_keys
from tests.support.http_api import (
    API,
    APP,
    ED,
    K1,
    P256,
    PAYLOAD,
    assert_clean,
    b64url,
    b64url_decode,
    crypto_request,
    decrypt,
    encrypt,
    error,
    generate_sign_key,
    header_of,
    jwt_sign,
    ok,
    post,
    public_key_from_x5c,
    sign_request,
)
from tests.support.repo import START

# joserfc (the service's verifier) warns that "EdDSA" is superseded by "Ed25519"; MOSIP uses "EdDSA".
pytestmark = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")

PSS_32 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
PYJWS = jwt.api_jws.PyJWS()

#: (applicationId, referenceId) as sent, the key tuple that signs, the JWT (jwtSign) algorithm.
KINDS = [
    pytest.param(None, None, ("KERNEL", "SIGN"), "RS256", id="kernel-sign-default"),
    pytest.param(APP, "", (APP, ""), "RS256", id="app-master"),
    pytest.param(APP, P256, (APP, P256), "ES256", id="ec-p256"),
    pytest.param(APP, K1, (APP, K1), "ES256K", id="ec-k1"),
    pytest.param(APP, ED, (APP, ED), "EdDSA", id="ed25519"),
]
#: jwsSign defaults: PS256 for RSA keys, the key's own algorithm otherwise.
JWS_ALG = {"RS256": "PS256", "ES256": "ES256", "ES256K": "ES256K", "EdDSA": "EdDSA"}


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def ec_keys(client) -> dict[str, x509.Certificate]:
    """The three signing keys of REGISTRATION, made through /generateECSignKey/CERTIFICATE."""
    return {ref: generate_sign_key(client, APP, ref) for ref in (P256, K1, ED)}


def get_certificate(client, app: str, ref: str = "") -> x509.Certificate:
    response = ok(client.get(f"{API}/getCertificate", query_string={"applicationId": app, "referenceId": ref}))
    return x509.load_pem_x509_certificate(response["certificate"].encode())


def all_certificates(client, app: str, ref: str = "") -> list[dict[str, Any]]:
    response = client.get(f"{API}/getAllCertificates", query_string={"applicationId": app, "referenceId": ref})
    return ok(response)["allCertificates"]


def current_uni_ident(container, key_tuple: tuple[str, str]) -> str:
    """uni_ident of the current key of the tuple, read from the container's repository."""
    now = container.clock().now()
    with container.uow_factory()() as uow:
        aliases = [a for a in uow.keys.aliases_for(KeyTuple(*key_tuple)) if a.generated_at <= now < a.expires_at]
    assert len(aliases) == 1, aliases
    assert aliases[0].uni_ident
    return aliases[0].uni_ident


def jws_sign(client, app_id, ref_id, data: bytes = PAYLOAD, *, path: str = "/jwsSign", **flags: Any) -> str:
    flags.setdefault("validateJson", False)
    return ok(post(client, path, sign_request(app_id, ref_id, data, **flags)))["jwtSignedData"]


def pyjwt_verify(token: str, public_key, algorithm: str, payload: bytes = PAYLOAD) -> dict[str, Any]:
    """PyJWT verification with only ``algorithm`` allowed. A detached b64=true token
    (``hdr..sig``) gets its payload put back in the middle: PyJWT takes a
    ``detached_payload`` only for RFC 7797 ``b64: false`` tokens."""
    head, middle, signature = token.split(".")
    _, header = header_of(token)
    if header.get("b64") is False:
        decoded = PYJWS.decode_complete(
            f"{head}..{signature}", public_key, algorithms=[algorithm], detached_payload=payload
        )
    else:
        if not middle:
            token = f"{head}.{b64url(payload)}.{signature}"
        decoded = PYJWS.decode_complete(token, public_key, algorithms=[algorithm])
    assert decoded["header"]["alg"] == algorithm
    assert decoded["payload"] == payload
    return decoded


def verify(client, token: str, **request: Any) -> dict[str, Any]:
    return ok(post(client, "/jwtVerify", {"jwtSignatureData": token, **request}))


def assert_valid(client, token: str, **request: Any) -> None:
    for path in ("/jwtVerify", "/jwtVerify/v2"):
        result = ok(post(client, path, {"jwtSignatureData": token, **request}))
        assert result == {
            "signatureValid": True, "message": "Validation Successful", "trustValid": "TRUST_NOT_VERIFIED"
        }


def assert_invalid(client, token: str, **request: Any) -> None:
    response = post(client, "/jwtVerify", {"jwtSignatureData": token, **request})
    assert_clean(response)
    result = ok(response)
    assert result["signatureValid"] is False
    assert result["message"] == "Validation Failed"


def raw_signature(client, data: bytes, app_id=None, ref_id=None, algorithm: str | None = None) -> bytes:
    """A bare signature by our key over ``data`` (signRawData, base64url)."""
    request = {"dataToSign": b64url(data), "applicationId": app_id, "referenceId": ref_id,
               "responseEncodingFormat": "base64url", "signAlgorithm": algorithm}
    return b64url_decode(ok(post(client, "/signRawData", request))["signedData"])


def compact_header(header: dict[str, Any]) -> str:
    return b64url(json.dumps(header, separators=(",", ":")).encode())


def forged_by_our_key(client, header: dict[str, Any], payload: bytes = PAYLOAD) -> str:
    """A JWS with any header we like, signed RS256 by KERNEL/SIGN through signRawData."""
    signing_input = f"{compact_header(header)}.{b64url(payload)}"
    signature = raw_signature(client, signing_input.encode(), algorithm="RS256")
    return f"{signing_input}.{b64url(signature)}"


def make_cert(
    key,
    common_name: str,
    *,
    issuer_key=None,
    issuer: x509.Certificate | None = None,
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
    days: int = 3650,
    ca: bool = False,
) -> x509.Certificate:
    """A certificate for ``key``'s public key; self-signed unless an issuer is given."""
    public = key.public_key() if hasattr(key, "public_key") else key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    signer = issuer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer is not None else name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    digest = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(signer, digest)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def der_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def x5t(cert: x509.Certificate) -> str:
    return b64url(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())


def assert_chain(chain: list[x509.Certificate]) -> None:
    for child, parent in zip(chain, chain[1:]):
        child.verify_directly_issued_by(parent)
    chain[-1].verify_directly_issued_by(chain[-1])  # ends at the self-signed ROOT


def b58decode(text: str) -> bytes:
    """An independent base58btc decoder (Bitcoin alphabet)."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = 0
    for char in text:
        number = number * 58 + alphabet.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def verify_raw(public_key, signature: bytes, data: bytes) -> None:
    """Raises InvalidSignature unless ``signature`` (JOSE form) is valid over ``data``."""
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, PSS_32, hashes.SHA256())
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        assert len(signature) == 64
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    else:
        assert len(signature) == 64
        public_key.verify(signature, data)


# -- jwtSign: every key kind -----------------------------------------------------------------


@pytest.mark.parametrize(("app_id", "ref_id", "key_tuple", "alg"), KINDS)
@pytest.mark.parametrize("include_payload", [False, True], ids=["detached", "attached"])
def test_jwt_sign_every_key_kind(client, container, ec_keys, app_id, ref_id, key_tuple, alg, include_payload) -> None:
    token = jwt_sign(client, app_id, ref_id, includePayload=include_payload, includeCertificate=True,
                     includeCertHash=True, certificateUrl="https://example.org/cert")
    head, middle, signature = token.split(".")
    assert middle == (b64url(PAYLOAD) if include_payload else "")
    raw, header = header_of(token)
    assert list(header) == ["alg", "x5c", "x5t#S256", "x5u", "kid"]
    assert raw == json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    assert header["alg"] == alg
    assert header["x5u"] == "https://example.org/cert"

    # The certificate in x5c is our current certificate of the tuple, and kid its keyId.
    cert = get_certificate(client, *key_tuple)
    assert header["x5c"] == [der_b64(cert)]
    assert header["x5t#S256"] == x5t(cert)
    kid = key_id(current_uni_ident(container, key_tuple))
    assert header["kid"] == kid
    assert kid in [entry["keyId"] for entry in all_certificates(client, *key_tuple)]

    pyjwt_verify(token, public_key_from_x5c(header), alg)
    pyjwt_verify(token, cert.public_key(), alg)
    actual = {} if include_payload else {"actualData": b64url(PAYLOAD)}
    assert_valid(client, token, **actual)
    # Without x5c the service verifies with the key of (app_id, ref_id).
    bare = jwt_sign(client, app_id, ref_id, includePayload=include_payload)
    assert list(header_of(bare)[1]) == ["alg", "kid"]
    pyjwt_verify(bare, cert.public_key(), alg)
    assert_valid(client, bare, applicationId=app_id, referenceId=ref_id, **actual)


@pytest.mark.parametrize(
    ("flags", "order"),
    [
        ({}, ["alg", "kid"]),
        ({"includeCertificate": True}, ["alg", "x5c", "kid"]),
        ({"includeCertHash": True}, ["alg", "x5t#S256", "kid"]),
        ({"certificateUrl": "https://x.example/c"}, ["alg", "x5u", "kid"]),
        ({"includeCertHash": True, "certificateUrl": "u"}, ["alg", "x5t#S256", "x5u", "kid"]),
        ({"includeCertificate": True, "certificateUrl": "u"}, ["alg", "x5c", "x5u", "kid"]),
        ({"includeCertificate": False, "includeCertHash": False, "certificateUrl": None}, ["alg", "kid"]),
    ],
)
def test_jwt_sign_header_follows_the_flags(client, flags, order) -> None:
    token = jwt_sign(client, None, None, **flags)
    assert list(header_of(token)[1]) == order
    pyjwt_verify(token, get_certificate(client, "KERNEL", "SIGN").public_key(), "RS256")


def test_jwt_sign_kernel_sign_explicitly(client, container) -> None:
    token = jwt_sign(client, "KERNEL", "SIGN", includePayload=True)
    _, header = header_of(token)
    assert header == {"alg": "RS256", "kid": key_id(current_uni_ident(container, ("KERNEL", "SIGN")))}
    pyjwt_verify(token, get_certificate(client, "KERNEL", "SIGN").public_key(), "RS256")


# -- jwtSign/v2 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["prefix", "prefix#"])
def test_jwt_sign_v2_kid_prefix(client, container, prefix) -> None:
    token = jwt_sign(client, APP, "", path="/jwtSign/v2", includePayload=True,
                     additionalHeaders={"kid": prefix, "typ": "JWT", "custom": "value"})
    _, header = header_of(token)
    assert header["kid"] == "prefix#" + key_id(current_uni_ident(container, (APP, "")))
    assert header["typ"] == "JWT" and header["custom"] == "value"
    assert list(header)[:2] == ["alg", "kid"]
    pyjwt_verify(token, get_certificate(client, APP).public_key(), "RS256")
    assert_valid(client, token, applicationId=APP, referenceId="")


@pytest.mark.parametrize(
    ("app_id", "ref_id", "key_tuple", "alg", "issuers"),
    [
        pytest.param(None, None, ("KERNEL", "SIGN"), "RS256", [("ROOT", "")], id="kernel-sign"),
        pytest.param(APP, "", (APP, ""), "RS256", [("ROOT", "")], id="app-master"),
        pytest.param(APP, P256, (APP, P256), "ES256", [("ROOT", "")], id="ec-p256"),
        pytest.param(APP, K1, (APP, K1), "ES256K", [("ROOT", "")], id="ec-k1"),
        pytest.param(APP, ED, (APP, ED), "EdDSA", [(APP, ""), ("ROOT", "")], id="ed25519"),
    ],
)
def test_jwt_sign_v2_certificate_chain(client, ec_keys, app_id, ref_id, key_tuple, alg, issuers) -> None:
    token = jwt_sign(client, app_id, ref_id, path="/jwtSign/v2", includeCertificateChain=True, includeCertHash=True)
    _, header = header_of(token)
    assert list(header) == ["alg", "x5c", "x5t#S256", "kid"]
    chain = [x509.load_der_x509_certificate(base64.b64decode(entry, validate=True)) for entry in header["x5c"]]
    expected = [get_certificate(client, *key_tuple)] + [get_certificate(client, *t) for t in issuers]
    assert chain == expected
    assert_chain(chain)
    assert header["x5t#S256"] == x5t(chain[0])
    pyjwt_verify(token, chain[0].public_key(), alg)
    assert_valid(client, token, actualData=b64url(PAYLOAD))


# -- jwsSign -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("app_id", "ref_id", "key_tuple", "jwt_alg"), KINDS)
@pytest.mark.parametrize("include_payload", [False, True], ids=["detached", "attached"])
def test_jws_sign_default_is_rfc7797(
    client, container, ec_keys, app_id, ref_id, key_tuple, jwt_alg, include_payload
) -> None:
    alg = JWS_ALG[jwt_alg]
    data = b"raw bytes, not JSON \x00\xff"
    token = jws_sign(client, app_id, ref_id, data, includePayload=include_payload, includeCertificate=True)
    head, middle, signature = token.split(".")
    _, header = header_of(token)
    assert header["alg"] == alg
    assert header["b64"] is False and header["crit"] == ["b64"]
    assert header["kid"] == key_id(current_uni_ident(container, key_tuple))
    cert = get_certificate(client, *key_tuple)
    assert header["x5c"] == [der_b64(cert)]

    # The signing input is ASCII(b64url(header)) || "." || the raw decoded payload.
    verify_raw(cert.public_key(), b64url_decode(signature), head.encode() + b"." + data)
    if include_payload:
        # Reference quirk (mosip-api.md §4.6): with b64=false and includePayload the middle slot
        # carries the request's base64url string, not the raw bytes RFC 7797 would put there.
        # PyJWT rightly refuses a non-empty payload slot for b64=false, so besides the manual
        # check above, PyJWT verifies the same signature in the detached form.
        assert middle == b64url(data)
    else:
        assert middle == ""
    pyjwt_verify(f"{head}..{signature}", cert.public_key(), alg, payload=data)
    # jwtVerify takes the raw payload base64url-encoded in actualData.
    assert_valid(client, token, actualData=b64url(data))
    assert_invalid(client, token, actualData=b64url(data + b"!"))


@pytest.mark.parametrize(("app_id", "ref_id", "key_tuple", "jwt_alg"), KINDS)
@pytest.mark.parametrize("include_payload", [False, True], ids=["detached", "attached"])
def test_jws_sign_with_b64_header(client, ec_keys, app_id, ref_id, key_tuple, jwt_alg, include_payload) -> None:
    alg = JWS_ALG[jwt_alg]
    token = jws_sign(client, app_id, ref_id, b64JWSHeaderParam=True, includePayload=include_payload, validateJson=True)
    head, middle, _ = token.split(".")
    _, header = header_of(token)
    assert "b64" not in header and "crit" not in header
    assert middle == (b64url(PAYLOAD) if include_payload else "")
    pyjwt_verify(token, get_certificate(client, *key_tuple).public_key(), alg)
    assert_valid(client, token, applicationId=app_id, referenceId=ref_id,
                 **({} if include_payload else {"actualData": b64url(PAYLOAD)}))


@pytest.mark.parametrize("algorithm", ["RS256", "PS256"])
def test_jws_sign_explicit_rsa_algorithm(client, algorithm) -> None:
    token = jws_sign(client, APP, "", signAlgorithm=algorithm, b64JWSHeaderParam=True, includePayload=True)
    assert header_of(token)[1]["alg"] == algorithm
    pyjwt_verify(token, get_certificate(client, APP).public_key(), algorithm)


def test_jws_sign_unknown_algorithm_falls_back_to_the_default(client) -> None:
    token = jws_sign(client, APP, "", signAlgorithm="HS256", b64JWSHeaderParam=True, includePayload=True)
    assert header_of(token)[1]["alg"] == "PS256"
    pyjwt_verify(token, get_certificate(client, APP).public_key(), "PS256")


def test_jws_sign_algorithm_that_does_not_fit_the_key(client) -> None:
    response = post(client, "/jwsSign", sign_request(APP, "", signAlgorithm="ES256", validateJson=False))
    error(response, "KER-KMS-020")


def test_jws_sign_v2_headers_and_chain(client, container) -> None:
    token = jws_sign(client, APP, "", path="/jwsSign/v2", includeCertificateChain=True, includePayload=False,
                     additionalHeaders={"typ": "JOSE", "cty": "json", "kid": "pre", "x-custom": "1"})
    _, header = header_of(token)
    assert header["typ"] == "JOSE" and header["cty"] == "json" and header["x-custom"] == "1"
    assert header["kid"] == "pre#" + key_id(current_uni_ident(container, (APP, "")))
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
    assert chain == [get_certificate(client, APP), get_certificate(client, "ROOT")]
    assert_chain(chain)
    pyjwt_verify(token, chain[0].public_key(), "PS256")
    assert_valid(client, token, actualData=b64url(PAYLOAD))


# -- signV2 / signRawData ------------------------------------------------------------------------


@pytest.mark.parametrize(("app_id", "ref_id", "key_tuple", "jwt_alg"), KINDS)
@pytest.mark.parametrize("encoding", [None, "base58btc", "base64url"])
def test_sign_v2(client, ec_keys, app_id, ref_id, key_tuple, jwt_alg, encoding) -> None:
    data = bytes(range(256)) * 3
    request = {"dataToSign": b64url(data), "applicationId": app_id, "referenceId": ref_id,
               "responseEncodingFormat": encoding}
    signature = ok(post(client, "/signV2", request))["signature"]
    if encoding == "base64url":
        assert set(signature) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        decoded = b64url_decode(signature)
    else:
        assert signature.startswith("z")  # multibase prefix of base58btc
        decoded = b58decode(signature[1:])
    public_key = get_certificate(client, *key_tuple).public_key()
    verify_raw(public_key, decoded, data)
    with pytest.raises(InvalidSignature):
        verify_raw(public_key, decoded, data + b"x")


@pytest.mark.parametrize(("app_id", "ref_id", "key_tuple", "jwt_alg"), KINDS)
def test_sign_raw_data_fields(client, container, ec_keys, app_id, ref_id, key_tuple, jwt_alg) -> None:
    data = b"sign me raw"
    request = {"dataToSign": b64url(data), "applicationId": app_id, "referenceId": ref_id}
    result = ok(post(client, "/signRawData", request))
    assert set(result) == {"signedData", "keyId", "certificate", "signatureAlgorithm", "timestamp"}
    assert result["signatureAlgorithm"] == JWS_ALG[jwt_alg]
    assert result["keyId"] == key_id(current_uni_ident(container, key_tuple))
    cert = x509.load_pem_x509_certificate(result["certificate"].encode())
    assert cert == get_certificate(client, *key_tuple)
    assert result["signedData"].startswith("z")
    verify_raw(cert.public_key(), b58decode(result["signedData"][1:]), data)


def test_sign_raw_data_rs256(client) -> None:
    result = ok(post(client, "/signRawData", {"dataToSign": b64url(b"abc"), "applicationId": APP, "referenceId": "",
                                              "signAlgorithm": "RS256", "responseEncodingFormat": "base64url"}))
    assert result["signatureAlgorithm"] == "RS256"
    cert = x509.load_pem_x509_certificate(result["certificate"].encode())
    cert.public_key().verify(b64url_decode(result["signedData"]), b"abc", padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("path", ["/signV2", "/signRawData"])
@pytest.mark.parametrize("encoding", ["base64", "hex", "BASE58BTC", "z"])
def test_sign_v2_unknown_format(client, path, encoding) -> None:
    request = {"dataToSign": b64url(b"abc"), "applicationId": APP, "referenceId": "",
               "responseEncodingFormat": encoding}
    error(post(client, path, request), "KER-KMS-036", message="Unsupported output format for the signature")


@pytest.mark.parametrize("path", ["/signV2", "/signRawData"])
def test_sign_v2_data_not_base64(client, path) -> None:
    error(post(client, path, {"dataToSign": "not*base64!", "applicationId": APP, "referenceId": ""}), "KER-JWS-102")


# -- legacy /sign and /validate ------------------------------------------------------------------


def test_legacy_sign_then_validate(client) -> None:
    data = "test data ü"
    signature = ok(post(client, "/sign", {"data": data}))["signature"]
    head, middle, sig = signature.split(".")
    assert head == "eyJhbGciOiJSUzI1NiJ9" and middle == ""
    # RS256 over b64url(header) "." b64url(UTF-8 data), by KERNEL/SIGN (PyJWT, payload put back).
    pyjwt_verify(signature, get_certificate(client, "KERNEL", "SIGN").public_key(), "RS256", data.encode())

    request = {"signature": signature, "data": data, "timestamp": "2025-01-15T09:30:00.000Z"}
    assert ok(post(client, "/validate", request)) == {"status": "success", "message": "Validation Successful"}


@pytest.mark.parametrize("padded", [False, True])
def test_legacy_validate_accepts_the_standard_alphabet(client, padded) -> None:
    data = "some data to sign, long enough for + and / to appear" * 3
    signature = ok(post(client, "/sign", {"data": data}))["signature"]
    head, _, sig = signature.split(".")

    def standard(segment: str) -> str:
        text = base64.b64encode(b64url_decode(segment)).decode()
        return text if padded else text.rstrip("=")

    converted = f"{standard(head)}..{standard(sig)}"
    request = {"signature": converted, "data": data, "timestamp": "2025-01-15T09:30:00.000Z"}
    assert ok(post(client, "/validate", request))["status"] == "success"


def test_legacy_validate_wrong_data(client) -> None:
    signature = ok(post(client, "/sign", {"data": "original"}))["signature"]
    error(post(client, "/validate", {"signature": signature, "data": "tampered"}), "KER-CSS-101",
          message="Validation Unsuccessful")
    for garbage in ("nodots", "a.b.c", "!!..!!", "eyJhbGciOiJub25lIn0.."):
        error(post(client, "/validate", {"signature": garbage, "data": "original"}), "KER-CSS-101")


# -- tokens made by PyJWT verify through jwtVerify -----------------------------------------------


def test_key(alg: str):
    if alg in ("RS256", "PS256"):
        return rsa.generate_private_key(65537, 2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "ES256K":
        return ec.generate_private_key(ec.SECP256K1())
    return ed25519.Ed25519PrivateKey.generate()


test_key.__test__ = False  # a helper, not a test


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "ES256K", "EdDSA"])
def test_pyjwt_tokens_verify_through_jwt_verify(client, alg) -> None:
    key = test_key(alg)
    cert = make_cert(key, f"pyjwt {alg}")
    plain = PYJWS.encode(PAYLOAD, key, algorithm=alg)
    assert_valid(client, plain, certificateData=pem(cert))

    with_x5c = PYJWS.encode(PAYLOAD, key, algorithm=alg, headers={"x5c": [der_b64(cert)], "x5t#S256": x5t(cert)})
    assert_valid(client, with_x5c)
    # x5c takes precedence over certificateData and over (app, ref).
    other = make_cert(test_key(alg), "someone else")
    assert_valid(client, with_x5c, certificateData=pem(other), applicationId=APP, referenceId="")
    assert_invalid(client, plain, certificateData=pem(other))

    detached = PYJWS.encode(PAYLOAD, key, algorithm=alg, is_payload_detached=True)  # b64=false, crit=[b64]
    assert detached.split(".")[1] == ""
    assert_valid(client, detached, certificateData=pem(cert), actualData=b64url(PAYLOAD))
    assert_invalid(client, detached, certificateData=pem(cert), actualData=b64url(PAYLOAD + b" "))


def test_pyjwt_detached_b64_true_via_actual_data(client) -> None:
    key = test_key("ES256")
    cert = make_cert(key, "detached")
    head, _, signature = PYJWS.encode(PAYLOAD, key, algorithm="ES256").split(".")
    assert_valid(client, f"{head}..{signature}", certificateData=pem(cert), actualData=b64url(PAYLOAD))
    # Detached with nothing to put back: invalid, not an error.
    assert_invalid(client, f"{head}..{signature}", certificateData=pem(cert))


# -- rejections ----------------------------------------------------------------------------------


def test_alg_none_is_rejected(client) -> None:
    cert = get_certificate(client, "KERNEL", "SIGN")
    for header in ({"alg": "none"}, {"alg": "none", "x5c": [der_b64(cert)]}, {"alg": "NONE"}):
        unsigned = f"{compact_header(header)}.{b64url(PAYLOAD)}."
        response = post(client, "/jwtVerify", {"jwtSignatureData": unsigned})
        error(response, "KER-JWS-106")  # no signature segment at all
        with_junk = unsigned + "AAAA"
        assert_invalid(client, with_junk)
        assert_invalid(client, with_junk, certificateData=pem(cert))


def test_hs256_keyed_with_our_public_key_is_rejected(client) -> None:
    cert = get_certificate(client, "KERNEL", "SIGN")
    public = cert.public_key()
    secrets = [
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        pem(cert).encode(),
        cert.public_bytes(serialization.Encoding.DER),
    ]
    for secret in secrets:
        for header in ({"alg": "HS256"}, {"alg": "HS256", "x5c": [der_b64(cert)]}):
            signing_input = f"{compact_header(header)}.{b64url(PAYLOAD)}"
            mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
            forged = f"{signing_input}.{b64url(mac)}"
            assert_invalid(client, forged)
            assert_invalid(client, forged, certificateData=pem(cert))
            assert_invalid(client, forged, applicationId="KERNEL", referenceId="SIGN")


def test_x5c_of_another_certificate_is_invalid(client) -> None:
    ours = get_certificate(client, "KERNEL", "SIGN")
    # The construction works: our key, our certificate in x5c.
    assert_valid(client, forged_by_our_key(client, {"alg": "RS256", "x5c": [der_b64(ours)]}))
    # Another certificate in x5c, the signature still by our key.
    other = make_cert(rsa.generate_private_key(65537, 2048), "other")
    assert_invalid(client, forged_by_our_key(client, {"alg": "RS256", "x5c": [der_b64(other)]}))
    # Our ROOT (a real certificate of ours, but not the signer).
    root = get_certificate(client, "ROOT")
    assert_invalid(client, forged_by_our_key(client, {"alg": "RS256", "x5c": [der_b64(root), der_b64(ours)]}))


def test_x5t_not_matching_x5c_is_invalid(client) -> None:
    ours = get_certificate(client, "KERNEL", "SIGN")
    good = {"alg": "RS256", "x5c": [der_b64(ours)], "x5t#S256": x5t(ours)}
    assert_valid(client, forged_by_our_key(client, good))
    wrong = dict(good, **{"x5t#S256": x5t(get_certificate(client, "ROOT"))})
    assert_invalid(client, forged_by_our_key(client, wrong))


@pytest.mark.parametrize(
    ("start", "days"),
    [
        pytest.param(datetime(2020, 1, 1, tzinfo=UTC), 365, id="expired"),
        pytest.param(START + timedelta(days=1), 365, id="not-yet-valid"),
    ],
)
def test_certificate_not_valid_now(client, start, days) -> None:
    key = test_key("ES256")
    cert = make_cert(key, "out of validity", start=start, days=days)
    token = PYJWS.encode(PAYLOAD, key, algorithm="ES256", headers={"x5c": [der_b64(cert)]})
    message = "Signature verification certificate not valid."
    error(post(client, "/jwtVerify", {"jwtSignatureData": token}), "KER-JWS-107", message=message)
    error(post(client, "/jwtVerify/v2", {"jwtSignatureData": token}), "KER-JWS-107", message=message)
    plain = PYJWS.encode(PAYLOAD, key, algorithm="ES256")
    error(post(client, "/jwtVerify", {"jwtSignatureData": plain, "certificateData": pem(cert)}), "KER-JWS-107")


def test_tampered_tokens_are_invalid(client) -> None:
    token = jwt_sign(client, None, None, includePayload=True, includeCertificate=True)
    head, body, signature = token.split(".")
    assert_valid(client, token)

    _, header = header_of(token)
    tampered_header = compact_header({**header, "kid": "someone-else"})
    assert_invalid(client, f"{tampered_header}.{body}.{signature}")
    tampered_alg = compact_header({**header, "alg": "PS256"})
    assert_invalid(client, f"{tampered_alg}.{body}.{signature}")
    assert_invalid(client, f"{head}.{b64url(PAYLOAD.replace(b'12345', b'12346'))}.{signature}")
    assert_invalid(client, f"{head}.{b64url(b'{}')}.{signature}")
    flipped = bytearray(b64url_decode(signature))
    flipped[10] ^= 1
    assert_invalid(client, f"{head}.{body}.{b64url(bytes(flipped))}")
    # Detached: the wrong actualData.
    detached = jwt_sign(client, None, None)
    assert_invalid(client, detached, actualData=b64url(b'{"other":true}'))


@pytest.mark.parametrize(
    "malformed",
    [
        pytest.param("eyJhbGciOiJSUzI1NiJ9.e30", id="two-parts"),
        pytest.param("eyJhbGciOiJSUzI1NiJ9.e30.AAAA.BBBB", id="four-parts"),
        pytest.param("eyJhbGciOiJSUzI1NiJ9.e30.AAAA.BBBB.CCCC", id="five-parts"),
        pytest.param("!!!*.e30.AAAA", id="header-not-base64"),
        pytest.param(b64url(b"not json") + ".e30.AAAA", id="header-not-json"),
        pytest.param(b64url(b"[1,2]") + ".e30.AAAA", id="header-json-array"),
        pytest.param(b64url(b'"RS256"') + ".e30.AAAA", id="header-json-string"),
        pytest.param(b64url(b"\xff\xfe") + ".e30.AAAA", id="header-not-utf8"),
        pytest.param(".e30.AAAA", id="empty-header"),
        pytest.param("...", id="only-dots"),
        pytest.param(compact_header({"alg": "RS256", "x5c": "notalist"}) + ".e30.AAAA", id="x5c-not-a-list"),
        pytest.param(compact_header({"alg": "RS256", "x5c": []}) + ".e30.AAAA", id="x5c-empty"),
        pytest.param(compact_header({"alg": "RS256", "x5c": [1]}) + ".e30.AAAA", id="x5c-not-strings"),
    ],
)
def test_malformed_compact_serialisation(client, malformed) -> None:
    for path in ("/jwtVerify", "/jwtVerify/v2"):
        error(post(client, path, {"jwtSignatureData": malformed}), "KER-JWS-106",
              message="Signature data to verify not valid.")


@pytest.mark.parametrize("x5c", [["!!notbase64"], [base64.b64encode(b"not a certificate").decode()]])
def test_x5c_not_a_certificate(client, x5c) -> None:
    token = compact_header({"alg": "RS256", "x5c": x5c}) + ".e30.AAAA"
    response = post(client, "/jwtVerify", {"jwtSignatureData": token})
    error(response, "KER-JWS-107")


def test_payload_segment_not_base64(client) -> None:
    head, _, signature = jwt_sign(client, None, None, includePayload=True).split(".")
    assert_invalid(client, f"{head}.!!not-base64!!.{signature}")
    assert_invalid(client, f"{head}..{signature}", actualData="!!not-base64!!")


def test_certificate_data_not_a_certificate(client) -> None:
    token = jwt_sign(client, None, None, includePayload=True)
    error(post(client, "/jwtVerify", {"jwtSignatureData": token, "certificateData": "garbage"}), "KER-KMS-013")


@pytest.mark.parametrize("path", ["/jwtSign", "/jwtSign/v2", "/jwsSign", "/jwsSign/v2"])
def test_data_to_sign_not_base64(client, path) -> None:
    request = {"dataToSign": "this is not base64!", "applicationId": APP, "referenceId": "", "validateJson": True}
    error(post(client, path, request), "KER-JWS-102", message="Data to sign is not valid.")


@pytest.mark.parametrize("path", ["/jwtSign", "/jwtSign/v2", "/jwsSign", "/jwsSign/v2"])
def test_data_to_sign_not_json(client, path) -> None:
    request = {"dataToSign": b64url(b"plain text {"), "applicationId": APP, "referenceId": "", "validateJson": True}
    error(post(client, path, request), "KER-JWS-103", message="Data to sign is not valid JSON.")


def test_data_to_sign_blank(client) -> None:
    error(post(client, "/jwtSign", {"dataToSign": "  ", "applicationId": APP, "referenceId": ""}), "KER-KMS-005")


SIGNING_PATHS = ["/jwtSign", "/jwtSign/v2", "/jwsSign", "/jwsSign/v2", "/signV2", "/signRawData"]


@pytest.mark.parametrize("path", SIGNING_PATHS)
@pytest.mark.parametrize(
    ("app_id", "ref_id"), [(APP, "SIGN"), (APP, "unknown-ref"), ("KERNEL", "IDENTITY_CACHE"), ("ROOT", "x")]
)
def test_signing_not_allowed_for_the_reference(client, path, app_id, ref_id) -> None:
    request = {**sign_request(app_id, ref_id), "validateJson": False}
    error(post(client, path, request), "KER-KMS-020",
          message="Signing operation not allowed for the provided application id & reference id.")


@pytest.mark.parametrize("path", SIGNING_PATHS)
def test_signing_with_an_unknown_application(client, path) -> None:
    response = post(client, path, {**sign_request("NO_SUCH_APP", ""), "validateJson": False})
    assert response.status_code == 200
    assert_clean(response)
    assert response.get_json()["errors"][0]["errorCode"] in ("KER-KMS-002", "KER-JWS-108")


@pytest.mark.parametrize("path", SIGNING_PATHS)
def test_ec_key_not_generated_yet(client, path) -> None:
    error(post(client, path, {**sign_request(APP, P256), "validateJson": False}), "KER-KMS-012")


def test_access_denied_by_policy(make_container, memory_settings, clock) -> None:
    built = make_container(memory_settings, clock)
    with built.uow_factory()() as uow:
        uow.keys.save_policy(KeyPolicy(APP, 1095, 60, access_allowed="someone"))
        uow.commit()
    init_master_keys(built)
    client = create_app(memory_settings, built).test_client()
    message = "Signing data not allowed for the authenticated token."
    for path in SIGNING_PATHS:
        for ref in ("", P256):
            error(post(client, path, {**sign_request(APP, ref), "validateJson": False}), "KER-JWS-108", message=message)
    # KERNEL's policy allows everyone: the default key still signs, and /sign is not checked.
    jwt_sign(client, None, None)
    ok(post(client, "/sign", {"data": "x"}))
    # Verification is not access-checked.
    token = jwt_sign(client, None, None, includePayload=True, includeCertificate=True)
    assert_valid(client, token)


def test_signing_after_the_master_key_expired(client, clock) -> None:
    # The REGISTRATION master certificate lives 1095 days; past it the key rotates on use,
    # so signing goes on with a new key (KER-KMA-005 needs a current key whose certificate
    # is not valid now, which the key lifecycle does not produce).
    first = get_certificate(client, APP)
    clock.advance(timedelta(days=1096))
    token = jwt_sign(client, APP, "", includePayload=True, includeCertificate=True)
    _, header = header_of(token)
    assert header["x5c"] != [der_b64(first)]
    pyjwt_verify(token, public_key_from_x5c(header), "RS256")


# -- generateECSignKey ---------------------------------------------------------------------------


@pytest.mark.parametrize("ref", [P256, K1, ED])
def test_generate_ec_sign_key_is_idempotent_and_force_renews(client, container, ref) -> None:
    first = generate_sign_key(client, APP, ref)
    assert generate_sign_key(client, APP, ref) == first
    assert generate_sign_key(client, APP, ref, object_type="certificate") == first  # case-insensitive
    renewed = generate_sign_key(client, APP, ref, force=True)
    assert renewed != first
    assert renewed.public_key() != first.public_key()
    assert get_certificate(client, APP, ref) == renewed
    # Signing now uses the new key.
    token = jwt_sign(client, APP, ref, includeCertificate=True, includePayload=True)
    assert header_of(token)[1]["x5c"] == [der_b64(renewed)]
    listed = all_certificates(client, APP, ref)
    assert [x509.load_pem_x509_certificate(e["certificateData"].encode()) for e in listed] == [first, renewed]
    assert listed[-1]["keyId"] == key_id(current_uni_ident(container, (APP, ref)))
    assert len({e["keyId"] for e in listed}) == 2


@pytest.mark.parametrize(
    ("ref", "curve", "issuer"),
    [(P256, ec.SECP256R1, ("ROOT", "")), (K1, ec.SECP256K1, ("ROOT", "")), (ED, None, (APP, ""))],
)
def test_generate_ec_sign_key_certificates(client, ref, curve, issuer) -> None:
    cert = generate_sign_key(client, APP, ref)
    public = cert.public_key()
    if curve is None:
        assert isinstance(public, ed25519.Ed25519PublicKey)
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, curve)
    issuer_cert = get_certificate(client, *issuer)
    cert.verify_directly_issued_by(issuer_cert)
    assert cert.issuer == issuer_cert.subject
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == f"www.mosip.io ({APP}-{ref})"


@pytest.mark.parametrize("ref", [P256, K1, ED])
def test_generate_ec_sign_key_csr(client, ref) -> None:
    cert = generate_sign_key(client, APP, ref)
    csr = generate_sign_key(client, APP, ref, object_type="CSR")
    assert csr.is_signature_valid
    assert csr.public_key() == cert.public_key()


@pytest.mark.parametrize(
    ("app_id", "ref_id"),
    [("ROOT", P256), ("ROOT", ED), (APP, "SIGN"), (APP, ""), (APP, "other"), ("KERNEL", "SIGN")],
)
def test_generate_ec_sign_key_refused(client, app_id, ref_id) -> None:
    request = {"applicationId": app_id, "referenceId": ref_id}
    error(post(client, "/generateECSignKey/CERTIFICATE", request), "KER-KMS-030",
          message="EC Sign Reference Id Not Supported for the Application ID.")


def test_generate_ec_sign_key_bad_object_type(client) -> None:
    error(post(client, "/generateECSignKey/FOO", {"applicationId": APP, "referenceId": P256}), "KER-KMS-005",
          message="Invalid request Allowed values are CSR/CERTIFICATE.")


def test_generate_ec_sign_key_unknown_application(client) -> None:
    error(post(client, "/generateECSignKey/CERTIFICATE", {"applicationId": "NO_SUCH_APP", "referenceId": P256}),
          "KER-KMS-002")


def test_ed25519_for_an_application_without_a_master_key(client) -> None:
    error(post(client, "/generateECSignKey/CERTIFICATE", {"applicationId": "PMS", "referenceId": ED}), "KER-KMS-012")


# -- generateCSR / uploadCertificate -----------------------------------------------------------


@pytest.fixture(scope="module")
def test_ca() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(65537, 2048)
    return key, make_cert(key, "Test CA", ca=True)


def generate_csr(client, app: str, ref: str, **subject: str) -> x509.CertificateSigningRequest:
    response = ok(post(client, "/generateCSR", {"applicationId": app, "referenceId": ref, **subject}))
    assert response["certificate"] is None
    return x509.load_pem_x509_csr(response["certSignRequest"].encode())


def issue_for_csr(test_ca, csr: x509.CertificateSigningRequest, *, ca: bool = False) -> x509.Certificate:
    ca_key, ca_cert = test_ca
    start = START - timedelta(days=1)
    return (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=400))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )


def upload(client, app: str, ref: str, certificate_data: str):
    request = {"applicationId": app, "referenceId": ref, "certificateData": certificate_data}
    return post(client, "/uploadCertificate", request)


@pytest.mark.parametrize("ref", ["csr1", ""], ids=["base-key", "master-key"])
def test_csr_issue_and_upload(client, container, test_ca, ref) -> None:
    before = get_certificate(client, APP, ref)
    csr = generate_csr(client, APP, ref, commonName="csr.example.org", organization="Test Org", country="IN")
    assert csr.is_signature_valid
    assert csr.public_key() == before.public_key()
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "csr.example.org"
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Test Org"
    assert csr.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "IN"
    assert csr.signature_hash_algorithm.name == "sha256"
    assert len(csr.attributes) == 0

    issued = issue_for_csr(test_ca, csr, ca=(ref == ""))
    issued.verify_directly_issued_by(test_ca[1])
    assert ok(upload(client, APP, ref, pem(issued)))["status"] == "Upload Success"
    assert get_certificate(client, APP, ref) == issued
    uni_ident = current_uni_ident(container, (APP, ref))
    assert all_certificates(client, APP, ref)[-1]["keyId"] == key_id(uni_ident)
    assert x509.load_pem_x509_certificate(all_certificates(client, APP, ref)[-1]["certificateData"].encode()) == issued

    if ref:
        wire = encrypt(client, b"after upload", app=APP, ref=ref)
        assert wire[6:38] == hashlib.sha256(issued.public_bytes(serialization.Encoding.DER)).digest()
        assert decrypt(client, wire, app=APP, ref=ref) == b"after upload"
    else:
        # The master key now signs with the uploaded certificate.
        token = jwt_sign(client, APP, "", includeCertificate=True, includePayload=True)
        _, header = header_of(token)
        assert header["x5c"] == [der_b64(issued)]
        assert header["kid"] == key_id(uni_ident)
        pyjwt_verify(token, issued.public_key(), "RS256")
        assert_valid(client, token)


def test_data_encrypted_before_an_upload(client, test_ca) -> None:
    """Data encrypted before the upload carries the old certificate's thumbprint, which no
    key_alias row holds any more (the upload replaced it); it still opens, from the cache or
    from the retired-thumbprint table (see the cold-cache test)."""
    ref = "csr2"
    warm = encrypt(client, b"decrypted before upload", app=APP, ref=ref)
    cold = encrypt(client, b"never decrypted before upload", app=APP, ref=ref)
    assert warm[6:38] == cold[6:38]
    assert decrypt(client, warm, app=APP, ref=ref) == b"decrypted before upload"
    csr = generate_csr(client, APP, ref)
    ok(upload(client, APP, ref, pem(issue_for_csr(test_ca, csr))))

    assert decrypt(client, warm, app=APP, ref=ref) == b"decrypted before upload"  # the cache still knows it
    later = encrypt(client, b"after upload", app=APP, ref=ref)
    assert later[6:38] != cold[6:38]
    assert decrypt(client, later, app=APP, ref=ref) == b"after upload"


def test_data_encrypted_before_an_upload_cold_cache(make_container, memory_settings, clock, test_ca) -> None:
    built = make_container(memory_settings.with_overrides(key_cache_ttl_seconds=0), clock)
    init_master_keys(built)
    client = create_app(memory_settings, built).test_client()
    ref = "csr2"
    earlier = encrypt(client, b"before upload", app=APP, ref=ref)
    assert decrypt(client, earlier, app=APP, ref=ref) == b"before upload"
    ok(upload(client, APP, ref, pem(issue_for_csr(test_ca, generate_csr(client, APP, ref)))))
    # Nothing lost (a deliberate fix: the reference answers KER-KMS-025 here once its cache has
    # forgotten the old thumbprint): the retired thumbprint still names the same private key.
    assert decrypt(client, earlier, app=APP, ref=ref) == b"before upload"
    # ... and only for its own application
    error(post(client, "/decrypt", crypto_request(earlier, app="PMS", ref=ref)), "KER-KMS-024")
    later = encrypt(client, b"after upload", app=APP, ref=ref)
    assert decrypt(client, later, app=APP, ref=ref) == b"after upload"


def test_csr_default_subject(client) -> None:
    csr = generate_csr(client, APP, "")
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "www.mosip.io"
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "IITB"
    assert csr.is_signature_valid


def test_upload_certificate_for_another_key(client, test_ca) -> None:
    get_certificate(client, APP, "csr3")
    other_key = rsa.generate_private_key(65537, 2048)
    foreign = make_cert(other_key, "other key", issuer_key=test_ca[0], issuer=test_ca[1])
    error(upload(client, APP, "csr3", pem(foreign)), "KER-KMS-014",
          message="Certificate Key Not Matching with stored Key.")
    error(upload(client, APP, "", pem(foreign)), "KER-KMS-014")


@pytest.mark.parametrize(
    "garbage",
    [
        "garbage",
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"not DER").decode() + "\n-----END CERTIFICATE-----",
    ],
)
def test_upload_certificate_garbage(client, garbage) -> None:
    get_certificate(client, APP, "csr4")
    error(upload(client, APP, "csr4", garbage), "KER-KMS-013", message="Certificate Parsing Error.")


@pytest.mark.parametrize(
    ("field", "value"),
    [("country", "INDIA"), ("country", "I"), ("country", "ÉÉ"), ("commonName", "x" * 65)],
)
def test_subject_fields_x509_cannot_carry(client, field, value) -> None:
    message = f"Invalid request: {field} is not valid in a certificate subject"
    error(post(client, "/generateCSR", {"applicationId": APP, "referenceId": "", field: value}), "KER-KMS-005",
          message=message)
    request = {"applicationId": APP, "referenceId": P256, field: value}
    error(post(client, "/generateECSignKey/CERTIFICATE", request), "KER-KMS-005", message=message)
    # Nothing was left behind: the key is made on the next valid request.
    assert all_certificates(client, APP, P256) == []
    generate_sign_key(client, APP, P256)
    assert len(all_certificates(client, APP, P256)) == 1


def test_generate_csr_identity_cache_refused(client) -> None:
    error(post(client, "/generateCSR", {"applicationId": "KERNEL", "referenceId": "IDENTITY_CACHE"}), "KER-KMS-022",
          message="CSR Generation not allowed for the provided App Id & Ref Id.")


def test_generate_csr_unknown_application(client) -> None:
    error(post(client, "/generateCSR", {"applicationId": "NO_SUCH_APP", "referenceId": ""}), "KER-KMS-002")


@pytest.mark.parametrize("ref", [P256, ED])
def test_generate_csr_for_sign_keys(client, ec_keys, ref) -> None:
    csr = generate_csr(client, APP, ref, commonName="sign key")
    assert csr.is_signature_valid
    assert csr.public_key() == ec_keys[ref].public_key()


# -- getCertificateChain -------------------------------------------------------------------------


def chain_of(client, app: str, ref: str = "") -> list[x509.Certificate]:
    """The bundle's certificates in the order it holds them, read with asn1crypto (an independent
    parser that keeps the order; `cryptography` warns about the unsorted SET OF and falls back)."""
    response = ok(client.get(f"{API}/getCertificateChain", query_string={"applicationId": app, "referenceId": ref}))
    bundle = response["certificatesTrustPath"]
    assert bundle.startswith("-----BEGIN PKCS7-----\n") and bundle.endswith("\n-----END PKCS7-----")
    body = "".join(bundle.splitlines()[1:-1])
    content = cms.ContentInfo.load(base64.b64decode(body))["content"]
    return [x509.load_der_x509_certificate(c.chosen.dump()) for c in content["certificates"]]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("chain1", [(APP, "chain1"), (APP, ""), ("ROOT", "")]),
        ("", [(APP, ""), ("ROOT", "")]),
        (P256, [(APP, P256), ("ROOT", "")]),
        (ED, [(APP, ED), (APP, ""), ("ROOT", "")]),
    ],
)
def test_certificate_chain(client, ec_keys, ref, expected) -> None:
    bundle = chain_of(client, APP, ref)
    chain = [get_certificate(client, *key_tuple) for key_tuple in expected]
    assert bundle == chain  # leaf first, root last, in the bundle's own order
    assert ordered_path(bundle, chain[0]) == chain
    assert_chain(chain)


def test_certificate_chain_kernel_sign(client) -> None:
    bundle = chain_of(client, "KERNEL", "SIGN")
    chain = [get_certificate(client, "KERNEL", "SIGN"), get_certificate(client, "ROOT")]
    assert bundle == chain
    assert ordered_path(bundle, chain[0]) == chain
    assert_chain(chain)


def ordered_path(bundle: list[x509.Certificate], leaf: x509.Certificate) -> list[x509.Certificate]:
    """The bundle's certificates from ``leaf`` up, each followed by the one that issued it."""
    path = [leaf]
    while path[-1].issuer != path[-1].subject:
        issuers = [c for c in bundle if c.subject == path[-1].issuer and c not in path]
        assert len(issuers) == 1, issuers
        path.append(issuers[0])
    assert len(path) == len(bundle)
    return path


@pytest.mark.parametrize("ref", [P256, K1, ED])
def test_all_certificates_lists_sign_keys(client, container, ec_keys, ref) -> None:
    listed = all_certificates(client, APP, ref)
    assert len(listed) == 1
    assert x509.load_pem_x509_certificate(listed[0]["certificateData"].encode()) == ec_keys[ref]
    assert listed[0]["keyId"] == key_id(current_uni_ident(container, (APP, ref)))
