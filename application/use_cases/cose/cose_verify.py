"""coseVerify1 and cwtVerify (mosip-cose-pdf.md A.7)."""
from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from application.crypto import cose
from application.crypto.cwt_claims import ISS, SUB, check_expected, check_time, read_claims
from application.crypto.x509 import UNPARSABLE_CERTIFICATE, parse_pem_certificate
from application.keys.hierarchy import KeyHierarchy
from application.ports.clock import Clock
from application.use_cases.cose.options import CoseOptions
from application.use_cases.cose.signer import epoch_ms
from application.use_cases.partner.verify_certificate_trust import VerifyCertificateTrust
from application.use_cases.signature.verify_jwt import (
    TRUST_CERT_PATH_NOT_VALID,
    TRUST_CERT_PATH_VALID,
    TRUST_NOT_VERIFIED,
    TRUST_NOT_VERIFIED_NO_DOMAIN,
)
from domain.errors import Errors, KeyManagerError
from domain.keys import KERNEL, SIGN, KeyTuple


@dataclass(frozen=True)
class CoseVerifyCommand:
    cose_signed_data: str
    app_id: str | None = None
    ref_id: str | None = None
    certificate_data: str | None = None
    validate_trust: bool = False
    domain: str | None = None
    issuer: str | None = None  # cwtVerify only
    subject: str | None = None  # cwtVerify only


@dataclass(frozen=True)
class CoseVerifyResult:
    signature_valid: bool
    message: str
    trust_valid: str


def _signed_bytes(command: CoseVerifyCommand) -> bytes:
    if not (command.cose_signed_data or "").strip():
        raise KeyManagerError(Errors.SIGNATURE_DATA_INVALID)
    return cose.hex_decode(command.cose_signed_data)


def _load_der(der: bytes) -> x509.Certificate:
    try:
        certificate = x509.load_der_x509_certificate(der)
        certificate.public_key()
    except UNPARSABLE_CERTIFICATE:
        raise KeyManagerError(Errors.CERTIFICATE_PARSING) from None
    return certificate


def _x5chain(headers: dict) -> list[bytes] | None:
    value = cose.label(headers, cose.X5CHAIN)
    if value is None:
        return None
    if isinstance(value, bytes):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, bytes) for item in value):
        return value
    raise KeyManagerError(Errors.COSE_VERIFY_FAILED)


class SignatureCheck:
    """The certificate (protected x5chain, else unprotected x5chain, else certificateData, else the
    current certificate of (app, ref)), which must be valid now; the signature with the protected alg;
    and, when asked, the certificate's trust path in the partner domain (computed also for a bad
    signature, as in the reference). The kid is not used."""

    def __init__(self, hierarchy: KeyHierarchy, trust: VerifyCertificateTrust, clock: Clock) -> None:
        self.hierarchy = hierarchy
        self.trust = trust
        self.clock = clock

    def check(self, message: cose.Sign1, command: CoseVerifyCommand) -> CoseVerifyResult:
        certificate, chain = self._certificate(message, command)
        now = self.clock.now()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise KeyManagerError(Errors.VERIFICATION_CERTIFICATE_INVALID)
        valid = cose.verify(message, certificate.public_key())
        return CoseVerifyResult(
            valid, "Validation Successful" if valid else "Validation Failed", self._trust(certificate, chain, command)
        )

    def _certificate(self, message: cose.Sign1, command: CoseVerifyCommand) -> tuple[x509.Certificate, list[bytes]]:
        for headers in (message.protected, message.unprotected):
            chain = _x5chain(headers)
            if chain is not None:
                return _load_der(chain[0]), chain
        if command.certificate_data and command.certificate_data.strip():
            return parse_pem_certificate(command.certificate_data), []
        app = (command.app_id or "").strip()
        # A null referenceId is "" (the reference's cwtVerify fails with HTTP 500).
        key_tuple = KeyTuple(app, (command.ref_id or "").strip()) if app else KeyTuple(KERNEL, SIGN)
        return self.hierarchy.current_key(key_tuple).certificate, []

    def _trust(self, certificate: x509.Certificate, chain: list[bytes], command: CoseVerifyCommand) -> str:
        if not command.validate_trust:
            return TRUST_NOT_VERIFIED
        if not (command.domain or "").strip():
            return TRUST_NOT_VERIFIED_NO_DOMAIN
        # The sender's chain: its middle certificates may help; its last one is never trusted on its word.
        intermediates = [_load_der(der) for der in chain[1:-1]]
        trusted = self.trust.is_trusted(certificate, command.domain or "", intermediates)
        return TRUST_CERT_PATH_VALID if trusted else TRUST_CERT_PATH_NOT_VALID


class CoseVerify1:
    def __init__(self, check: SignatureCheck) -> None:
        self.signature_check = check

    def execute(self, command: CoseVerifyCommand) -> CoseVerifyResult:
        return self.signature_check.check(cose.read_cose_sign1(_signed_bytes(command)), command)


class CwtVerify:
    """The claims are checked before the signature, as in the reference: nbf, exp, then iss and sub
    when those checks are switched on (the request's issuer/subject, else the configured ones)."""

    def __init__(self, check: SignatureCheck, clock: Clock, options: CoseOptions) -> None:
        self.signature_check = check
        self.clock = clock
        self.options = options

    def execute(self, command: CoseVerifyCommand) -> CoseVerifyResult:
        message = cose.read_cwt(_signed_bytes(command))
        claims = read_claims(message.payload)
        check_time(claims, epoch_ms(self.clock.now()))
        options = self.options
        if options.verify_issuer:
            expected = options.expected_issuer if command.issuer is None else command.issuer
            check_expected(claims, ISS, expected, "Issuer")
        if options.verify_subject:
            expected = options.expected_subject if command.subject is None else command.subject
            check_expected(claims, SUB, expected, "Subject")
        return self.signature_check.check(message, command)
