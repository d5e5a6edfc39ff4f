from __future__ import annotations

import json
from typing import Any

from application.crypto import jose
from application.keys.signing import KeyIdRule, SigningKeys
from application.ports.clock import Clock
from application.use_cases.signature.certificate_chain import CertificateChains
from application.use_cases.signature.jwt_headers import JwtSignCommand, JwtSignResult, key_headers, signing_kid
from domain.codec import b64url_decode
from domain.errors import Errors, KeyManagerError

_NOT_ADDITIONAL = ("kid", "b64", "crit")


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


class JwtSign:
    """jwtSign (and /v2): a JWS over a JSON payload with the key of (app, ref); header in
    jose4j's order alg, x5c, x5t#S256, x5u, kid; detached unless includePayload."""

    def __init__(
        self, signing_keys: SigningKeys, chains: CertificateChains, key_ids: KeyIdRule, clock: Clock
    ) -> None:
        self.signing_keys = signing_keys
        self.chains = chains
        self.key_ids = key_ids
        self.clock = clock

    def execute(self, command: JwtSignCommand) -> JwtSignResult:
        payload = decode_json_payload(command.data_to_sign)
        signing = self.signing_keys.for_signing(command.app_id, command.ref_id, caller=command.caller)
        key = signing.key
        algorithm = jose.jwt_algorithm(signing.key_tuple.ref_id)
        if not jose.algorithm_fits(algorithm, key.certificate.public_key()):
            raise KeyManagerError(Errors.SIGNING_NOT_ALLOWED)
        fields: list[tuple[str, Any]] = [("alg", algorithm)]
        kid = signing_kid(self.key_ids, signing, command, payload)
        fields.extend(key_headers(signing, command, lambda: self.chains.of(signing), kid))
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
        return JwtSignResult(token, self.clock.now())
