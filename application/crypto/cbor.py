"""CBOR (RFC 8949) as the reference's library (authlete cbor) writes it, and a guarded reader.

Writing is done here rather than by cbor2 because the bytes must match the reference's: maps keep
insertion order, lengths are definite, integer heads are the shortest, floats are always float64
(``fb``, also for NaN and infinities) and text is the UTF-8 of a Java string (a lone surrogate
becomes ``?``). One deliberate difference: authlete writes a Long between 2^31 and 2^32-1 with an
8-byte head; we write the shortest (4-byte) head, which every decoder reads as the same number.
Reading uses cbor2; only the first item counts (trailing bytes are ignored, as in the reference).
"""
from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import cbor2

Tag = cbor2.CBORTag
UINT64_LIMIT = 1 << 64
#: What cbor2 answers for a lone "break" byte (0xff), which is no item.
_BREAK = cbor2.loads(b"\xff")
#: Nesting the writer accepts: a bound of its own, whatever the HTTP layer lets through.
MAX_DEPTH = 64


class CborError(ValueError):
    """The bytes are not well-formed CBOR (or hold a value that cannot be decoded)."""


def _head(major: int, argument: int) -> bytes:
    if argument < 24:
        return bytes([major << 5 | argument])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if argument < 1 << (8 * size):
            return bytes([major << 5 | info]) + argument.to_bytes(size, "big")
    raise CborError("argument too large")  # callers keep arguments below 2^64


def _integer(value: int) -> bytes:
    if 0 <= value < UINT64_LIMIT:
        return _head(0, value)
    if -UINT64_LIMIT <= value < 0:
        return _head(1, -1 - value)
    # Beyond 64 bits: a bignum (tags 2 and 3), as for a Java BigInteger.
    tag, magnitude = (2, value) if value > 0 else (3, -1 - value)
    return _head(6, tag) + _bytes(2, magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big"))


def _bytes(major: int, data: bytes) -> bytes:
    return _head(major, len(data)) + data


def java_utf8(text: str) -> bytes:
    """``String.getBytes(UTF_8)``: an unpaired surrogate becomes '?'."""
    return text.encode("utf-8", "replace")


def encode(value: Any) -> bytes:
    """One CBOR item; ``Tag`` for a tagged item. CborError for a type CBOR cannot carry here
    or nesting deeper than MAX_DEPTH."""
    out = bytearray()
    _encode(value, out, 0)
    return bytes(out)


def _encode(value: Any, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CborError("nested too deeply")
    if value is None:
        out.append(0xF6)
    elif value is True or value is False:
        out.append(0xF5 if value else 0xF4)
    elif isinstance(value, int):
        out += _integer(value)
    elif isinstance(value, float):
        out += b"\xfb" + struct.pack(">d", value)
    elif isinstance(value, (bytes, bytearray)):
        out += _bytes(2, bytes(value))
    elif isinstance(value, str):
        out += _bytes(3, java_utf8(value))
    elif isinstance(value, (list, tuple)):
        out += _head(4, len(value))
        for item in value:
            _encode(item, out, depth + 1)
    elif isinstance(value, Mapping):
        out += _head(5, len(value))
        for key, item in value.items():
            _encode(key, out, depth + 1)
            _encode(item, out, depth + 1)
    elif isinstance(value, Tag):
        out += _head(6, value.tag)
        _encode(value.value, out, depth + 1)
    else:
        raise CborError(f"cannot encode {type(value).__name__}")


def decode(data: bytes) -> Any:
    """The first CBOR item of ``data``; CborError for anything that does not decode.

    cbor2 raises its own errors, and arithmetic or value errors from its semantic tags
    (big floats, dates): every one of them means the input is not usable CBOR here."""
    try:
        item = cbor2.loads(data)
    except Exception as error:  # a parser boundary: any failure means bad input
        raise CborError(type(error).__name__) from None
    if item is _BREAK:
        raise CborError("break outside an indefinite-length item")
    return item
