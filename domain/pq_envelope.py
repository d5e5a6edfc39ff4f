"""The hybrid post-quantum envelope VER_Q1 (ADR 0023): byte layout and key combiner.

The AES-256-GCM data key K comes from two KEMs at once, ML-KEM-768 and RSA-OAEP-2048 used as a KEM
(a random 32-byte secret, OAEP-encrypted), combined with SHA3-256 in the manner of the composite
ML-KEM drafts (draft-ietf-lamps-pq-composite-kem), so that K stays secret while either holds::

    K = SHA3-256( ss_mlkem ‖ ss_rsa ‖ ct_mlkem ‖ ct_rsa ‖ pqKeyId ‖ rsaThumbprint ‖ LABEL )

Wire (before base64url), every field of fixed or stated length::

    "VER_Q1"(6) ‖ rsaThumbprint(32) ‖ pqKeyId(32) ‖ len(ct_mlkem)(2, BE) ‖ len(ct_rsa)(2, BE)
    ‖ ct_mlkem ‖ ct_rsa ‖ "#KEY_SPLITTER#" ‖ aad32 ‖ AES-GCM(K, nonce = aad32[0:12], AAD = aad32)

rsaThumbprint is SHA-256 of the RSA certificate's DER (as in VER_R2); pqKeyId is SHA-256 of the
ML-KEM-768 encapsulation key (1184 bytes). The splitter sits at a computed offset: the envelope is
parsed by lengths, never by searching for the splitter. Only the standard library here.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from .envelope import AAD_LENGTH, GCM_TAG_LENGTH, KEY_SPLITTER, NONCE_LENGTH, THUMBPRINT_LENGTH
from .errors import Errors, KeyManagerError

VERSION_HEADER = b"VER_Q1"
LABEL = b"MOSIP-KEYMANAGER VER_Q1 ML-KEM-768+RSA-OAEP-2048-SHA256 SHA3-256"
PQ_KEY_ID_LENGTH = 32
SHARED_SECRET_LENGTH = 32
MLKEM768_CIPHERTEXT_LENGTH = 1088
MLKEM768_PUBLIC_KEY_LENGTH = 1184
MLKEM_SEED_LENGTH = 64
MAX_RSA_CIPHERTEXT_LENGTH = 1024  # RSA-8192; base keys are RSA-2048 (256 bytes)
_LENGTHS = struct.Struct(">HH")
FIXED_PREFIX_LENGTH = len(VERSION_HEADER) + THUMBPRINT_LENGTH + PQ_KEY_ID_LENGTH + _LENGTHS.size


@dataclass(frozen=True)
class HybridEnvelope:
    rsa_thumbprint: bytes
    pq_key_id: bytes
    kem_ciphertext: bytes
    rsa_ciphertext: bytes
    aad: bytes  # 32 random bytes: GCM AAD, and its first 12 the nonce
    sealed: bytes  # ciphertext ‖ tag

    @property
    def nonce(self) -> bytes:
        return self.aad[:NONCE_LENGTH]


def is_hybrid(wire: bytes) -> bool:
    return wire.startswith(VERSION_HEADER)


def pq_key_id(encapsulation_key: bytes) -> bytes:
    """The identifier of an ML-KEM public key: SHA-256 of its 1184 raw bytes."""
    return hashlib.sha256(encapsulation_key).digest()


def combine(
    mlkem_secret: bytes, rsa_secret: bytes, kem_ciphertext: bytes, rsa_ciphertext: bytes,
    key_id: bytes, rsa_thumbprint: bytes,
) -> bytes:
    """The data key K (32 bytes) from both shared secrets, both ciphertexts and both keys' identities."""
    if len(mlkem_secret) != SHARED_SECRET_LENGTH or len(rsa_secret) != SHARED_SECRET_LENGTH:
        raise KeyManagerError(Errors.CORRUPTED_DATA)
    digest = hashlib.sha3_256()
    for part in (mlkem_secret, rsa_secret, kem_ciphertext, rsa_ciphertext, key_id, rsa_thumbprint, LABEL):
        digest.update(part)
    return digest.digest()


def build(
    rsa_thumbprint: bytes, key_id: bytes, kem_ciphertext: bytes, rsa_ciphertext: bytes, aad: bytes, sealed: bytes
) -> bytes:
    if len(rsa_thumbprint) != THUMBPRINT_LENGTH or len(key_id) != PQ_KEY_ID_LENGTH or len(aad) != AAD_LENGTH:
        raise ValueError("thumbprint, key id and aad must be 32 bytes")
    if len(kem_ciphertext) != MLKEM768_CIPHERTEXT_LENGTH or not 0 < len(rsa_ciphertext) <= MAX_RSA_CIPHERTEXT_LENGTH:
        raise ValueError("ciphertext length")
    return (
        VERSION_HEADER + rsa_thumbprint + key_id + _LENGTHS.pack(len(kem_ciphertext), len(rsa_ciphertext))
        + kem_ciphertext + rsa_ciphertext + KEY_SPLITTER + aad + sealed
    )


def split(wire: bytes) -> HybridEnvelope:
    """Parse by lengths; anything structurally wrong (cut short, wrong lengths, no splitter at
    its place) is KER-CRY-003, as a VER_R2 envelope without its splitter."""
    if not is_hybrid(wire) or len(wire) < FIXED_PREFIX_LENGTH:
        raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
    at = len(VERSION_HEADER)
    rsa_thumbprint = wire[at:at + THUMBPRINT_LENGTH]
    at += THUMBPRINT_LENGTH
    key_id = wire[at:at + PQ_KEY_ID_LENGTH]
    at += PQ_KEY_ID_LENGTH
    kem_length, rsa_length = _LENGTHS.unpack_from(wire, at)
    at += _LENGTHS.size
    if kem_length != MLKEM768_CIPHERTEXT_LENGTH or not 0 < rsa_length <= MAX_RSA_CIPHERTEXT_LENGTH:
        raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
    kem_ciphertext = wire[at:at + kem_length]
    at += kem_length
    rsa_ciphertext = wire[at:at + rsa_length]
    at += rsa_length
    if wire[at:at + len(KEY_SPLITTER)] != KEY_SPLITTER:
        raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
    data = wire[at + len(KEY_SPLITTER):]
    if len(data) < AAD_LENGTH + GCM_TAG_LENGTH:
        raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
    return HybridEnvelope(rsa_thumbprint, key_id, kem_ciphertext, rsa_ciphertext, data[:AAD_LENGTH],
                          data[AAD_LENGTH:])


@dataclass(frozen=True)
class PqKey:
    """An ML-KEM-768 key pair, the twin of one RSA base key (same tuple, same validity).

    ``private_key`` is the 64-byte seed (d ‖ z of FIPS 203) wrapped by the module key in the base
    keys' layout (base64url); ``key_id`` is ``pq_key_id(public_key)`` in upper-case hex."""

    key_id: str
    rsa_alias: str
    master_alias: str
    public_key: bytes
    private_key: str
