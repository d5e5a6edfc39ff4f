from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.crypto.x509 import certificate_pem
from application.keys.hierarchy import KeyHierarchy
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.identifiers import key_id
from domain.keys import KeyTuple


@dataclass(frozen=True)
class GetAllCertificatesCommand:
    app_id: str
    ref_id: str = ""


@dataclass(frozen=True)
class CertificateEntry:
    certificate_pem: str
    issued_at: datetime
    expiry_at: datetime
    key_id: str | None


@dataclass(frozen=True)
class AllCertificatesResult:
    certificates: tuple[CertificateEntry, ...]


class GetAllCertificates:
    """Every certificate of (app, ref), current or not, oldest first. Never creates a key."""

    def __init__(self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory

    def execute(self, command: GetAllCertificatesCommand) -> AllCertificatesResult:
        key_tuple = KeyTuple(command.app_id, command.ref_id)
        entries = []
        with self.uow_factory() as uow:
            for alias in uow.keys.aliases_for(key_tuple):
                if not self.hierarchy.held_in_keystore(uow.keys, alias) and uow.keys.stored_key(alias.alias) is None:
                    continue
                certificate, _, _ = self.hierarchy.certificate_of(uow.keys, alias)
                entries.append(
                    CertificateEntry(
                        certificate_pem=certificate_pem(certificate),
                        issued_at=alias.generated_at,
                        expiry_at=alias.expires_at,
                        key_id=key_id(alias.uni_ident) if alias.uni_ident else None,
                    )
                )
        return AllCertificatesResult(tuple(entries))
