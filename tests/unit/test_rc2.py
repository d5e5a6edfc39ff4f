"""application/crypto/rc2.py (RFC 2268), used only to read legacy PKCS#12 files: the RFC's eight
test vectors (section 5), and CBC against OpenSSL's RC2 (through cryptography, 128-bit keys only)."""
from __future__ import annotations

import os

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import RC2
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from application.crypto import rc2

#: RFC 2268 section 5: key, effective key bits, plaintext, ciphertext.
RFC_2268_VECTORS = [
    ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
    ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
    ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
    ("88", 64, "0000000000000000", "61a8a244adacccf0"),
    ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
    ("88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"),
    ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
    ("88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e", 129, "0000000000000000",
     "5b78d3a43dfff1f1"),
]


def test_pitable_is_a_permutation() -> None:
    assert sorted(rc2.PITABLE) == list(range(256))


@pytest.mark.parametrize(("key", "bits", "plain", "cipher"), RFC_2268_VECTORS)
def test_rfc_2268_vectors(key: str, bits: int, plain: str, cipher: str) -> None:
    assert rc2.decrypt_ecb_block(bytes.fromhex(key), bits, bytes.fromhex(cipher)).hex() == plain


def test_cbc_matches_openssl_for_128_bit_keys() -> None:
    for length in (8, 64, 1000):
        key, iv, plain = os.urandom(16), os.urandom(8), os.urandom(length)
        encryptor = Cipher(RC2(key), modes.CBC(iv)).encryptor()
        assert rc2.decrypt_cbc(key, 128, iv, encryptor.update(plain) + encryptor.finalize()) == plain


@pytest.mark.parametrize(("key", "bits", "iv", "data"), [
    (b"", 40, bytes(8), bytes(8)),
    (bytes(5), 0, bytes(8), bytes(8)),
    (bytes(5), 40, bytes(7), bytes(8)),
    (bytes(5), 40, bytes(8), bytes(12)),
    (bytes(5), 40, bytes(8), b""),
])
def test_bad_arguments_are_refused(key: bytes, bits: int, iv: bytes, data: bytes) -> None:
    with pytest.raises(ValueError):
        rc2.decrypt_cbc(key, bits, iv, data)
