from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from application.crypto import jwe
from application.crypto.x509 import parse_pem_certificate
from application.keys.hierarchy import KeyHierarchy
from application.ports.clock import Clock
from application.use_cases.cryptomanager.decrypt_data import DecryptData
from application.use_cases.cryptomanager.key_choice import refuse_master_key_encryption
from domain.codec import b64_decode_lenient, b64url_encode
from domain.errors import Errors, KeyManagerError, ValidationError
from domain.keys import KeyTuple

RSA_KEY_BITS = 2048


@dataclass(frozen=True)
class JwtEncryptCommand:
    data: str
    app_id: str | None = None
    ref_id: str | None = None
    x509_certificate: str | None = None
    compress: bool = True
    include_certificate: bool = False
    include_cert_hash: bool = False
    jwk_set_url: str | None = None


@dataclass(frozen=True)
class JwtCipherResult:
    data: str
    timestamp: datetime


class JwtEncrypt:
    """jwtEncrypt: a compact JWE (RSA-OAEP-256, A256GCM, DEF by default) to the given PEM
    certificate, else to the current key of (app, ref) under /encrypt's reference rule; the
    key must be RSA-2048 (KER-CRY-011). The data is a compact JWS taken verbatim, or
    base64url JSON (KER-CRY-013 otherwise)."""

    def __init__(self, hierarchy: KeyHierarchy, clock: Clock) -> None:
        self.hierarchy = hierarchy
        self.clock = clock

    def execute(self, command: JwtEncryptCommand) -> JwtCipherResult:
        payload = self._payload(command.data.strip())
        certificate = self._certificate(command)
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey) or public_key.key_size != RSA_KEY_BITS:
            raise KeyManagerError(Errors.ENCRYPT_WITH_MASTER_KEY)
        token = jwe.encrypt_compact(
            payload,
            certificate,
            compress=command.compress,
            include_certificate=command.include_certificate,
            include_cert_hash=command.include_cert_hash,
            jwk_set_url=(command.jwk_set_url or "").strip() or None,
        )
        return JwtCipherResult(token, self.clock.now())

    @staticmethod
    def _payload(data: str) -> bytes:
        if len(data.split(".")) == 3:
            return data.encode("utf-8")  # a compact JWS, encrypted as it is
        decoded = b64_decode_lenient(data)
        try:
            json.loads(decoded)
        except (ValueError, UnicodeDecodeError):
            raise KeyManagerError(Errors.INVALID_JSON_TO_ENCRYPT) from None
        return decoded

    def _certificate(self, command: JwtEncryptCommand) -> x509.Certificate:
        if command.x509_certificate and command.x509_certificate.strip():
            try:
                return parse_pem_certificate(command.x509_certificate)
            except KeyManagerError:
                pass  # the reference falls back to (app, ref) silently
        app_id = (command.app_id or "").strip()
        if not app_id:
            raise ValidationError(["applicationId should not be null or empty when x509Certificate is not given"])
        key_tuple = KeyTuple(app_id, (command.ref_id or "").strip())
        refuse_master_key_encryption(key_tuple)
        return self.hierarchy.current_key(key_tuple).certificate


@dataclass(frozen=True)
class JwtDecryptCommand:
    app_id: str
    ref_id: str
    enc_data: str
    caller: str | None = None


class JwtDecrypt:
    """jwtDecrypt: the key named by the JWE's kid (a certificate thumbprint), under the same
    look-up and access rules as /decrypt; only database-held base keys (KER-KMS-018 for a
    master key or an other-domain certificate). Any cryptographic failure is KER-CRY-015."""

    def __init__(self, clock: Clock, decrypt: DecryptData, max_plaintext_bytes: int) -> None:
        self.clock = clock
        self.decrypt = decrypt
        self.max_plaintext_bytes = max_plaintext_bytes

    def execute(self, command: JwtDecryptCommand) -> JwtCipherResult:
        key_tuple = KeyTuple(command.app_id.strip(), command.ref_id.strip())
        refuse_master_key_encryption(key_tuple)
        message = jwe.parse_compact(command.enc_data.strip())
        thumbprint = jwe.kid_thumbprint(message)
        self.decrypt.require_key(
            key_tuple.app_id, key_tuple.ref_id, thumbprint, caller=command.caller, allow_master=False
        )
        plaintext = jwe.decrypt_message(
            message,
            lambda encrypted_key: self.decrypt.open_session_key(
                key_tuple.app_id, key_tuple.ref_id, thumbprint, encrypted_key, caller=command.caller
            ),
            max_plaintext_bytes=self.max_plaintext_bytes,
        )
        return JwtCipherResult(b64url_encode(plaintext), self.clock.now())
