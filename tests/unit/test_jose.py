"""application/crypto/jose.py: the reference's JWS byte layout (vector V7), ECDSA signature
forms, the algorithm pinning of verification, and domain.codec.base58btc_encode.

V6 (the legacy detached RS256) is reproduced in test_known_answers.py; here it is
only checked to verify. Independent checks use PyJWT (`jwt`), never joserfc, and
`cryptography` directly.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from application.crypto import jose
from domain.codec import b64url_encode, base58btc_encode
from tests.support.repo import VECTORS_DIR

# joserfc (the verifier under test) warns that "EdDSA" is superseded by "Ed25519"; MOSIP uses "EdDSA".
pytestmark = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")

V7_PAYLOAD = b'{"a":1}'
V7_URL = "https://example.org/cert"
V7_KID = "KIDVALUE"


@pytest.fixture(scope="module")
def test_key() -> rsa.RSAPrivateKey:
    key = serialization.load_der_private_key((VECTORS_DIR / "rsa2048_test_key.pk8.der").read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@pytest.fixture(scope="module")
def test_cert_der() -> bytes:
    return (VECTORS_DIR / "test_cert.der").read_bytes()


def rs256(key: rsa.RSAPrivateKey):
    return lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def v7_fields(cert_der: bytes) -> list[tuple[str, object]]:
    """jose4j's insertion order: alg, x5c, x5t#S256, x5u, kid."""
    return [
        ("alg", "RS256"),
        ("x5c", [jose.std_b64(cert_der)]),
        ("x5t#S256", b64url_encode(hashlib.sha256(cert_der).digest())),
        ("x5u", V7_URL),
        ("kid", V7_KID),
    ]


def token(header: dict, payload: bytes, signature: bytes) -> str:
    """A compact JWS assembled by hand (no project code)."""
    encoded = base64.urlsafe_b64encode(json.dumps(header, separators=(",", ":")).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    sig = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    return f"{encoded}.{body}.{sig}"


def signing_input(header: dict, payload: bytes) -> bytes:
    return token(header, payload, b"").rsplit(".", 1)[0].encode("ascii")


# -- V7: jwtSign header and tokens, byte for byte ----------------------------------------------


def test_v7_header_bytes_in_jose4j_order(vectors, test_cert_der):
    assert jose.header_bytes(v7_fields(test_cert_der)) == vectors["V7.headerJson"].encode("utf-8")


def test_v7_x5c_is_the_test_certificate_in_standard_base64(vectors, test_cert_der):
    header = json.loads(vectors["V7.headerJson"])
    assert base64.b64decode(header["x5c"][0], validate=True) == test_cert_der
    assert header["x5t#S256"] == b64url_encode(hashlib.sha256(test_cert_der).digest())


def test_v7_attached_byte_for_byte(vectors, test_key, test_cert_der):
    header = jose.header_bytes(v7_fields(test_cert_der))
    assert jose.compact(header, V7_PAYLOAD, rs256(test_key), detached=False) == vectors["V7.attached"]


def test_v7_detached_byte_for_byte(vectors, test_key, test_cert_der):
    header = jose.header_bytes(v7_fields(test_cert_der))
    detached = jose.compact(header, V7_PAYLOAD, rs256(test_key), detached=True)
    assert detached == vectors["V7.detached"]
    head, middle, signature = detached.split(".")
    assert middle == ""
    attached_head, _, attached_signature = vectors["V7.attached"].split(".")
    assert (head, signature) == (attached_head, attached_signature)


def test_v7_verifies_with_pyjwt_and_verify_compact(vectors, test_key, test_cert_der):
    public_key = x509.load_der_x509_certificate(test_cert_der).public_key()
    decoded = jwt.api_jws.PyJWS().decode_complete(vectors["V7.attached"], public_key, algorithms=["RS256"])
    assert decoded["payload"] == V7_PAYLOAD
    assert list(decoded["header"]) == ["alg", "x5c", "x5t#S256", "x5u", "kid"]
    assert jose.verify_compact(vectors["V7.attached"], public_key) is True
    # The detached form verifies once the payload is put back in its slot.
    head, _, signature = vectors["V7.detached"].split(".")
    assert jose.verify_compact(f"{head}.{b64url_encode(V7_PAYLOAD)}.{signature}", public_key) is True
    other = b64url_encode(b'{"a":2}')
    assert jose.verify_compact(f"{head}.{other}.{signature}", public_key) is False


def test_v6_verifies_once_the_payload_is_back(vectors, test_cert_der):
    # The V6 bytes themselves are reproduced in test_known_answers.py.
    public_key = x509.load_der_x509_certificate(test_cert_der).public_key()
    head, _, signature = vectors["V6.cryptoCoreSign_test"].split(".")
    attached = f"{head}.{b64url_encode(b'test')}.{signature}"
    assert jwt.api_jws.PyJWS().decode_complete(attached, public_key, algorithms=["RS256"])["payload"] == b"test"
    assert jose.verify_compact(attached, public_key) is True


def test_compact_without_b64_signs_the_raw_payload(test_key):
    header = jose.header_bytes([("alg", "RS256"), ("b64", False), ("crit", ["b64"])])
    payload = b"raw $.bytes"
    compact = jose.compact(header, payload, rs256(test_key), detached=True, encode_payload=False)
    head, middle, signature = compact.split(".")
    assert middle == ""
    test_key.public_key().verify(
        b64url_decode(signature), head.encode() + b"." + payload, padding.PKCS1v15(), hashes.SHA256()
    )
    decoded = jwt.api_jws.PyJWS().decode_complete(
        compact, test_key.public_key(), algorithms=["RS256"], detached_payload=payload
    )
    assert decoded["header"] == {"alg": "RS256", "b64": False, "crit": ["b64"]}


def test_std_b64_keeps_padding_and_standard_alphabet():
    assert jose.std_b64(b"\xfb\xff") == "+/8="


# -- ECDSA signature forms ------------------------------------------------------------------


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP256K1()], ids=["p256", "k1"])
def test_der_to_raw_and_back(curve):
    key = ec.generate_private_key(curve)
    for index in range(8):
        data = b"message %d" % index
        der = key.sign(data, ec.ECDSA(hashes.SHA256()))
        raw = jose.der_to_raw_ecdsa(der)
        assert len(raw) == 64
        r, s = decode_dss_signature(der)
        assert raw == r.to_bytes(32, "big") + s.to_bytes(32, "big")
        assert jose.raw_to_der_ecdsa(raw) == der
        key.public_key().verify(jose.raw_to_der_ecdsa(raw), data, ec.ECDSA(hashes.SHA256()))


