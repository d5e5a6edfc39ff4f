"""Compact JWE against the V8 jose4j vector and joserfc as an independent implementation."""
from __future__ import annotations

import dataclasses
import json
import zlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwe as joserfc_jwe
from joserfc.jwk import RSAKey

from application.crypto import primitives as crypto
from application.crypto.jwe import (
    JweMessage,
    decrypt_message,
    encrypt_compact,
    kid_thumbprint,
    parse_compact,
    protected_header,
)
from domain.codec import b64url_decode, b64url_encode
from domain.errors import KeyManagerError, StoreUnavailableError
from tests.support.repo import VECTORS_DIR

LIMIT = 1024 * 1024
V8_PLAINTEXT = b'{"a":1}'
TEST_THUMBPRINT = bytes.fromhex("760E034E7D9885B1536BE7FC7C05E64F2BDB58F25D5164F683CF13128BF724BF")
JOSERFC_REGISTRY = joserfc_jwe.JWERegistry(algorithms=["RSA-OAEP-256", "A256GCM", "DEF"])
JOSERFC_REGISTRY.max_protected_header_length = 8192  # an x5c header is ~2.5 KB; joserfc's default is 1 KB


@pytest.fixture(scope="module")
def test_key() -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key((VECTORS_DIR / "rsa2048_test_key.pk8.pem").read_bytes(), password=None)


@pytest.fixture(scope="module")
def test_cert() -> x509.Certificate:
    return x509.load_pem_x509_certificate((VECTORS_DIR / "test_cert.pem").read_bytes())


@pytest.fixture(scope="module")
def unwrap(test_key):
    return lambda encrypted_key: crypto.rsa_oaep_decrypt(test_key, encrypted_key)


def open_jwe(token: str, unwrap, limit: int = LIMIT) -> bytes:
    return decrypt_message(parse_compact(token), unwrap, max_plaintext_bytes=limit)


