"""ML-KEM-768 twins of RSA base keys (issue 18, ADR 0023).

An ML-KEM key lives beside the RSA base key of the same (app, ref): one per RSA key, made under the
tuple's lock the first time the hybrid format is asked for with that RSA key, so it has the RSA
key's validity and rotates with it. Its seed is wrapped by the same module key, in the base keys'
layout (RSA-OAEP(master, S) ‖ splitter ‖ AES-GCM(S, seed) ‖ iv16, base64url). Clients get the public
key as a statement signed (RS256) by the module key, which also certifies the RSA key.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from application.crypto import mlkem
from application.crypto import primitives as crypto
from application.crypto.x509 import load_der
from application.keys.hierarchy import CertifiedKey, KeyHierarchy, audit_subject
from application.ports.clock import Clock
from application.ports.keystore import Keystore, KeystoreError
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.support.ttl_cache import TtlLruCache
from domain import envelope, pq_envelope
from domain.audit import AuditEvent
from domain.codec import b64url_decode, b64url_encode, format_instant, hex_upper
from domain.errors import Errors, KeyManagerError
from domain.keys import KeyTuple
from domain.pq_envelope import PqKey

#: The audit operation of an ML-KEM key's creation.
GENERATE_PQ_KEY = "generatePqKey"
STATEMENT_TYPE = "mosip-pq-public-key+jwt"


@dataclass(frozen=True)
class HybridRecipient:
    """What an encryption to the hybrid format needs: the RSA key and its ML-KEM twin."""

    rsa_key: CertifiedKey
    rsa_public_key: rsa.RSAPublicKey
    pq_key: PqKey


@dataclass(frozen=True)
class PqStatement:
    """The signed public-key statement; ``fields`` are exactly the JWS payload's."""

    fields: dict[str, str]
    signature: str  # compact JWS (RS256, x5c = the module key's certificate)


