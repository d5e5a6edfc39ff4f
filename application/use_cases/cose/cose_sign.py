"""coseSign1 and cwtSign: a payload, or a CWT claims set, signed as a tagged COSE_Sign1 (lower-case hex)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.crypto import cbor
from application.crypto.cwt_claims import ISS, ClaimsRequest, build_claims
from application.keys.signing import payload_issuer
from application.ports.clock import Clock
from application.use_cases.cose.options import CoseOptions
from application.use_cases.cose.signer import CoseSigner, SignWith, epoch_ms
from domain.codec import b64url_decode
from domain.errors import Errors, KeyManagerError


@dataclass(frozen=True)
class CoseSignCommand:
    payload: str
    app_id: str | None = None
    ref_id: str | None = None
    protected_header: dict[str, Any] | None = None
    unprotected_header: dict[str, Any] | None = None
    algorithm: str | None = None
    caller: str | None = None


@dataclass(frozen=True)
class CwtSignCommand:
    payload: str | None = None
    claim169_payload: str | None = None
    app_id: str | None = None
    ref_id: str | None = None
    protected_header: dict[str, Any] | None = None
    unprotected_header: dict[str, Any] | None = None
    algorithm: str | None = None
    issuer: str | None = None
    subject: str | None = None
    audience: str | None = None
    expire_days: int | None = None
    not_before_days: int | None = None
    cwt_id: str | None = None
    caller: str | None = None


@dataclass(frozen=True)
class CoseSignResult:
    signed_data: str
    timestamp: datetime


def _sign_with(command: CoseSignCommand | CwtSignCommand) -> SignWith:
    return SignWith(
        command.app_id, command.ref_id, command.protected_header, command.unprotected_header, command.algorithm,
        command.caller,
    )


class CoseSign1:
    """The payload is base64url; it is signed as the reference signs it: read as UTF-8 text and
    written back, so invalid UTF-8 becomes U+FFFD."""

    def __init__(self, signer: CoseSigner, clock: Clock) -> None:
        self.signer = signer
        self.clock = clock

    def execute(self, command: CoseSignCommand) -> CoseSignResult:
        if not (command.payload or "").strip():
            raise KeyManagerError(Errors.DATA_TO_SIGN_INVALID)
        payload = b64url_decode(command.payload).decode("utf-8", "replace").encode("utf-8")
        signed = self.signer.sign(_sign_with(command), payload, lambda: payload_issuer(payload), cwt=False)
        return CoseSignResult(signed.hex(), self.clock.now())


class CwtSign:
    """A CWT (tag 61 around tag 18) of the request's claims and the payload's JSON fields."""

    def __init__(self, signer: CoseSigner, clock: Clock, options: CoseOptions) -> None:
        self.signer = signer
        self.clock = clock
        self.options = options

    def execute(self, command: CwtSignCommand) -> CoseSignResult:
        if not (command.payload or "").strip() and not (command.claim169_payload or "").strip():
            raise KeyManagerError(Errors.DATA_TO_SIGN_INVALID)
        now = self.clock.now()
        options = self.options
        claims = build_claims(
            ClaimsRequest(
                issuer=options.cwt_issuer if command.issuer is None else command.issuer,
                subject=command.subject,
                audience=command.audience,
                not_before_days=_or(command.not_before_days, options.cwt_not_before_days),
                expire_days=_or(command.expire_days, options.cwt_expire_days),
                cwt_id=command.cwt_id,
                claim169_hex=command.claim169_payload,
                payload_b64=command.payload,
            ),
            epoch_ms(now),
        )
        try:
            payload = cbor.encode(claims)
        except cbor.CborError:
            raise KeyManagerError(Errors.COSE_SIGN_FAILED) from None
        issuer = claims.get(ISS)
        signed = self.signer.sign(
            _sign_with(command), payload, lambda: issuer if isinstance(issuer, str) else None, cwt=True
        )
        return CoseSignResult(signed.hex(), now)


def _or(value: int | None, default: int) -> int:
    return default if value is None else value