def test_der_to_raw_pads_short_integers():
    der = encode_dss_signature(1, 2**255 + 3)
    raw = jose.der_to_raw_ecdsa(der)
    assert raw[:32] == bytes(31) + b"\x01"
    assert raw[32:] == (2**255 + 3).to_bytes(32, "big")
    assert jose.raw_to_der_ecdsa(raw) == der


def test_jose_signer_gives_raw_ecdsa():
    key = ec.generate_private_key(ec.SECP256R1())

    def keystore_sign(data, scheme):
        assert scheme is jose.SignatureScheme.ECDSA_SHA256
        return key.sign(data, ec.ECDSA(hashes.SHA256()))

    signature = jose.jose_signer(keystore_sign, "ES256")(b"abc")
    assert len(signature) == 64
    key.public_key().verify(jose.raw_to_der_ecdsa(signature), b"abc", ec.ECDSA(hashes.SHA256()))


# -- algorithm selection and pinning --------------------------------------------------------


def test_algorithms_for_key():
    assert jose.algorithms_for_key(rsa.generate_private_key(65537, 2048).public_key()) == ["RS256", "PS256"]
    assert jose.algorithms_for_key(ec.generate_private_key(ec.SECP256R1()).public_key()) == ["ES256"]
    assert jose.algorithms_for_key(ec.generate_private_key(ec.SECP256K1()).public_key()) == ["ES256K"]
    assert jose.algorithms_for_key(ed25519.Ed25519PrivateKey.generate().public_key()) == ["EdDSA"]
    # Keys we never sign with get no algorithm at all.
    assert jose.algorithms_for_key(ec.generate_private_key(ec.SECP384R1()).public_key()) == []
    assert jose.algorithms_for_key(ed448.Ed448PrivateKey.generate().public_key()) == []
    assert jose.algorithms_for_key(x25519.X25519PrivateKey.generate().public_key()) == []
    assert jose.algorithms_for_key(b"a shared secret") == []


