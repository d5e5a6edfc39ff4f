"""Adding CA certificates to a partner domain's trust store (uploadCACertificate's rules,
shared with uploadPartnerCertificate, which feeds its chain back into the domain)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509

from application.crypto.x509 import certificate_pem
from application.partner_trust.certificate_facts import dn_string, is_self_signed, path_refusal, sha1_thumbprint
from application.partner_trust.store import TrustedCa, build_path
from application.ports.unit_of_work import UnitOfWork
from domain.errors import Errors, KeyManagerError
from domain.keys import KeyTuple
from domain.partner_trust import INTERMEDIATE_CA, ROOT_CA, CaCertificateRecord, PartnerTrustPolicy, add_months

#: The "application" whose lock serialises uploads into one domain (ours; no key has it).
_TRUST_STORE_LOCK = "#ca_cert_store"


def lock_domain(uow: UnitOfWork, domain: str) -> None:
    """Serialise writers of the domain's trust store (every process and instance), so the
    duplicate check and the path built from the domain's rows hold until the commit."""
    uow.lock(KeyTuple(_TRUST_STORE_LOCK, domain))


@dataclass
class CaUploadOutcome:
    stored: list[CaCertificateRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # error codes of skipped certificates


def check_dates(certificate: x509.Certificate, at: datetime) -> None:
    """Future-dated (by date: KER-PMS-020), then not valid now (KER-PCM-004)."""
    if certificate.not_valid_before_utc.date() > at.date():
        raise KeyManagerError(Errors.FUTURE_DATED_CERTIFICATE)
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        raise KeyManagerError(Errors.CERTIFICATE_DATES_INVALID)


def issuer_row(chain: list[x509.Certificate], cas: list[TrustedCa]) -> str:
    """The cert_id of the CA the verifier found as the certificate's issuer (chain[1])."""
    issuer = chain[1] if len(chain) > 1 else chain[0]
    return next((ca.record.cert_id for ca in cas if ca.certificate == issuer), "")


def add_ca_certificates(
    uow: UnitOfWork,
    cas: list[TrustedCa],
    domain: str,
    certificates: list[x509.Certificate],
    at: datetime,
    policy: PartnerTrustPolicy,
    *,
    bundle: bool | None = None,
) -> CaUploadOutcome:
    """Store each certificate that passes the rules: a self-signed one as a ROOT anchor, any
    other as an INTERMEDIATE once a path to an anchor of the domain builds. With one
    certificate a failure raises its error; in a bundle the certificate is skipped. A bundle
    certificate whose issuer comes later in the bundle is retried once that issuer is in, so
    the bundle's order does not matter. ``cas`` (the domain's CAs) grows with what is stored.
    ``bundle=True`` treats even one certificate as a bundle (failures are skipped, not raised)."""
    outcome = CaUploadOutcome()
    single = len(certificates) == 1 if bundle is None else not bundle
    pending = list(certificates)
    while pending:
        waiting: list[x509.Certificate] = []
        for certificate in pending:
            try:
                outcome.stored.append(_add_one(uow, cas, domain, certificate, at, policy))
            except KeyManagerError as error:
                if single:
                    raise
                if error.error is Errors.ROOT_CA_NOT_FOUND:
                    waiting.append(certificate)
                else:
                    outcome.failures.append(error.code)
        if len(waiting) == len(pending):  # no progress: these have no path
            outcome.failures.extend(Errors.ROOT_CA_NOT_FOUND.value.code for _ in waiting)
            break
        pending = waiting
    return outcome


def _add_one(
    uow: UnitOfWork,
    cas: list[TrustedCa],
    domain: str,
    certificate: x509.Certificate,
    at: datetime,
    policy: PartnerTrustPolicy,
) -> CaCertificateRecord:
    thumbprint = sha1_thumbprint(certificate)
    if uow.trust.ca_exists(thumbprint, domain):
        raise KeyManagerError(Errors.CA_CERTIFICATE_EXISTS)
    check_dates(certificate, at)
    if certificate.not_valid_after_utc.date() < add_months(at.date(), policy.ca_minimum_validity_months):
        raise KeyManagerError(Errors.CA_VALIDITY_TOO_SHORT)
    if certificate.version != x509.Version.v3:
        raise KeyManagerError(Errors.CERTIFICATE_VERSION)
    self_signed = is_self_signed(certificate)
    if (refusal := path_refusal(certificate, as_anchor=self_signed)) is not None:
        raise KeyManagerError(Errors.INVALID_CERTIFICATE_UPLOADED, refusal)
    cert_id = str(uuid.uuid4())
    if self_signed:
        record = _record(certificate, cert_id, cert_id, ROOT_CA, domain, thumbprint, at)
    else:
        chain = build_path(certificate, cas, at)
        if chain is None:
            raise KeyManagerError(Errors.ROOT_CA_NOT_FOUND)
        record = _record(certificate, cert_id, issuer_row(chain, cas), INTERMEDIATE_CA, domain, thumbprint, at)
    uow.trust.add_ca(record)
    cas.append(TrustedCa(record, certificate, self_signed))
    return record


def _record(
    certificate: x509.Certificate, cert_id: str, issuer_id: str, ca_type: str, domain: str, thumbprint: str,
    at: datetime,
) -> CaCertificateRecord:
    return CaCertificateRecord(
        cert_id=cert_id,
        subject=dn_string(certificate.subject),
        issuer=dn_string(certificate.issuer),
        issuer_id=issuer_id,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        certificate_pem=certificate_pem(certificate),
        thumbprint=thumbprint,
        serial_number=str(certificate.serial_number),
        domain=domain,
        ca_type=ca_type,
        created_at=at,
    )
