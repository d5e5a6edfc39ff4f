"""Byte layouts of the /encrypt output and of wrapped base private keys.

/encrypt output (before base64url):

    keyPart   = [VER_R2] ‖ thumbprint(32) ‖ RSA-OAEP(sessionKey)(256)
    wire      = keyPart ‖ "#KEY_SPLITTER#" ‖ encryptedData

encryptedData depends on the variant:

    VER_R2 (default, no salt, no aad): aad32 ‖ ct ‖ tag, nonce = aad32[0:12], GCM AAD = aad32
    SALT   (caller's salt is the IV):  ct ‖ tag
    AAD    (caller's aad, no salt):    ct ‖ tag ‖ iv16

Legacy (1.1.3) data has no thumbprint: keyPart is the bare RSA block.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .errors import Errors, KeyManagerError

VERSION_HEADER = b"VER_R2"
KEY_SPLITTER = b"#KEY_SPLITTER#"
THUMBPRINT_LENGTH = 32
RSA_2048_BLOCK = 256
THUMBPRINTED_KEY_LENGTH = THUMBPRINT_LENGTH + RSA_2048_BLOCK
AAD_LENGTH = 32
NONCE_LENGTH = 12
GCM_TAG_LENGTH = 16
APPENDED_IV_LENGTH = 16


class Variant(Enum):
    VER_R2 = "ver_r2"
    SALT = "salt"
    AAD = "aad"


def variant_for(salt: bytes | None, aad: bytes | None) -> Variant:
    if salt:
        return Variant.SALT
    if aad:
        return Variant.AAD
    return Variant.VER_R2


@dataclass(frozen=True)
class Envelope:
    has_version_header: bool
    thumbprint: bytes | None
    encrypted_key: bytes
    encrypted_data: bytes


def build(variant: Variant, thumbprint: bytes, encrypted_key: bytes, encrypted_data: bytes) -> bytes:
    if len(thumbprint) != THUMBPRINT_LENGTH:
        raise ValueError("thumbprint must be 32 bytes")
    header = VERSION_HEADER if variant is Variant.VER_R2 else b""
    return header + thumbprint + encrypted_key + KEY_SPLITTER + encrypted_data


def split(wire: bytes) -> Envelope:
    """Split at the first splitter; recognise VER_R2 and the legacy no-thumbprint layout."""
    index = wire.find(KEY_SPLITTER)
    if index <= 0:
        raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
    key_part, data = wire[:index], wire[index + len(KEY_SPLITTER):]
    has_header = key_part.startswith(VERSION_HEADER)
    if has_header:
        key_part = key_part[len(VERSION_HEADER):]
    if not data:
        raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
    if len(key_part) == THUMBPRINTED_KEY_LENGTH:
        return Envelope(has_header, key_part[:THUMBPRINT_LENGTH], key_part[THUMBPRINT_LENGTH:], data)
    return Envelope(has_header, None, key_part, data)


def ver_r2_data(aad32: bytes, ciphertext_and_tag: bytes) -> bytes:
    return aad32 + ciphertext_and_tag


def split_ver_r2_data(data: bytes) -> tuple[bytes, bytes, bytes]:
    """(aad32, nonce12, ciphertext‖tag) of a VER_R2 data block."""
    if len(data) < AAD_LENGTH + GCM_TAG_LENGTH:
        raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
    aad = data[:AAD_LENGTH]
    return aad, aad[:NONCE_LENGTH], data[AAD_LENGTH:]


def split_appended_iv(data: bytes) -> tuple[bytes, bytes]:
    """(ciphertext‖tag, iv16) of the random-IV layout ``ct ‖ tag ‖ iv16``."""
    if len(data) <= APPENDED_IV_LENGTH + GCM_TAG_LENGTH:
        raise KeyManagerError(Errors.INVALID_DATA_LENGTH)
    return data[:-APPENDED_IV_LENGTH], data[-APPENDED_IV_LENGTH:]


def wrap_blob(encrypted_key: bytes, encrypted_private_key: bytes) -> bytes:
    """Wrapped base private key: RSA-OAEP(master, S) ‖ splitter ‖ (ct ‖ tag ‖ iv16)."""
    return encrypted_key + KEY_SPLITTER + encrypted_private_key


def unwrap_blob(blob: bytes) -> tuple[bytes, bytes]:
    index = blob.find(KEY_SPLITTER)
    if index <= 0:
        raise KeyManagerError(Errors.INVALID_KEY)
    return blob[:index], blob[index + len(KEY_SPLITTER):]