class PqKeyring:
    def __init__(
        self,
        hierarchy: KeyHierarchy,
        uow_factory: UnitOfWorkFactory,
        keystore: Keystore,
        clock: Clock,
        twin_cache: TtlLruCache[PqKey],
        private_cache: TtlLruCache[tuple[str, mlkem.PrivateKey]],
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.keystore = keystore
        self.clock = clock
        self._twins = twin_cache  # RSA alias -> PqKey (public parts only)
        self._private = private_cache  # key id -> (RSA alias, unwrapped private key)

    # -- encryption side ----------------------------------------------------------------------

    def recipient(self, key_tuple: KeyTuple) -> HybridRecipient:
        """The current RSA key of the tuple and its ML-KEM twin, made now when it has none."""
        rsa_key = self.hierarchy.current_key(key_tuple)
        public_key = rsa_key.certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey) or rsa_key.stored is None or rsa_key.stored.is_other_domain:
            # Keystore-held keys and other domains' certificates have no ML-KEM twin we could make.
            raise KeyManagerError(Errors.GENERATION_NOT_ALLOWED, fmt="ML-KEM key for this key")
        return HybridRecipient(rsa_key, public_key, self._twin_of(key_tuple, rsa_key))

    def _twin_of(self, key_tuple: KeyTuple, rsa_key: CertifiedKey) -> PqKey:
        rsa_alias = rsa_key.alias.alias
        found = self._twins.get(rsa_alias)
        if found is not None:
            return found
        with self.uow_factory() as uow:
            found = uow.pq.for_rsa_alias(rsa_alias)
        if found is None:
            with self.uow_factory() as uow:
                uow.lock(key_tuple)
                found = uow.pq.for_rsa_alias(rsa_alias) or self._create(uow, rsa_key)
                uow.commit()
        self._twins.put(rsa_alias, found)
        return found

    def _create(self, uow: UnitOfWork, rsa_key: CertifiedKey) -> PqKey:
        assert rsa_key.stored is not None
        master_alias = rsa_key.stored.master_alias
        seed = mlkem.new_seed()
        public_key = mlkem.public_bytes(mlkem.private_key_from_seed(seed))
        key = PqKey(
            key_id=hex_upper(pq_envelope.pq_key_id(public_key)),
            rsa_alias=rsa_key.alias.alias,
            master_alias=master_alias,
            public_key=public_key,
            private_key=self._wrap(master_alias, seed),
        )
        event = AuditEvent(
            operation=GENERATE_PQ_KEY, subject=audit_subject.get(), app_id=rsa_key.alias.app_id,
            ref_id=rsa_key.alias.ref_id, key_alias=key.key_id, thumbprint=rsa_key.alias.thumbprint,
        )
        uow.audit.append(event, self.clock.now())
        uow.pq.add(key)
        return key

    def _master_certificate(self, master_alias: str) -> bytes:
        try:
            der = self.keystore.certificate(master_alias)
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
        if der is None:
            raise KeyManagerError(Errors.NO_SUCH_ALIAS)
        return der

    def _wrap(self, master_alias: str, seed: bytes) -> str:
        master_public = load_der(self._master_certificate(master_alias)).public_key()
        if not isinstance(master_public, rsa.RSAPublicKey):
            raise KeyManagerError(Errors.INVALID_KEY)
        session_key = crypto.new_aes_key()
        iv = crypto.random_bytes(envelope.APPENDED_IV_LENGTH)
        sealed = crypto.aes_gcm_encrypt(session_key, iv, seed, None) + iv
        return b64url_encode(envelope.wrap_blob(crypto.rsa_oaep_encrypt(master_public, session_key), sealed))

    # -- decryption side ----------------------------------------------------------------------

    def private_key(self, rsa_alias: str, key_id: bytes) -> mlkem.PrivateKey:
        """The ML-KEM private key the envelope names, which must be the twin of ``rsa_alias``
        (the key the RSA thumbprint resolved to); KER-KMS-025 otherwise."""
        key_id_hex = hex_upper(key_id)
        cached = self._private.get(key_id_hex)
        if cached is None:
            with self.uow_factory() as uow:
                found = uow.pq.by_key_id(key_id_hex)
            if found is None:
                raise KeyManagerError(Errors.THUMBPRINT_KEY_NOT_FOUND)
            cached = (found.rsa_alias, self._unwrap(found))
            self._private.put(key_id_hex, cached)
        twin_of, private_key = cached
        if twin_of != rsa_alias:
            raise KeyManagerError(Errors.THUMBPRINT_KEY_NOT_FOUND)
        return private_key

    def _unwrap(self, key: PqKey) -> mlkem.PrivateKey:
        encrypted_key, sealed = envelope.unwrap_blob(b64url_decode(key.private_key))
        try:
            session_key = self.keystore.decrypt(key.master_alias, encrypted_key)
        except KeystoreError:
            raise KeyManagerError(Errors.INVALID_KEY) from None
        ciphertext, iv = envelope.split_appended_iv(sealed)
        private_key = mlkem.private_key_from_seed(crypto.aes_gcm_decrypt(session_key, iv, ciphertext, None))
        if mlkem.public_bytes(private_key) != key.public_key:
            raise KeyManagerError(Errors.INVALID_KEY)
        return private_key

    # -- the public-key statement -------------------------------------------------------------

    def statement(self, key_tuple: KeyTuple) -> PqStatement:
        """The current ML-KEM public key of the tuple, bound to its RSA certificate and signed by the
        module key that certifies that RSA key (a client checks both against the same issuer)."""
        recipient = self.recipient(key_tuple)
        rsa_key, pq_key = recipient.rsa_key, recipient.pq_key
        fields = {
            "applicationId": rsa_key.alias.app_id,
            "referenceId": rsa_key.alias.ref_id,
            "algorithm": "ML-KEM-768",
            "publicKey": b64url_encode(pq_key.public_key),
            "keyId": pq_key.key_id,
            "rsaCertificateThumbprint": hex_upper(rsa_key.thumbprint),
            "issuedAt": format_instant(rsa_key.alias.generated_at),
            "expiresAt": format_instant(rsa_key.alias.expires_at),
        }
        master_der = self._master_certificate(pq_key.master_alias)
        header = {"alg": "RS256", "typ": STATEMENT_TYPE, "x5c": [base64.b64encode(master_der).decode("ascii")]}
        signing_input = ".".join(
            b64url_encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, fields)
        )
        try:
            signature = self.keystore.sign(pq_key.master_alias, signing_input.encode("ascii"))
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
        return PqStatement(fields, f"{signing_input}.{b64url_encode(signature)}")
