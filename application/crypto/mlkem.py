"""ML-KEM-768 (FIPS 203) from `cryptography`, for the hybrid envelope VER_Q1 (issue 18, ADR 0023).

Keys are kept as their 64-byte seed (d ‖ z), the form FIPS 203 §7.1 and the IETF drafts store;
the encapsulation key is its 1184 raw bytes.
"""
from __future__ import annotations

import os

from cryptography.exceptions import InvalidKey, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import mlkem

from domain.errors import Errors, KeyManagerError
from domain.pq_envelope import MLKEM768_PUBLIC_KEY_LENGTH, MLKEM_SEED_LENGTH

PrivateKey = mlkem.MLKEM768PrivateKey


def new_seed() -> bytes:
    return os.urandom(MLKEM_SEED_LENGTH)


def private_key_from_seed(seed: bytes) -> PrivateKey:
    if len(seed) != MLKEM_SEED_LENGTH:
        raise KeyManagerError(Errors.INVALID_KEY)
    try:
        return mlkem.MLKEM768PrivateKey.from_seed_bytes(seed)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyManagerError(Errors.INVALID_KEY) from None


def public_bytes(private_key: PrivateKey) -> bytes:
    return private_key.public_key().public_bytes_raw()


def encapsulate(encapsulation_key: bytes) -> tuple[bytes, bytes]:
    """(shared secret 32, ciphertext 1088) to a raw ML-KEM-768 public key."""
    if len(encapsulation_key) != MLKEM768_PUBLIC_KEY_LENGTH:
        raise KeyManagerError(Errors.INVALID_KEY)
    try:
        shared_secret, ciphertext = mlkem.MLKEM768PublicKey.from_public_bytes(encapsulation_key).encapsulate()
    except ValueError:  # a malformed key (FIPS 203 §7.2 modulus check)
        raise KeyManagerError(Errors.INVALID_KEY) from None
    return shared_secret, ciphertext


def decapsulate(private_key: PrivateKey, ciphertext: bytes) -> bytes:
    """The shared secret; a wrong ciphertext of the right length gives a pseudorandom one
    (implicit rejection), a wrong length is refused."""
    try:
        return private_key.decapsulate(ciphertext)
    except (ValueError, InvalidKey):
        raise KeyManagerError(Errors.CORRUPTED_DATA) from None
