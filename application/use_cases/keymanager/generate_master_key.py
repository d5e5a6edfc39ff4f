from __future__ import annotations

from dataclasses import dataclass

from application.crypto.x509 import Subject
from application.keys.hierarchy import CertificateDefaults, KeyHierarchy
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.keymanager.certificates import (
    OBJECT_TYPES,
    CertificateResult,
    certificate_or_csr,
)
from domain.errors import Errors, KeyManagerError
from domain.keys import KERNEL, SIGN, KeyTuple


@dataclass(frozen=True)
class GenerateMasterKeyCommand:
    app_id: str
    ref_id: str = ""
    object_type: str = "CERTIFICATE"
    force: bool = False
    subject: Subject = Subject()


class GenerateMasterKey:
    """ROOT (self-signed), a module master key or KERNEL/SIGN, issued by ROOT.

    Idempotent: the current key is returned unless ``force``, which expires it
    and makes a new one. The object type is checked before anything is made.
    """

    def __init__(
        self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock, defaults: CertificateDefaults
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock
        self.defaults = defaults

    def execute(self, command: GenerateMasterKeyCommand) -> CertificateResult:
        object_type = (command.object_type or "").upper()
        if object_type not in OBJECT_TYPES:
            raise KeyManagerError(Errors.INVALID_OBJECT_TYPE)
        key_tuple = KeyTuple(command.app_id, command.ref_id)
        if key_tuple.ref_id and not (key_tuple.ref_id == SIGN and key_tuple.app_id == KERNEL):
            raise KeyManagerError(Errors.REFERENCE_ID_NOT_SUPPORTED)

        hierarchy = self.hierarchy
        with self.uow_factory() as uow, hierarchy.keystore_rollback() as created:
            uow.lock(key_tuple)
            at = self.clock.now()  # after the lock: see keys made while we waited as current
            hierarchy.require_policy(uow.keys, key_tuple.app_id)
            key = hierarchy.current_unless_forced(uow, key_tuple, at, command.force)
            if key is None:
                subject = self.defaults.master_subject(key_tuple, command.subject)
                key = hierarchy.generate_master(uow, key_tuple, at, subject, created)
            uow.commit()

        subject = self.defaults.master_subject(key_tuple, command.subject)
        return certificate_or_csr(hierarchy, self.clock, key, object_type, subject, created=key.alias.alias in created)




