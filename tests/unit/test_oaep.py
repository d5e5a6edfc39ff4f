"""adapters/pkcs11/oaep.py: EME-OAEP decoding (SHA-256, MGF1-SHA-256, empty label) of a raw
RSA result, checked against `cryptography`.

The raw RSA private operation the token performs (CKM_RSA_X_509) is done here with the
private numbers from `cryptography` (pow(c, d, n)), so every ciphertext comes from
`cryptography`'s own OAEP encryption. The negative cases are built with an independent
encoder written from RFC 8017 §7.1.1, itself checked against `cryptography` first.
"""
from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pkcs11.oaep import OaepDecodingError, decode

K = 256  # modulus bytes of RSA-2048
H = 32  # SHA-256 output
MAX_MESSAGE = K - 2 * H - 2  # 190
OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # one key: the properties use it too


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return _KEY


def raw_private(private_key: rsa.RSAPrivateKey, ciphertext: bytes) -> bytes:
    """What CKM_RSA_X_509 returns: c^d mod n, big-endian, left-padded to the modulus size."""
    numbers = private_key.private_numbers()
    value = pow(int.from_bytes(ciphertext, "big"), numbers.d, numbers.public_numbers.n)
    return value.to_bytes(K, "big")


def raw_public(private_key: rsa.RSAPrivateKey, encoded: bytes) -> bytes:
    numbers = private_key.public_key().public_numbers()
    return pow(int.from_bytes(encoded, "big"), numbers.e, numbers.n).to_bytes(K, "big")


# -- an independent EME-OAEP encoder (RFC 8017 §7.1.1), with knobs to break it -----------------


def mgf1(seed: bytes, length: int) -> bytes:
    out = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(-(-length // H)))
    return out[:length]


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def encode(
    message: bytes,
    *,
    label: bytes = b"",
    first: int = 0,
    separator: bytes = b"\x01",
    padding_string: bytes | None = None,
    seed: bytes | None = None,
) -> bytes:
    """EM = Y || maskedSeed || maskedDB with DB = lHash || PS || separator || M."""
    if padding_string is None:
        padding_string = b"\x00" * (K - len(message) - 2 * H - 2)
    db = hashlib.sha256(label).digest() + padding_string + separator + message
    assert len(db) == K - H - 1, "the test built a DB of the wrong size"
    seed = os.urandom(H) if seed is None else seed
    masked_db = xor(db, mgf1(seed, len(db)))
    masked_seed = xor(seed, mgf1(masked_db, H))
    return bytes([first]) + masked_seed + masked_db


def test_the_test_encoder_agrees_with_cryptography(key: rsa.RSAPrivateKey) -> None:
    for message in (b"", b"x", os.urandom(32), os.urandom(MAX_MESSAGE)):
        ciphertext = raw_public(key, encode(message))
        assert key.decrypt(ciphertext, OAEP_SHA256) == message


# -- positive ---------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 16, 32, 100, MAX_MESSAGE - 1, MAX_MESSAGE])
def test_raw_rsa_of_cryptography_ciphertext_decodes(key: rsa.RSAPrivateKey, length: int) -> None:
    message = os.urandom(length)
    ciphertext = key.public_key().encrypt(message, OAEP_SHA256)
    assert decode(raw_private(key, ciphertext), K) == message


def test_leading_zeros_stripped_by_the_token_are_restored(key: rsa.RSAPrivateKey) -> None:
    """Some tokens return c^d mod n without its leading zero bytes; EM always starts with 0x00."""
    message = os.urandom(32)
    raw = raw_private(key, key.public_key().encrypt(message, OAEP_SHA256))
    assert raw[0] == 0
    assert decode(raw.lstrip(b"\x00"), K) == message


def test_own_encoding_with_a_message_full_of_zeros_and_ones() -> None:
    """The separator is the first 0x01 after the zeros: 0x00/0x01 bytes in M stay in M."""
    for message in (b"\x00", b"\x01", b"\x00\x01\x00", b"\x01" * 10, b"\x00" * MAX_MESSAGE):
        assert decode(encode(message), K) == message


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=MAX_MESSAGE))
def test_property_any_message_round_trips(message: bytes) -> None:
    ciphertext = _KEY.public_key().encrypt(message, OAEP_SHA256)
    assert decode(raw_private(_KEY, ciphertext), K) == message


# -- negative ---------------------------------------------------------------------------------


def test_tampered_ciphertext_block_raises(key: rsa.RSAPrivateKey) -> None:
    ciphertext = bytearray(key.public_key().encrypt(b"secret session key", OAEP_SHA256))
    for position in (0, 10, 128, K - 1):
        tampered = bytearray(ciphertext)
        tampered[position] ^= 0x01
        with pytest.raises(OaepDecodingError):
            decode(raw_private(key, bytes(tampered)), K)


