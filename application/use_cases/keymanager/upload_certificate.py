from __future__ import annotations

from dataclasses import dataclass, replace

from cryptography.hazmat.primitives import serialization

from application.crypto.x509 import certificate_der, certificate_pem, parse_pem_certificate
from application.keys.hierarchy import KeyHierarchy
from application.ports.clock import Clock
from application.ports.keystore import Keystore, KeystoreError
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.keymanager.certificates import UploadResult
from domain.errors import Errors, KeyManagerError
from domain.identifiers import thumbprint_hex, unique_value_for_generated
from domain.keys import KeyTuple


@dataclass(frozen=True)
class UploadCertificateCommand:
    app_id: str
    ref_id: str
    certificate_data: str


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class UploadCertificate:
    """Replace the certificate of our own current key by one an outside CA issued for the
    same public key; the key's validity, thumbprint and unique identifier follow it."""

    def __init__(
        self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock, keystore: Keystore
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock
        self.keystore = keystore

    def execute(self, command: UploadCertificateCommand) -> UploadResult:
        if not command.app_id.strip() or not command.certificate_data.strip():
            raise KeyManagerError(Errors.INVALID_REQUEST)
        key_tuple = KeyTuple(command.app_id, (command.ref_id or "").strip())
        certificate = parse_pem_certificate(command.certificate_data)
        der = certificate_der(certificate)
        hierarchy = self.hierarchy
        with self.uow_factory() as uow:
            uow.lock(key_tuple)
            hierarchy.require_policy(uow.keys, key_tuple.app_id)
            at = self.clock.now()
            _, current = hierarchy.aliases(uow.keys, key_tuple, at)
            if len(current) != 1:
                raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
            key = hierarchy.certified(uow.keys, current[0])
            if key.stored is not None and key.stored.is_other_domain:
                raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
            if _spki(certificate.public_key()) != _spki(key.certificate.public_key()):
                raise KeyManagerError(Errors.CERTIFICATE_KEY_MISMATCH)
            if key.stored is None:  # a keystore-held key
                try:
                    self.keystore.store_certificate(key.alias.alias, der)
                except KeystoreError:
                    raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
            else:
                uow.keys.update_certificate(key.alias.alias, certificate_pem(certificate))
            if key.alias.thumbprint:  # data encrypted to the old certificate must still open
                uow.keys.retire_thumbprint(key.alias.thumbprint, key.alias.alias)
            uow.keys.update_alias(
                replace(
                    key.alias,
                    generated_at=certificate.not_valid_before_utc,
                    expires_at=certificate.not_valid_after_utc,
                    thumbprint=thumbprint_hex(der),
                    uni_ident=hierarchy.unique_identifier(
                        uow.keys, unique_value_for_generated(key_tuple, at), key.alias.alias
                    ),
                )
            )
            uow.commit()
        hierarchy.forget_certificate(key.alias.alias)
        return UploadResult(status="Upload Success", timestamp=self.clock.now())
