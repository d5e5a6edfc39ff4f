"""The keystore port: where ROOT and module master keys live (an HSM in production).

A private key generated here never leaves it: the port offers private-key
operations by alias, never the key itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class KeystoreError(Exception):
    """The keystore could not do what was asked (missing alias, token error)."""


class PrivateKeyOperationError(KeystoreError):
    """A private-key operation failed on its input (e.g. OAEP padding check)."""


@dataclass(frozen=True)
class KeystoreHealth:
    ok: bool
    detail: str


class Keystore(Protocol):
    def generate_key_pair(self, alias: str) -> bytes:
        """Make an RSA-2048 key pair under ``alias``; return its SubjectPublicKeyInfo DER."""

    def store_certificate(self, alias: str, certificate_der: bytes) -> None:
        """Attach (or replace) the certificate of the key pair under ``alias``."""

    def certificate(self, alias: str) -> bytes | None:
        """The DER certificate stored under ``alias``, None when there is none."""

    def decrypt(self, alias: str, ciphertext: bytes) -> bytes:
        """RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) decrypt with the private key."""

    def sign(self, alias: str, data: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 with SHA-256 over ``data``."""

    def delete(self, alias: str) -> None:
        """Remove the key pair and certificate under ``alias`` (no error when absent)."""

    def aliases(self) -> list[str]:
        """Every alias that holds a key pair."""

    def health(self) -> KeystoreHealth:
        """Whether the keystore answers."""
