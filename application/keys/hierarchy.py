"""The key hierarchy: finding the current key of a tuple, creating and rotating keys.

ROOT (self-signed) -> module master keys (issued by ROOT) -> base keys (issued by
their module key). ROOT and master keys live in the keystore; base key pairs
live in the repository, their private keys wrapped by the module master key.
Every creation happens under the tuple's lock, after a second look, so that
however many processes race there is exactly one current key per tuple.
"""
from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

from application.crypto import primitives as crypto
from application.crypto.x509 import (
    Subject,
    certificate_der,
    certificate_pem,
    fitted_common_name,
    issue_certificate,
    load_der,
    parse_pem_certificate,
)
from application.ports.clock import Clock
from application.ports.key_repository import KeyRepository
from application.ports.keystore import KeyAlgorithm, Keystore, KeystoreError, SignatureScheme
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.support.ttl_cache import TtlLruCache
from domain import envelope
from domain.audit import AuditEvent
from domain.codec import b64url_decode, b64url_encode
from domain.current_key import current_aliases, pre_expire_days
from domain.errors import Errors, KeyManagerError
from domain.identifiers import thumbprint, thumbprint_hex, uni_ident, unique_value_for_generated
from domain.keys import (
    EC_SECP256K1_SIGN,
    EC_SECP256R1_SIGN,
    ED25519_SIGN,
    EXPIRE_NOW_OFFSET,
    KERNEL,
    ML_DSA_65_SIGN,
    PARTNER,
    ROOT,
    KeyAlias,
    KeyPolicy,
    KeyTuple,
    StoredKey,
)

#: Who is acting in the current context (one request, one CLI command): the subject of the audit
#: record that every key creation writes in the key's own transaction.
audit_subject: contextvars.ContextVar[str] = contextvars.ContextVar("audit_subject", default="system")

#: The key the current context (one request) last used to sign, verify or revoke, for the audit trail.
used_key: contextvars.ContextVar[KeyAlias | None] = contextvars.ContextVar("used_key", default=None)

#: Signs bytes with a key's private key, in the given scheme.
KeySigner = Callable[[bytes, SignatureScheme], bytes]
KEYSTORE_ALGORITHM_BY_REFERENCE = {
    EC_SECP256R1_SIGN: KeyAlgorithm.EC_P256,
    EC_SECP256K1_SIGN: KeyAlgorithm.EC_SECP256K1,
    ED25519_SIGN: KeyAlgorithm.ED25519,  # only with ed25519_in_keystore
}


@dataclass(frozen=True)
class CertificateDefaults:
    """Subject fields for keys whose request does not name them (the reference's defaults)."""

    common_name: str = "www.mosip.io"
    organizational_unit: str = "MOSIP-TECH-CENTER"
    organization: str = "IITB"
    location: str = "BANGALORE"
    state: str = "KA"
    country: str = "IN"

    def master_subject(self, key_tuple: KeyTuple, requested: Subject | None = None) -> Subject:
        suffix = key_tuple.app_id.upper() + (f"-{key_tuple.ref_id.upper()}" if key_tuple.ref_id else "")
        requested = requested or Subject()
        return Subject(
            common_name=requested.common_name or fitted_common_name(f"{self.common_name} ({suffix})"),
            organizational_unit=requested.organizational_unit or self.organizational_unit,
            organization=requested.organization or self.organization,
            location=requested.location or self.location,
            state=requested.state or self.state,
            country=requested.country or self.country,
        )

    def fill(self, subject: Subject) -> Subject:
        return Subject(
            common_name=subject.common_name,
            organizational_unit=subject.organizational_unit or self.organizational_unit,
            organization=subject.organization or self.organization,
            location=subject.location or self.location,
            state=subject.state or self.state,
            country=subject.country or self.country,
        )


@dataclass(frozen=True)
class CertifiedKey:
    """A key together with its parsed certificate (and key_store row for database keys)."""

    alias: KeyAlias
    certificate: x509.Certificate
    certificate_der: bytes
    stored: StoredKey | None = None

    @property
    def thumbprint(self) -> bytes:
        return thumbprint(self.certificate_der)


