"""domain/envelope.py: the /encrypt wire layout and the wrapped-private-key blob
(mosip-crypto.md §1.6, §2.2, §2.3, §3.5)."""
from __future__ import annotations

import os

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain import envelope
from domain.envelope import (
    AAD_LENGTH,
    APPENDED_IV_LENGTH,
    GCM_TAG_LENGTH,
    KEY_SPLITTER,
    NONCE_LENGTH,
    RSA_2048_BLOCK,
    THUMBPRINT_LENGTH,
    THUMBPRINTED_KEY_LENGTH,
    VERSION_HEADER,
    Variant,
)
from domain.errors import Errors, KeyManagerError

# mosip-crypto.md §1.6 / §2.2: the splitter's 14 ASCII bytes and the 6-byte header.
SPEC_SPLITTER = bytes.fromhex("23 4B 45 59 5F 53 50 4C 49 54 54 45 52 23")
SPEC_HEADER = bytes.fromhex("5645525F5232")


def tp() -> bytes:
    while True:
        value = os.urandom(THUMBPRINT_LENGTH)
        if KEY_SPLITTER not in value and not value.startswith(VERSION_HEADER):
            return value


def rsa_block() -> bytes:
    while True:
        value = os.urandom(RSA_2048_BLOCK)
        if KEY_SPLITTER not in value:
            return value


def assert_error(excinfo: pytest.ExceptionInfo[KeyManagerError], error: Errors, code: str) -> None:
    assert excinfo.value.error is error
    assert excinfo.value.code == code


# -- constants -------------------------------------------------------------------------------


def test_constants_match_spec():
    assert KEY_SPLITTER == SPEC_SPLITTER == b"#KEY_SPLITTER#"
    assert len(KEY_SPLITTER) == 14
    assert VERSION_HEADER == SPEC_HEADER
    assert THUMBPRINT_LENGTH == 32
    assert RSA_2048_BLOCK == 256
    assert THUMBPRINTED_KEY_LENGTH == 288
    assert AAD_LENGTH == 32
    assert NONCE_LENGTH == 12
    assert GCM_TAG_LENGTH == 16
    assert APPENDED_IV_LENGTH == 16


@pytest.mark.parametrize(
    ("salt", "aad", "expected"),
    [
        (None, None, Variant.VER_R2),
        (b"", b"", Variant.VER_R2),
        (None, b"aad", Variant.AAD),
        (b"salt", None, Variant.SALT),
        (b"salt", b"aad", Variant.SALT),  # salt wins (§2.2 case A)
    ],
)
def test_variant_for(salt, aad, expected):
    assert envelope.variant_for(salt, aad) is expected


# -- build ------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", list(Variant))
def test_build_layout_per_variant(variant):
    thumb, key, data = tp(), rsa_block(), b"encrypted-data"
    wire = envelope.build(variant, thumb, key, data)
    header = SPEC_HEADER if variant is Variant.VER_R2 else b""
    assert wire == header + thumb + key + SPEC_SPLITTER + data
    assert wire.startswith(SPEC_HEADER) == (variant is Variant.VER_R2)
    key_part_len = wire.index(SPEC_SPLITTER)
    assert key_part_len == (294 if variant is Variant.VER_R2 else 288)


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_build_rejects_bad_thumbprint_length(length):
    with pytest.raises(ValueError):
        envelope.build(Variant.VER_R2, b"\x01" * length, rsa_block(), b"data")


# -- split ------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", list(Variant))
def test_split_recovers_parts(variant):
    thumb, key, data = tp(), rsa_block(), os.urandom(60).replace(b"#", b"!")
    parts = envelope.split(envelope.build(variant, thumb, key, data))
    assert parts.has_version_header is (variant is Variant.VER_R2)
    assert parts.thumbprint == thumb
    assert parts.encrypted_key == key
    assert parts.encrypted_data == data


