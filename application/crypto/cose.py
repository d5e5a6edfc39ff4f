"""COSE_Sign1 (RFC 9052 §4.2) as the reference builds and reads it (mosip-cose-pdf.md A.3, A.5, A.7).

The payload is always attached and the external AAD always empty. Signing goes through a
callback because the private key may sit in an HSM that only signs bytes.
"""
from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from application.crypto import cbor
from application.crypto.jose import raw_to_der_ecdsa
from domain.errors import Errors, KeyManagerError
from domain.keys import EC_SECP256K1_SIGN, EC_SECP256R1_SIGN, ED25519_SIGN, SIGN

# Header labels (RFC 9052 §3.1, RFC 9360) and the reference's use of 34 and 35.
ALG, CRIT, CTY, KID, IV, PARTIAL_IV = 1, 2, 3, 4, 5, 6
X5CHAIN = 33
CERT_HASH = 34  # a bare SHA-256 of the certificate, not RFC 9360's [alg, hash]
CERT_URL = 35  # a text URL
COSE_SIGN1_TAG, CWT_TAG = 18, 61
#: Tags of the other COSE messages: inside a CWT they are a COSE message, but not a Sign1.
OTHER_COSE_TAGS = frozenset({16, 17, 96, 97, 98})

ALGORITHMS = {"RS256": -257, "PS256": -37, "ES256": -7, "ES256K": -47, "EdDSA": -8}
ALGORITHM_BY_REFERENCE = {
    "": "RS256",
    SIGN: "RS256",
    EC_SECP256K1_SIGN: "ES256K",
    EC_SECP256R1_SIGN: "ES256",
    ED25519_SIGN: "EdDSA",
}
_HEX_BLANKS = str.maketrans("", "", " \t\r\n")
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def hex_decode(text: str) -> bytes:
    """Hex of either case, blanks between digits ignored (BouncyCastle Hex.decode); KER-SIG-114 otherwise."""
    try:
        return binascii.unhexlify(text.translate(_HEX_BLANKS))
    except (binascii.Error, ValueError):
        raise KeyManagerError(Errors.INPUT_PARSING) from None


def label(headers: Mapping[Any, Any], number: int) -> Any:
    """The value at integer ``number``; a Python ``True`` or ``1.0`` key is no label 1."""
    for key, value in headers.items():
        if type(key) is int and key == number:
            return value
    return None


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor.encode(["Signature1", protected, b"", payload])


def sign1(
    protected: Mapping[Any, Any], unprotected: Mapping[Any, Any], payload: bytes,
    sign: Callable[[bytes], bytes], *, cwt: bool = False,
) -> bytes:
    """Tagged COSE_Sign1 (18), wrapped in the CWT tag (61) when ``cwt``; CborError if a header cannot be written."""
    protected_bytes = cbor.encode(dict(protected))
    cbor.encode(dict(unprotected))  # a header that cannot be written fails before anything is signed
    signature = sign(sig_structure(protected_bytes, payload))
    message = cbor.Tag(COSE_SIGN1_TAG, [protected_bytes, dict(unprotected), payload, signature])
    return cbor.encode(cbor.Tag(CWT_TAG, message) if cwt else message)


@dataclass(frozen=True)
class Sign1:
    protected_bytes: bytes
    protected: dict[Any, Any]
    unprotected: dict[Any, Any]
    payload: bytes
    signature: bytes


def _unreadable() -> KeyManagerError:
    return KeyManagerError(Errors.COSE_VERIFY_FAILED)


def _decode(data: bytes) -> Any:
    try:
        return cbor.decode(data)
    except cbor.CborError:
        raise _unreadable() from None


def _open(content: Any) -> Sign1:
    """The four parts of a tag-18 content; KER-CWS-110 when they are not a COSE_Sign1
    with an attached payload (a detached one cannot be verified here)."""
    if not (isinstance(content, list) and len(content) == 4):
        raise _unreadable()
    protected_bytes, unprotected, payload, signature = content
    if not (
        isinstance(protected_bytes, bytes) and isinstance(unprotected, dict)
        and isinstance(payload, bytes) and isinstance(signature, bytes)
    ):
        raise _unreadable()
    protected = _decode(protected_bytes) if protected_bytes else {}
    if not isinstance(protected, dict):
        raise _unreadable()
    return Sign1(protected_bytes, protected, unprotected, payload, signature)


def read_cose_sign1(data: bytes) -> Sign1:
    """coseVerify1: tag 18 or KER-CWS-112 (an untagged item too)."""
    item = _decode(data)
    if not isinstance(item, cbor.Tag) or item.tag != COSE_SIGN1_TAG:
        raise KeyManagerError(Errors.COSE_SIGN1_INVALID)
    return _open(item.value)


def read_cwt(data: bytes) -> Sign1:
    """cwtVerify: tag 61 (else KER-CWS-111) around tag 18 (another COSE message: KER-CWS-112;
    anything else: KER-CWS-110)."""
    item = _decode(data)
    if not isinstance(item, cbor.Tag) or item.tag != CWT_TAG:
        raise KeyManagerError(Errors.CWT_INVALID)
    inner = item.value
    if isinstance(inner, cbor.Tag) and inner.tag == COSE_SIGN1_TAG:
        return _open(inner.value)
    if isinstance(inner, cbor.Tag) and inner.tag in OTHER_COSE_TAGS:
        raise KeyManagerError(Errors.COSE_SIGN1_INVALID)
    raise _unreadable()


def _signature_size(public_key: Any) -> int:
    if isinstance(public_key, rsa.RSAPublicKey):
        return (public_key.key_size + 7) // 8
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return 2 * ((public_key.curve.key_size + 7) // 8)
    return 64


def _verifier(alg: Any, public_key: Any) -> Callable[[bytes, bytes], None]:
    """How the protected ``alg`` is checked with this key; KER-CWS-110 for an algorithm outside the
    five the service signs with, or a key of the wrong type. (The reference checks every other alg as
    RS256; we refuse it.) ES256 and ES256K are both ECDSA with SHA-256 over the certificate's curve,
    as in the reference."""
    if alg in (-257, -37) and isinstance(public_key, rsa.RSAPublicKey):
        scheme = padding.PKCS1v15() if alg == -257 else _PSS
        return lambda signature, data: public_key.verify(signature, data, scheme, hashes.SHA256())
    if alg in (-7, -47) and isinstance(public_key, ec.EllipticCurvePublicKey):
        return lambda signature, data: public_key.verify(
            raw_to_der_ecdsa(signature), data, ec.ECDSA(hashes.SHA256())
        )
    if alg == -8 and isinstance(public_key, ed25519.Ed25519PublicKey):
        return lambda signature, data: public_key.verify(signature, data)
    raise _unreadable()


def verify(message: Sign1, public_key: Any) -> bool:
    """Whether the signature is good; KER-CWS-110 when it cannot be checked (alg, key type, length)."""
    alg = label(message.protected, ALG)
    check = _verifier(alg if type(alg) is int else None, public_key)
    if len(message.signature) != _signature_size(public_key):
        raise _unreadable()
    try:
        check(message.signature, sig_structure(message.protected_bytes, message.payload))
    except InvalidSignature:
        return False
    return True
