"""A keystore held in process memory: nothing survives a restart.

Useful for tests and local runs; the key objects never leave this module.
"""
from __future__ import annotations

import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from application.crypto import generate_rsa_key, public_key_to_spki, rsa_oaep_decrypt
from application.ports.keystore import KeystoreError, KeystoreHealth, PrivateKeyOperationError


class MemoryKeystore:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[rsa.RSAPrivateKey, bytes | None]] = {}
        self._lock = threading.Lock()

    def generate_key_pair(self, alias: str) -> bytes:
        if alias in self.aliases():
            raise KeystoreError(f"Alias already exists: {alias}")
        key = generate_rsa_key()  # slow: done outside the lock
        with self._lock:
            # Checked again under the lock: another thread may have won the race.
            if alias in self._entries:
                raise KeystoreError(f"Alias already exists: {alias}")
            self._entries[alias] = (key, None)
        return public_key_to_spki(key.public_key())

    def store_certificate(self, alias: str, certificate_der: bytes) -> None:
        certificate = _parse_certificate(certificate_der)
        with self._lock:
            key, _ = self._entry(alias)
            # Same rule as a PKCS#12 file, so every adapter behaves alike.
            if certificate.public_key() != key.public_key():
                raise KeystoreError(f"Certificate does not match the key under alias: {alias}")
            self._entries[alias] = (key, certificate_der)

    def certificate(self, alias: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(alias)
        return entry[1] if entry else None

    def decrypt(self, alias: str, ciphertext: bytes) -> bytes:
        with self._lock:
            key, _ = self._entry(alias)
        try:
            return rsa_oaep_decrypt(key, ciphertext)
        except ValueError:
            # No details: padding-check messages must not become an oracle.
            raise PrivateKeyOperationError("RSA-OAEP decryption failed") from None

    def sign(self, alias: str, data: bytes) -> bytes:
        with self._lock:
            key, _ = self._entry(alias)
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def delete(self, alias: str) -> None:
        with self._lock:
            self._entries.pop(alias, None)

    def aliases(self) -> list[str]:
        with self._lock:
            return sorted(self._entries)

    def health(self) -> KeystoreHealth:
        with self._lock:
            count = len(self._entries)
        return KeystoreHealth(ok=True, detail=f"memory keystore, {count} keys")

    def _entry(self, alias: str) -> tuple[rsa.RSAPrivateKey, bytes | None]:
        """Caller holds the lock."""
        entry = self._entries.get(alias)
        if entry is None:
            raise KeystoreError(f"No such alias: {alias}")
        return entry


def _parse_certificate(certificate_der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(certificate_der)
    except ValueError:
        raise KeystoreError("Certificate is not a valid DER X.509 certificate") from None
