from __future__ import annotations

from dataclasses import dataclass

from application.crypto.x509 import Subject
from application.keys.hierarchy import CertificateDefaults, KeyHierarchy
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.keymanager.certificates import OBJECT_TYPES, CertificateResult, certificate_or_csr
from domain.errors import Errors, KeyManagerError, ValidationError
from domain.keys import ED25519_SIGN, ML_DSA_65_SIGN, ROOT, SIGN_REFERENCES, KeyTuple


@dataclass(frozen=True)
class GenerateEcSignKeyCommand:
    app_id: str
    ref_id: str
    object_type: str = "CERTIFICATE"
    force: bool = False
    subject: Subject = Subject()


class GenerateEcSignKey:
    """An EC (secp256r1, secp256k1) signing key in the keystore, issued by ROOT, or an
    Ed25519 or ML-DSA-65 signing key in the database, wrapped and issued by the application's key.
    Idempotent unless ``force``, like generateMasterKey."""

    def __init__(
        self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock, defaults: CertificateDefaults
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock
        self.defaults = defaults

    def execute(self, command: GenerateEcSignKeyCommand) -> CertificateResult:
        object_type = (command.object_type or "").strip().upper()
        if not object_type:
            raise ValidationError(["Invalid request"])
        if object_type not in OBJECT_TYPES:
            raise ValidationError(["Invalid request Allowed values are CSR/CERTIFICATE."])
        key_tuple = KeyTuple(command.app_id, (command.ref_id or "").strip())
        hierarchy = self.hierarchy
        with self.uow_factory() as uow:
            hierarchy.require_policy(uow.keys, key_tuple.app_id)
        if key_tuple.ref_id not in SIGN_REFERENCES or key_tuple.app_id == ROOT:
            raise KeyManagerError(Errors.EC_REFERENCE_NOT_SUPPORTED)

        with self.uow_factory() as uow, hierarchy.keystore_rollback() as created:
            uow.lock(key_tuple)
            at = self.clock.now()
            key = hierarchy.current_unless_forced(uow, key_tuple, at, command.force)
            subject = self.defaults.master_subject(key_tuple, command.subject)
            if key is None:
                generate = {
                    ED25519_SIGN: hierarchy.generate_ed25519,
                    ML_DSA_65_SIGN: hierarchy.generate_ml_dsa,  # issue 18: held in the database (ADR 0024)
                }.get(key_tuple.ref_id, hierarchy.generate_master)
                key = generate(uow, key_tuple, at, subject, created)
            uow.commit()
        return certificate_or_csr(hierarchy, self.clock, key, object_type, subject, created=key.alias.alias in created)
