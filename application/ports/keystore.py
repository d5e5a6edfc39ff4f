"""The keystore port: where ROOT and module master keys live (an HSM in production).

A private key generated here never leaves it: the port offers private-key
operations by alias, never the key itself.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class KeyAlgorithm(str, Enum):
    """Key pairs a keystore makes: RSA for ROOT and module keys, EC for EC signing keys, Ed25519
    for Ed25519 signing keys when they are kept in the keystore (KEYMANAGER_ED25519_IN_KEYSTORE)."""

    RSA_2048 = "RSA_2048"
    EC_P256 = "EC_P256"  # secp256r1 (ES256)
    EC_SECP256K1 = "EC_SECP256K1"  # secp256k1 (ES256K)
    ED25519 = "ED25519"  # EdDSA; PKCS#11: CKM_EC_EDWARDS_KEY_PAIR_GEN, signed with CKM_EDDSA


class SignatureScheme(str, Enum):
    RSA_PKCS1_SHA256 = "RSA_PKCS1_SHA256"  # RS256, certificates, CSRs
    RSA_PSS_SHA256 = "RSA_PSS_SHA256"  # PS256: MGF1-SHA-256, 32-byte salt
    ECDSA_SHA256 = "ECDSA_SHA256"  # ES256 / ES256K; the signature is DER-encoded
    ED25519 = "ED25519"  # EdDSA: database-held Ed25519 keys, and keystore-held ones (KeyAlgorithm.ED25519)
    # -- ML-DSA and batch (issue 18) --
    #: Pure ML-DSA-65 (FIPS 204), empty context: database-held keys only. No keystore adapter makes or holds
    #: one (PKCS#12 cannot carry it in cryptography 51, SoftHSM2 2.6 has no ML-DSA mechanism): ADR 0024.
    ML_DSA_65 = "ML_DSA_65"


class KeystoreError(Exception):
    """The keystore could not do what was asked (missing alias, token error)."""


class PrivateKeyOperationError(KeystoreError):
    """A private-key operation failed on its input (e.g. OAEP padding check)."""


@dataclass(frozen=True)
class KeystoreHealth:
    ok: bool
    detail: str


class Keystore(Protocol):
    def generate_key_pair(self, alias: str, algorithm: KeyAlgorithm = KeyAlgorithm.RSA_2048) -> bytes:
        """Make a key pair under ``alias``; return its SubjectPublicKeyInfo DER."""

    def store_certificate(self, alias: str, certificate_der: bytes) -> None:
        """Attach (or replace) the certificate of the key pair under ``alias``."""

    def certificate(self, alias: str) -> bytes | None:
        """The DER certificate stored under ``alias``, None when there is none."""

    def decrypt(self, alias: str, ciphertext: bytes) -> bytes:
        """RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) decrypt with the private key."""

    def sign(self, alias: str, data: bytes, scheme: SignatureScheme = SignatureScheme.RSA_PKCS1_SHA256) -> bytes:
        """A signature over ``data`` (the keystore hashes it) with the given scheme."""

    def generate_secret_key(self, alias: str) -> None:
        """Make an AES-256 key under ``alias`` (generateSymmetricKey, the ZK master key)."""

    def encrypt_blocks(self, alias: str, data: bytes) -> bytes:
        """AES-ECB without padding under the secret key; ``data`` is whole 16-byte blocks.
        Only for wrapping random keys in the reference's ZK pool format (ADR 0013)."""

    def decrypt_blocks(self, alias: str, data: bytes) -> bytes:
        """The inverse of ``encrypt_blocks``."""

    def import_key_pair(self, alias: str, private_key_pkcs8: bytes, certificate_chain: Sequence[bytes]) -> None:
        """Store a key pair made elsewhere (``keymanager keystore import``): an RSA or EC private
        key (PKCS#8 DER) and its certificate chain, leaf first (DER). The leaf is kept, as the
        reference keeps chains of one; it must certify the key. A token stores the key sensitive
        and non-extractable. KeystoreError when ``alias`` is taken."""

    def import_secret_key(self, alias: str, key: bytes) -> None:
        """Store an AES key (16, 24 or 32 bytes) made elsewhere, as ``generate_secret_key`` stores
        one it makes (a token: sensitive, non-extractable). KeystoreError when ``alias`` is taken."""

    def delete(self, alias: str) -> None:
        """Remove the key (pair and certificate, or secret key) under ``alias`` (no error when absent)."""

    def aliases(self) -> list[str]:
        """Every alias that holds a key pair or a secret key."""

    def health(self) -> KeystoreHealth:
        """Whether the keystore answers."""
