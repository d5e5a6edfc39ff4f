from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from application.crypto import jose
from application.crypto.x509 import UNPARSABLE_CERTIFICATE, load_der, parse_pem_certificate
from application.keys.signing import SigningKeys
from application.ports.clock import Clock
from application.use_cases.partner.verify_certificate_trust import VerifyCertificateTrust
from domain.codec import b64url_decode, b64url_encode
from domain.errors import Errors, KeyManagerError

TRUST_NOT_VERIFIED = "TRUST_NOT_VERIFIED"
TRUST_NOT_VERIFIED_NO_DOMAIN = "TRUST_NOT_VERIFIED_NO_DOMAIN"
TRUST_CERT_PATH_VALID = "TRUST_CERT_PATH_VALID"
TRUST_CERT_PATH_NOT_VALID = "TRUST_CERT_PATH_NOT_VALID"


@dataclass(frozen=True)
class JwtVerifyCommand:
    jwt_signature_data: str
    actual_data: str | None = None
    app_id: str | None = None
    ref_id: str | None = None
    certificate_data: str | None = None
    validate_trust: bool = False
    domain: str | None = None
    #: jwtVerify/v2: the trust check takes the header's x5c entries between the leaf and the
    #: last one as intermediates (the last, the sender's root, is never trusted on its word).
    trust_header_chain: bool = False


@dataclass(frozen=True)
class JwtVerifyResult:
    signature_valid: bool
    message: str
    trust_valid: str


def _split(token: str) -> tuple[list[str], dict[str, Any]]:
    parts = (token or "").strip().split(".")
    if len(parts) != 3 or not parts[0] or not parts[2]:
        raise KeyManagerError(Errors.SIGNATURE_DATA_INVALID)
    try:
        header = json.loads(b64url_decode(parts[0]))
    except (KeyManagerError, ValueError, UnicodeDecodeError):
        raise KeyManagerError(Errors.SIGNATURE_DATA_INVALID) from None
    if not isinstance(header, dict):
        raise KeyManagerError(Errors.SIGNATURE_DATA_INVALID)
    return parts, header


class JwtVerify:
    """jwtVerify: the certificate comes from the header's x5c, else the request's PEM,
    else our key of (app, ref); it must be valid now. joserfc checks the signature with
    the one algorithm that fits the key, so `none`, HMAC and algorithm swaps fail.
    With validateTrust and a domain, the certificate must chain to that partner domain's
    trust store (verifyCertificateTrust)."""

    def __init__(self, signing_keys: SigningKeys, trust: VerifyCertificateTrust, clock: Clock) -> None:
        self.signing_keys = signing_keys
        self.clock = clock
        self.trust = trust

    def execute(self, command: JwtVerifyCommand) -> JwtVerifyResult:
        parts, header = _split(command.jwt_signature_data)
        certificate, header_chain = self._certificate(header, command)
        now = self.clock.now()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise KeyManagerError(Errors.VERIFICATION_CERTIFICATE_INVALID)

        valid = self._thumbprint_matches(header, header_chain) and self._signature_valid(
            parts, header, certificate, command.actual_data
        )
        if not command.validate_trust:
            trust = TRUST_NOT_VERIFIED
        elif not (command.domain or "").strip():
            trust = TRUST_NOT_VERIFIED_NO_DOMAIN
        else:
            intermediates = []
            if command.trust_header_chain and len(header_chain) > 2:
                try:
                    intermediates = [load_der(der) for der in header_chain[1:-1]]
                except UNPARSABLE_CERTIFICATE:
                    raise KeyManagerError(Errors.SIGNATURE_DATA_INVALID) from None
            trusted = self.trust.is_trusted(certificate, command.domain or "", intermediates)
            trust = TRUST_CERT_PATH_VALID if trusted else TRUST_CERT_PATH_NOT_VALID
        return JwtVerifyResult(valid, "Validation Successful" if valid else "Validation Failed", trust)

    def _certificate(
        self, header: dict[str, Any], command: JwtVerifyCommand
    ) -> tuple[x509.Certificate, list[bytes]]:
        chain = header.get("x5c")
        if chain is not None:
            if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
                raise KeyManagerError(Errors.SIGNATURE_DATA_INVALID)
            try:
                ders = [base64.b64decode(c, validate=True) for c in chain]
                certificate = x509.load_der_x509_certificate(ders[0])
                certificate.public_key()
            except UNPARSABLE_CERTIFICATE:
                raise KeyManagerError(Errors.VERIFICATION_CERTIFICATE_INVALID) from None
            return certificate, ders
        if command.certificate_data and command.certificate_data.strip():
            return parse_pem_certificate(command.certificate_data), []
        key = self.signing_keys.for_signing(command.app_id, command.ref_id, check_access=False).key
        return key.certificate, []

    @staticmethod
    def _thumbprint_matches(header: dict[str, Any], chain: list[bytes]) -> bool:
        """An x5t#S256 that does not name the x5c certificate makes the token invalid."""
        claimed = header.get("x5t#S256")
        if claimed is None or not chain:
            return True
        return claimed == b64url_encode(hashlib.sha256(chain[0]).digest())

    @staticmethod
    def _signature_valid(
        parts: list[str], header: dict[str, Any], certificate: x509.Certificate, actual_data: str | None
    ) -> bool:
        public_key = certificate.public_key()
        payload_segment = parts[1]
        if actual_data and actual_data.strip():
            payload_segment = actual_data.strip()
        if header.get("b64") is False:
            # RFC 7797: the payload is signed as raw bytes; actualData carries them base64url-encoded.
            try:
                raw = b64url_decode(payload_segment)
            except KeyManagerError:
                return False
            return jose.verify_compact(f"{parts[0]}..{parts[2]}", public_key, detached_payload=raw)
        if not payload_segment:
            return False  # detached and nothing to verify it against
        return jose.verify_compact(f"{parts[0]}.{payload_segment}.{parts[2]}", public_key)
