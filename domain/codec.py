"""Base64, hex and instant conventions of the reference's wire format.

Output is URL-safe base64 without padding. Input to the cryptomanager is
lenient: the URL-safe alphabet first, then the standard one; padding optional
but, when present, correct. Whitespace is not accepted.
"""
from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime

from .errors import Errors, KeyManagerError

_URLSAFE = re.compile(r"^[A-Za-z0-9\-_]*={0,2}$")
_STANDARD = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str, pattern: re.Pattern[str], altchars: bytes) -> bytes | None:
    if not pattern.match(text):
        return None
    body = text.rstrip("=")
    padding = len(text) - len(body)
    if len(body) % 4 == 1:
        return None
    if padding and (len(body) + padding) % 4 != 0:
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


def b64url_decode(text: str) -> bytes:
    """Strict URL-safe decode (padding optional); KER-CRY-003 when malformed."""
    decoded = _decode(text, _URLSAFE, b"-_")
    if decoded is None:
        raise KeyManagerError(Errors.INVALID_BASE64)
    return decoded


def b64_decode_lenient(text: str) -> bytes:
    """URL-safe first, then standard alphabet; KER-CRY-003 when neither decodes."""
    decoded = _decode(text, _URLSAFE, b"-_")
    if decoded is None:
        decoded = _decode(text, _STANDARD, b"+/")
    if decoded is None:
        raise KeyManagerError(Errors.INVALID_BASE64)
    return decoded


def hex_upper(data: bytes) -> str:
    return data.hex().upper()


_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58btc_encode(data: bytes) -> str:
    """Bitcoin's base58 alphabet; each leading zero byte becomes a '1'."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_BASE58_ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + "".join(reversed(digits))


def format_instant(instant: datetime) -> str:
    """The reference's annotated format yyyy-MM-dd'T'HH:mm:ss.SSS'Z' (UTC, milliseconds)."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
