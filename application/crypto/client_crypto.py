"""The client-crypto formats (mosip-crypto.md §10.1): a client's public key of three kinds, its
signatures, and data encrypted to it or to the service.

* Key kinds. TPM: a raw TPMT_PUBLIC (recognised from the bytes, whatever the caller says);
  LOCAL and ANDROID: an X.509 SubjectPublicKeyInfo RSA key.
* Signatures: RSASSA-PKCS1-v1_5 with SHA-256 over the data (SHA256withRSA) for every kind.
* Wrapping the AES key: RSA-OAEP with SHA-256 and, for LOCAL, MGF1-SHA-256 and no label; ANDROID,
  MGF1-SHA-1 (what Android keystores offer); TPM, MGF1-SHA-256 and the label "\\0" (TSS.Java
  null-terminates labels, so its empty label is one NUL byte, which a TPM opens with label "").
* Layout: ``RSA_ENC(K) ‖ iv(12) ‖ aad(32) ‖ AES-256-GCM(K, iv, aad, data) as ct‖tag``. Data sealed by
  clients of 1.1.4.4 uses iv(16) ‖ aad(12); opening tries the current layout, then that one.

Every failure the caller's bytes cause is KER-CC-004 "Failed crypto operation": the service
never says which step failed (no padding or tag oracle).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.crypto import primitives
from application.crypto.tpm import TpmFormatError, parse_rsa_public
from domain.errors import Errors, KeyManagerError

#: The RSA block at the start of the layout (mosip.kernel.client.crypto.sym-key-length: RSA-2048).
WRAPPED_KEY_LENGTH = 256
IV_LENGTH = 12  # mosip.kernel.client.crypto.iv-length
AAD_LENGTH = 32  # mosip.kernel.client.crypto.aad-length
LEGACY_IV_LENGTH = 16  # the 1.1.4.4 layout
LEGACY_AAD_LENGTH = 12
GCM_TAG_LENGTH = 16
TPM_OAEP_LABEL = b"\x00"


class ClientType(str, Enum):
    TPM = "TPM"
    ANDROID = "ANDROID"
    LOCAL = "LOCAL"


_OAEP = {
    ClientType.LOCAL: padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    ClientType.ANDROID: padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA256(), label=None),
    ClientType.TPM: padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=TPM_OAEP_LABEL),
}


def failed() -> KeyManagerError:
    return KeyManagerError(Errors.CC_CRYPTO_FAILED)


@dataclass(frozen=True)
class ClientPublicKey:
    """A client's RSA public key and the kind that decides the OAEP parameters."""

    kind: ClientType
    key: rsa.RSAPublicKey


def client_public_key(data: bytes, client_type: ClientType | None) -> ClientPublicKey:
    """TPM when ``data`` is an RSA TPMT_PUBLIC (as the reference decides); otherwise an RSA SPKI
    for LOCAL (the default) or ANDROID. KER-CC-004 for anything else, TPM asked for included."""
    try:
        tpm = parse_rsa_public(data)
    except TpmFormatError:
        tpm = None
    if tpm is not None:
        try:
            numbers = rsa.RSAPublicNumbers(tpm.exponent, int.from_bytes(tpm.modulus, "big"))
            return ClientPublicKey(ClientType.TPM, numbers.public_key())
        except ValueError:
            raise failed() from None
    kind = client_type or ClientType.LOCAL
    if kind is ClientType.TPM:
        raise failed()
    try:
        key = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise failed() from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise failed()
    return ClientPublicKey(kind, key)


def verify(public_key: ClientPublicKey, signature: bytes, data: bytes) -> bool:
    """SHA256withRSA; a signature that does not verify is False, not an error."""
    try:
        public_key.key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def encrypt(public_key: ClientPublicKey, data: bytes) -> bytes:
    """A fresh AES-256 key wrapped to the client, then the data sealed under it."""
    if not data:
        raise KeyManagerError(Errors.NULL_DATA)  # as the reference's CryptoCore refuses it
    secret = primitives.new_aes_key()
    iv = primitives.random_bytes(IV_LENGTH)
    aad = primitives.random_bytes(AAD_LENGTH)
    try:
        wrapped = public_key.key.encrypt(secret, _OAEP[public_key.kind])
    except ValueError:  # a modulus too small for OAEP-SHA-256 and a 32-byte key
        raise failed() from None
    return wrapped + iv + aad + AESGCM(secret).encrypt(iv, data, aad)


def split_wrapped_key(data: bytes) -> tuple[bytes, bytes]:
    """(the RSA block, the rest) of data sealed to the service's own key."""
    if len(data) <= WRAPPED_KEY_LENGTH:
        raise failed()
    return data[:WRAPPED_KEY_LENGTH], data[WRAPPED_KEY_LENGTH:]


def open_sealed(secret: bytes, sealed: bytes) -> bytes:
    """The plaintext of ``iv ‖ aad ‖ ct‖tag`` under ``secret``: the current layout, then 1.1.4.4's."""
    try:
        aes = AESGCM(secret)
    except ValueError:  # the RSA block held no AES key
        raise failed() from None
    for iv_length, aad_length in ((IV_LENGTH, AAD_LENGTH), (LEGACY_IV_LENGTH, LEGACY_AAD_LENGTH)):
        start = iv_length + aad_length
        if len(sealed) < start + GCM_TAG_LENGTH:
            continue
        try:
            return aes.decrypt(sealed[:iv_length], sealed[start:], sealed[iv_length:start])
        except InvalidTag:
            continue
    raise failed()
