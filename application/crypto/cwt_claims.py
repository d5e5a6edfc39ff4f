"""CWT claims sets (RFC 8392) as the reference builds and checks them (mosip-cose-pdf.md A.6, A.7).

Times are integer milliseconds since the epoch in, integer seconds in the claims. The claim checks
are those of the reference's CBOR library, applied when building and when reading a claims set:
iss, sub and aud text; exp, nbf and iat non-negative numbers; cti and nonce byte strings.
"""
from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from application.crypto import cbor
from application.crypto.cose import hex_decode
from domain.codec import b64url_decode
from domain.errors import Errors, KeyManagerError

ISS, SUB, AUD, EXP, NBF, IAT, CTI, NONCE, CLAIM169 = 1, 2, 3, 4, 5, 6, 7, 10, 169
DAY_MS = 86_400_000
#: Payload keys the claims set never takes from the payload (the registered claims are the request's).
_SKIPPED = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "cti", "1", "2", "3", "4", "5", "6", "7"})
_TEXT_CLAIMS, _DATE_CLAIMS, _BYTES_CLAIMS = (ISS, SUB, AUD), (EXP, NBF, IAT), (CTI, NONCE)
_JAVA_INT = re.compile(r"[+-]?\d+")
_LONG_MAX = 2**63 - 1


@dataclass(frozen=True)
class ClaimsRequest:
    """cwtSign's claim fields, as sent (days already defaulted from the settings)."""

    issuer: str | None
    subject: str | None
    audience: str | None
    not_before_days: int
    expire_days: int
    cwt_id: str | None
    claim169_hex: str | None
    payload_b64: str | None


def _present(value: str | None) -> bool:
    return value is not None and bool(value.strip())


def java_parse_int(text: str) -> int | None:
    """``Integer.parseInt``: an optional sign and decimal digits, within 32 bits; None otherwise."""
    if not _JAVA_INT.fullmatch(text):
        return None
    try:
        value = int(text)
    except ValueError:  # more digits than Python converts
        return None
    return value if -(2**31) <= value < 2**31 else None


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON


def _payload_fields(payload_b64: str | None) -> Mapping[str, Any]:
    if payload_b64 is None or not payload_b64.strip():
        return {}
    data = b64url_decode(payload_b64)
    try:
        document = json.loads(data, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise KeyManagerError(Errors.DATA_TO_SIGN_NOT_JSON) from None
    return document if isinstance(document, dict) else {}


def build_claims(request: ClaimsRequest, now_ms: int) -> dict[Any, Any]:
    """The claims map in the reference's order; KER-SIG-117 (negative days), KER-SIG-114 (bad
    claim169 hex), KER-CRY-003 (bad payload base64), KER-JWS-103 (payload not JSON), KER-CRY-003
    (a registered claim of the wrong type, e.g. through the payload key "01")."""
    claims: dict[Any, Any] = {}
    if _present(request.issuer):
        claims[ISS] = request.issuer
    if _present(request.subject):
        claims[SUB] = request.subject
    if _present(request.audience):
        claims[AUD] = request.audience
    if request.not_before_days < 0 or request.expire_days < 0:
        raise KeyManagerError(Errors.NEGATIVE_DAYS)
    not_before = now_ms + request.not_before_days * DAY_MS
    claims[EXP] = (not_before + request.expire_days * DAY_MS) // 1000
    claims[NBF] = not_before // 1000
    claims[IAT] = now_ms // 1000
    if request.cwt_id is not None:
        cti = str(uuid.uuid4()) if request.cwt_id.upper() == "UUID" else request.cwt_id
        if cti.strip():
            claims[CTI] = cbor.java_utf8(cti)
    if request.claim169_hex is not None and request.claim169_hex.strip():
        claims[CLAIM169] = hex_decode(request.claim169_hex)
    for key, value in _payload_fields(request.payload_b64).items():
        if key in _SKIPPED:
            continue
        number = java_parse_int(key)
        if isinstance(value, str) and java_parse_int(value) is not None:
            value = java_parse_int(value)
        claims[key if number is None else number] = value  # a re-used label keeps its place
    check_claim_types(claims)
    return claims


def _date_ms(value: Any) -> int:
    """A NumericDate in milliseconds (a fraction of a second dropped); ValueError when unusable."""
    if type(value) is int:
        seconds = value
    elif type(value) is float:
        if math.isinf(value) or not -(2.0**63) <= value <= 2.0**63:
            raise ValueError("date out of range")
        seconds = 0 if math.isnan(value) else int(value)
    else:
        raise ValueError("not a date")
    if seconds < 0 or seconds > _LONG_MAX // 1000:
        raise ValueError("date out of range")
    return seconds * 1000


def check_claim_types(claims: Mapping[Any, Any]) -> None:
    """Labels are integers or text; the registered claims have their types (KER-CRY-003 otherwise,
    the reference's code for its CBOR library's refusal)."""
    for key, value in claims.items():
        if not (type(key) is int or isinstance(key, str)):
            raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
        if type(key) is not int:
            continue
        wrong = (
            (key in _TEXT_CLAIMS and not isinstance(value, str))
            or (key in _BYTES_CLAIMS and not isinstance(value, bytes))
        )
        if key in _DATE_CLAIMS:
            try:
                _date_ms(value)
            except ValueError:
                wrong = True
        if wrong:
            raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)


def read_claims(payload: bytes) -> dict[Any, Any]:
    """cwtVerify's claims set: not CBOR → KER-SIG-114; not a map → KER-CRY-003; empty → KER-JWS-103."""
    if not payload:
        raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
    try:
        claims = cbor.decode(payload)
    except cbor.CborError:
        raise KeyManagerError(Errors.INPUT_PARSING) from None
    if not isinstance(claims, dict):
        raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
    if not claims:
        raise KeyManagerError(Errors.DATA_TO_SIGN_NOT_JSON)
    check_claim_types(claims)
    return claims


def check_time(claims: Mapping[Any, Any], now_ms: int) -> None:
    """nbf in the future → KER-SIG-115; exp reached → KER-SIG-116 (claims checked by read_claims)."""
    if NBF in claims and _date_ms(claims[NBF]) > now_ms:
        raise KeyManagerError(Errors.CWT_NOT_YET_VALID)
    if EXP in claims and _date_ms(claims[EXP]) <= now_ms:
        raise KeyManagerError(Errors.CWT_EXPIRED)


def check_expected(claims: Mapping[Any, Any], claim: int, expected: str, name: str) -> None:
    """The claim must be there (KER-SIG-118) and equal ``expected`` (KER-SIG-119)."""
    if claim not in claims:
        raise KeyManagerError(Errors.CWT_CLAIM_MISSING, fmt=name)
    if claims[claim] != expected:
        raise KeyManagerError(Errors.CWT_CLAIM_MISMATCH, fmt=name)