@pytest.mark.parametrize(
    ("ref", "jwt_alg", "jws_alg"),
    [
        ("", "RS256", "PS256"),
        ("SIGN", "RS256", "PS256"),
        ("EC_SECP256R1_SIGN", "ES256", "ES256"),
        ("EC_SECP256K1_SIGN", "ES256K", "ES256K"),
        ("ED25519_SIGN", "EdDSA", "EdDSA"),
        ("anything", "RS256", "PS256"),
    ],
)
def test_algorithm_tables(ref, jwt_alg, jws_alg):
    assert jose.jwt_algorithm(ref) == jwt_alg
    assert jose.jws_algorithm(ref) == jws_alg
    assert jose.jws_algorithm(ref, "RS256") == "RS256"
    assert jose.jws_algorithm(ref, "HS256") == jws_alg  # not an asymmetric algorithm: the default


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


PAYLOAD = b'{"sub":"x"}'


def test_verify_compact_accepts_rs256_and_ps256_for_rsa(rsa_key):
    for alg, pad in (("RS256", padding.PKCS1v15()), ("PS256", padding.PSS(padding.MGF1(hashes.SHA256()), 32))):
        header = {"alg": alg}
        signature = rsa_key.sign(signing_input(header, PAYLOAD), pad, hashes.SHA256())
        assert jose.verify_compact(token(header, PAYLOAD, signature), rsa_key.public_key()) is True


def test_verify_compact_rejects_a_signature_under_the_other_rsa_padding(rsa_key):
    # A PKCS#1 v1.5 signature labelled PS256 (and the reverse) does not verify.
    for alg, pad in (("PS256", padding.PKCS1v15()), ("RS256", padding.PSS(padding.MGF1(hashes.SHA256()), 32))):
        header = {"alg": alg}
        signature = rsa_key.sign(signing_input(header, PAYLOAD), pad, hashes.SHA256())
        assert jose.verify_compact(token(header, PAYLOAD, signature), rsa_key.public_key()) is False


def test_rsa_algorithms_are_refused_for_an_ec_key():
    key = ec.generate_private_key(ec.SECP256R1())
    for alg in ("RS256", "PS256"):
        header = {"alg": alg}
        raw = jose.der_to_raw_ecdsa(key.sign(signing_input(header, PAYLOAD), ec.ECDSA(hashes.SHA256())))
        assert jose.verify_compact(token(header, PAYLOAD, raw), key.public_key()) is False


def test_verify_compact_rejects_alg_none(rsa_key):
    for signature in (b"", b"x"):
        assert jose.verify_compact(token({"alg": "none"}, PAYLOAD, signature), rsa_key.public_key()) is False
    assert jose.verify_compact(token({"alg": "None"}, PAYLOAD, b""), rsa_key.public_key()) is False


@pytest.mark.parametrize("form", ["spki-pem", "spki-der", "pkcs1-pem", "cert-like-text"])
def test_verify_compact_rejects_hs256_keyed_with_the_public_key(rsa_key, form):
    public = rsa_key.public_key()
    secret = {
        "spki-pem": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "spki-der": public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        "pkcs1-pem": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        "cert-like-text": b"-----BEGIN PUBLIC KEY-----",
    }[form]
    for alg, digest in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
        header = {"alg": alg}
        signature = hmac.new(secret, signing_input(header, PAYLOAD), digest).digest()
        assert jose.verify_compact(token(header, PAYLOAD, signature), public) is False


def es_sign(key: ec.EllipticCurvePrivateKey, header: dict) -> bytes:
    return jose.der_to_raw_ecdsa(key.sign(signing_input(header, PAYLOAD), ec.ECDSA(hashes.SHA256())))


