"""The zero-knowledge key pool's rows and wire layout (mosip-crypto.md §4), without crypto."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import Errors, KeyManagerError
from .keys import IDENTITY_CACHE, KERNEL, KeyTuple

#: The ZK master key: an AES-256 key in the keystore.
ZK_MASTER = KeyTuple(KERNEL, IDENTITY_CACHE)
#: The lock that serialises writers of the pool (a tuple no key has): its initialisation, migrations.
POOL_LOCK = KeyTuple("#data_encrypt_keystore", "")
ACTIVE = "Active"
#: Validity of a ZK master key the pool generator creates (the reference's keys-generator).
ZK_MASTER_VALIDITY_DAYS = 1825
#: Validity of a key made by generateSymmetricKey.
SYMMETRIC_KEY_VALIDITY_DAYS = 3650

INDEX_BYTES, NONCE_BYTES, AAD_BYTES = 4, 12, 32
HEADER_BYTES = INDEX_BYTES + NONCE_BYTES + AAD_BYTES  # 48


@dataclass(frozen=True)
class ZkPoolRow:
    """A data_encrypt_keystore row (key: standard base64 of the wrapped random key) and our
    check value of the unwrapped key (None for rows the reference made)."""

    id: int
    key: str
    status: str = ACTIVE
    key_check: str | None = None


@dataclass(frozen=True)
class ZkValue:
    index: int
    nonce: bytes
    aad: bytes
    sealed: bytes  # ciphertext ‖ tag


def pack_value(value: ZkValue) -> bytes:
    return value.index.to_bytes(INDEX_BYTES, "big", signed=True) + value.nonce + value.aad + value.sealed


def unpack_value(raw: bytes) -> ZkValue:
    """``index(4, big-endian) ‖ nonce(12) ‖ aad(32) ‖ ct ‖ tag``; 48 bytes or fewer is ZK-DEC-001."""
    if len(raw) <= HEADER_BYTES:
        raise KeyManagerError(Errors.ZK_INVALID_DATA_FORMAT)
    return ZkValue(
        index=int.from_bytes(raw[:INDEX_BYTES], "big", signed=True),
        nonce=raw[INDEX_BYTES : INDEX_BYTES + NONCE_BYTES],
        aad=raw[INDEX_BYTES + NONCE_BYTES : HEADER_BYTES],
        sealed=raw[HEADER_BYTES:],
    )
