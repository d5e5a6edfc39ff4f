"""encryptWithPin / decryptWithPin in the reference's byte layout (spec §2.4).

key  = PBKDF2-HMAC-SHA512(UTF-8 PIN, salt, iterations, 32 bytes)
blob = base64url-no-padding(salt(32) ‖ nonce(12) ‖ AES-256-GCM(key, nonce, aad = salt, UTF-8 data) ‖ tag(16))

Pure functions: no I/O. PBKDF2 runs in ``hashlib`` (which releases the GIL), so
callers may run it in a worker thread. Errors carry the catalogue message only,
never the PIN, the key or the plaintext.
"""
from __future__ import annotations

import hashlib
import os

from application.crypto.primitives import aes_gcm_decrypt, aes_gcm_encrypt
from domain.codec import b64url_decode, b64url_encode
from domain.errors import Errors, KeyManagerError

SALT_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
#: salt ‖ nonce ‖ tag: the shortest blob (an empty plaintext).
MIN_BLOB_BYTES = SALT_BYTES + NONCE_BYTES + TAG_BYTES


def _utf8(text: str) -> bytes:
    """Java's ``String.getBytes(UTF-8)``: a lone surrogate becomes '?' rather than an error."""
    return text.encode("utf-8", "replace")


def derive_pin_key(pin: str, salt: bytes, iterations: int) -> bytes:
    """PBKDF2-HMAC-SHA512 of the UTF-8 PIN, 32 bytes (the reference's ``CryptoCore.hash``)."""
    if iterations < 1:
        raise ValueError("iterations must be positive")
    return hashlib.pbkdf2_hmac("sha512", _utf8(pin), salt, iterations, KEY_BYTES)


def encrypt_with_pin(
    data: str, pin: str, iterations: int, *, salt: bytes | None = None, nonce: bytes | None = None
) -> str:
    """Encrypt the text ``data`` under a key derived from ``pin``.

    ``salt`` and ``nonce`` are random unless given; give them only in known-answer tests.
    """
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    if len(salt) != SALT_BYTES or len(nonce) != NONCE_BYTES:
        raise ValueError("salt must be 32 bytes and nonce 12 bytes")
    key = derive_pin_key(pin, salt, iterations)
    return b64url_encode(salt + nonce + aes_gcm_encrypt(key, nonce, _utf8(data), salt))


def decrypt_with_pin(blob: str, pin: str, iterations: int) -> str:
    """Reverse of :func:`encrypt_with_pin`.

    KER-CRY-003 when ``blob`` is not URL-safe base64, KER-FSE-003 when it is too
    short to hold salt, nonce and tag, KER-FSE-004 when GCM authentication fails
    (wrong PIN, tampering) or the plaintext is not UTF-8.
    """
    raw = b64url_decode(blob)
    if len(raw) < MIN_BLOB_BYTES:
        raise KeyManagerError(Errors.INVALID_ENCRYPTED_DATA)
    salt, nonce, sealed = raw[:SALT_BYTES], raw[SALT_BYTES : SALT_BYTES + NONCE_BYTES], raw[SALT_BYTES + NONCE_BYTES :]
    key = derive_pin_key(pin, salt, iterations)
    plaintext = aes_gcm_decrypt(key, nonce, sealed, salt)  # KER-FSE-004 on a bad tag
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyManagerError(Errors.CORRUPTED_DATA) from None
