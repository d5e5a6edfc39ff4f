from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from application.crypto import mlkem
from application.crypto import primitives as crypto
from application.keys.hierarchy import KeyHierarchy
from application.keys.pq_keys import PqKeyring
from application.ports.key_repository import KeyRepository
from application.ports.keystore import Keystore, KeystoreError
from application.ports.unit_of_work import UnitOfWorkFactory
from application.support.ttl_cache import TtlLruCache
from domain import envelope, pq_envelope
from domain.access import has_key_access
from domain.codec import hex_upper
from domain.errors import Errors, KeyManagerError
from domain.keys import KeyAlias, KeyPolicy, KeyTuple

_CRYPTO_FAILURES = frozenset(
    {Errors.SYMMETRIC_KEY_DECRYPTION, Errors.CORRUPTED_DATA, Errors.INVALID_KEY, Errors.INVALID_ENCRYPTED_DATA}
)


@dataclass(frozen=True)
class DecryptCommand:
    app_id: str
    ref_id: str
    data: bytes
    salt: bytes | None = None
    aad: bytes | None = None
    caller: str | None = None


@dataclass(frozen=True)
class DecryptResult:
    data: bytes


@dataclass(frozen=True)
class DecryptionKey:
    """What a thumbprint resolves to: the key's alias, and its unwrapped private key
    for a base key (None for a keystore-held master key, used by alias)."""

    alias: KeyAlias
    private_key: crypto.SoftwareKey | None


