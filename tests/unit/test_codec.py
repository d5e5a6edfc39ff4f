"""domain/codec.py: base64 conventions of the wire format (mosip-crypto.md §0)."""
from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.codec import b64_decode_lenient, b64url_decode, b64url_encode, hex_upper
from domain.errors import Errors, KeyManagerError

INVALID_BASE64_MESSAGE = " input data is not base64 encoded"
#: Bytes whose standard encoding uses both '+' and '/' ("+/8=" / "-_8").
PLUS_SLASH = b"\xfb\xff"


def assert_invalid_base64(excinfo: pytest.ExceptionInfo[KeyManagerError]) -> None:
    assert excinfo.value.error is Errors.INVALID_BASE64
    assert excinfo.value.code == "KER-CRY-003"
    assert excinfo.value.message == INVALID_BASE64_MESSAGE


# -- encode -----------------------------------------------------------------------------------


@pytest.mark.parametrize("length", range(0, 9))
def test_b64url_encode_has_no_padding(length):
    data = bytes(range(250, 250 + length)) if length <= 6 else b"\xfb" * length
    encoded = b64url_encode(data)
    assert "=" not in encoded
    assert encoded == base64.urlsafe_b64encode(data).decode().rstrip("=")
    # No padding means the length is ceil(4n/3).
    assert len(encoded) == -(-4 * length // 3)


def test_b64url_encode_uses_url_safe_alphabet():
    encoded = b64url_encode(PLUS_SLASH * 10)
    assert "+" not in encoded and "/" not in encoded
    assert "-" in encoded and "_" in encoded
    assert re.fullmatch(r"[A-Za-z0-9_-]*", encoded)


def test_b64url_encode_known_header():
    # mosip-crypto.md §1.3: {"alg":"RS256"} encodes as eyJhbGciOiJSUzI1NiJ9.
    assert b64url_encode(b'{"alg":"RS256"}') == "eyJhbGciOiJSUzI1NiJ9"


def test_hex_upper():
    assert hex_upper(b"\x0a\xbc\xff") == "0ABCFF"
    assert hex_upper(b"") == ""


# -- lenient decode -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["-_8", "-_8=", "+/8", "+/8="])
def test_lenient_accepts_both_alphabets_with_and_without_padding(text):
    assert b64_decode_lenient(text) == PLUS_SLASH


@pytest.mark.parametrize(
    "data", [b"", b"t", b"te", b"tes", b"test", b"\x00\xff\xfe\xfd", PLUS_SLASH * 7]
)
def test_lenient_decodes_each_form(data):
    standard = base64.b64encode(data).decode()
    url = base64.urlsafe_b64encode(data).decode()
    for text in {standard, standard.rstrip("="), url, url.rstrip("=")}:
        assert b64_decode_lenient(text) == data


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(" dGVzdA", id="leading-space"),
        pytest.param("dGVz dA", id="inner-space"),
        pytest.param("dGVzdA ", id="trailing-space"),
        pytest.param("dGVzdA\n", id="trailing-newline"),
        pytest.param("dGVz\n", id="trailing-newline-aligned"),
        pytest.param("dGVzdA==\n", id="newline-after-padding"),
        pytest.param("dGVz\r\ndA", id="crlf"),
        pytest.param("dGVz\tdA", id="tab"),
    ],
)
def test_lenient_rejects_whitespace(text):
    with pytest.raises(KeyManagerError) as excinfo:
        b64_decode_lenient(text)
    assert_invalid_base64(excinfo)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("dG*zdA", id="asterisk"),
        pytest.param("dGVz!A", id="bang"),
        pytest.param("dGVzdé", id="non-ascii"),
        pytest.param("+_8=", id="mixed-alphabets"),
        pytest.param("-/8", id="mixed-alphabets-2"),
        pytest.param("dG=VzdA", id="padding-in-middle"),
        pytest.param(".", id="dot"),
    ],
)
def test_lenient_rejects_invalid_characters(text):
    with pytest.raises(KeyManagerError) as excinfo:
        b64_decode_lenient(text)
    assert_invalid_base64(excinfo)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("dGVzdA=", id="short-padding"),
        pytest.param("dGVzdA===", id="too-much-padding"),
        pytest.param("dGVzdGU==", id="padding-on-3-mod-4"),
        pytest.param("dGVz=", id="padding-when-aligned"),
        pytest.param("dGVz==", id="double-padding-when-aligned"),
        pytest.param("=", id="only-padding"),
        pytest.param("==", id="only-double-padding"),
    ],
)
def test_lenient_rejects_wrong_padding(text):
    with pytest.raises(KeyManagerError) as excinfo:
        b64_decode_lenient(text)
    assert_invalid_base64(excinfo)


@pytest.mark.parametrize("text", ["d", "dGVzd", "dGVzdGVzd", "dGVzd=", "dGVzd==="])
def test_lenient_rejects_length_1_mod_4(text):
    with pytest.raises(KeyManagerError) as excinfo:
        b64_decode_lenient(text)
    assert_invalid_base64(excinfo)


# -- strict URL-safe decode ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["+/8", "+/8=", "-/8", "+_8", "dGVz+A", "dGVz/A"])
def test_b64url_decode_rejects_standard_alphabet(text):
    with pytest.raises(KeyManagerError) as excinfo:
        b64url_decode(text)
    assert_invalid_base64(excinfo)


@pytest.mark.parametrize("text", ["-_8", "-_8="])
def test_b64url_decode_padding_optional(text):
    assert b64url_decode(text) == PLUS_SLASH


@pytest.mark.parametrize("text", ["dGVzdA=", "dGVzd", " dGVz", "dGVz\n", "dG*z"])
def test_b64url_decode_rejects_malformed(text):
    with pytest.raises(KeyManagerError) as excinfo:
        b64url_decode(text)
    assert_invalid_base64(excinfo)


# -- properties ---------------------------------------------------------------------------------


@settings(database=None, deadline=None)
@given(st.binary(max_size=300))
def test_round_trip_url(data):
    encoded = b64url_encode(data)
    assert b64url_decode(encoded) == data
    assert b64_decode_lenient(encoded) == data


@settings(database=None, deadline=None)
@given(st.binary(max_size=300))
def test_lenient_decodes_padded_standard(data):
    assert b64_decode_lenient(base64.b64encode(data).decode()) == data


@settings(database=None, deadline=None)
@given(st.binary(min_size=1, max_size=100))
def test_padded_url_decodes_like_unpadded(data):
    padded = base64.urlsafe_b64encode(data).decode()
    assert b64url_decode(padded) == b64url_decode(padded.rstrip("=")) == data
