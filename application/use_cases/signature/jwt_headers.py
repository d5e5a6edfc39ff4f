"""What jwtSign and jwsSign share: the command and result, and the key headers (x5c, x5t#S256, x5u, kid)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.crypto import jose
from application.keys.hierarchy import KeyHierarchy
from application.keys.signing import SigningKey
from application.keys.trust_path import own_trust_path
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.codec import b64url_encode
from domain.identifiers import key_id


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


def kid_prefix(additional_headers: dict[str, Any]) -> str:
    """jwtSign/v2: a ``kid`` among the additional headers is a prefix, '#'-terminated."""
    prefix = str(additional_headers.get("kid") or "")
    return prefix if not prefix or prefix.endswith("#") else prefix + "#"


def key_headers(
    hierarchy: KeyHierarchy,
    uow_factory: UnitOfWorkFactory,
    signing: SigningKey,
    command: JwtSignCommand | Any,
    prefix: str,
) -> list[tuple[str, Any]]:
    """x5c (the leaf, or the path to ROOT), x5t#S256, x5u and kid, in jose4j's order,
    as the command's include flags ask (shared by jwtSign and jwsSign)."""
    key = signing.key
    fields: list[tuple[str, Any]] = []
    if command.include_certificate or command.include_certificate_chain:
        chain = [key.certificate]
        if command.include_certificate_chain:
            with uow_factory() as uow:
                chain = own_trust_path(hierarchy, uow.keys, signing.key_tuple.app_id, key.certificate)
        fields.append(("x5c", [jose.std_b64(c.public_bytes(jose.DER)) for c in chain]))
    if command.include_cert_hash:
        fields.append(("x5t#S256", b64url_encode(hashlib.sha256(key.certificate_der).digest())))
    if command.certificate_url:
        fields.append(("x5u", command.certificate_url))
    if key.alias.uni_ident:
        fields.append(("kid", prefix + key_id(key.alias.uni_ident)))
    return fields
