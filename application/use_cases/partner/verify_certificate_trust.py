from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from application.partner_trust.certificate_facts import parse_partner_certificate
from application.partner_trust.store import PartnerTrustStore, build_path
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.partner_trust import PartnerTrustPolicy, partner_domain


@dataclass(frozen=True)
class VerifyCertificateTrustCommand:
    certificate_data: str
    partner_domain: str


class VerifyCertificateTrust:
    """verifyCertificateTrust (and jwtVerify's trust check): whether a path from the
    certificate to an anchor of the domain builds now. No path is an answer, not an error."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, trust_store: PartnerTrustStore, clock: Clock, policy: PartnerTrustPolicy
    ) -> None:
        self.uow_factory = uow_factory
        self.trust_store = trust_store
        self.clock = clock
        self.policy = policy

    def execute(self, command: VerifyCertificateTrustCommand) -> bool:
        certificate = parse_partner_certificate(command.certificate_data)
        return self.is_trusted(certificate, command.partner_domain)

    def is_trusted(
        self, certificate: x509.Certificate, domain_name: str, intermediates: list[x509.Certificate] | None = None
    ) -> bool:
        domain = partner_domain(domain_name, self.policy.domains)
        with self.uow_factory() as uow:
            cas = self.trust_store.cas(uow.trust, domain)
        return build_path(certificate, cas, self.clock.now(), intermediates or ()) is not None
