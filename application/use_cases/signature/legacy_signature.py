from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.crypto import jose
from application.crypto.jws import detached_rs256
from application.keys.signing import SigningKeys
from application.ports.clock import Clock
from application.ports.keystore import SignatureScheme
from domain.codec import b64url_encode
from domain.errors import Errors, KeyManagerError
from domain.keys import KERNEL, SIGN


@dataclass(frozen=True)
class LegacySignCommand:
    data: str


@dataclass(frozen=True)
class LegacySignResult:
    signature: str
    timestamp: datetime


@dataclass(frozen=True)
class LegacyValidateCommand:
    signature: str
    data: str


@dataclass(frozen=True)
class LegacyValidateResult:
    status: str
    message: str


def _normalise(segment: str) -> str:
    """Accept both base64 alphabets (the reference's /validate decoded with the wrong one)."""
    return segment.strip().replace("+", "-").replace("/", "_").rstrip("=")


class LegacySign:
    """/sign (deprecated): detached RS256 of the UTF-8 data with KERNEL/SIGN."""

    def __init__(self, signing_keys: SigningKeys, clock: Clock) -> None:
        self.signing_keys = signing_keys
        self.clock = clock

    def execute(self, command: LegacySignCommand) -> LegacySignResult:
        signing = self.signing_keys.for_signing(KERNEL, SIGN, check_access=False)
        signature = detached_rs256(
            command.data.encode("utf-8"), lambda data: signing.sign(data, SignatureScheme.RSA_PKCS1_SHA256)
        )
        return LegacySignResult(signature, self.clock.now())


class LegacyValidate:
    """/validate (deprecated): checks a /sign output against the current KERNEL/SIGN key."""

    def __init__(self, signing_keys: SigningKeys) -> None:
        self.signing_keys = signing_keys

    def execute(self, command: LegacyValidateCommand) -> LegacyValidateResult:
        parts = (command.signature or "").strip().split(".")
        if len(parts) < 2:
            raise KeyManagerError(Errors.VALIDATION_UNSUCCESSFUL)
        header, signature = _normalise(parts[0]), _normalise(parts[-1])
        public_key = self.signing_keys.for_signing(KERNEL, SIGN, check_access=False).key.certificate.public_key()
        token = f"{header}.{b64url_encode(command.data.encode('utf-8'))}.{signature}"
        if not header or not signature or not jose.verify_compact(token, public_key):
            raise KeyManagerError(Errors.VALIDATION_UNSUCCESSFUL)
        return LegacyValidateResult("success", "Validation Successful")