class DecryptData:
    """The inverse of /encrypt: find the key by the thumbprint in the envelope (or
    try the tuple's keys for legacy data), open the session key, then the data.

    Unwrapped base private keys are kept in a bounded, expiring cache keyed by
    thumbprint, so a warm call does no repository or keystore work at all.
    Expired and revoked keys still decrypt: old packets must stay readable.
    """

    def __init__(
        self,
        hierarchy: KeyHierarchy,
        uow_factory: UnitOfWorkFactory,
        keystore: Keystore,
        key_cache: TtlLruCache[DecryptionKey],
        pq_keys: PqKeyring | None = None,
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.keystore = keystore
        self.key_cache = key_cache
        self.pq_keys = pq_keys  # -- post-quantum hybrid (issue 18) --

    def execute(self, command: DecryptCommand) -> DecryptResult:
        if not command.data:
            raise KeyManagerError(Errors.NULL_DATA)
        if pq_envelope.is_hybrid(command.data):
            hybrid = pq_envelope.split(command.data)
            try:
                return self._open_hybrid(command, hybrid)
            except KeyManagerError as error:
                if error.error in _CRYPTO_FAILURES:
                    raise KeyManagerError(Errors.CORRUPTED_DATA) from None
                raise
        parts = envelope.split(command.data)
        try:
            return self._open(command, parts)
        except KeyManagerError as error:
            # No oracle: a wrong key, bad OAEP padding, a bad tag or an unusable wrapped key
            # all look the same to the caller (look-up and access errors stay distinct:
            # they depend only on what the caller already knows).
            if error.error in _CRYPTO_FAILURES:
                raise KeyManagerError(Errors.CORRUPTED_DATA) from None
            raise

    def _open(self, command: DecryptCommand, parts: envelope.Envelope) -> DecryptResult:
        if parts.thumbprint is not None:
            session_key = self._open_with_thumbprint(command, parts.thumbprint, parts.encrypted_key)
        else:
            session_key = self._open_legacy(command, parts.encrypted_key)

        data = parts.encrypted_data
        if command.salt:
            return DecryptResult(crypto_open(session_key, command.salt, data, command.aad))
        if parts.has_version_header:
            aad, nonce, sealed = envelope.split_ver_r2_data(data)
            return DecryptResult(crypto_open(session_key, nonce, sealed, aad))
        sealed, iv = envelope.split_appended_iv(data)
        return DecryptResult(crypto_open(session_key, iv, sealed, command.aad))

    # -- post-quantum hybrid (issue 18) --

    def _open_hybrid(self, command: DecryptCommand, parts: pq_envelope.HybridEnvelope) -> DecryptResult:
        """VER_Q1 (ADR 0023): the RSA key by its thumbprint with every check of the VER_R2 path, its
        ML-KEM twin by the key id, both secrets into the combiner, then AES-GCM. Any tampering, in
        either KEM ciphertext or in the data, ends as the same KER-FSE-004."""
        if command.salt or command.aad:
            raise KeyManagerError(Errors.INVALID_ENCRYPTED_DATA)
        if self.pq_keys is None:
            raise KeyManagerError(Errors.THUMBPRINT_KEY_NOT_FOUND)
        key = self._decryption_key(command, hex_upper(parts.rsa_thumbprint))
        if not isinstance(key.private_key, rsa.RSAPrivateKey):
            raise KeyManagerError(Errors.CORRUPTED_DATA)
        pq_private_key = self.pq_keys.private_key(key.alias.alias, parts.pq_key_id)
        try:
            rsa_secret = crypto.rsa_oaep_decrypt(key.private_key, parts.rsa_ciphertext)
        except ValueError:
            rsa_secret = b""
        if len(rsa_secret) != pq_envelope.SHARED_SECRET_LENGTH:
            # Implicit rejection, as ML-KEM does: a bad RSA part fails at the GCM tag like any other
            # tampering, after the same work, so neither the answer nor its timing is a padding oracle.
            rsa_secret = crypto.random_bytes(pq_envelope.SHARED_SECRET_LENGTH)
        mlkem_secret = mlkem.decapsulate(pq_private_key, parts.kem_ciphertext)
        data_key = pq_envelope.combine(
            mlkem_secret, rsa_secret, parts.kem_ciphertext, parts.rsa_ciphertext, parts.pq_key_id,
            parts.rsa_thumbprint,
        )
        return DecryptResult(crypto_open(data_key, parts.nonce, parts.sealed, parts.aad))

    def require_key(
        self, app_id: str, ref_id: str, thumbprint: bytes, *, caller: str | None = None, allow_master: bool = True
    ) -> None:
        """The look-up and access checks of the thumbprint path alone (KER-KMS-023/024/025,
        KER-CRY-012); ``allow_master=False`` also refuses keystore-held master keys and
        other-domain certificates (KER-KMS-018)."""
        command = DecryptCommand(app_id, ref_id, b"", caller=caller)
        key = self._decryption_key(command, hex_upper(thumbprint))
        if not allow_master and key.private_key is None:
            raise KeyManagerError(Errors.OTHER_DOMAIN_DECRYPTION)

    def open_session_key(
        self,
        app_id: str,
        ref_id: str,
        thumbprint: bytes,
        encrypted_key: bytes,
        *,
        caller: str | None = None,
        check_access: bool = True,
    ) -> bytes:
        """RSA-OAEP-decrypt a session key wrapped to the key the thumbprint names, with the
        same look-up rules as /decrypt (jwtDecrypt, zkReEncryptRandomKey). ``check_access=False``
        skips the policy's access_allowed check, which the reference's ZK path does not make."""
        command = DecryptCommand(app_id, ref_id, b"", caller=caller)
        try:
            return self._open_with_thumbprint(command, thumbprint, encrypted_key, check_access=check_access)
        except KeyManagerError as error:
            if error.error in _CRYPTO_FAILURES:
                raise KeyManagerError(Errors.CORRUPTED_DATA) from None
            raise

    # -- access -----------------------------------------------------------------------------

    @staticmethod
    def _require_access(policy: KeyPolicy | None, command: DecryptCommand) -> None:
        if not has_key_access(policy, command.app_id, command.caller):
            raise KeyManagerError(Errors.DECRYPTION_NOT_ALLOWED)

    # -- thumbprint path --------------------------------------------------------------------

    def _open_with_thumbprint(
        self, command: DecryptCommand, thumbprint: bytes, encrypted_key: bytes, *, check_access: bool = True
    ) -> bytes:
        key = self._decryption_key(command, hex_upper(thumbprint), check_access=check_access)
        try:
            if isinstance(key.private_key, rsa.RSAPrivateKey):
                return crypto.rsa_oaep_decrypt(key.private_key, encrypted_key)
            if key.private_key is not None:  # a signing key (Ed25519) cannot decrypt
                raise ValueError("not an encryption key")
            return self.keystore.decrypt(key.alias.alias, encrypted_key)
        except (ValueError, KeystoreError):
            raise KeyManagerError(Errors.SYMMETRIC_KEY_DECRYPTION) from None

    def _decryption_key(
        self, command: DecryptCommand, thumbprint_hex: str, *, check_access: bool = True
    ) -> DecryptionKey:
        """The key the thumbprint names, after the access check (from the caches when warm)."""
        policy = self.hierarchy.cached_policy(command.app_id)
        key = self.key_cache.get(thumbprint_hex)
        if (check_access and policy is None) or key is None:
            with self.uow_factory() as uow:
                if check_access:
                    policy = policy or self.hierarchy.policy(uow.keys, command.app_id)
                    self._require_access(policy, command)
                key = key or self._resolve(uow.keys, command, thumbprint_hex)
        if check_access:
            self._require_access(policy, command)
        if key.alias.app_id != command.app_id:
            raise KeyManagerError(Errors.THUMBPRINT_APP_MISMATCH)
        return key

    def _resolve(self, keys: KeyRepository, command: DecryptCommand, thumbprint_hex: str) -> DecryptionKey:
        rows = keys.aliases_with_thumbprint(thumbprint_hex)
        if not rows:
            # A key whose certificate was replaced (uploadCertificate) keeps its old thumbprint here.
            retired = keys.alias_with_retired_thumbprint(thumbprint_hex)
            if retired is None:
                raise KeyManagerError(Errors.THUMBPRINT_KEY_NOT_FOUND)
            rows = [retired]
        if len(rows) > 1:
            rows = [r for r in rows if r.key_tuple == KeyTuple(command.app_id, command.ref_id)]
            if len(rows) != 1:
                raise KeyManagerError(
                    Errors.MULTIPLE_THUMBPRINT_ALIASES if rows else Errors.THUMBPRINT_APP_MISMATCH
                )
        alias = rows[0]
        if alias.app_id != command.app_id:
            raise KeyManagerError(Errors.THUMBPRINT_APP_MISMATCH)
        key = DecryptionKey(alias, self._private_key_of(keys, alias))
        self.key_cache.put(thumbprint_hex, key)
        return key

    def _private_key_of(self, keys: KeyRepository, alias: KeyAlias) -> crypto.SoftwareKey | None:
        stored = keys.stored_key(alias.alias)
        if stored is None:
            return None  # a keystore-held master key: decrypt by alias
        if stored.is_other_domain:
            raise KeyManagerError(Errors.OTHER_DOMAIN_DECRYPTION)
        return self.hierarchy.unwrap_private_key(stored)

    # -- legacy (no thumbprint) path ----------------------------------------------------------

    def _open_legacy(self, command: DecryptCommand, encrypted_key: bytes) -> bytes:
        """1.1.3 data carries no thumbprint: try the tuple's oldest key, then every
        key of the tuple, then every master key of the application."""
        with self.uow_factory() as uow:
            keys = uow.keys
            self._require_access(self.hierarchy.policy(keys, command.app_id), command)
            own = keys.aliases_for(KeyTuple(command.app_id, command.ref_id))
            masters = keys.aliases_for(KeyTuple(command.app_id))
            if not own:
                own = masters
            if not own:
                raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
            candidates: list[KeyAlias] = []
            for alias in [own[0], *own, *masters]:
                if alias not in candidates:
                    candidates.append(alias)
            for alias in candidates:
                try:
                    private_key = self._private_key_of(keys, alias)
                    if isinstance(private_key, rsa.RSAPrivateKey):
                        return crypto.rsa_oaep_decrypt(private_key, encrypted_key)
                    if private_key is not None:
                        continue
                    return self.keystore.decrypt(alias.alias, encrypted_key)
                except (ValueError, KeystoreError, KeyManagerError):
                    continue
        raise KeyManagerError(Errors.CORRUPTED_DATA)


def crypto_open(key: bytes, nonce: bytes, sealed: bytes, aad: bytes | None) -> bytes:
    try:
        return crypto.aes_gcm_decrypt(key, nonce, sealed, aad)
    except ValueError:
        raise KeyManagerError(Errors.INVALID_ENCRYPTED_DATA) from None
