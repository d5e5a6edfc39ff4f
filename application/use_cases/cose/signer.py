"""What coseSign1 and cwtSign share: the key, the algorithm, the headers and the signature."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from application.crypto import cbor, cose, jose
from application.crypto.cose_headers import SigningFacts, build_headers
from application.keys.signing import KeyIdRule, SigningKey, SigningKeys
from application.use_cases.signature.certificate_chain import CertificateChains
from domain.errors import Errors, KeyManagerError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True)
class SignWith:
    """Which key and how: the request's fields common to coseSign1 and cwtSign."""

    app_id: str | None
    ref_id: str | None
    protected_header: dict[str, Any] | None
    unprotected_header: dict[str, Any] | None
    algorithm: str | None
    caller: str | None


class CoseSigner:
    """Signs a payload as a tagged COSE_Sign1 with the key of (app, ref) (mosip-cose-pdf.md A.2-A.5).

    Unlike the reference, the certificate must be valid now (KER-KMA-005, as for every other
    signing endpoint), and an algorithm that does not fit the key is refused (KER-JWS-104) also
    where the reference would sign: ES256 with a secp256k1 key, ES256K with a P-256 key."""

    def __init__(self, signing_keys: SigningKeys, chains: CertificateChains, key_ids: KeyIdRule) -> None:
        self.signing_keys = signing_keys
        self.chains = chains
        self.key_ids = key_ids

    def sign(self, request: SignWith, payload: bytes, issuer: Callable[[], str | None], *, cwt: bool) -> bytes:
        # A null referenceId is "" here (the reference fails with HTTP 500).
        signing = self.signing_keys.for_signing(request.app_id, request.ref_id or "", caller=request.caller)
        algorithm = self._algorithm(request, signing)
        if not jose.algorithm_fits(algorithm, signing.key.certificate.public_key()):
            raise KeyManagerError(Errors.UNABLE_TO_SIGN)
        facts = SigningFacts(signing.key.certificate_der, lambda: self._chain(signing), self._kid(signing, issuer))
        protected, unprotected = build_headers(
            request.protected_header, request.unprotected_header, cose.ALGORITHMS[algorithm], facts
        )
        try:
            return cose.sign1(protected, unprotected, payload, jose.jose_signer(signing.sign, algorithm), cwt=cwt)
        except cbor.CborError:
            raise KeyManagerError(Errors.COSE_SIGN_FAILED) from None

    @staticmethod
    def _algorithm(request: SignWith, signing: SigningKey) -> str:
        if request.algorithm:
            if request.algorithm not in cose.ALGORITHMS:
                raise KeyManagerError(Errors.SIGNATURE_ALGORITHM_NOT_SUPPORTED, request.algorithm)
            return request.algorithm
        ref = request.ref_id or ""
        if (request.app_id or "").strip() and ref and not ref.strip():
            # The reference looks the algorithm up by the unchanged, blank reference and fails (HTTP 500).
            raise KeyManagerError(Errors.REFERENCE_ID_NOT_SUPPORTED)
        return cose.ALGORITHM_BY_REFERENCE.get(signing.key_tuple.ref_id, "RS256")

    def _chain(self, signing: SigningKey) -> list[bytes]:
        return [certificate.public_bytes(jose.DER) for certificate in self.chains.of(signing)]

    def _kid(self, signing: SigningKey, issuer: Callable[[], str | None]) -> bytes | None:
        # PAYLOAD_ISSUER takes the payload's issuer, as the setting means (mosip-api.md §1.9); the
        # reference's COSE code parses the still-encoded payload, fails, and always writes "#".
        kid = self.key_ids.kid(signing.key, issuer)
        return None if kid is None else kid.encode("utf-8")
