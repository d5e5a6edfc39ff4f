"""encryptWithPin / decryptWithPin against the V4 known answers (vectors/jdk_jose4j_vectors.txt)."""
from __future__ import annotations

import pytest

from application.crypto.pin import decrypt_with_pin, derive_pin_key, encrypt_with_pin
from domain.codec import b64url_decode, b64url_encode
from domain.errors import KeyManagerError

PIN = "AB1234"
# The vector's name says "TestPinEncryption"; the text it encrypts is "Test Pin Encryption.".
PLAINTEXT = "Test Pin Encryption."
V4_BLOB = "V4.encryptWithPin_pin_AB1234_data_TestPinEncryption_iter100000"
FAST = 10  # iterations for tests that do not check the reference's 100000


def assert_no_secret(error: KeyManagerError, *secrets: str) -> None:
    for text in (str(error), error.message):
        for secret in secrets:
            assert secret not in text


def test_v4_pbkdf2_with_100000_and_10_iterations(vectors):
    salt = bytes.fromhex(vectors["V4.salt"])
    assert derive_pin_key(PIN, salt, 100000) == bytes.fromhex(vectors["V4.hash100000"])
    assert derive_pin_key(PIN, salt, 10) == bytes.fromhex(vectors["V4.hash10"])


def test_v4_blob_opens_with_the_pin(vectors):
    assert decrypt_with_pin(vectors[V4_BLOB], PIN, 100000) == PLAINTEXT


def test_v4_blob_reproduced_byte_for_byte(vectors):
    blob = vectors[V4_BLOB]
    raw = b64url_decode(blob)
    salt, nonce = raw[:32], raw[32:44]
    assert salt == bytes.fromhex(vectors["V4.salt"])
    assert encrypt_with_pin(PLAINTEXT, PIN, 100000, salt=salt, nonce=nonce) == blob


def test_round_trip_with_random_salt_and_nonce():
    first = encrypt_with_pin("héllo ✓ wörld", "9876", FAST)
    second = encrypt_with_pin("héllo ✓ wörld", "9876", FAST)
    assert first != second
    assert "=" not in first and "+" not in first and "/" not in first
    assert len(b64url_decode(first)) == 32 + 12 + len("héllo ✓ wörld".encode()) + 16
    assert decrypt_with_pin(first, "9876", FAST) == "héllo ✓ wörld"
    assert decrypt_with_pin(second, "9876", FAST) == "héllo ✓ wörld"


def test_empty_plaintext_round_trips():
    assert decrypt_with_pin(encrypt_with_pin("", PIN, FAST), PIN, FAST) == ""


def test_iteration_count_must_match():
    blob = encrypt_with_pin(PLAINTEXT, PIN, FAST)
    with pytest.raises(KeyManagerError) as caught:
        decrypt_with_pin(blob, PIN, FAST + 1)
    assert caught.value.code == "KER-FSE-004"


def test_wrong_pin_is_corrupted_data(vectors):
    with pytest.raises(KeyManagerError) as caught:
        decrypt_with_pin(vectors[V4_BLOB], "AB1235", 100000)
    assert caught.value.code == "KER-FSE-004"
    assert_no_secret(caught.value, "AB1235", PIN, PLAINTEXT)


def test_truncated_blob_is_invalid_encrypted_data():
    raw = b64url_decode(encrypt_with_pin("x", PIN, FAST))
    for size in (0, 1, 44, 59):
        with pytest.raises(KeyManagerError) as caught:
            decrypt_with_pin(b64url_encode(raw[:size]) if size else "", PIN, FAST)
        assert caught.value.code == "KER-FSE-003"
    # Exactly salt + nonce + tag is long enough to be tried, and then fails authentication.
    with pytest.raises(KeyManagerError) as caught:
        decrypt_with_pin(b64url_encode(raw[:60]), PIN, FAST)
    assert caught.value.code == "KER-FSE-004"


@pytest.mark.parametrize("position", [0, 31, 32, 43, 44, -17, -1])
def test_any_tampered_byte_is_corrupted_data(position):
    raw = bytearray(b64url_decode(encrypt_with_pin(PLAINTEXT, PIN, FAST)))
    raw[position] ^= 0x01
    with pytest.raises(KeyManagerError) as caught:
        decrypt_with_pin(b64url_encode(bytes(raw)), PIN, FAST)
    assert caught.value.code == "KER-FSE-004"
    assert_no_secret(caught.value, PIN, PLAINTEXT)


@pytest.mark.parametrize("mangle", [
    lambda blob: "+" + blob[1:],
    lambda blob: blob[:-1] + "/",
    lambda blob: blob[:10] + " " + blob[10:],
    lambda blob: blob[:5] + "." + blob[5:],
])
def test_non_url_safe_base64_is_cry_003(mangle):
    blob = encrypt_with_pin(PLAINTEXT, PIN, FAST)
    with pytest.raises(KeyManagerError) as caught:
        decrypt_with_pin(mangle(blob), PIN, FAST)
    assert caught.value.code == "KER-CRY-003"
    assert_no_secret(caught.value, PIN, PLAINTEXT)


def test_non_utf8_plaintext_is_corrupted_data():
    from application.crypto.primitives import aes_gcm_encrypt

    salt, nonce = bytes(range(32)), bytes(12)
    key = derive_pin_key(PIN, salt, FAST)
    blob = b64url_encode(salt + nonce + aes_gcm_encrypt(key, nonce, b"\xff\xfe", salt))
    with pytest.raises(KeyManagerError) as caught:
        decrypt_with_pin(blob, PIN, FAST)
    assert caught.value.code == "KER-FSE-004"


def test_fixed_salt_and_nonce_must_have_the_reference_sizes():
    with pytest.raises(ValueError):
        encrypt_with_pin(PLAINTEXT, PIN, FAST, salt=bytes(16))
    with pytest.raises(ValueError):
        encrypt_with_pin(PLAINTEXT, PIN, FAST, nonce=bytes(16))


def test_lone_surrogate_is_encoded_as_java_does():
    # Java's String.getBytes(UTF-8) writes '?' for an unpaired surrogate instead of failing.
    assert derive_pin_key("AB\udc801", bytes(32), FAST) == derive_pin_key("AB?1", bytes(32), FAST)
