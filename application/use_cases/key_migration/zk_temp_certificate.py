from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from application.crypto import primitives as crypto
from application.crypto.x509 import (
    Subject,
    certificate_der,
    certificate_pem,
    issue_certificate,
    load_der,
)
from application.keys.hierarchy import CertificateDefaults, KeyHierarchy
from application.ports.clock import Clock
from application.ports.keystore import KeyAlgorithm, Keystore, KeystoreError
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import Errors, KeyManagerError
from domain.identifiers import thumbprint_hex, uni_ident, unique_value_for_upload
from domain.key_migration import ZK_TEMP_KEY, ZK_TEMP_KEY_COMMON_NAME, ZK_TEMP_KEY_VALIDITY
from domain.keys import KeyAlias

from .temp_key import temp_key_aliases


@dataclass(frozen=True)
class ZkTempCertificateResult:
    certificate_pem: str
    timestamp: datetime
    alias: str
    thumbprint: str


class GetZkTempCertificate:
    """getZKTempCertificate: the certificate of the current temporary key ZK pool keys are to be
    encrypted to (RSA-OAEP-SHA256) for migrateZKKeys, made when there is none.

    As in the reference: an RSA-2048 keystore key with a self-signed certificate (CN
    ZKKeysSelfSignedKey, the other subject fields from the configured defaults, CA like the
    reference's self-signed keystore keys), valid one day, its unique identifier from its
    thumbprint; several current temporary keys are KER-KMS-003. Expired temporary keys are removed
    from the keystore when the next one is made (the reference removes the newest only). Creation
    happens under the tuple's lock, after a second look, like every key creation.
    """

    def __init__(
        self,
        hierarchy: KeyHierarchy,
        uow_factory: UnitOfWorkFactory,
        keystore: Keystore,
        clock: Clock,
        defaults: CertificateDefaults,
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.keystore = keystore
        self.clock = clock
        self.defaults = defaults

    def execute(self) -> ZkTempCertificateResult:
        with self.uow_factory() as uow:
            at = self.clock.now()
            _, current = temp_key_aliases(self.hierarchy, uow.keys, at)
            if current is not None:
                return self._result(current, at)
        with self.uow_factory() as uow, self.hierarchy.keystore_rollback() as created:
            uow.lock(ZK_TEMP_KEY)
            at = self.clock.now()  # after the lock: a key made while we waited is current
            every, current = temp_key_aliases(self.hierarchy, uow.keys, at)
            if current is not None:
                return self._result(current, at)
            result = self._generate(uow, at, created)
            uow.commit()
        for old in every:  # expired: no migration can use them any more
            try:
                self.keystore.delete(old.alias)
            except KeystoreError:
                pass  # tried again when the next temporary key is made
        return result

    def _result(self, alias: KeyAlias, at: datetime) -> ZkTempCertificateResult:
        try:
            der = self.keystore.certificate(alias.alias)
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
        if der is None:
            raise KeyManagerError(Errors.NO_SUCH_ALIAS)
        return ZkTempCertificateResult(certificate_pem(load_der(der)), at, alias.alias, thumbprint_hex(der))

    def _generate(self, uow: UnitOfWork, at: datetime, created: list[str]) -> ZkTempCertificateResult:
        alias = str(uuid.uuid4())
        try:
            public_key = crypto.public_key_from_spki(self.keystore.generate_key_pair(alias, KeyAlgorithm.RSA_2048))
            created.append(alias)
            name = self.defaults.fill(Subject(common_name=ZK_TEMP_KEY_COMMON_NAME)).to_name()
            expires_at = at + ZK_TEMP_KEY_VALIDITY
            certificate = issue_certificate(
                public_key=public_key,
                subject=name,
                issuer=name,
                not_before=at,
                not_after=expires_at,
                certificate_authority=True,
                path_length=2,
                signer=lambda data: self.keystore.sign(alias, data),
            )
            der = certificate_der(certificate)
            self.keystore.store_certificate(alias, der)
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
        thumbprint = thumbprint_hex(der)
        record = KeyAlias(
            alias=alias,
            key_tuple=ZK_TEMP_KEY,
            generated_at=at,
            expires_at=expires_at,
            thumbprint=thumbprint,
            uni_ident=uni_ident(unique_value_for_upload(ZK_TEMP_KEY, thumbprint)),
        )
        self.hierarchy.note_created(uow, record)
        uow.keys.add_alias(record)
        return ZkTempCertificateResult(certificate_pem(certificate), at, alias, thumbprint)
