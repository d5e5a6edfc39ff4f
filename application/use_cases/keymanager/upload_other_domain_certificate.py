from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.crypto.x509 import certificate_der, certificate_pem, parse_pem_certificate
from application.keys.hierarchy import KeyHierarchy
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.keymanager.certificates import UploadResult
from domain.errors import Errors, KeyManagerError
from domain.identifiers import thumbprint_hex, unique_value_for_upload
from domain.keys import KERNEL, NO_PRIVATE_KEY, SIGN, KeyAlias, KeyTuple, StoredKey

EC_SIGN_REFERENCES = ("EC_SECP256K1_SIGN", "EC_SECP256R1_SIGN", "ED25519_SIGN")


@dataclass(frozen=True)
class UploadOtherDomainCertificateCommand:
    app_id: str
    ref_id: str
    certificate_data: str




class UploadOtherDomainCertificate:
    """Store another party's encryption certificate (no private key) for (app, ref).

    A current other-domain certificate is replaced (expired now); a tuple whose
    current key has a private key of ours is refused.
    """

    def __init__(self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock

    def execute(self, command: UploadOtherDomainCertificateCommand) -> UploadResult:
        if not command.app_id.strip() or not command.ref_id.strip() or not command.certificate_data.strip():
            raise KeyManagerError(Errors.INVALID_REQUEST)
        if command.app_id.upper() == KERNEL and command.ref_id.upper() == SIGN:
            raise KeyManagerError(Errors.KERNEL_SIGN_UPLOAD)
        if command.ref_id.upper() in EC_SIGN_REFERENCES:
            raise KeyManagerError(Errors.EC_REFERENCE_NOT_SUPPORTED)
        certificate = parse_pem_certificate(command.certificate_data)
        der = certificate_der(certificate)
        new_thumbprint = thumbprint_hex(der)
        key_tuple = KeyTuple(command.app_id, command.ref_id)
        hierarchy = self.hierarchy

        with self.uow_factory() as uow:
            uow.lock(key_tuple)
            at = self.clock.now()  # after the lock: see keys made while we waited as current
            keys = uow.keys
            all_aliases, current = hierarchy.aliases(keys, key_tuple, at)
            if len(current) > 1:
                raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
            if current:
                stored = keys.stored_key(current[0].alias)
                if stored is None:
                    raise KeyManagerError(Errors.OTHER_DOMAIN_KEY_MISSING)
                if stored.private_key != NO_PRIVATE_KEY:
                    raise KeyManagerError(Errors.PRIVATE_KEY_PRESENT)
                if current[0].thumbprint == new_thumbprint:
                    raise KeyManagerError(Errors.CERTIFICATE_EXISTS)
                hierarchy.expire_now(keys, current, at)
            elif all_aliases and keys.stored_key(all_aliases[0].alias) is None:
                raise KeyManagerError(Errors.VALID_KEY_EXISTS)

            alias = str(uuid.uuid4())
            keys.add_stored_key(
                StoredKey(alias=alias, master_alias=alias, private_key=NO_PRIVATE_KEY,
                          certificate_pem=certificate_pem(certificate))
            )
            keys.add_alias(
                KeyAlias(
                    alias=alias,
                    key_tuple=key_tuple,
                    generated_at=certificate.not_valid_before_utc,
                    expires_at=certificate.not_valid_after_utc,
                    thumbprint=new_thumbprint,
                    uni_ident=hierarchy.unique_identifier(
                        keys, unique_value_for_upload(key_tuple, new_thumbprint), alias
                    ),
                )
            )
            uow.commit()
        return UploadResult(status="Upload Success", timestamp=self.clock.now())
