"""COSE header maps from the request's header directives (mosip-cose-pdf.md A.4).

The request's ``protectedHeader`` and ``unprotectedHeader`` are instructions, not literal headers:
``includeCertificate: true`` puts the certificate at label 33, ``kid`` (any value) asks for the key
id, and so on. Labels come out in the reference's order: 1 (protected only), 2, 3, 33, 34, 35, 5 or
6, the custom headers in java.util.HashMap order, 4 last.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from application.crypto.cose import ALG, CERT_HASH, CERT_URL, CRIT, CTY, IV, KID, PARTIAL_IV, X5CHAIN
from domain.errors import Errors, KeyManagerError, ValidationError

INCLUDE_CHAIN = "includeCertificateChain"
INCLUDE_CERTIFICATE = "includeCertificate"
INCLUDE_HASH = "includeCertificateHash"
_RECOGNISED = frozenset({
    "crit", "cty", "content-type", INCLUDE_CHAIN, INCLUDE_CERTIFICATE, INCLUDE_HASH, "certificateUrl", "iv",
    "partial-iv", "kid",
})
#: Keys the reference drops without a trace.
_IGNORED = frozenset({"alg", "x5c", "x5t", "x5t#S256", "x5u", "content", "partialIV"})
#: Java's String.trim(): every char up to U+0020.
_JAVA_TRIM = "".join(chr(code) for code in range(0x21))


@dataclass(frozen=True)
class SigningFacts:
    """What the directives may put into a header about the signing key."""

    certificate_der: bytes
    chain: Callable[[], list[bytes]]  # leaf first; looked up only when asked for
    kid: bytes | None  # None: no kid (switched off, or a key without a unique identifier)


def java_string_hash(text: str) -> int:
    """``String.hashCode()`` over UTF-16 code units, as an unsigned 32-bit value."""
    units = text.encode("utf-16-be", "surrogatepass")
    value = 0
    for index in range(0, len(units), 2):
        value = (31 * value + (units[index] << 8 | units[index + 1])) & 0xFFFFFFFF
    return value


def java_hash_map_order(keys: list[str]) -> list[str]:
    """The iteration order of a java.util.HashMap filled with ``keys`` in this order: by bucket,
    then insertion (a resize keeps the relative order inside a bucket). Exact unless 9 or more
    keys share a bucket, which Java would turn into a tree."""
    capacity = 16
    while len(keys) > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: str) -> int:
        value = java_string_hash(key)
        return (value ^ (value >> 16)) & (capacity - 1)

    return sorted(keys, key=bucket)


def _text(directives: Mapping[str, Any], key: str, where: str) -> str | None:
    value = directives.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationError([f"request.{where}.{key} must be a string"])
    return value


def _crit(value: str) -> list[str]:
    names: list[str] = []
    for part in value.split(","):
        name = part.strip(_JAVA_TRIM)
        if name and name not in names:
            names.append(name)
    return names


def _directives(directives: Mapping[str, Any], where: str, facts: SigningFacts) -> dict[Any, Any]:
    header: dict[Any, Any] = {}
    crit = _text(directives, "crit", where)
    if crit is not None and _crit(crit):
        header[CRIT] = _crit(crit)
    cty = _text(directives, "cty", where) if "cty" in directives else _text(directives, "content-type", where)
    if cty is not None:
        header[CTY] = cty
    if directives.get(INCLUDE_CHAIN) is True:
        chain = facts.chain()
        header[X5CHAIN] = chain[0] if len(chain) == 1 else chain
    elif directives.get(INCLUDE_CERTIFICATE) is True:
        header[X5CHAIN] = facts.certificate_der
    if directives.get(INCLUDE_HASH) is True:
        header[CERT_HASH] = hashlib.sha256(facts.certificate_der).digest()
    url = _text(directives, "certificateUrl", where)
    if url is not None:
        header[CERT_URL] = url
    iv, partial_iv = _text(directives, "iv", where), _text(directives, "partial-iv", where)
    if iv is not None:
        header[IV] = iv.encode("utf-8", "replace")
    elif partial_iv is not None:
        header[PARTIAL_IV] = partial_iv.encode("utf-8", "replace")
    custom = [key for key in directives if key not in _RECOGNISED and key not in _IGNORED]
    for key in java_hash_map_order(custom):
        header[key] = directives[key]
    return header


def _filter_unprotected(protected: Mapping[str, Any], unprotected: Mapping[str, Any]) -> dict[str, Any]:
    """What a non-empty protected map takes away from the unprotected one (SignatureUtil.filterMapEntries)."""
    if protected.get(INCLUDE_CHAIN) is True or protected.get(INCLUDE_CERTIFICATE) is True:
        return {k: v for k, v in unprotected.items() if k not in (INCLUDE_CHAIN, INCLUDE_CERTIFICATE)}
    return {k: v for k, v in unprotected.items() if protected.get(k) is not True}


def build_headers(
    protected_directives: Mapping[str, Any] | None,
    unprotected_directives: Mapping[str, Any] | None,
    alg: int,
    facts: SigningFacts,
) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """(protected, unprotected) header maps. A non-string crit, cty, content-type, certificateUrl,
    iv or partial-iv is the caller's mistake (KER-KMS-005; the reference fails with HTTP 500);
    crit in the unprotected header is refused as the reference refuses it (KER-CRY-003)."""
    protected_in = dict(protected_directives or {})
    unprotected_in = dict(unprotected_directives or {})
    if protected_in:
        unprotected_in = _filter_unprotected(protected_in, unprotected_in)
    protected = {ALG: alg, **_directives(protected_in, "protectedHeader", facts)}
    unprotected = _directives(unprotected_in, "unprotectedHeader", facts)
    if CRIT in unprotected:
        raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
    if facts.kid is not None and ("kid" in protected_in or "kid" in unprotected_in):
        (protected if "kid" in protected_in else unprotected)[KID] = facts.kid
    return protected, unprotected
