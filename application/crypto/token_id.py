"""Token ID derivation of the reference's TokenIDGenerator (spec §10.2, API §8.1).

uinHash = HEX-UPPER(SHA256(SHA256(UTF-8(uin + uinSalt))))
h       = HEX-UPPER(SHA256(SHA256(UTF-8(partnerCodeSalt + partnerCode + uinHash))))
token   = decimal string of the big-endian signed integer of the ASCII bytes of h
          (Java ``new BigInteger(h.getBytes())``), its first ``length`` characters.
"""
from __future__ import annotations

import hashlib

from domain.errors import Errors, KeyManagerError

DEFAULT_LENGTH = 36


def _double_sha256_hex_upper(text: str) -> str:
    return hashlib.sha256(hashlib.sha256(text.encode("utf-8", "replace")).digest()).hexdigest().upper()


def token_id(uin: str, partner_code: str, uin_salt: str, partner_code_salt: str, length: int = DEFAULT_LENGTH) -> str:
    """Deterministic token ID; both inputs are trimmed, and KER-TIG-010 when either is then empty."""
    uin = (uin or "").strip()
    partner_code = (partner_code or "").strip()
    if not uin or not partner_code:
        raise KeyManagerError(Errors.TOKEN_ID_INPUT_EMPTY)
    uin_hash = _double_sha256_hex_upper(uin + uin_salt)
    digest = _double_sha256_hex_upper(partner_code_salt + partner_code + uin_hash)
    number = str(int.from_bytes(digest.encode("ascii"), "big", signed=True))
    if not 1 <= length <= len(number):  # Java's substring would throw: a configuration error
        raise ValueError(f"token ID length must be between 1 and {len(number)}")
    return number[:length]
