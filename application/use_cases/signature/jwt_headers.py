"""What jwtSign and jwsSign share: the command and result, and the key headers (x5c, x5t#S256, x5u, kid)."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509

from application.crypto import jose
from application.keys.signing import KID_SEPARATOR, KeyIdRule, SigningKey, payload_issuer
from domain.codec import b64url_encode


@dataclass(frozen=True)
class JwtSignCommand:
    data_to_sign: str
    app_id: str | None = None
    ref_id: str | None = None
    include_payload: bool = False
    include_certificate: bool = False
    include_cert_hash: bool = False
    certificate_url: str | None = None
    additional_headers: dict[str, Any] = field(default_factory=dict)  # v2
    include_certificate_chain: bool = False  # v2
    caller: str | None = None


@dataclass(frozen=True)
class JwtSignResult:
    jwt_signed_data: str
    timestamp: datetime


def request_kid_prefix(additional_headers: dict[str, Any]) -> str | None:
    """The /v2 endpoints: a ``kid`` among the additional headers replaces the configured prefix,
    '#'-terminated (an empty one is '#', as in the reference); None when there is none."""
    value = additional_headers.get("kid")
    if value is None:
        return None
    prefix = str(value)
    return prefix if prefix.endswith(KID_SEPARATOR) else prefix + KID_SEPARATOR


def signing_kid(key_ids: KeyIdRule, signing: SigningKey, command: JwtSignCommand | Any, payload: bytes) -> str | None:
    """The header's ``kid``: the request's prefix (/v2) or the configured one, then the key id."""
    return key_ids.kid(
        signing.key, lambda: payload_issuer(payload), request_kid_prefix(command.additional_headers)
    )


def key_headers(
    signing: SigningKey,
    command: JwtSignCommand | Any,
    chain: Callable[[], list[x509.Certificate]],
    kid: str | None,
) -> list[tuple[str, Any]]:
    """x5c (the leaf, or with includeCertificateChain the chain: certificate_chain.py), x5t#S256,
    x5u and kid, in jose4j's order, as the command's include flags ask (shared by jwtSign and jwsSign)."""
    key = signing.key
    fields: list[tuple[str, Any]] = []
    if command.include_certificate or command.include_certificate_chain:
        certificates = chain() if command.include_certificate_chain else [key.certificate]
        fields.append(("x5c", [jose.std_b64(c.public_bytes(jose.DER)) for c in certificates]))
    if command.include_cert_hash:
        fields.append(("x5t#S256", b64url_encode(hashlib.sha256(key.certificate_der).digest())))
    if command.certificate_url:
        fields.append(("x5u", command.certificate_url))
    if kid is not None:
        fields.append(("kid", kid))
    return fields
