"""Argon2id raw hash with the reference's parameters (spec §2.6), checked against independent routes."""
from __future__ import annotations

import base64

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type

from application.crypto.argon2 import argon2id_raw, new_salt

SALT = b"somesalt12345678"


def unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(scope="module")
def reference_hash() -> bytes:
    return argon2id_raw("password", SALT)


def test_matches_the_encoded_password_hasher_route(reference_hash):
    hasher = PasswordHasher(time_cost=10, memory_cost=65536, parallelism=2, hash_len=32, type=Type.ID)
    encoded = hasher.hash("password", salt=SALT)
    assert encoded.startswith("$argon2id$v=19$m=65536,t=10,p=2$")
    assert unb64(encoded.split("$")[4]) == SALT
    assert unb64(encoded.rsplit("$", 1)[1]) == reference_hash
    assert len(reference_hash) == 32


def test_matches_an_independent_implementation(reference_hash):
    # `cryptography`'s Argon2id (OpenSSL) shares no code with libargon2 behind argon2-cffi.
    try:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
    except ImportError:
        pytest.skip("cryptography without Argon2id")
    try:
        kdf = Argon2id(salt=SALT, length=32, iterations=10, lanes=2, memory_cost=65536)
    except UnsupportedAlgorithm:
        pytest.skip("this OpenSSL has no Argon2id")
    assert kdf.derive(b"password") == reference_hash


def test_rfc9106_shape_with_small_parameters():
    # Different cost parameters give different hashes, and each is reproducible.
    small = argon2id_raw("password", SALT, iterations=2, memory_kib=64, parallelism=1, hash_length=16)
    assert len(small) == 16
    assert small == argon2id_raw("password", SALT, iterations=2, memory_kib=64, parallelism=1, hash_length=16)
    assert small != argon2id_raw("password", SALT, iterations=3, memory_kib=64, parallelism=1, hash_length=16)


def test_different_salts_and_inputs_give_different_hashes(reference_hash):
    assert argon2id_raw("password", b"othersalt1234567") != reference_hash
    assert argon2id_raw("passwore", SALT) != reference_hash


def test_input_is_utf8():
    params = dict(iterations=1, memory_kib=64, parallelism=1)
    text = "pässwörd✓"
    hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, hash_len=32, type=Type.ID)
    encoded = hasher.hash(text.encode("utf-8"), salt=SALT)
    assert unb64(encoded.rsplit("$", 1)[1]) == argon2id_raw(text, SALT, **params)


def test_short_salt_is_refused_without_echoing_the_input():
    with pytest.raises(ValueError) as caught:
        argon2id_raw("secret-input", b"short")
    assert "secret-input" not in str(caught.value)


def test_new_salt_is_24_random_bytes():
    salts = {new_salt() for _ in range(8)}
    assert len(salts) == 8
    assert all(isinstance(salt, bytes) and len(salt) == 24 for salt in salts)
