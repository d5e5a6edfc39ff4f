"""What the keymanager use cases answer about a key's certificate, and how they make it: shared by
generateMasterKey, generateECSignKey, generateCSR, getCertificate and the uploads."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from application.crypto.x509 import Signer, Subject, build_csr, certificate_pem, csr_pem
from application.keys.hierarchy import CertifiedKey, KeyHierarchy
from application.ports.clock import Clock
from application.ports.keystore import SignatureScheme


@dataclass(frozen=True)
class CertificateResult:
    certificate_pem: str | None
    csr_pem: str | None
    issued_at: datetime
    expiry_at: datetime
    timestamp: datetime
    created: bool = False


OBJECT_TYPES = ("CERTIFICATE", "CSR")


def certificate_or_csr(
    hierarchy: KeyHierarchy,
    clock: Clock,
    key: CertifiedKey,
    object_type: str,
    subject: Subject,
    *,
    created: bool,
) -> CertificateResult:
    """The key's certificate, or a fresh CSR signed by the key (validity from the key alias)."""
    if object_type == "CERTIFICATE":
        return CertificateResult(
            certificate_pem=certificate_pem(key.certificate),
            csr_pem=None,
            issued_at=key.certificate.not_valid_before_utc,
            expiry_at=key.certificate.not_valid_after_utc,
            timestamp=clock.now(),
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
        timestamp=clock.now(),
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


@dataclass(frozen=True)
class UploadResult:
    status: str
    timestamp: datetime