def test_split_uses_first_splitter():
    thumb, key = tp(), rsa_block()
    data = b"AAAA" + KEY_SPLITTER + b"BBBB" + KEY_SPLITTER
    parts = envelope.split(SPEC_HEADER + thumb + key + KEY_SPLITTER + data)
    assert parts.thumbprint == thumb
    assert parts.encrypted_key == key
    assert parts.encrypted_data == data


def test_split_first_splitter_inside_key_part_shortens_key():
    # A splitter inside the key bytes wins: the key part is what precedes it.
    thumb = tp()
    prefix = rsa_block()[:100]
    wire = thumb + prefix + KEY_SPLITTER + b"rest" + KEY_SPLITTER + b"data"
    parts = envelope.split(wire)
    assert parts.thumbprint is None  # key part is 132 bytes, not 288
    assert parts.encrypted_key == thumb + prefix
    assert parts.encrypted_data == b"rest" + KEY_SPLITTER + b"data"


@pytest.mark.parametrize("header", [b"", SPEC_HEADER])
@pytest.mark.parametrize("key_length", [256, 287, 289, 128, 512])
def test_split_legacy_layout_has_no_thumbprint(header, key_length):
    key = os.urandom(key_length).replace(b"#", b"!")
    parts = envelope.split(header + key + KEY_SPLITTER + b"payload")
    assert parts.thumbprint is None
    assert parts.has_version_header is bool(header)
    assert parts.encrypted_key == key
    assert parts.encrypted_data == b"payload"


def test_split_exactly_288_after_header_has_thumbprint():
    key_part = b"\x01" + os.urandom(287).replace(b"#", b"!")
    parts = envelope.split(key_part + KEY_SPLITTER + b"d")
    assert parts.has_version_header is False
    assert parts.thumbprint == key_part[:32]
    assert parts.encrypted_key == key_part[32:]


@pytest.mark.parametrize(
    "wire",
    [
        pytest.param(b"no splitter at all" * 30, id="missing"),
        pytest.param(KEY_SPLITTER + b"data", id="empty-key-part"),
        pytest.param(b"\x01" * 288 + KEY_SPLITTER, id="empty-data"),
        pytest.param(SPEC_HEADER + b"\x01" * 288 + KEY_SPLITTER, id="empty-data-ver-r2"),
        pytest.param(b"#KEY_SPLITTER" + b"\x01" * 300, id="truncated-splitter"),
        pytest.param(b"", id="empty"),
    ],
)
def test_split_invalid_is_ker_cry_003(wire):
    with pytest.raises(KeyManagerError) as excinfo:
        envelope.split(wire)
    assert_error(excinfo, Errors.INVALID_DATA_WITHOUT_SPLITTER, "KER-CRY-003")


@settings(database=None, deadline=None)
@given(
    variant=st.sampled_from(list(Variant)),
    thumb=st.binary(min_size=32, max_size=32),
    key=st.binary(min_size=256, max_size=256),
    data=st.binary(min_size=1, max_size=200),
)
def test_build_split_round_trip(variant, thumb, key, data):
    assume(KEY_SPLITTER not in thumb + key and KEY_SPLITTER not in data)
    # Nothing before the real splitter may form one across a boundary.
    key_part = thumb + key
    assume((key_part + KEY_SPLITTER).find(KEY_SPLITTER) == len(key_part))
    # Without the header the thumbprint must not look like one.
    assume(variant is Variant.VER_R2 or not thumb.startswith(VERSION_HEADER))
    parts = envelope.split(envelope.build(variant, thumb, key, data))
    assert parts.has_version_header is (variant is Variant.VER_R2)
    assert parts.thumbprint == thumb
    assert parts.encrypted_key == key
    assert parts.encrypted_data == data