def expect_015(call, *args, **kwargs) -> KeyManagerError:
    with pytest.raises(KeyManagerError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == "KER-CRY-015"
    assert caught.value.message == "Internal Error while decrypting data using JWE."
    return caught.value


def header_segment(fields: dict) -> str:
    return b64url_encode(json.dumps(fields, separators=(",", ":")).encode())


def with_segment(token: str, index: int, segment: str) -> str:
    parts = token.split(".")
    parts[index] = segment
    return ".".join(parts)


V8_OPTIONS = dict(
    compress=True, include_certificate=True, include_cert_hash=True, jwk_set_url="https://example.org/jwks"
)


# -- V8 -------------------------------------------------------------------------------------------


def test_v8_opens_with_the_test_key(vectors, unwrap):
    message = parse_compact(vectors["V8.jwe"])
    assert message.header["zip"] == "DEF"
    assert kid_thumbprint(message) == TEST_THUMBPRINT
    assert decrypt_message(message, unwrap, max_plaintext_bytes=LIMIT) == V8_PLAINTEXT


def test_v8_opens_with_joserfc_too(vectors, test_key):
    # The plaintext above, confirmed by an independent implementation.
    opened = joserfc_jwe.decrypt_compact(vectors["V8.jwe"], RSAKey.import_key(test_key), registry=JOSERFC_REGISTRY)
    assert opened.plaintext == V8_PLAINTEXT


def test_v8_header_byte_for_byte(vectors, test_cert):
    expected = vectors["V8.headerJson"].encode("utf-8")
    assert protected_header(test_cert, **V8_OPTIONS) == expected
    token = encrypt_compact(V8_PLAINTEXT, test_cert, **V8_OPTIONS)
    assert b64url_decode(token.split(".")[0]) == expected
    assert token.split(".")[0] == vectors["V8.jwe"].split(".")[0]


def test_v8_reproduced_given_its_cek_and_iv(vectors, unwrap, test_cert):
    # RSA-OAEP is randomised, so the encrypted key differs; every other segment is jose4j's.
    expected = vectors["V8.jwe"].split(".")
    cek = unwrap(b64url_decode(expected[1]))
    token = encrypt_compact(V8_PLAINTEXT, test_cert, cek=cek, iv=b64url_decode(expected[2]), **V8_OPTIONS).split(".")
    assert [token[0], token[2], token[3], token[4]] == [expected[0], expected[2], expected[3], expected[4]]
    assert unwrap(b64url_decode(token[1])) == cek


def test_default_header_order_and_options(test_cert):
    kid = b64url_encode(TEST_THUMBPRINT)
    assert protected_header(test_cert) == (
        '{"cty":"JWT","typ":"JWT","alg":"RSA-OAEP-256","enc":"A256GCM","kid":"%s","zip":"DEF"}' % kid
    ).encode()
    assert protected_header(test_cert, compress=False, include_cert_hash=True) == (
        '{"cty":"JWT","typ":"JWT","alg":"RSA-OAEP-256","enc":"A256GCM","kid":"%s","x5t#S256":"%s"}' % (kid, kid)
    ).encode()


def test_header_strings_escaped_as_jose4j(test_cert):
    header = protected_header(test_cert, compress=False, jwk_set_url='https://x/a"b\\c\n\x01\x7f\u2028é/')
    assert header.endswith('"jku":"https://x/a\\"b\\\\c\\n\\u0001\\u007F\\u2028é/"}'.encode())
    assert json.loads(header)["jku"] == 'https://x/a"b\\c\n\x01\x7f\u2028é/'


# -- round trips, ours and joserfc's -------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip(test_cert, unwrap, compress):
    payload = json.dumps({"name": "Zoë", "n": list(range(200))}).encode()
    token = encrypt_compact(payload, test_cert, compress=compress)
    segments = token.split(".")
    assert len(segments) == 5 and all("=" not in s for s in segments)
    assert len(b64url_decode(segments[2])) == 12 and len(b64url_decode(segments[4])) == 16
    assert ("zip" in parse_compact(token).header) is compress
    assert open_jwe(token, unwrap) == payload
    assert token != encrypt_compact(payload, test_cert, compress=compress)  # random CEK and IV


@pytest.mark.parametrize("options", [{}, {"compress": False}, V8_OPTIONS])
def test_ours_is_opened_by_joserfc(test_cert, test_key, options):
    payload = b'{"sub":"1234567890","claims":["a","b","c","a","b","c"]}'
    token = encrypt_compact(payload, test_cert, **options)
    opened = joserfc_jwe.decrypt_compact(token, RSAKey.import_key(test_key), registry=JOSERFC_REGISTRY)
    assert opened.plaintext == payload
    assert opened.protected["kid"] == b64url_encode(TEST_THUMBPRINT)


@pytest.mark.parametrize("zip_header", [True, False])
def test_joserfc_output_is_opened_by_ours(test_cert, test_key, unwrap, zip_header):
    protected = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": b64url_encode(TEST_THUMBPRINT)}
    if zip_header:
        protected["zip"] = "DEF"
    payload = b'{"hello":"world","repeat":"' + b"x" * 500 + b'"}'
    token = joserfc_jwe.encrypt_compact(
        protected, payload, RSAKey.import_key(test_cert.public_key()), registry=JOSERFC_REGISTRY
    )
    message = parse_compact(token)
    assert kid_thumbprint(message) == TEST_THUMBPRINT
    assert decrypt_message(message, unwrap, max_plaintext_bytes=LIMIT) == payload


# -- parse rejections -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_token(test_cert) -> str:
    return encrypt_compact(b'{"a":1}', test_cert)


GOOD_HEADER = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": b64url_encode(TEST_THUMBPRINT)}


@pytest.mark.parametrize("header", [
    {**GOOD_HEADER, "alg": "RSA-OAEP"},
    {**GOOD_HEADER, "alg": "RSA1_5"},
    {**GOOD_HEADER, "alg": "dir"},
    {**GOOD_HEADER, "alg": "rsa-oaep-256"},
    {**GOOD_HEADER, "enc": "A128GCM"},
    {**GOOD_HEADER, "enc": "A256CBC-HS512"},
    {"enc": "A256GCM"},
    {"alg": "RSA-OAEP-256"},
    {**GOOD_HEADER, "crit": ["exp"]},
    {**GOOD_HEADER, "zip": "GZIP"},
    {**GOOD_HEADER, "zip": None},
])
def test_unsupported_headers_are_refused(good_token, header):
    expect_015(parse_compact, with_segment(good_token, 0, header_segment(header)))


@pytest.mark.parametrize("segment", [
    b64url_encode(b"[1,2]"),
    b64url_encode(b'"text"'),
    b64url_encode(b"{not json"),
    b64url_encode(b"\xff\xfe{}"),
    b64url_encode(b'{"alg":"RSA-OAEP-256","enc":"A256GCM","alg":"RSA-OAEP-256"}'),  # duplicate member
    "",
    "eyJ+",
    "e30=",
])
def test_malformed_header_is_refused(good_token, segment):
    expect_015(parse_compact, with_segment(good_token, 0, segment))


def test_segment_count_and_encoding(good_token):
    parts = good_token.split(".")
    expect_015(parse_compact, ".".join(parts[:4]))
    expect_015(parse_compact, good_token + ".")
    expect_015(parse_compact, "")
    expect_015(parse_compact, good_token.replace(".", "..", 1))
    for index in (1, 2, 3, 4):
        expect_015(parse_compact, with_segment(good_token, index, parts[index][:-1] + "+"))
        expect_015(parse_compact, with_segment(good_token, index, parts[index] + "="))


def test_iv_tag_and_key_sizes(good_token):
    expect_015(parse_compact, with_segment(good_token, 2, b64url_encode(bytes(16))))
    expect_015(parse_compact, with_segment(good_token, 2, b64url_encode(bytes(11))))
    expect_015(parse_compact, with_segment(good_token, 4, b64url_encode(bytes(12))))
    expect_015(parse_compact, with_segment(good_token, 4, b64url_encode(bytes(17))))
    expect_015(parse_compact, with_segment(good_token, 1, ""))


def test_oversized_header_is_refused(good_token):
    header = {**GOOD_HEADER, "pad": "x" * 70000}
    expect_015(parse_compact, with_segment(good_token, 0, header_segment(header)))


@pytest.mark.parametrize("kid", [None, 42, "", "dg4D", b64url_encode(bytes(31)), b64url_encode(bytes(33)), "a+b/"])
def test_kid_must_be_a_32_byte_thumbprint(good_token, kid):
    header = dict(GOOD_HEADER)
    if kid is None:
        del header["kid"]
    else:
        header["kid"] = kid
    message = parse_compact(with_segment(good_token, 0, header_segment(header)))
    expect_015(kid_thumbprint, message)


# -- decryption failures --------------------------------------------------------------------------


def flip(segment: str, index: int = 0) -> str:
    raw = bytearray(b64url_decode(segment))
    raw[index] ^= 0x01
    return b64url_encode(bytes(raw))


@pytest.mark.parametrize("index", [0, 1, 2, 3, 4])
def test_tampering_is_cry_015(good_token, unwrap, index):
    if index == 0:
        # An equivalent header in other bytes changes the AAD.
        header = json.loads(b64url_decode(good_token.split(".")[0]))
        tampered = with_segment(good_token, 0, b64url_encode(json.dumps(header, indent=1).encode()))
    else:
        tampered = with_segment(good_token, index, flip(good_token.split(".")[index]))
    error = expect_015(open_jwe, tampered, unwrap)
    assert '{"a":1}' not in str(error)


def test_unwrap_failures_are_cry_015(good_token):
    message = parse_compact(good_token)

    def raises(_key: bytes) -> bytes:
        raise ValueError("Decryption failed: secret detail")

    error = expect_015(decrypt_message, message, raises, max_plaintext_bytes=LIMIT)
    assert "secret detail" not in str(error) and error.__cause__ is None
    expect_015(decrypt_message, message, lambda _k: bytes(16), max_plaintext_bytes=LIMIT)
    expect_015(decrypt_message, message, lambda _k: None, max_plaintext_bytes=LIMIT)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    expect_015(decrypt_message, message, lambda k: crypto.rsa_oaep_decrypt(other, k), max_plaintext_bytes=LIMIT)


def test_unavailable_key_store_passes_through(good_token):
    def unavailable(_key: bytes) -> bytes:
        raise StoreUnavailableError()

    with pytest.raises(StoreUnavailableError):
        decrypt_message(parse_compact(good_token), unavailable, max_plaintext_bytes=LIMIT)


def craft(test_cert, body: bytes, *, zip_header: bool = True, cek: bytes = bytes(range(32))) -> str:
    """A JWE whose (already compressed, or not) ciphertext body is given verbatim."""
    header = GOOD_HEADER | ({"zip": "DEF"} if zip_header else {})
    protected = header_segment(header)
    iv = bytes(12)
    sealed = crypto.aes_gcm_encrypt(cek, iv, body, protected.encode())
    encrypted_key = crypto.rsa_oaep_encrypt(test_cert.public_key(), cek)
    return ".".join((protected, b64url_encode(encrypted_key), b64url_encode(iv),
                     b64url_encode(sealed[:-16]), b64url_encode(sealed[-16:])))


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def test_decompression_bomb_is_bounded(test_cert, unwrap):
    bomb = deflate(bytes(50 * 1024 * 1024))  # 50 MiB of zeros in ~50 KiB
    assert len(bomb) < 100 * 1024
    expect_015(open_jwe, craft(test_cert, bomb), unwrap, 1024 * 1024)


def test_plaintext_limit_is_inclusive(test_cert, unwrap):
    data = b"y" * 4096
    token = craft(test_cert, deflate(data))
    assert open_jwe(token, unwrap, 4096) == data
    expect_015(open_jwe, token, unwrap, 4095)
    plain = craft(test_cert, data, zip_header=False)
    assert open_jwe(plain, unwrap, 4096) == data
    expect_015(open_jwe, plain, unwrap, 4095)
    assert open_jwe(craft(test_cert, deflate(b"")), unwrap, 0) == b""


@pytest.mark.parametrize("body", [
    b"not deflate at all \xff\xff\xff",
    deflate(b"hello world")[:-2],  # truncated stream
    deflate(b"hello world") + b"trailing",
])
def test_bad_deflate_is_cry_015(test_cert, unwrap, body):
    expect_015(open_jwe, craft(test_cert, body), unwrap)


def test_encrypt_needs_an_rsa_certificate(test_cert):
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec")])
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    with pytest.raises(KeyManagerError) as caught:
        encrypt_compact(b"{}", cert)
    assert caught.value.code == "KER-CRY-014"


def test_fixed_cek_and_iv_sizes(test_cert):
    with pytest.raises(ValueError):
        encrypt_compact(b"{}", test_cert, cek=bytes(16))
    with pytest.raises(ValueError):
        encrypt_compact(b"{}", test_cert, iv=bytes(16))


def test_message_is_a_frozen_value(good_token):
    message = parse_compact(good_token)
    assert isinstance(message, JweMessage)
    assert message.protected == good_token.split(".")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.iv = b""  # type: ignore[misc]
