from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from application.crypto import primitives as crypto
from application.keys.hierarchy import KeyHierarchy
from application.use_cases.cryptomanager.key_choice import refuse_master_key_encryption
from domain import envelope
from domain.errors import Errors, KeyManagerError
from domain.keys import KeyTuple


@dataclass(frozen=True)
class EncryptCommand:
    app_id: str
    ref_id: str
    data: bytes
    salt: bytes | None = None
    aad: bytes | None = None


@dataclass(frozen=True)
class EncryptResult:
    data: bytes




class EncryptData:
    """Hybrid encryption to the current certificate of (app, ref), byte for byte
    the reference's /encrypt output (VER_R2 default; salt; aad only)."""

    def __init__(self, hierarchy: KeyHierarchy) -> None:
        self.hierarchy = hierarchy

    def execute(self, command: EncryptCommand) -> EncryptResult:
        key_tuple = KeyTuple(command.app_id, command.ref_id)
        refuse_master_key_encryption(key_tuple)
        if not command.data:
            raise KeyManagerError(Errors.NULL_DATA)
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


def _seal(key: bytes, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
    try:
        return crypto.aes_gcm_encrypt(key, nonce, data, aad)
    except ValueError:  # a salt (IV) length AES-GCM cannot take
        raise KeyManagerError(Errors.INVALID_ENCRYPTED_DATA) from None
