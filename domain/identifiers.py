"""Identifiers derived from keys: thumbprints, unique identifiers and key ids."""
from __future__ import annotations

import hashlib
from datetime import datetime

from .codec import b64url_encode, hex_upper
from .keys import KeyTuple


def thumbprint(certificate_der: bytes) -> bytes:
    """SHA-256 over the whole certificate DER: the 32 bytes prepended to session keys."""
    return hashlib.sha256(certificate_der).digest()


def thumbprint_hex(certificate_der: bytes) -> str:
    return hex_upper(thumbprint(certificate_der))


def unique_value_for_generated(key_tuple: KeyTuple, generated_at: datetime) -> str:
    return f"{key_tuple.app_id}_{key_tuple.ref_id}_{generated_at.strftime('%m-%d-%Y')}"


def unique_value_for_upload(key_tuple: KeyTuple, thumbprint_hex_value: str) -> str:
    return f"{key_tuple.app_id}_{key_tuple.ref_id}_{thumbprint_hex_value}"


def uni_ident(unique_value: str) -> str:
    """key_alias.uni_ident: upper-case hex SHA-1 of the unique value."""
    return hex_upper(hashlib.sha1(unique_value.encode("utf-8")).digest())


def key_id(uni_ident_hex: str) -> str:
    """The JWS kid / keyId: base64url(SHA-256(hexdecode(uni_ident)))."""
    return b64url_encode(hashlib.sha256(bytes.fromhex(uni_ident_hex)).digest())
