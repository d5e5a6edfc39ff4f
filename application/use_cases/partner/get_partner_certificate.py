from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import Errors, KeyManagerError
from domain.partner_trust import PartnerCertificateRecord


@dataclass(frozen=True)
class PartnerCertificateResult:
    record: PartnerCertificateRecord
    timestamp: datetime


class GetPartnerCertificate:
    """getPartnerCertificate / getPartnerSignedCertificate: a stored partner row by id."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    def execute(self, partner_cert_id: str | None) -> PartnerCertificateResult:
        cert_id = (partner_cert_id or "").strip()
        if not cert_id:
            raise KeyManagerError(Errors.INVALID_PARTNER_CERT_ID)
        with self.uow_factory() as uow:
            record = uow.trust.partner_certificate(cert_id)
        if record is None:
            raise KeyManagerError(Errors.PARTNER_CERT_NOT_FOUND)
        return PartnerCertificateResult(record, self.clock.now())
