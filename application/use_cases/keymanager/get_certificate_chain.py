from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.crypto.x509 import pkcs7_pem
from application.keys.hierarchy import KeyHierarchy
from application.keys.trust_path import own_trust_path
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.keys import KeyTuple


@dataclass(frozen=True)
class GetCertificateChainCommand:
    app_id: str
    ref_id: str = ""


@dataclass(frozen=True)
class CertificateChainResult:
    certificates_trust_path: str
    timestamp: datetime


class GetCertificateChain:
    """The current certificate of (app, ref) and its issuers up to our ROOT, as a PEM
    PKCS#7 bundle. May create or rotate the key, as getCertificate does."""

    def __init__(self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock

    def execute(self, command: GetCertificateChainCommand) -> CertificateChainResult:
        key_tuple = KeyTuple(command.app_id, (command.ref_id or "").strip())
        key = self.hierarchy.current_key(key_tuple)
        with self.uow_factory() as uow:
            path = own_trust_path(self.hierarchy, uow.keys, key_tuple.app_id, key.certificate)
        return CertificateChainResult(pkcs7_pem(path), self.clock.now())
