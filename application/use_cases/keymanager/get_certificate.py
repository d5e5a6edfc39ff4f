from __future__ import annotations

from dataclasses import dataclass

from application.crypto.x509 import certificate_pem
from application.keys.hierarchy import KeyHierarchy
from application.ports.clock import Clock
from application.use_cases.keymanager.certificates import CertificateResult
from domain.keys import KeyTuple


@dataclass(frozen=True)
class GetCertificateCommand:
    app_id: str
    ref_id: str = ""




class GetCertificate:
    """The current certificate of (app, ref): base keys are created on first use
    and every key is replaced when it enters its pre-expiry window."""

    def __init__(self, hierarchy: KeyHierarchy, clock: Clock) -> None:
        self.hierarchy = hierarchy
        self.clock = clock

    def execute(self, command: GetCertificateCommand) -> CertificateResult:
        key = self.hierarchy.current_key(KeyTuple(command.app_id, command.ref_id))
        return CertificateResult(
            certificate_pem=certificate_pem(key.certificate),
            csr_pem=None,
            issued_at=key.certificate.not_valid_before_utc,
            expiry_at=key.certificate.not_valid_after_utc,
            timestamp=self.clock.now(),
        )
