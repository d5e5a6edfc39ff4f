"""A keystore held in process memory: nothing survives a restart.

Useful for tests and local runs; the key objects never leave this module.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from application.crypto.primitives import (
    AES_KEY_LENGTHS,
    RsaKeySource,
    SoftwareKey,
    aes_ecb,
    generate_key,
    generate_rsa_key,
    key_pair_for_import,
    public_key_to_spki,
    random_bytes,
    rsa_oaep_decrypt,
    sign_with,
)
from application.ports.keystore import (
    KeyAlgorithm,
    KeystoreError,
    KeystoreHealth,
    PrivateKeyOperationError,
    SignatureScheme,
)


class MemoryKeystore:
    def __init__(self, rsa_key_source: RsaKeySource = generate_rsa_key) -> None:
        self._rsa_key_source = rsa_key_source
        self._entries: dict[str, tuple[SoftwareKey, bytes | None]] = {}
        self._secrets: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def generate_key_pair(self, alias: str, algorithm: KeyAlgorithm = KeyAlgorithm.RSA_2048) -> bytes:
        if alias in self.aliases():
            raise KeystoreError(f"Alias already exists: {alias}")
        key = generate_key(algorithm, self._rsa_key_source)  # slow: done outside the lock
        with self._lock:
            # Checked again under the lock: another thread may have won the race.
            if alias in self._entries or alias in self._secrets:
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
        if not isinstance(key, rsa.RSAPrivateKey):
            raise PrivateKeyOperationError("not an RSA key")
        try:
            return rsa_oaep_decrypt(key, ciphertext)
        except ValueError:
            # No details: padding-check messages must not become an oracle.
            raise PrivateKeyOperationError("RSA-OAEP decryption failed") from None

    def sign(self, alias: str, data: bytes, scheme: SignatureScheme = SignatureScheme.RSA_PKCS1_SHA256) -> bytes:
        with self._lock:
            key, _ = self._entry(alias)
        try:
            return sign_with(key, data, SignatureScheme(scheme))
        except ValueError:
            raise PrivateKeyOperationError("signature scheme does not fit the key") from None

    def generate_secret_key(self, alias: str) -> None:
        with self._lock:
            if alias in self._entries or alias in self._secrets:
                raise KeystoreError(f"Alias already exists: {alias}")
            self._secrets[alias] = random_bytes(32)

    def encrypt_blocks(self, alias: str, data: bytes) -> bytes:
        return aes_ecb(self._secret(alias), data, encrypt=True)

    def decrypt_blocks(self, alias: str, data: bytes) -> bytes:
        return aes_ecb(self._secret(alias), data, encrypt=False)

    def import_key_pair(self, alias: str, private_key_pkcs8: bytes, certificate_chain: Sequence[bytes]) -> None:
        try:
            key, certificate_der = key_pair_for_import(private_key_pkcs8, certificate_chain)
        except ValueError as error:
            raise KeystoreError(f"Cannot import {alias}: {error}") from None
        with self._lock:
            if alias in self._entries or alias in self._secrets:
                raise KeystoreError(f"Alias already exists: {alias}")
            self._entries[alias] = (key, certificate_der)

    def import_secret_key(self, alias: str, key: bytes) -> None:
        if len(key) not in AES_KEY_LENGTHS:
            raise KeystoreError(f"Cannot import {alias}: not an AES key")
        with self._lock:
            if alias in self._entries or alias in self._secrets:
                raise KeystoreError(f"Alias already exists: {alias}")
            self._secrets[alias] = bytes(key)

    def delete(self, alias: str) -> None:
        with self._lock:
            self._entries.pop(alias, None)
            self._secrets.pop(alias, None)

    def aliases(self) -> list[str]:
        with self._lock:
            return sorted({*self._entries, *self._secrets})

    def _secret(self, alias: str) -> bytes:
        with self._lock:
            key = self._secrets.get(alias)
        if key is None:
            raise KeystoreError(f"No such alias: {alias}")
        return key

    def health(self) -> KeystoreHealth:
        with self._lock:
            count = len(self._entries)
        return KeystoreHealth(ok=True, detail=f"memory keystore, {count} keys")

    def _entry(self, alias: str) -> tuple[SoftwareKey, bytes | None]:
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
