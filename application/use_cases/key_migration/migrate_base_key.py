from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from application.crypto import primitives as crypto
from application.crypto.x509 import certificate_der, certificate_pem, parse_pem_certificate
from application.keys.hierarchy import KeyHierarchy
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.codec import b64_decode_lenient, b64url_encode
from domain.current_key import pre_expire_days
from domain.errors import Errors, KeyManagerError, ValidationError
from domain.identifiers import thumbprint_hex, unique_value_for_generated, unique_value_for_upload
from domain.key_migration import (
    MIGRATION_NOT_ALLOWED,
    MIGRATION_SUCCESS,
    PRIVATE_KEY_COLUMN_CHARS,
    current_alongside,
)
from domain.keys import NO_PRIVATE_KEY, PARTNER, KeyAlias, KeyTuple, StoredKey


@dataclass(frozen=True)
class MigrateBaseKeyCommand:
    app_id: str
    ref_id: str
    encrypted_key_data: str  # wrapped for this deployment's current master key of app_id, or "NA"
    certificate_data: str  # PEM
    not_before: datetime  # the key's generation time in the old deployment (aware, UTC)
    not_after: datetime  # its expiry there


@dataclass(frozen=True)
class MigrateBaseKeyResult:
    status: str
    timestamp: datetime
    #: The key, for the audit trail: the one stored, or the one that made the migration not allowed.
    alias: str | None
    thumbprint: str


class MigrateBaseKey:
    """migrateBaseKey: store a base key (or a certificate-only key) of another deployment as it is,
    so that data encrypted there to its certificate decrypts here by thumbprint.

    As in the reference: the application needs a current master key (KER-KMS-003) unless it is
    PARTNER; a key whose (app, ref, thumbprint) is already here is "Migration Not Allowed. Valid Key
    Exists."; the certificate is not re-signed, the validity comes from the request and the unique
    identifier from notBefore's date (PARTNER: from the thumbprint). Deliberate differences, since a
    migrated key must be usable here and no input may end in an HTTP 500:

    * the wrapped private key is opened with the master key before it is stored: one that does not
      open is KER-FSE-001, one whose public key is not the certificate's is KER-KMS-014; a PARTNER key
      must be certificate-only (KER-KMS-034), as it has no master key to be wrapped for;
    * a keystore-held tuple (KERNEL/SIGN, KERNEL/IDENTITY_CACHE, the EC signing keys) cannot take a
      database key (KER-KMS-010);
    * a key that would be current while another key of the tuple is also current is "Migration Not
      Allowed. Valid Key Exists." (the tuple would answer KER-KMS-003 to every request for its key);
    * the stored wrapped key is re-encoded as unpadded base64url, the form every reader here expects
      (the reference's migrator may send either base64 alphabet);
    * a second key of the tuple whose notBefore falls on the same day gets the alias appended to its
      unique identifier (the reference's insert violates the unique constraint).
    """

    def __init__(self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock

    def execute(self, command: MigrateBaseKeyCommand) -> MigrateBaseKeyResult:
        key_tuple = KeyTuple(command.app_id, command.ref_id)
        if key_tuple.in_keystore:
            raise KeyManagerError(Errors.REFERENCE_ID_NOT_SUPPORTED)
        hierarchy = self.hierarchy
        with self.uow_factory() as uow:
            uow.lock(key_tuple)
            at = self.clock.now()  # after the lock: a key stored while we waited is seen
            keys = uow.keys
            _, masters = hierarchy.aliases(keys, KeyTuple(command.app_id), at)
            is_partner = command.app_id == PARTNER
            if len(masters) != 1 and not (is_partner and not masters):
                raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
            certificate = parse_pem_certificate(command.certificate_data)
            thumbprint = thumbprint_hex(certificate_der(certificate))
            existing = keys.aliases_for(key_tuple)
            for alias in existing:
                if alias.thumbprint == thumbprint:
                    return MigrateBaseKeyResult(MIGRATION_NOT_ALLOWED, at, alias.alias, thumbprint)

            new_alias = str(uuid.uuid4())
            if command.encrypted_key_data == NO_PRIVATE_KEY:
                private_key, master_alias = NO_PRIVATE_KEY, new_alias if is_partner else masters[0].alias
            elif is_partner:
                raise KeyManagerError(Errors.PRIVATE_KEY_PRESENT)
            else:
                master_alias = masters[0].alias
                private_key = self._checked_private_key(command.encrypted_key_data, master_alias, certificate)

            window = pre_expire_days(key_tuple, lambda app: hierarchy.policy(keys, app))
            clash = current_alongside(command.not_before, command.not_after, existing, at, window)
            if clash is not None:
                return MigrateBaseKeyResult(MIGRATION_NOT_ALLOWED, at, clash.alias, thumbprint)

            unique_value = (unique_value_for_upload(key_tuple, thumbprint) if is_partner
                            else unique_value_for_generated(key_tuple, command.not_before))
            keys.add_stored_key(StoredKey(new_alias, master_alias, private_key, certificate_pem(certificate)))
            keys.add_alias(
                KeyAlias(
                    alias=new_alias,
                    key_tuple=key_tuple,
                    generated_at=command.not_before,
                    expires_at=command.not_after,
                    thumbprint=thumbprint,
                    uni_ident=hierarchy.unique_identifier(keys, unique_value, new_alias),
                )
            )
            uow.commit()
        return MigrateBaseKeyResult(MIGRATION_SUCCESS, at, new_alias, thumbprint)

    def _checked_private_key(self, wrapped: str, master_alias: str, certificate: x509.Certificate) -> str:
        """The wrapped key re-encoded as stored here, once it opens with the master key and its
        public key is the certificate's."""
        try:
            canonical = b64url_encode(b64_decode_lenient(wrapped))
        except KeyManagerError:
            raise KeyManagerError(Errors.INVALID_KEY) from None
        if len(canonical) > PRIVATE_KEY_COLUMN_CHARS:
            raise ValidationError([f"request.encryptedKeyData must be at most {PRIVATE_KEY_COLUMN_CHARS} characters"])
        candidate = StoredKey("migrated", master_alias, canonical, "")
        try:
            private_key = self.hierarchy.unwrap_private_key(candidate, generated_by_us=False)
        except KeyManagerError as error:
            if error.code.startswith(("KER-FSE-", "KER-CRY-")):  # not wrapped for this master key
                raise KeyManagerError(Errors.INVALID_KEY) from None
            raise  # the keystore or the store is unavailable
        certified = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        if crypto.public_key_to_spki(private_key.public_key()) != certified:
            raise KeyManagerError(Errors.CERTIFICATE_KEY_MISMATCH)
        return canonical
