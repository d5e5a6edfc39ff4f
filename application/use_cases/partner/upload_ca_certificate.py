from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.partner_trust.ca_certificates import add_ca_certificates, lock_domain
from application.partner_trust.certificate_facts import parse_upload
from application.partner_trust.store import PartnerTrustStore
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.partner_trust import (
    PARTIAL_UPLOAD_SUCCESS,
    UPLOAD_FAILED,
    UPLOAD_SUCCESS,
    PartnerTrustPolicy,
    partner_domain,
)


@dataclass(frozen=True)
class UploadCaCertificateCommand:
    certificate_data: str
    partner_domain: str


@dataclass(frozen=True)
class UploadCaCertificateResult:
    status: str
    timestamp: datetime
    stored_ids: tuple[str, ...] = ()


class UploadCaCertificate:
    """uploadCACertificate: one PEM certificate (its failure is the answer) or a p7b bundle
    (each certificate stored or skipped; the status says which of the three outcomes)."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, trust_store: PartnerTrustStore, clock: Clock, policy: PartnerTrustPolicy
    ) -> None:
        self.uow_factory = uow_factory
        self.trust_store = trust_store
        self.clock = clock
        self.policy = policy

    def execute(self, command: UploadCaCertificateCommand) -> UploadCaCertificateResult:
        certificates = parse_upload(command.certificate_data)
        domain = partner_domain(command.partner_domain, self.policy.domains)
        now = self.clock.now()
        with self.uow_factory() as uow:
            lock_domain(uow, domain)
            cas = self.trust_store.cas(uow.trust, domain)
            outcome = add_ca_certificates(uow, cas, domain, certificates, now, self.policy)
            uow.commit()
        self.trust_store.invalidate(domain)
        if not outcome.stored:
            status = UPLOAD_FAILED
        elif outcome.failures:
            status = PARTIAL_UPLOAD_SUCCESS
        else:
            status = UPLOAD_SUCCESS
        return UploadCaCertificateResult(status, now, tuple(r.cert_id for r in outcome.stored))
