from __future__ import annotations

from dataclasses import dataclass

from application.crypto.x509 import Subject, build_csr, csr_pem
from application.keys.hierarchy import CertificateDefaults, KeyHierarchy
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.keymanager.certificates import CertificateResult, csr_signer
from domain.errors import Errors, KeyManagerError
from domain.keys import IDENTITY_CACHE, KERNEL, KeyTuple


@dataclass(frozen=True)
class GenerateCsrCommand:
    app_id: str
    ref_id: str = ""
    subject: Subject = Subject()


class GenerateCsr:
    """A CSR over the current key of (app, ref), signed by that key, to have it certified
    by an outside CA (then uploadCertificate). Selects the key as getCertificate does."""

    def __init__(
        self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock, defaults: CertificateDefaults
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock
        self.defaults = defaults

    def execute(self, command: GenerateCsrCommand) -> CertificateResult:
        key_tuple = KeyTuple(command.app_id, (command.ref_id or "").strip())
        if key_tuple.app_id.upper() == KERNEL and key_tuple.ref_id.upper() == IDENTITY_CACHE:
            raise KeyManagerError(Errors.CSR_NOT_ALLOWED)
        hierarchy = self.hierarchy
        with self.uow_factory() as uow:
            hierarchy.require_policy(uow.keys, key_tuple.app_id)
        key = hierarchy.current_key(key_tuple)
        subject = self.defaults.fill(
            Subject(
                common_name=command.subject.common_name or self.defaults.common_name,
                organizational_unit=command.subject.organizational_unit,
                organization=command.subject.organization,
                location=command.subject.location,
                state=command.subject.state,
                country=command.subject.country,
            )
        )
        csr = build_csr(
            public_key=key.certificate.public_key(), subject=subject.to_name(), signer=csr_signer(hierarchy, key)
        )
        return CertificateResult(
            certificate_pem=None,
            csr_pem=csr_pem(csr),
            issued_at=key.certificate.not_valid_before_utc,
            expiry_at=key.certificate.not_valid_after_utc,
            timestamp=self.clock.now(),
        )
