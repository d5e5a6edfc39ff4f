from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.crypto.x509 import pkcs7_pem
from application.partner_trust.certificate_facts import is_self_signed
from application.partner_trust.store import PartnerTrustStore, build_path, load_pem_quietly
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import Errors, KeyManagerError


@dataclass(frozen=True)
class TrustPathResult:
    p7b_pem: str
    timestamp: datetime


class GetCaCertificateTrustPath:
    """getCACertificateTrustPath: a CA certificate and its issuers up to the domain's anchor,
    as a PEM p7b; just the certificate when self-signed, an empty p7b when no path builds."""

    def __init__(self, uow_factory: UnitOfWorkFactory, trust_store: PartnerTrustStore, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.trust_store = trust_store
        self.clock = clock

    def execute(self, ca_cert_id: str | None) -> TrustPathResult:
        cert_id = (ca_cert_id or "").strip()
        if not cert_id:
            raise KeyManagerError(Errors.INVALID_PARTNER_CERT_ID)
        now = self.clock.now()
        with self.uow_factory() as uow:
            record = uow.trust.ca_certificate(cert_id)
            if record is None:
                raise KeyManagerError(Errors.CA_CERT_NOT_FOUND)
            cas = self.trust_store.cas(uow.trust, record.domain)
        certificate = load_pem_quietly(record.certificate_pem)
        if certificate is None:
            raise KeyManagerError(Errors.P7B_GENERATION)
        if is_self_signed(certificate):
            path = [certificate]
        else:
            path = build_path(certificate, cas, now) or []
        return TrustPathResult(pkcs7_pem(path), now)
