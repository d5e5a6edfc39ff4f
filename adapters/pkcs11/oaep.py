"""EME-OAEP decoding (RFC 8017 §7.1.2) with SHA-256 and MGF1-SHA-256, empty label.

Used when the token cannot do RSA-OAEP with SHA-256 itself (SoftHSM2 2.6 offers
OAEP with SHA-1 only): the token performs the raw RSA private operation
(CKM_RSA_X_509) and the padding is removed here. Every check is evaluated
before a single, uninformative error is raised, so the failure says nothing
about which check failed.
"""
from __future__ import annotations

import hashlib
import hmac

_HASH_LENGTH = 32
_EMPTY_LABEL_HASH = hashlib.sha256(b"").digest()


class OaepDecodingError(ValueError):
    pass


def _mgf1(seed: bytes, length: int) -> bytes:
    output = bytearray()
    counter = 0
    while len(output) < length:
        output += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(output[:length])


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right))


def decode(encoded: bytes, modulus_bytes: int) -> bytes:
    """The message inside a raw RSA result (left-padded with zeros to the modulus size)."""
    if len(encoded) > modulus_bytes or modulus_bytes < 2 * _HASH_LENGTH + 2:
        raise OaepDecodingError("decryption error")
    em = encoded.rjust(modulus_bytes, b"\x00")
    masked_seed, masked_db = em[1 : 1 + _HASH_LENGTH], em[1 + _HASH_LENGTH :]
    seed = _xor(masked_seed, _mgf1(masked_db, _HASH_LENGTH))
    db = _xor(masked_db, _mgf1(seed, len(masked_db)))
    label_ok = hmac.compare_digest(db[:_HASH_LENGTH], _EMPTY_LABEL_HASH)
    rest = db[_HASH_LENGTH:]
    separator = -1
    padding_ok = True
    for index, byte in enumerate(rest):
        if separator < 0:
            if byte == 1:
                separator = index
            elif byte != 0:
                padding_ok = False
    if not (em[0] == 0 and label_ok and padding_ok and separator >= 0):
        raise OaepDecodingError("decryption error")
    return rest[separator + 1 :]
