from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from application.crypto import jose
from application.keys.signing import KeyIdRule, SigningKeys
from application.ports.clock import Clock
from application.use_cases.signature.certificate_chain import CertificateChains
from application.use_cases.signature.jwt_headers import JwtSignCommand, JwtSignResult, key_headers, signing_kid
from domain.codec import b64url_decode, b64url_encode
from domain.errors import Errors, KeyManagerError

#: jwsSign/v2 additional headers with a meaning of their own; others become custom parameters.
_REGISTERED = ("typ", "jku", "cty", "crit")


@dataclass(frozen=True)
class JwsSignCommand(JwtSignCommand):
    """jwtSign's fields, plus the JWS-only choices."""

    validate_json: bool = False
    b64_header: bool = False
    sign_algorithm: str | None = None


#: Same result shape as jwtSign (jwtSignedData, timestamp).
JwsSignResult = JwtSignResult


class JwsSign:
    """jwsSign (and /v2). PS256 by default for RSA keys; ``b64JWSHeaderParam`` false (the
    default) signs the raw payload (RFC 7797, ``"b64":false,"crit":["b64"]``). As the
    reference does, an included payload is the request's base64url string either way."""

    def __init__(
        self, signing_keys: SigningKeys, chains: CertificateChains, key_ids: KeyIdRule, clock: Clock
    ) -> None:
        self.signing_keys = signing_keys
        self.chains = chains
        self.key_ids = key_ids
        self.clock = clock

    def execute(self, command: JwsSignCommand) -> JwsSignResult:
        encoded = (command.data_to_sign or "").strip()
        if not encoded:
            raise KeyManagerError(Errors.DATA_TO_SIGN_INVALID)
        try:
            payload = b64url_decode(encoded)
        except KeyManagerError:
            raise KeyManagerError(Errors.DATA_TO_SIGN_INVALID) from None
        if command.validate_json:
            try:
                json.loads(payload)
            except (ValueError, UnicodeDecodeError):
                raise KeyManagerError(Errors.DATA_TO_SIGN_NOT_JSON) from None

        signing = self.signing_keys.for_signing(command.app_id, command.ref_id, caller=command.caller)
        key = signing.key
        public_key = key.certificate.public_key()
        algorithm = jose.jws_algorithm(signing.key_tuple.ref_id, command.sign_algorithm)
        if not jose.algorithm_fits(algorithm, public_key):
            raise KeyManagerError(Errors.SIGNING_NOT_ALLOWED)

        fields: list[tuple[str, Any]] = [("alg", algorithm)]
        crit: list[str] = []
        if not command.b64_header:
            fields.append(("b64", False))
            crit.append("b64")
        extra = dict(command.additional_headers)
        for name in _REGISTERED:
            value = extra.pop(name, None)
            if name == "crit" and value:
                crit.extend(str(v).strip() for v in str(value).split(",") if str(v).strip())
            elif value:
                fields.append((name, value))
        if crit:
            fields.append(("crit", crit))
        kid = signing_kid(self.key_ids, signing, command, payload)
        fields.extend(key_headers(signing, command, lambda: self.chains.of(signing), kid))
        extra.pop("kid", None)
        fields.extend((name, value) for name, value in extra.items() if name not in dict(fields))

        header = b64url_encode(jose.header_bytes(fields))
        signed_payload = payload if not command.b64_header else encoded.encode("ascii")
        signature = jose.jose_signer(signing.sign, algorithm)(header.encode("ascii") + b"." + signed_payload)
        token = f"{header}.{encoded if command.include_payload else ''}.{b64url_encode(signature)}"
        return JwsSignResult(token, self.clock.now())
