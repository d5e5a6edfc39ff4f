from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from application.crypto import mlkem
from application.crypto import primitives as crypto
from application.keys.hierarchy import KeyHierarchy
from application.keys.pq_keys import PqKeyring
from application.use_cases.cryptomanager.key_choice import refuse_master_key_encryption
from domain import envelope, pq_envelope
from domain.errors import Errors, KeyManagerError, ValidationError
from domain.keys import KeyTuple


@dataclass(frozen=True)
class EncryptCommand:
    app_id: str
    ref_id: str
    data: bytes
    salt: bytes | None = None
    aad: bytes | None = None
    # -- post-quantum hybrid (issue 18) --
    #: Ask for the hybrid post-quantum envelope VER_Q1 (ADR 0023); the applications named in
    #: KEYMANAGER_PQ_HYBRID_APPS always get it, whatever the request says.
    pq_hybrid: bool = False


@dataclass(frozen=True)
class EncryptResult:
    data: bytes


class EncryptData:
    """Hybrid encryption to the current certificate of (app, ref), byte for byte
    the reference's /encrypt output (VER_R2 default; salt; aad only); or, when asked,
    the hybrid post-quantum envelope VER_Q1 to the RSA key and its ML-KEM twin."""

    def __init__(
        self, hierarchy: KeyHierarchy, pq_keys: PqKeyring | None = None, pq_hybrid_apps: Iterable[str] = ()
    ) -> None:
        self.hierarchy = hierarchy
        self.pq_keys = pq_keys
        self.pq_hybrid_apps = frozenset(app.upper() for app in pq_hybrid_apps)

    def wants_hybrid(self, command: EncryptCommand) -> bool:
        return command.pq_hybrid or command.app_id.upper() in self.pq_hybrid_apps

    def execute(self, command: EncryptCommand) -> EncryptResult:
        key_tuple = KeyTuple(command.app_id, command.ref_id)
        refuse_master_key_encryption(key_tuple)
        if not command.data:
            raise KeyManagerError(Errors.NULL_DATA)
        if self.wants_hybrid(command):
            return EncryptResult(self._hybrid(key_tuple, command))
        key = self.hierarchy.current_key(key_tuple)
        public_key = key.certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise KeyManagerError(Errors.INVALID_KEY)

        session_key = crypto.new_aes_key()
        variant = envelope.variant_for(command.salt, command.aad)
        if variant is envelope.Variant.SALT:
            assert command.salt is not None
            encrypted = _seal(session_key, command.salt, command.data, command.aad)
        elif variant is envelope.Variant.AAD:
            iv = crypto.random_bytes(envelope.APPENDED_IV_LENGTH)
            encrypted = _seal(session_key, iv, command.data, command.aad) + iv
        else:
            aad = crypto.random_bytes(envelope.AAD_LENGTH)
            encrypted = envelope.ver_r2_data(
                aad, _seal(session_key, aad[: envelope.NONCE_LENGTH], command.data, aad)
            )
        encrypted_key = crypto.rsa_oaep_encrypt(public_key, session_key)
        return EncryptResult(envelope.build(variant, key.thumbprint, encrypted_key, encrypted))

    def _hybrid(self, key_tuple: KeyTuple, command: EncryptCommand) -> bytes:
        _hybrid_refusal(command)
        if self.pq_keys is None:
            raise KeyManagerError(Errors.GENERATION_NOT_ALLOWED, fmt="ML-KEM keys are not configured")
        recipient = self.pq_keys.recipient(key_tuple)
        return hybrid_seal(
            recipient.rsa_public_key, recipient.rsa_key.thumbprint, recipient.pq_key.public_key, command.data
        )


def _seal(key: bytes, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
    try:
        return crypto.aes_gcm_encrypt(key, nonce, data, aad)
    except ValueError:  # a salt (IV) length AES-GCM cannot take
        raise KeyManagerError(Errors.INVALID_ENCRYPTED_DATA) from None


def _hybrid_refusal(command: EncryptCommand) -> None:
    """VER_Q1 has one data layout (random aad32, as VER_R2): a caller's salt or aad cannot be honoured,
    and silently dropping them would lose the binding the caller asked for."""
    if command.salt or command.aad:
        raise ValidationError(["pqHybrid: the hybrid envelope takes neither salt nor aad"])


def hybrid_seal(
    rsa_public_key: rsa.RSAPublicKey, rsa_thumbprint: bytes, pq_public_key: bytes, data: bytes
) -> bytes:
    """The VER_Q1 envelope of ``data`` (domain/pq_envelope.py, ADR 0023)."""
    mlkem_secret, kem_ciphertext = mlkem.encapsulate(pq_public_key)
    rsa_secret = crypto.random_bytes(pq_envelope.SHARED_SECRET_LENGTH)
    rsa_ciphertext = crypto.rsa_oaep_encrypt(rsa_public_key, rsa_secret)
    key_id = pq_envelope.pq_key_id(pq_public_key)
    data_key = pq_envelope.combine(mlkem_secret, rsa_secret, kem_ciphertext, rsa_ciphertext, key_id, rsa_thumbprint)
    aad = crypto.random_bytes(envelope.AAD_LENGTH)
    sealed = crypto.aes_gcm_encrypt(data_key, aad[: envelope.NONCE_LENGTH], data, aad)
    return pq_envelope.build(rsa_thumbprint, key_id, kem_ciphertext, rsa_ciphertext, aad, sealed)