def test_wrong_label_hash_raises(key: rsa.RSAPrivateKey) -> None:
    """Encrypted by `cryptography` with a non-empty label: lHash differs from SHA-256("")."""
    with_label = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=b"x")
    ciphertext = key.public_key().encrypt(b"secret", with_label)
    with pytest.raises(OaepDecodingError):
        decode(raw_private(key, ciphertext), K)
    with pytest.raises(OaepDecodingError):
        decode(encode(b"secret", label=b"another label"), K)


def test_sha1_oaep_is_not_accepted(key: rsa.RSAPrivateKey) -> None:
    """What the token's own OAEP (SHA-1 only on SoftHSM2 2.6) would produce is rejected."""
    sha1 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    with pytest.raises(OaepDecodingError):
        decode(raw_private(key, key.public_key().encrypt(b"secret", sha1)), K)


def test_missing_separator_raises() -> None:
    message = b"secret"
    # PS || 0x00 instead of PS || 0x01: DB is all zeros up to M, no 0x01 anywhere before it.
    with pytest.raises(OaepDecodingError):
        decode(encode(b"\x00" * len(message), separator=b"\x00"), K)
    # Only zeros after lHash: no separator at all.
    with pytest.raises(OaepDecodingError):
        decode(encode(b"", separator=b"\x00"), K)


def test_separator_other_than_one_raises() -> None:
    with pytest.raises(OaepDecodingError):
        decode(encode(b"secret", separator=b"\x02"), K)


def test_nonzero_byte_in_the_padding_string_raises() -> None:
    length = K - len(b"secret") - 2 * H - 2
    with pytest.raises(OaepDecodingError):
        decode(encode(b"secret", padding_string=b"\x00" * (length - 1) + b"\x07"), K)
    with pytest.raises(OaepDecodingError):
        decode(encode(b"secret", padding_string=b"\x02" + b"\x00" * (length - 1)), K)


@pytest.mark.parametrize("first", [0x01, 0x02, 0x80, 0xFF])
def test_nonzero_first_byte_raises(first: int) -> None:
    seed = os.urandom(H)
    assert decode(encode(b"secret", seed=seed), K) == b"secret"  # the same encoding with Y = 0 is fine
    with pytest.raises(OaepDecodingError):
        decode(encode(b"secret", seed=seed, first=first), K)


def test_nonzero_first_byte_of_a_real_block_raises(key: rsa.RSAPrivateKey) -> None:
    raw = bytearray(raw_private(key, key.public_key().encrypt(b"secret", OAEP_SHA256)))
    raw[0] = 0x01
    with pytest.raises(OaepDecodingError):
        decode(bytes(raw), K)


@pytest.mark.parametrize(
    ("encoded", "modulus_bytes"),
    [
        (b"\x00" * (K + 1), K),  # longer than the modulus
        (b"\x00" * 65, 65),  # modulus too small for SHA-256 OAEP (needs 2 * 32 + 2)
        (b"", K),
        (b"\x00" * K, K),  # all zeros: wrong lHash, no separator
    ],
)
def test_malformed_lengths_and_blocks_raise(encoded: bytes, modulus_bytes: int) -> None:
    with pytest.raises(OaepDecodingError):
        decode(encoded, modulus_bytes)


def test_the_error_says_nothing_about_which_check_failed(key: rsa.RSAPrivateKey) -> None:
    messages = set()
    for bad in (
        encode(b"m", label=b"l"),
        encode(b"m", first=1),
        encode(b"", separator=b"\x00"),
        encode(b"m", padding_string=b"\x05" + b"\x00" * (K - 1 - 2 * H - 2 - 1)),
    ):
        with pytest.raises(OaepDecodingError) as caught:
            decode(bad, K)
        messages.add(str(caught.value))
    assert len(messages) == 1


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_property_any_single_byte_change_of_a_valid_block_raises(data: st.DataObject) -> None:
    message = data.draw(st.binary(max_size=MAX_MESSAGE), label="message")
    encoded = bytearray(encode(message))
    position = data.draw(st.integers(min_value=0, max_value=K - 1), label="position")
    delta = data.draw(st.integers(min_value=1, max_value=255), label="xor")
    encoded[position] ^= delta
    with pytest.raises(OaepDecodingError):
        decode(bytes(encoded), K)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=K + 2))
def test_property_arbitrary_input_raises_only_the_decoding_error(encoded: bytes) -> None:
    """Random input never escapes as IndexError/ValueError of another kind; it (almost surely) fails."""
    with pytest.raises(OaepDecodingError):
        decode(encoded, K)
