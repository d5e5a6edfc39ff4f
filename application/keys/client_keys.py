"""The service's own client-crypto key pairs (ClientCryptoController): one RSA-2048 pair signs
(/cssign), the other decrypts what clients seal to it (/tpmdecrypt).

The reference keeps one pair in files under the working directory (or uses the machine's TPM);
here both live in the configured keystore, beside the other private keys (in the HSM token with
pkcs11), under fixed aliases. They are made on first use and never rotate, like the reference's.

A keystore hands out the public key only when it makes the pair, so each pair gets a self-signed
certificate that carries it (kept with the key by every adapter; a PKCS#12 entry even needs one to
be read back whole). The certificate is that key's holder only, never presented for trust.

Creation happens under the store's creation lock, after a second look, so that however many
processes and instances race there is one pair per alias. Under that lock a pair without its
certificate can only be what a crash between the two steps left: it is made again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from application.crypto import primitives
from application.crypto.x509 import certificate_der, issue_certificate, load_der
from application.keys.hierarchy import CertificateDefaults, audit_subject
from application.ports.clock import Clock
from application.ports.keystore import Keystore, KeystoreError, PrivateKeyOperationError
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.audit import AuditEvent
from domain.errors import Errors, KeyManagerError
from domain.identifiers import thumbprint_hex
from domain.keys import KeyTuple

SIGNING_ALIAS = "client-crypto-signing"
ENCRYPTION_ALIAS = "client-crypto-encryption"
#: Serialises the creation of both pairs; no key_alias row is ever written for it.
CREATION_LOCK = KeyTuple("CLIENT_CRYPTO")
#: RFC 5280 §4.1.2.5: "no well-defined expiration date" (the pairs never rotate).
NO_EXPIRY = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
#: Subjects like the master keys': "www.mosip.io (CLIENT_CRYPTO-SIGNING)" and the configured O, OU...
_SUBJECTS = {
    SIGNING_ALIAS: KeyTuple("CLIENT_CRYPTO", "SIGNING"),
    ENCRYPTION_ALIAS: KeyTuple("CLIENT_CRYPTO", "ENCRYPTION"),
}


@dataclass(frozen=True)
class ClientKey:
    alias: str
    certificate_der: bytes
    public_key: rsa.RSAPublicKey

    @property
    def spki(self) -> bytes:
        return primitives.public_key_to_spki(self.public_key)

    @property
    def thumbprint(self) -> str:
        """Upper-case hex SHA-256 of the certificate, as audit records name keys."""
        return thumbprint_hex(self.certificate_der)


class ClientKeys:
    def __init__(
        self, keystore: Keystore, uow_factory: UnitOfWorkFactory, clock: Clock, defaults: CertificateDefaults
    ) -> None:
        self.keystore = keystore
        self.uow_factory = uow_factory
        self.clock = clock
        self.defaults = defaults
        self._found: dict[str, ClientKey] = {}  # they never change once made

    def signing_key(self) -> ClientKey:
        return self._key(SIGNING_ALIAS)

    def encryption_key(self) -> ClientKey:
        return self._key(ENCRYPTION_ALIAS)

    def sign(self, data: bytes) -> tuple[bytes, ClientKey]:
        """SHA256withRSA with the signing key; also the key, for the audit trail."""
        key = self.signing_key()
        try:
            return self.keystore.sign(key.alias, data), key
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None

    def unwrap(self, wrapped: bytes) -> tuple[bytes, ClientKey]:
        """RSA-OAEP (SHA-256, MGF1-SHA-256) with the encryption key; KER-CC-004 when the block does
        not open (the caller's bytes), KER-KMA-003 when the keystore fails."""
        key = self.encryption_key()
        try:
            return self.keystore.decrypt(key.alias, wrapped), key
        except PrivateKeyOperationError:
            raise KeyManagerError(Errors.CC_CRYPTO_FAILED) from None
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None

    # -- finding or making a pair -------------------------------------------------------------

    def _key(self, alias: str) -> ClientKey:
        found = self._found.get(alias) or self._stored(alias)
        if found is None:
            found = self._create(alias)
        self._found[alias] = found
        return found

    def _stored(self, alias: str) -> ClientKey | None:
        try:
            der = self.keystore.certificate(alias)
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
        if der is None:
            return None
        public_key = load_der(der).public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING)
        return ClientKey(alias, der, public_key)

    def _create(self, alias: str) -> ClientKey:
        with self.uow_factory() as uow:
            uow.lock(CREATION_LOCK)
            found = self._stored(alias)  # made by another process while we waited
            if found is not None:
                return found
            try:
                self.keystore.delete(alias)  # a pair left without its certificate by a crash
                spki = self.keystore.generate_key_pair(alias)
            except KeystoreError:
                raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
            try:
                key = self._certify(alias, spki)  # storing the certificate publishes the pair
            except BaseException:
                self._forget(alias)  # not published: nobody can have used it
                raise
            # Recorded in the same transaction as the lock. Should the commit fail, the pair stays:
            # it is published, other workers may already use (and cache) it.
            uow.audit.append(
                AuditEvent(operation="generateKey", subject=audit_subject.get(), key_alias=alias,
                           thumbprint=key.thumbprint),
                self.clock.now(),
            )
            uow.commit()
            return key

    def _certify(self, alias: str, spki: bytes) -> ClientKey:
        public_key = primitives.public_key_from_spki(spki)
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING)
        name = self.defaults.master_subject(_SUBJECTS[alias]).to_name()
        try:
            certificate = issue_certificate(
                public_key=public_key, subject=name, issuer=name, not_before=self.clock.now(), not_after=NO_EXPIRY,
                certificate_authority=False, path_length=None, signer=lambda data: self.keystore.sign(alias, data),
            )
            der = certificate_der(certificate)
            self.keystore.store_certificate(alias, der)
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
        return ClientKey(alias, der, public_key)

    def _forget(self, alias: str) -> None:
        """Best effort: no half-made pair stays behind (the next creation would remove it anyway)."""
        try:
            self.keystore.delete(alias)
        except KeystoreError:
            pass