class KeyHierarchy:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        keystore: Keystore,
        clock: Clock,
        defaults: CertificateDefaults,
        policy_cache: TtlLruCache[KeyPolicy | None],
        certificate_cache: TtlLruCache[tuple[x509.Certificate, bytes, StoredKey | None]],
        rsa_key_source: crypto.RsaKeySource = crypto.generate_rsa_key,
        ed25519_in_keystore: bool = False,
    ) -> None:
        self.uow_factory = uow_factory
        self.keystore = keystore
        self.clock = clock
        self.defaults = defaults
        self._policies = policy_cache
        self._certificates = certificate_cache
        self._rsa_key_source = rsa_key_source  # base keys (held wrapped in the database)
        #: New Ed25519 signing keys are made in the keystore, issued by ROOT, like the EC signing
        #: keys (the reference's mosip.kernel.keymanager.ed25519.hsm.support.enabled).
        self.ed25519_in_keystore = ed25519_in_keystore

    # -- policies -------------------------------------------------------------------------------

    def policy(self, keys: KeyRepository, app_id: str) -> KeyPolicy | None:
        cached = self._policies.get(app_id)
        if cached is not None:
            return cached
        policy = keys.policy(app_id)
        if policy is not None:
            self._policies.put(app_id, policy)
        return policy

    def cached_policy(self, app_id: str) -> KeyPolicy | None:
        """The policy if it is in the cache (no repository access), else None."""
        return self._policies.get(app_id)

    def fresh_policy(self, keys: KeyRepository, app_id: str) -> KeyPolicy | None:
        """The policy as stored now (the cache refreshed with it): what a key made now must follow,
        so that a policy changed on any instance governs the next key at once (issue 17)."""
        policy = keys.policy(app_id)
        if policy is None:
            self._policies.discard(app_id)
        else:
            self._policies.put(app_id, policy)
        return policy

    def forget_policy(self, app_id: str) -> None:
        """Drop a cached policy (this instance changed it)."""
        self._policies.discard(app_id)

    def require_policy(self, keys: KeyRepository, app_id: str, *, fresh: bool = False) -> KeyPolicy:
        """The active policy of ``app_id`` (KER-KMS-002 without one); ``fresh``: read from the store,
        not the cache (every path that creates a key asks for it)."""
        policy = self.fresh_policy(keys, app_id) if fresh else self.policy(keys, app_id)
        if policy is None or not policy.is_active:
            raise KeyManagerError(Errors.NO_KEY_POLICY)
        return policy

    def aliases(self, keys: KeyRepository, key_tuple: KeyTuple, at: datetime) -> tuple[list[KeyAlias], list[KeyAlias]]:
        """(every alias of the tuple oldest first, the current ones at ``at``)."""
        all_aliases = keys.aliases_for(key_tuple)
        window = pre_expire_days(key_tuple, lambda app: self.policy(keys, app))
        return all_aliases, current_aliases(all_aliases, at, window)

    # -- certificates -------------------------------------------------------------------------

    def certificate_of(self, keys: KeyRepository, alias: KeyAlias) -> tuple[x509.Certificate, bytes, StoredKey | None]:
        """A key's certificate (keystore for master keys, key_store otherwise), cached by alias."""
        cached = self._certificates.get(alias.alias)
        if cached is not None:
            return cached
        stored = None if alias.key_tuple.in_keystore else keys.stored_key(alias.alias)
        if stored is None and self.held_in_keystore(keys, alias):
            der = self._keystore_certificate(alias.alias)
            certificate = load_der(der)
        else:
            if stored is None:
                raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
            certificate = parse_pem_certificate(stored.certificate_pem)
            der = certificate_der(certificate)
        entry = (certificate, der, stored)
        self._certificates.put(alias.alias, entry)
        return entry

    @staticmethod
    def held_in_keystore(keys: KeyRepository, alias: KeyAlias) -> bool:
        """Whether the key's private key is in the keystore: the keystore tuples' keys, and an
        Ed25519 signing key made there (it has no key_store row), whatever the setting says now,
        so keys made before the setting changed keep working."""
        if alias.key_tuple.in_keystore:
            return True
        return alias.ref_id == ED25519_SIGN and keys.stored_key(alias.alias) is None

    def _keystore_certificate(self, alias: str) -> bytes:
        try:
            der = self.keystore.certificate(alias)
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
        if der is None:
            raise KeyManagerError(Errors.NO_SUCH_ALIAS)
        return der

    def note_created(self, uow: UnitOfWork, record: KeyAlias) -> None:
        """Write the key's creation record in the key's own transaction (call before add_alias):
        no crash can leave a key without its record, nor a record of a key that was rolled back."""
        rotated = bool(uow.keys.aliases_for(record.key_tuple))
        event = AuditEvent(
            operation="rotateKey" if rotated else "generateKey",
            subject=audit_subject.get(),
            app_id=record.app_id,
            ref_id=record.ref_id,
            key_alias=record.alias,
            thumbprint=record.thumbprint,
        )
        uow.audit.append(event, self.clock.now())

    def forget_certificate(self, alias: str) -> None:
        """Drop a cached certificate whose key got a new one (uploadCertificate)."""
        self._certificates.discard(alias)

    def _remember(self, key: CertifiedKey) -> CertifiedKey:
        # Keyed by a fresh alias: if the unit rolls back, the entry is simply never asked for.
        self._certificates.put(key.alias.alias, (key.certificate, key.certificate_der, key.stored))
        return key

    def certified(self, keys: KeyRepository, alias: KeyAlias) -> CertifiedKey:
        certificate, der, stored = self.certificate_of(keys, alias)
        return CertifiedKey(alias, certificate, der, stored)

    # -- the current key of a tuple -----------------------------------------------------------

    def current_key(self, key_tuple: KeyTuple, *, signing: bool = False) -> CertifiedKey:
        """The current key of the tuple, created or rotated when due (getCertificate).

        ``signing``: the caller wants to sign with it, which also renews a due
        Ed25519 signing key (the certificate path refuses to create one)."""
        at = self.clock.now()
        with self.uow_factory() as uow:
            found = self._find_current(uow.keys, key_tuple, at)
            if found is not None:
                return found
        with self.uow_factory() as uow, self.keystore_rollback() as created:
            uow.lock(key_tuple)
            # Read the clock again once the lock is held: a key another process made
            # while we waited is generated after the earlier reading, so it would not
            # look current at that instant and we would make a second one.
            key = self._find_or_create(uow, key_tuple, self.clock.now(), created, signing=signing)
            uow.commit()
            return key

    def _find_current(self, keys: KeyRepository, key_tuple: KeyTuple, at: datetime) -> CertifiedKey | None:
        """The current key when there is exactly one; raises when the tuple cannot have one."""
        if key_tuple.in_keystore:
            self.require_policy(keys, key_tuple.app_id)
        all_aliases, current = self.aliases(keys, key_tuple, at)
        if len(current) > 1:
            raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
        if current:
            return self.certified(keys, current[0])
        if key_tuple.in_keystore and not all_aliases:
            raise KeyManagerError(Errors.KEY_GENERATION_NOT_DONE)
        return None

    def _find_or_create(
        self, uow: UnitOfWork, key_tuple: KeyTuple, at: datetime, created: list[str], *, signing: bool = False
    ) -> CertifiedKey:
        found = self._find_current(uow.keys, key_tuple, at)
        if found is not None:
            return found
        if key_tuple.in_keystore:
            return self.generate_master(uow, key_tuple, at, self.defaults.master_subject(key_tuple), created)
        if key_tuple.ref_id in (ED25519_SIGN, ML_DSA_65_SIGN):  # -- ML-DSA and batch (issue 18) --
            ml_dsa = key_tuple.ref_id == ML_DSA_65_SIGN
            if not signing:
                fmt = "ML-DSA Signature Key" if ml_dsa else "Ed25519 Signature Key"
                raise KeyManagerError(Errors.GENERATION_NOT_ALLOWED, fmt=fmt)
            if not uow.keys.aliases_for(key_tuple):
                raise KeyManagerError(Errors.KEY_GENERATION_NOT_DONE)
            generate = self.generate_ml_dsa if ml_dsa else self.generate_ed25519
            return generate(uow, key_tuple, at, self.defaults.master_subject(key_tuple), created)
        return self._generate_base(uow, key_tuple, at, created)

    def _current_or_rotated_master(
        self, uow: UnitOfWork, key_tuple: KeyTuple, at: datetime, created: list[str]
    ) -> CertifiedKey:
        uow.lock(key_tuple)
        return self._find_or_create(uow, key_tuple, at, created)

    # -- creation -------------------------------------------------------------------------------

    def generate_master(
        self, uow: UnitOfWork, key_tuple: KeyTuple, at: datetime, subject: Subject, created: list[str]
    ) -> CertifiedKey:
        """A new keystore-held key for ROOT, a module, KERNEL/SIGN or an EC (or keystore Ed25519)
        signing key, issued by ROOT."""
        policy = self.require_policy(uow.keys, key_tuple.app_id, fresh=True)
        root_tuple = KeyTuple(ROOT)
        is_root = key_tuple == root_tuple
        issuer: CertifiedKey | None = None
        if not is_root:
            try:
                issuer = self._current_or_rotated_master(uow, root_tuple, at, created)
            except KeyManagerError as error:
                if error.error in (Errors.KEY_GENERATION_NOT_DONE, Errors.NO_KEY_POLICY):
                    raise KeyManagerError(Errors.ROOT_KEY_NOT_FOUND) from None
                raise
        alias = str(uuid.uuid4())
        try:
            algorithm = KEYSTORE_ALGORITHM_BY_REFERENCE.get(key_tuple.ref_id, KeyAlgorithm.RSA_2048)
            public_key = crypto.public_key_from_spki(self.keystore.generate_key_pair(alias, algorithm))
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
        created.append(alias)
        name = subject.to_name()
        signer_alias = alias if issuer is None else issuer.alias.alias
        certificate = issue_certificate(
            public_key=public_key,
            subject=name,
            issuer=name if issuer is None else issuer.certificate.subject,
            not_before=at,
            not_after=policy.expiry_from(at),
            certificate_authority=True,
            path_length=2 if issuer is None else 1,
            signer=lambda data: self.keystore.sign(signer_alias, data),
        )
        der = certificate_der(certificate)
        self.keystore.store_certificate(alias, der)
        record = self._add_alias(uow, key_tuple, alias, at, policy, der)
        return self._remember(CertifiedKey(record, certificate, der))

    def _add_alias(
        self, uow: UnitOfWork, key_tuple: KeyTuple, alias: str, at: datetime, policy: KeyPolicy, der: bytes
    ) -> KeyAlias:
        """The key_alias row of a key made now (master or base), recorded as created and added to the unit."""
        record = KeyAlias(
            alias=alias,
            key_tuple=key_tuple,
            generated_at=at,
            expires_at=policy.expiry_from(at),
            thumbprint=thumbprint_hex(der),
            uni_ident=self.unique_identifier(uow.keys, unique_value_for_generated(key_tuple, at), alias),
        )
        self.note_created(uow, record)
        uow.keys.add_alias(record)
        return record

    def _generate_base(self, uow: UnitOfWork, key_tuple: KeyTuple, at: datetime, created: list[str]) -> CertifiedKey:
        keys = uow.keys
        for existing in keys.aliases_for(key_tuple):
            stored = keys.stored_key(existing.alias)
            if stored is not None and stored.is_other_domain:
                raise KeyManagerError(Errors.GENERATION_NOT_ALLOWED, fmt="other domains, partner Certificate expired")
        refusal = {ROOT: "Root Key", KERNEL: "Kernel App Id", PARTNER: "Partner App Id"}.get(key_tuple.app_id)
        if refusal:
            raise KeyManagerError(Errors.GENERATION_NOT_ALLOWED, fmt=refusal)
        policy = self.require_policy(keys, key_tuple.app_id, fresh=True)
        master = self._current_or_rotated_master(uow, KeyTuple(key_tuple.app_id), at, created)

        private_key = self._rsa_key_source()
        master_subject = self.defaults.fill(Subject.from_name(master.certificate.subject))
        common_name = fitted_common_name(f"{key_tuple.app_id}-{key_tuple.ref_id}")  # references run to 128 chars
        subject = replace(master_subject, common_name=common_name)
        return self._store_database_key(uow, key_tuple, at, policy, master, private_key, subject)

    def generate_ed25519(
        self, uow: UnitOfWork, key_tuple: KeyTuple, at: datetime, subject: Subject, created: list[str]
    ) -> CertifiedKey:
        """An Ed25519 signing key held in the database like a base key: wrapped by, and
        certified by, the application's master key (KER-KMS-012 when it has none); or, with
        ``ed25519_in_keystore``, made in the keystore and issued by ROOT like an EC signing key."""
        if self.ed25519_in_keystore:
            return self.generate_master(uow, key_tuple, at, subject, created)
        return self._generate_database_signing_key(
            uow, key_tuple, at, subject, created, ed25519.Ed25519PrivateKey.generate
        )

    # -- ML-DSA and batch (issue 18) --
    def generate_ml_dsa(
        self, uow: UnitOfWork, key_tuple: KeyTuple, at: datetime, subject: Subject, created: list[str]
    ) -> CertifiedKey:
        """An ML-DSA-65 signing key, always held in the database like a default Ed25519 key: wrapped by,
        and certified (X.509, RSA-signed) by, the application's master key (ADR 0024). No keystore adapter
        holds ML-DSA keys (PKCS#12 in cryptography 51 cannot carry one; SoftHSM2 2.6 has no ML-DSA)."""
        return self._generate_database_signing_key(
            uow, key_tuple, at, subject, created, mldsa.MLDSA65PrivateKey.generate
        )

    def _generate_database_signing_key(
        self,
        uow: UnitOfWork,
        key_tuple: KeyTuple,
        at: datetime,
        subject: Subject,
        created: list[str],
        new_private_key: Callable[[], crypto.DatabaseKey],
    ) -> CertifiedKey:
        """A signing key held in the database: the policy read fresh, the application's master key
        (rotated when due) wraps and certifies it."""
        policy = self.require_policy(uow.keys, key_tuple.app_id, fresh=True)
        master = self._current_or_rotated_master(uow, KeyTuple(key_tuple.app_id), at, created)
        return self._store_database_key(uow, key_tuple, at, policy, master, new_private_key(), subject)

    def _store_database_key(
        self,
        uow: UnitOfWork,
        key_tuple: KeyTuple,
        at: datetime,
        policy: KeyPolicy,
        master: CertifiedKey,
        private_key: crypto.DatabaseKey,
        subject: Subject,
    ) -> CertifiedKey:
        """Certify ``private_key`` by the master key, wrap it by the master key, and write
        its key_alias and key_store rows (in the caller's unit of work)."""
        certificate = issue_certificate(
            public_key=private_key.public_key(),
            subject=subject.to_name(),
            issuer=master.certificate.subject,
            not_before=at,
            not_after=policy.expiry_from(at),
            certificate_authority=False,
            path_length=None,
            signer=lambda data: self.keystore.sign(master.alias.alias, data),
        )
        der = certificate_der(certificate)
        alias = str(uuid.uuid4())
        stored = StoredKey(
            alias=alias,
            master_alias=master.alias.alias,
            private_key=self.wrap_private_key(master, private_key),
            certificate_pem=certificate_pem(certificate),
        )
        record = self._add_alias(uow, key_tuple, alias, at, policy, der)
        uow.keys.add_stored_key(stored)
        return self._remember(CertifiedKey(record, certificate, der, stored))

    # -- signing --------------------------------------------------------------------------------

    def signer_for(self, key: CertifiedKey) -> KeySigner:
        """Signs with ``key``'s private key wherever it lives (keystore or database)."""
        if key.alias.key_tuple.in_keystore or (key.stored is None and key.alias.ref_id == ED25519_SIGN):
            alias = key.alias.alias
            return lambda data, scheme: self.keystore.sign(alias, data, scheme)
        if key.stored is None or key.stored.is_other_domain:
            raise KeyManagerError(Errors.SIGNING_NOT_ALLOWED)
        private_key = self.unwrap_signing_key(key.stored)  # -- ML-DSA and batch (issue 18) --

        def sign(data: bytes, scheme: SignatureScheme) -> bytes:
            try:
                return crypto.sign_with(private_key, data, scheme)
            except ValueError:
                raise KeyManagerError(Errors.INVALID_KEY) from None

        return sign

    # -- helpers --------------------------------------------------------------------------------

    @staticmethod
    def wrap_private_key(master: CertifiedKey, private_key: crypto.DatabaseKey) -> str:
        """base64url( RSA-OAEP(master, S) ‖ splitter ‖ AES-GCM(S, PKCS#8) as ct‖tag‖iv16 )."""
        session_key = crypto.new_aes_key()
        iv = crypto.random_bytes(envelope.APPENDED_IV_LENGTH)
        sealed = crypto.aes_gcm_encrypt(session_key, iv, crypto.private_key_to_pkcs8(private_key), None) + iv
        master_public = master.certificate.public_key()
        encrypted_key = crypto.rsa_oaep_encrypt(master_public, session_key)  # type: ignore[arg-type]
        return b64url_encode(envelope.wrap_blob(encrypted_key, sealed))

    # -- ML-DSA and batch (issue 18) --
    def unwrap_signing_key(self, stored: StoredKey) -> crypto.DatabaseKey:
        """The private key of a key_store row that signs: any database-held key, ML-DSA-65 ones too."""
        encrypted_key, sealed = envelope.unwrap_blob(b64url_decode(stored.private_key))
        try:
            session_key = self.keystore.decrypt(stored.master_alias, encrypted_key)
        except KeystoreError:
            raise KeyManagerError(Errors.INVALID_KEY) from None
        ciphertext, iv = envelope.split_appended_iv(sealed)
        return crypto.signing_key_from_pkcs8(crypto.aes_gcm_decrypt(session_key, iv, ciphertext, None))

    def unwrap_private_key(self, stored: StoredKey, *, generated_by_us: bool = True) -> crypto.SoftwareKey:
        """The private key of a key_store row, unwrapped with its master key. ``generated_by_us=False``
        (a key brought in by migration) also runs the full consistency check of an RSA key."""
        encrypted_key, sealed = envelope.unwrap_blob(b64url_decode(stored.private_key))
        try:
            session_key = self.keystore.decrypt(stored.master_alias, encrypted_key)
        except KeystoreError:
            raise KeyManagerError(Errors.INVALID_KEY) from None
        ciphertext, iv = envelope.split_appended_iv(sealed)
        return crypto.private_key_from_pkcs8(
            crypto.aes_gcm_decrypt(session_key, iv, ciphertext, None), generated_by_us=generated_by_us
        )

    @staticmethod
    def unique_identifier(keys: KeyRepository, unique_value: str, alias: str) -> str:
        """The reference's SHA-1 identifier; a second key of the same tuple on the same
        day (which the reference cannot store) gets the alias appended instead."""
        identifier = uni_ident(unique_value)
        if keys.uni_ident_exists(identifier):
            identifier = uni_ident(f"{unique_value}_{alias}")
        return identifier

    def current_unless_forced(
        self, uow: UnitOfWork, key_tuple: KeyTuple, at: datetime, force: bool
    ) -> CertifiedKey | None:
        """generateMasterKey/generateECSignKey: the current key, or None when there is
        none or ``force`` expired it (now - 1 minute); KER-KMS-003 for more than one."""
        _, current = self.aliases(uow.keys, key_tuple, at)
        if force:
            self.expire_now(uow.keys, current, at)
            return None
        if len(current) > 1:
            raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
        return self.certified(uow.keys, current[0]) if current else None

    def expire_now(self, keys: KeyRepository, aliases: list[KeyAlias], at: datetime) -> None:
        for alias in aliases:
            keys.set_expiry(alias.alias, at - EXPIRE_NOW_OFFSET)

    @contextmanager
    def keystore_rollback(self) -> Iterator[list[str]]:
        """Collects the aliases a unit creates in the keystore and deletes them
        again (best effort) when the unit fails before it commits."""
        created: list[str] = []
        try:
            yield created
        except BaseException:
            for alias in created:
                try:
                    self.keystore.delete(alias)
                except KeystoreError:
                    pass
            raise

