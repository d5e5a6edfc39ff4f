from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.crypto import jose
from application.crypto.x509 import certificate_pem
from application.keys.signing import SigningKeys
from application.ports.clock import Clock
from domain.codec import b64url_decode, b64url_encode, base58btc_encode
from domain.errors import Errors, KeyManagerError
from domain.identifiers import key_id

FORMATS = ("base58btc", "base64url")


@dataclass(frozen=True)
class RawSignCommand:
    data_to_sign: str
    app_id: str | None = None
    ref_id: str | None = None
    response_encoding_format: str | None = None
    sign_algorithm: str | None = None
    caller: str | None = None


@dataclass(frozen=True)
class RawSignResult:
    signature: str
    key_id: str | None
    certificate_pem: str
    algorithm: str
    timestamp: datetime


class SignRawData:
    """signV2 / signRawData: a bare signature over the decoded bytes, as multibase
    base58btc ("z…", the default) or base64url.

    Deliberate fix: without ``signAlgorithm`` the algorithm follows the key's reference id
    as in jwsSign (PS256 for RSA, ES256/ES256K for EC, EdDSA for Ed25519), where the
    reference tries PS256 on every key and fails for EC and Ed25519 keys.
    """

    def __init__(self, signing_keys: SigningKeys, clock: Clock) -> None:
        self.signing_keys = signing_keys
        self.clock = clock

    def execute(self, command: RawSignCommand) -> RawSignResult:
        encoding = (command.response_encoding_format or "base58btc").strip()
        if encoding not in FORMATS:
            raise KeyManagerError(Errors.UNSUPPORTED_SIGNATURE_FORMAT)
        if not (command.data_to_sign or "").strip():
            raise KeyManagerError(Errors.DATA_TO_SIGN_INVALID)
        try:
            data = b64url_decode(command.data_to_sign.strip())
        except KeyManagerError:
            raise KeyManagerError(Errors.DATA_TO_SIGN_INVALID) from None
        signing = self.signing_keys.for_signing(command.app_id, command.ref_id, caller=command.caller)
        public_key = signing.key.certificate.public_key()
        algorithm = jose.jws_algorithm(signing.key_tuple.ref_id, command.sign_algorithm)
        if not jose.algorithm_fits(algorithm, public_key):
            raise KeyManagerError(Errors.SIGNING_NOT_ALLOWED)
        signature = jose.jose_signer(signing.sign, algorithm)(data)
        encoded = "z" + base58btc_encode(signature) if encoding == "base58btc" else b64url_encode(signature)
        uni_ident = signing.key.alias.uni_ident
        return RawSignResult(
            signature=encoded,
            key_id=key_id(uni_ident) if uni_ident else None,
            certificate_pem=certificate_pem(signing.key.certificate),
            algorithm=algorithm,
            timestamp=self.clock.now(),
        )