def test_es256_token_fails_with_a_secp256k1_key():
    p256, k1 = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256K1())
    header = {"alg": "ES256"}
    es256 = token(header, PAYLOAD, es_sign(p256, header))
    assert jose.verify_compact(es256, p256.public_key()) is True
    assert jose.verify_compact(es256, k1.public_key()) is False
    # A secp256k1 signature labelled ES256 is refused even with the right key: ES256 means P-256.
    mislabelled = token(header, PAYLOAD, es_sign(k1, header))
    assert jose.verify_compact(mislabelled, k1.public_key()) is False
    # And the reverse: ES256K on a P-256 key.
    header = {"alg": "ES256K"}
    k_label = token(header, PAYLOAD, es_sign(p256, header))
    assert jose.verify_compact(k_label, p256.public_key()) is False


def test_eddsa_verifies_and_is_pinned():
    key = ed25519.Ed25519PrivateKey.generate()
    header = {"alg": "EdDSA"}
    good = token(header, PAYLOAD, key.sign(signing_input(header, PAYLOAD)))
    assert jose.verify_compact(good, key.public_key()) is True
    other = ed25519.Ed25519PrivateKey.generate().public_key()
    assert jose.verify_compact(good, other) is False
    assert jose.verify_compact(good, rsa.generate_private_key(65537, 2048).public_key()) is False


@pytest.mark.parametrize(
    "text", ["", "a.b", "a.b.c.d", "!!!.e30.AAAA", "bm90IGpzb24.e30.AAAA", "W10.e30.AAAA", "e30.e30.AAAA"]
)
def test_verify_compact_is_false_on_malformed_input(rsa_key, text):
    assert jose.verify_compact(text, rsa_key.public_key()) is False


def test_verify_compact_with_a_detached_raw_payload(rsa_key):
    header = {"alg": "PS256", "b64": False, "crit": ["b64"]}
    head = token(header, b"", b"").split(".")[0]
    raw = b"\x00\x01 not base64url"
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), 32)
    signature = rsa_key.sign(head.encode() + b"." + raw, pss, hashes.SHA256())
    compact = f"{head}..{b64url_encode(signature)}"
    assert jose.verify_compact(compact, rsa_key.public_key(), detached_payload=raw) is True
    assert jose.verify_compact(compact, rsa_key.public_key(), detached_payload=raw + b"!") is False


# -- base58btc ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", ""),
        (b"hello world", "StV1DL6CwTryKyV"),
        (bytes.fromhex("61"), "2g"),
        (bytes.fromhex("626262"), "a3gV"),
        (bytes.fromhex("636363"), "aPEr"),
        (b"simply a long string", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
        (bytes.fromhex("00eb15231dfceb60925886b67d065299925915aeb172c06647"), "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
        (bytes.fromhex("516b6fcd0f"), "ABnLTmg"),
        (bytes.fromhex("bf4f89001e670274dd"), "3SEo3LWLoPntC"),
        (bytes.fromhex("572e4794"), "3EFU7m"),
        (bytes.fromhex("ecac89cad93923c02321"), "EJDM8drfXA6uyA"),
        (bytes.fromhex("10c8511e"), "Rt5zm"),
        (b"\x00", "1"),
        (b"\x00" * 10, "1111111111"),
        (b"\x00\x00\x01", "112"),
        (b"\x00\x00hello world", "11StV1DL6CwTryKyV"),
    ],
)
def test_base58btc_known_values(data, expected):
    assert base58btc_encode(data) == expected


def test_verify_compact_ignores_unknown_header_parameters_unless_critical(rsa_key):
    # jwtSign/v2 and jwsSign/v2 put the caller's additional headers into our tokens; RFC 7515 §4
    # says a verifier ignores parameters it does not understand unless "crit" lists them.
    def signed(header: dict) -> str:
        return token(header, PAYLOAD, rsa_key.sign(signing_input(header, PAYLOAD), padding.PKCS1v15(), hashes.SHA256()))

    assert jose.verify_compact(signed({"alg": "RS256", "custom": "value", "typ": "JWT"}), rsa_key.public_key()) is True
    critical = signed({"alg": "RS256", "custom": "v", "crit": ["custom"]})
    assert jose.verify_compact(critical, rsa_key.public_key()) is False
    assert jose.verify_compact(signed({"alg": "RS256", "crit": ["missing"]}), rsa_key.public_key()) is False
    # Registered parameters are still type-checked.
    assert jose.verify_compact(signed({"alg": "RS256", "x5c": "not a list"}), rsa_key.public_key()) is False
