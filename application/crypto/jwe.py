"""Compact JWE (RSA-OAEP-256 / A256GCM, optional zip DEF) as the reference's jose4j writes it.

Encryption is assembled here so the protected header matches jose4j byte for
byte (insertion order, compact separators, jose4j's JSON string escaping).
Decryption takes the CEK unwrapping as a callback, because the private key may
sit in a keystore (an HSM) that only decrypts bytes.

Decryption accepts exactly one algorithm pair and refuses everything else
(other ``alg``/``enc``, ``crit``, unknown ``zip``, odd IV/tag sizes). Every
failure is KER-CRY-015 with the catalogue message, never the exception text.
Following RFC 7516 §11.5, a CEK that does not unwrap is replaced by a random
one so that the failure is only noticed, indistinguishably, at the GCM check.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from application.crypto.primitives import aes_gcm_decrypt, aes_gcm_encrypt, rsa_oaep_encrypt
from domain.codec import b64url_decode, b64url_encode
from domain.errors import Errors, KeyManagerError, StoreUnavailableError

ALG = "RSA-OAEP-256"
ENC = "A256GCM"
ZIP = "DEF"
CEK_BYTES = 32
IV_BYTES = 12
TAG_BYTES = 16
THUMBPRINT_BYTES = 32
#: A protected header larger than this is refused before it is decoded.
MAX_PROTECTED_HEADER_CHARS = 64 * 1024


# -- jose4j's JSON writer (org.jose4j.json.internal.json_simple) ------------------------------


def _jose4j_escape(text: str) -> str:
    """json_simple's ``JSONValue.escape``: short escapes for " \\ \\b \\f \\n \\r \\t, upper-case
    ``\\uXXXX`` for U+0000-001F, U+007F-009F and U+2000-20FF, everything else (including '/') as is."""
    out = []
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\b":
            out.append("\\b")
        elif char == "\f":
            out.append("\\f")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif code <= 0x1F or 0x7F <= code <= 0x9F or 0x2000 <= code <= 0x20FF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    return "".join(out)


def _jose4j_json(value: Any) -> str:
    if isinstance(value, str):
        return f'"{_jose4j_escape(value)}"'
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_jose4j_json(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f'"{_jose4j_escape(k)}":{_jose4j_json(v)}' for k, v in value.items()) + "}"
    raise TypeError("unsupported header value type")


# -- encryption -------------------------------------------------------------------------------


def certificate_kid(certificate: x509.Certificate) -> str:
    """base64url(SHA-256(certificate DER)): the ``kid`` and ``x5t#S256`` values."""
    return b64url_encode(hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest())