@settings(database=None, deadline=None)
@given(key=st.binary(min_size=1, max_size=400), data=st.binary(min_size=1, max_size=100))
def test_split_key_part_length_decides_thumbprint(key, data):
    assume((key + KEY_SPLITTER).find(KEY_SPLITTER) == len(key))
    assume(not key.startswith(VERSION_HEADER))
    parts = envelope.split(key + KEY_SPLITTER + data)
    if len(key) == THUMBPRINTED_KEY_LENGTH:
        assert (parts.thumbprint, parts.encrypted_key) == (key[:32], key[32:])
    else:
        assert (parts.thumbprint, parts.encrypted_key) == (None, key)
    assert parts.encrypted_data == data


# -- VER_R2 data block ------------------------------------------------------------------------


def test_split_ver_r2_data():
    aad = os.urandom(32)
    sealed = os.urandom(40)
    block = envelope.ver_r2_data(aad, sealed)
    assert block == aad + sealed
    got_aad, nonce, got_sealed = envelope.split_ver_r2_data(block)
    assert got_aad == aad
    assert nonce == aad[:12]
    assert len(nonce) == 12
    assert got_sealed == sealed


def test_split_ver_r2_data_minimum_is_aad_plus_tag():
    block = os.urandom(AAD_LENGTH + GCM_TAG_LENGTH)
    aad, nonce, sealed = envelope.split_ver_r2_data(block)
    assert (aad, nonce, sealed) == (block[:32], block[:12], block[32:])
    assert len(sealed) == 16


@pytest.mark.parametrize("length", [0, 1, 32, 47])
def test_split_ver_r2_data_short_block(length):
    with pytest.raises(KeyManagerError) as excinfo:
        envelope.split_ver_r2_data(os.urandom(length))
    assert excinfo.value.code == "KER-CRY-003"


# -- appended IV (ct || tag || iv16) ---------------------------------------------------------


def test_split_appended_iv():
    sealed, iv = os.urandom(27), os.urandom(16)
    assert envelope.split_appended_iv(sealed + iv) == (sealed, iv)


def test_split_appended_iv_minimum_length_is_33():
    data = os.urandom(33)
    assert envelope.split_appended_iv(data) == (data[:17], data[17:])


@pytest.mark.parametrize("length", [0, 16, 31, 32])
def test_split_appended_iv_short_is_ker_fse_002(length):
    # symmetricDecrypt requires len > 32, otherwise KER-FSE-002 (mosip-crypto.md §1.1).
    with pytest.raises(KeyManagerError) as excinfo:
        envelope.split_appended_iv(os.urandom(length))
    assert_error(excinfo, Errors.INVALID_DATA_LENGTH, "KER-FSE-002")


# -- wrapped private key blob ----------------------------------------------------------------


def test_wrap_blob_layout_and_round_trip():
    encrypted_key = rsa_block()
    sealed = os.urandom(1300) + KEY_SPLITTER + os.urandom(20)  # splitter inside the sealed part
    blob = envelope.wrap_blob(encrypted_key, sealed)
    assert blob == encrypted_key + SPEC_SPLITTER + sealed
    assert envelope.unwrap_blob(blob) == (encrypted_key, sealed)


@pytest.mark.parametrize(
    "blob",
    [pytest.param(b"\x00" * 300, id="no-splitter"), pytest.param(KEY_SPLITTER + b"x" * 40, id="empty-key")],
)
def test_unwrap_blob_invalid_is_ker_fse_001(blob):
    with pytest.raises(KeyManagerError) as excinfo:
        envelope.unwrap_blob(blob)
    assert_error(excinfo, Errors.INVALID_KEY, "KER-FSE-001")


@settings(database=None, deadline=None)
@given(key=st.binary(min_size=1, max_size=300), sealed=st.binary(max_size=300))
def test_wrap_unwrap_round_trip_property(key, sealed):
    assume((key + KEY_SPLITTER).find(KEY_SPLITTER) == len(key))
    assert envelope.unwrap_blob(envelope.wrap_blob(key, sealed)) == (key, sealed)
