"""The reference's legacy detached JWS (CryptoCore.sign): RS256 over a raw payload.

Output: BASE64URL(header) + ".." + BASE64URL(signature), header {"alg":"RS256"},
signing input ASCII(b64u(header) + "." + b64u(payload)). RS256 is deterministic,
so the result is a known answer for a given key (vector V6).
"""
from __future__ import annotations

from application.crypto.x509 import Signer
from domain.codec import b64url_encode

LEGACY_HEADER = b'{"alg":"RS256"}'


def detached_rs256(payload: bytes, signer: Signer) -> str:
    header = b64url_encode(LEGACY_HEADER)
    signing_input = f"{header}.{b64url_encode(payload)}".encode("ascii")
    return f"{header}..{b64url_encode(signer(signing_input))}"