def protected_header(
    certificate: x509.Certificate,
    *,
    compress: bool = True,
    include_certificate: bool = False,
    include_cert_hash: bool = False,
    jwk_set_url: str | None = None,
) -> bytes:
    """The UTF-8 header JSON in jose4j's order: cty, typ, alg, enc, kid[, zip][, x5c][, x5t#S256][, jku]."""
    kid = certificate_kid(certificate)
    header: dict[str, Any] = {"cty": "JWT", "typ": "JWT", "alg": ALG, "enc": ENC, "kid": kid}
    if compress:
        header["zip"] = ZIP
    if include_certificate:
        header["x5c"] = [base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")]
    if include_cert_hash:
        header["x5t#S256"] = kid
    if jwk_set_url is not None:
        header["jku"] = jwk_set_url
    return _jose4j_json(header).encode("utf-8", "replace")  # a lone surrogate -> "?", as Java


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def encrypt_compact(
    payload: bytes,
    certificate: x509.Certificate,
    *,
    compress: bool = True,
    include_certificate: bool = False,
    include_cert_hash: bool = False,
    jwk_set_url: str | None = None,
    cek: bytes | None = None,
    iv: bytes | None = None,
) -> str:
    """``header.encryptedKey.iv.ciphertext.tag`` to the certificate's RSA key.

    ``cek`` and ``iv`` are random unless given; give them only in known-answer tests.
    KER-CRY-014 when the certificate does not hold an RSA key or the header cannot be written.
    (The 2048-bit key-size rule, KER-CRY-011, is the caller's.)
    """
    cek = os.urandom(CEK_BYTES) if cek is None else cek
    iv = os.urandom(IV_BYTES) if iv is None else iv
    if len(cek) != CEK_BYTES or len(iv) != IV_BYTES:
        raise ValueError("cek must be 32 bytes and iv 12 bytes")
    try:
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise KeyManagerError(Errors.JWE_ENCRYPTION)
        header = protected_header(
            certificate,
            compress=compress,
            include_certificate=include_certificate,
            include_cert_hash=include_cert_hash,
            jwk_set_url=jwk_set_url,
        )
        encrypted_key = rsa_oaep_encrypt(public_key, cek)
    except KeyManagerError:
        raise
    except Exception:  # an unsupported key, a header that does not encode
        raise KeyManagerError(Errors.JWE_ENCRYPTION) from None
    protected = b64url_encode(header)
    plaintext = _deflate(payload) if compress else payload
    sealed = aes_gcm_encrypt(cek, iv, plaintext, protected.encode("ascii"))
    ciphertext, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    return ".".join(
        (protected, b64url_encode(encrypted_key), b64url_encode(iv), b64url_encode(ciphertext), b64url_encode(tag))
    )


# -- parsing and decryption -------------------------------------------------------------------


@dataclass(frozen=True)
class JweMessage:
    header: dict[str, Any]
    protected: str
    encrypted_key: bytes
    iv: bytes
    ciphertext: bytes
    tag: bytes


def _fail() -> KeyManagerError:
    return KeyManagerError(Errors.JWE_DECRYPTION)


def _segment(text: str) -> bytes:
    if "=" in text:  # JOSE segments are unpadded (RFC 7515 §2)
        raise _fail()
    try:
        return b64url_decode(text)
    except KeyManagerError:
        raise _fail() from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate member")
        result[key] = value
    return result


def parse_compact(token: str) -> JweMessage:
    """Split and check a compact JWE; KER-CRY-015 unless it is RSA-OAEP-256 / A256GCM with a sane shape."""
    if not isinstance(token, str):
        raise _fail()
    parts = token.split(".")
    if len(parts) != 5 or len(parts[0]) > MAX_PROTECTED_HEADER_CHARS or not parts[0]:
        raise _fail()
    protected, *rest = parts
    header_bytes = _segment(protected)
    encrypted_key, iv, ciphertext, tag = (_segment(part) for part in rest)
    try:
        header = json.loads(header_bytes.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _fail() from None
    if not isinstance(header, dict):
        raise _fail()
    if header.get("alg") != ALG or header.get("enc") != ENC or "crit" in header:
        raise _fail()
    if "zip" in header and header["zip"] != ZIP:
        raise _fail()
    if len(iv) != IV_BYTES or len(tag) != TAG_BYTES or not encrypted_key:
        raise _fail()
    return JweMessage(header, protected, encrypted_key, iv, ciphertext, tag)


def kid_thumbprint(message: JweMessage) -> bytes:
    """The 32-byte certificate thumbprint the ``kid`` header carries; KER-CRY-015 otherwise."""
    kid = message.header.get("kid")
    if not isinstance(kid, str):
        raise _fail()
    thumbprint = _segment(kid)
    if len(thumbprint) != THUMBPRINT_BYTES:
        raise _fail()
    return thumbprint


def _inflate(data: bytes, max_plaintext_bytes: int) -> bytes:
    """Raw DEFLATE, refusing (KER-CRY-015) a stream that is truncated, has trailing bytes or
    would inflate beyond ``max_plaintext_bytes``; at most one byte more than that is produced."""
    inflater = zlib.decompressobj(-15)
    try:
        # max_length is always >= 1: zero would mean "unbounded".
        output = inflater.decompress(data, max_plaintext_bytes + 1)
    except zlib.error:
        raise _fail() from None
    if len(output) > max_plaintext_bytes or inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
        raise _fail()
    return output


def decrypt_message(message: JweMessage, unwrap_cek: Callable[[bytes], bytes], *, max_plaintext_bytes: int) -> bytes:
    """Open a parsed JWE. ``unwrap_cek`` gets the encrypted key and returns the CEK
    (RSA-OAEP-SHA256 with the caller's private key). KER-CRY-015 on any failure;
    a key store that is unavailable (``StoreUnavailableError``) is passed through."""
    if max_plaintext_bytes < 0:
        raise ValueError("max_plaintext_bytes must not be negative")
    try:
        cek = unwrap_cek(message.encrypted_key)
    except StoreUnavailableError:
        raise
    except Exception:
        cek = None
    if not isinstance(cek, (bytes, bytearray)) or len(cek) != CEK_BYTES:
        cek = os.urandom(CEK_BYTES)  # RFC 7516 §11.5: fail at the tag check, not here
    try:
        plaintext = aes_gcm_decrypt(
            bytes(cek), message.iv, message.ciphertext + message.tag, message.protected.encode("ascii")
        )
    except Exception:
        raise _fail() from None
    if message.header.get("zip") == ZIP:
        return _inflate(plaintext, max_plaintext_bytes)
    if len(plaintext) > max_plaintext_bytes:
        raise _fail()
    return plaintext
