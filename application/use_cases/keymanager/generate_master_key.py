from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from application.crypto.x509 import Signer, Subject, build_csr, certificate_pem, csr_pem
from application.keys.hierarchy import CertifiedKey, KeyHierarchy
from application.ports.keystore import SignatureScheme
from application.use_cases.keymanager.get_certificate import CertificateResult
from domain.errors import Errors, KeyManagerError
from domain.keys import KERNEL, SIGN, KeyTuple

OBJECT_TYPES = ("CERTIFICATE", "CSR")


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

    def __init__(self, hierarchy: KeyHierarchy) -> None:
        self.hierarchy = hierarchy

    def execute(self, command: GenerateMasterKeyCommand) -> CertificateResult:
        object_type = (command.object_type or "").upper()
        if object_type not in OBJECT_TYPES:
            raise KeyManagerError(Errors.INVALID_OBJECT_TYPE)
        key_tuple = KeyTuple(command.app_id, command.ref_id)
        if key_tuple.ref_id and not (key_tuple.ref_id == SIGN and key_tuple.app_id == KERNEL):
            raise KeyManagerError(Errors.REFERENCE_ID_NOT_SUPPORTED)

        hierarchy = self.hierarchy
        with hierarchy.uow_factory() as uow, hierarchy.keystore_rollback() as created:
            uow.lock(key_tuple)
            at = hierarchy.clock.now()  # after the lock: see keys made while we waited as current
            hierarchy.require_policy(uow.keys, key_tuple.app_id)
            key = hierarchy.current_unless_forced(uow, key_tuple, at, command.force)
            if key is None:
                subject = hierarchy.defaults.master_subject(key_tuple, command.subject)
                key = hierarchy.generate_master(uow, key_tuple, at, subject, created)
            uow.commit()

        subject = hierarchy.defaults.master_subject(key_tuple, command.subject)
        return certificate_or_csr(hierarchy, key, object_type, subject, created=key.alias.alias in created)


def certificate_or_csr(
    hierarchy: KeyHierarchy, key: CertifiedKey, object_type: str, subject: Subject, *, created: bool
) -> CertificateResult:
    """The key's certificate, or a fresh CSR signed by the key (validity from the key alias)."""
    if object_type == "CERTIFICATE":
        return CertificateResult(
            certificate_pem=certificate_pem(key.certificate),
            csr_pem=None,
            issued_at=key.certificate.not_valid_before_utc,
            expiry_at=key.certificate.not_valid_after_utc,
            timestamp=hierarchy.clock.now(),
            created=created,
        )
    csr = build_csr(
        public_key=key.certificate.public_key(), subject=subject.to_name(), signer=csr_signer(hierarchy, key)
    )
    return CertificateResult(
        certificate_pem=None,
        csr_pem=csr_pem(csr),
        issued_at=key.alias.generated_at,
        expiry_at=key.alias.expires_at,
        timestamp=hierarchy.clock.now(),
        created=created,
    )


def csr_signer(hierarchy: KeyHierarchy, key: CertifiedKey) -> Signer:
    """Signs a CSR with the key itself, in the form its algorithm needs."""
    sign = hierarchy.signer_for(key)
    public_key = key.certificate.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return lambda data: sign(data, SignatureScheme.ECDSA_SHA256)
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return lambda data: sign(data, SignatureScheme.ED25519)
    return lambda data: sign(data, SignatureScheme.RSA_PKCS1_SHA256)
