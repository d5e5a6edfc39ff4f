from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.crypto import jose
from application.keys.signing import SigningKey, SigningKeys
from application.keys.trust_path import own_trust_path
from domain.codec import b64url_decode, b64url_encode
from domain.errors import Errors, KeyManagerError
from domain.identifiers import key_id

_NOT_ADDITIONAL = ("kid", "b64", "crit")


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


def decode_json_payload(data_to_sign: str) -> bytes:
    """dataToSign is base64url of a JSON document (KER-JWS-102 / KER-JWS-103)."""
    if not (data_to_sign or "").strip():
        raise KeyManagerError(Errors.DATA_TO_SIGN_INVALID)
    try:
        payload = b64url_decode(data_to_sign.strip())
    except KeyManagerError:
        raise KeyManagerError(Errors.DATA_TO_SIGN_INVALID) from None
    try:
        json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise KeyManagerError(Errors.DATA_TO_SIGN_NOT_JSON) from None
    return payload


def kid_prefix(additional_headers: dict[str, Any]) -> str:
    """jwtSign/v2: a ``kid`` among the additional headers is a prefix, '#'-terminated."""
    prefix = str(additional_headers.get("kid") or "")
    return prefix if not prefix or prefix.endswith("#") else prefix + "#"


def key_headers(
    signing_keys: SigningKeys, signing: SigningKey, command: JwtSignCommand | Any, prefix: str
) -> list[tuple[str, Any]]:
    """x5c (the leaf, or the path to ROOT), x5t#S256, x5u and kid, in jose4j's order,
    as the command's include flags ask (shared by jwtSign and jwsSign)."""
    key = signing.key
    fields: list[tuple[str, Any]] = []
    if command.include_certificate or command.include_certificate_chain:
        chain = [key.certificate]
        if command.include_certificate_chain:
            hierarchy = signing_keys.hierarchy
            with hierarchy.uow_factory() as uow:
                chain = own_trust_path(hierarchy, uow.keys, signing.key_tuple.app_id, key.certificate)
        fields.append(("x5c", [jose.std_b64(c.public_bytes(jose.DER)) for c in chain]))
    if command.include_cert_hash:
        fields.append(("x5t#S256", b64url_encode(hashlib.sha256(key.certificate_der).digest())))
    if command.certificate_url:
        fields.append(("x5u", command.certificate_url))
    if key.alias.uni_ident:
        fields.append(("kid", prefix + key_id(key.alias.uni_ident)))
    return fields


class JwtSign:
    """jwtSign (and /v2): a JWS over a JSON payload with the key of (app, ref); header in
    jose4j's order alg, x5c, x5t#S256, x5u, kid; detached unless includePayload."""

    def __init__(self, signing_keys: SigningKeys) -> None:
        self.signing_keys = signing_keys

    def execute(self, command: JwtSignCommand) -> JwtSignResult:
        payload = decode_json_payload(command.data_to_sign)
        signing = self.signing_keys.for_signing(command.app_id, command.ref_id, caller=command.caller)
        key = signing.key
        algorithm = jose.jwt_algorithm(signing.key_tuple.ref_id)
        if not jose.algorithm_fits(algorithm, key.certificate.public_key()):
            raise KeyManagerError(Errors.SIGNING_NOT_ALLOWED)
        fields: list[tuple[str, Any]] = [("alg", algorithm)]
        fields.extend(
            key_headers(self.signing_keys, signing, command, kid_prefix(command.additional_headers))
        )
        for name, value in command.additional_headers.items():
            # kid is a prefix (above); b64/crit would change how the token must be verified,
            # which a JWT signed over its base64url payload cannot honour.
            if name not in _NOT_ADDITIONAL and name not in dict(fields):
                fields.append((name, value))
        token = jose.compact(
            jose.header_bytes(fields),
            payload,
            jose.jose_signer(signing.sign, algorithm),
            detached=not command.include_payload,
        )
        return JwtSignResult(token, self.signing_keys.hierarchy.clock.now())
