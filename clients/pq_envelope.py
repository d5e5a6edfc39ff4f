"""Encrypt to the key manager's hybrid post-quantum envelope VER_Q1, on the client (issue 18, ADR 0023).

Self-contained: the standard library and `cryptography` (>= 45, for ML-KEM) only, nothing of the
server, so a registration client can vendor this one file. What it makes opens through the key
manager's ``/decrypt`` like any ``/encrypt`` output.

Usage::

    recipient = HybridRecipient.from_statement(statement, rsa_certificate_pem, trusted_issuer=module_cert)
    envelope = recipient.encrypt_b64url(data)          # the "data" of a /decrypt request

``statement`` is the ``response`` of ``GET /v1/keymanager/getPqPublicKey?applicationId=&referenceId=``,
``rsa_certificate_pem`` the ``certificate`` of ``getCertificate`` for the same (app, ref). The statement is
accepted only when its JWS signature verifies with the module key's certificate it carries (``x5c``),
that certificate issued the RSA certificate, the statement names that RSA certificate's thumbprint, the
ML-KEM key matches its key id and the statement has not expired. Pin ``trusted_issuer`` (the module key's
certificate, or the ROOT certificate that issued it, from ``getCertificate?applicationId=ROOT``) to
anchor the chain; without it the check proves only that the RSA key and the ML-KEM key belong together.

Wire format (ADR 0023), before base64url::

    "VER_Q1" ‖ SHA-256(RSA cert DER)(32) ‖ SHA-256(ML-KEM public key)(32) ‖ u16 len(ct_mlkem) ‖ u16 len(ct_rsa)
    ‖ ct_mlkem(1088) ‖ ct_rsa(256) ‖ "#KEY_SPLITTER#" ‖ aad32 ‖ AES-256-GCM(K, nonce = aad32[:12], AAD = aad32)
    K = SHA3-256(ss_mlkem ‖ ss_rsa ‖ ct_mlkem ‖ ct_rsa ‖ keyId ‖ rsaThumbprint ‖ LABEL)
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["LABEL", "VERSION_HEADER", "HybridRecipient", "StatementError", "combine", "seal"]

VERSION_HEADER = b"VER_Q1"
KEY_SPLITTER = b"#KEY_SPLITTER#"
LABEL = b"MOSIP-KEYMANAGER VER_Q1 ML-KEM-768+RSA-OAEP-2048-SHA256 SHA3-256"
STATEMENT_TYPE = "mosip-pq-public-key+jwt"
MLKEM768_PUBLIC_KEY_LENGTH = 1184
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class StatementError(ValueError):
    """The public-key statement does not verify; the message says which check failed."""


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise StatementError("not base64url") from None


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _certificate(value: x509.Certificate | str | bytes) -> x509.Certificate:
    if isinstance(value, x509.Certificate):
        return value
    data = value.encode("ascii") if isinstance(value, str) else value
    return x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----") else \
        x509.load_der_x509_certificate(data)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def combine(
    mlkem_secret: bytes, rsa_secret: bytes, kem_ciphertext: bytes, rsa_ciphertext: bytes,
    key_id: bytes, rsa_thumbprint: bytes,
) -> bytes:
    """The data key K of ADR 0023."""
    return hashlib.sha3_256(
        mlkem_secret + rsa_secret + kem_ciphertext + rsa_ciphertext + key_id + rsa_thumbprint + LABEL
    ).digest()


def seal(rsa_certificate: x509.Certificate, mlkem_public_key: bytes, data: bytes) -> bytes:
    """The VER_Q1 envelope of ``data`` (binary) to an RSA certificate and an ML-KEM-768 public key,
    checked by nothing: use ``HybridRecipient.from_statement`` to check the keys first."""
    rsa_public_key = rsa_certificate.public_key()
    if not isinstance(rsa_public_key, rsa.RSAPublicKey):
        raise ValueError("the certificate's key is not RSA")
    rsa_thumbprint = hashlib.sha256(rsa_certificate.public_bytes(serialization.Encoding.DER)).digest()
    key_id = hashlib.sha256(mlkem_public_key).digest()
    mlkem_secret, kem_ciphertext = mlkem.MLKEM768PublicKey.from_public_bytes(mlkem_public_key).encapsulate()
    rsa_secret = os.urandom(32)
    rsa_ciphertext = rsa_public_key.encrypt(rsa_secret, _OAEP)
    data_key = combine(mlkem_secret, rsa_secret, kem_ciphertext, rsa_ciphertext, key_id, rsa_thumbprint)
    aad = os.urandom(32)
    sealed = AESGCM(data_key).encrypt(aad[:12], data, aad)
    return (
        VERSION_HEADER + rsa_thumbprint + key_id + struct.pack(">HH", len(kem_ciphertext), len(rsa_ciphertext))
        + kem_ciphertext + rsa_ciphertext + KEY_SPLITTER + aad + sealed
    )


@dataclass(frozen=True)
class HybridRecipient:
    """A checked pair: the RSA certificate and the ML-KEM-768 public key of one (app, ref)."""

    rsa_certificate: x509.Certificate
    mlkem_public_key: bytes
    key_id: str
    expires_at: datetime

    @classmethod
    def from_statement(
        cls,
        statement: Mapping[str, object],
        rsa_certificate: x509.Certificate | str | bytes,
        *,
        trusted_issuer: x509.Certificate | str | bytes | None = None,
        now: datetime | None = None,
    ) -> HybridRecipient:
        certificate = _certificate(rsa_certificate)
        signature = statement.get("signature")
        if not isinstance(signature, str) or signature.count(".") != 2:
            raise StatementError("no compact JWS in the statement")
        header_b64, payload_b64, signature_b64 = signature.split(".")
        try:
            header = json.loads(_b64url_decode(header_b64))
            payload = json.loads(_b64url_decode(payload_b64))
        except ValueError:
            raise StatementError("the JWS is not JSON") from None
        if not isinstance(header, dict) or not isinstance(payload, dict):
            raise StatementError("the JWS is not JSON objects")
        if header.get("alg") != "RS256" or header.get("typ") != STATEMENT_TYPE:
            raise StatementError("not an RS256 public-key statement")
        chain = header.get("x5c")
        if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
            raise StatementError("no signer certificate (x5c)")
        try:
            signer = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
        except (ValueError, binascii.Error):
            raise StatementError("the signer certificate is unreadable") from None
        if trusted_issuer is not None:
            anchor = _certificate(trusted_issuer)
            if signer != anchor:
                try:
                    signer.verify_directly_issued_by(anchor)
                except (ValueError, TypeError, InvalidSignature):
                    raise StatementError("the signer is not the trusted issuer nor issued by it") from None
        try:
            certificate.verify_directly_issued_by(signer)
        except (ValueError, TypeError, InvalidSignature):
            raise StatementError("the RSA certificate is not issued by the statement's signer") from None
        signer_key = signer.public_key()
        if not isinstance(signer_key, rsa.RSAPublicKey):
            raise StatementError("the signer's key is not RSA")
        try:
            signer_key.verify(
                _b64url_decode(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"),
                padding.PKCS1v15(), hashes.SHA256(),
            )
        except InvalidSignature:
            raise StatementError("the statement's signature does not verify") from None
        for name, value in statement.items():  # the outer fields, where given, must be the signed ones
            if name != "signature" and name in payload and payload[name] != value:
                raise StatementError(f"{name} differs from the signed statement")
        thumbprint = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
        if payload.get("rsaCertificateThumbprint") != thumbprint:
            raise StatementError("the statement is for another RSA certificate")
        if payload.get("algorithm") != "ML-KEM-768":
            raise StatementError("not an ML-KEM-768 key")
        public_key = _b64url_decode(str(payload.get("publicKey", "")))
        key_id = hashlib.sha256(public_key).hexdigest().upper()
        if len(public_key) != MLKEM768_PUBLIC_KEY_LENGTH or payload.get("keyId") != key_id:
            raise StatementError("the ML-KEM public key does not match its key id")
        try:
            expires_at = _instant(str(payload["expiresAt"]))
        except (KeyError, ValueError):
            raise StatementError("no expiry") from None
        if (now or datetime.now(UTC)) >= expires_at:
            raise StatementError("the statement has expired: fetch the current key")
        return cls(certificate, public_key, key_id, expires_at)

    def encrypt(self, data: bytes) -> bytes:
        return seal(self.rsa_certificate, self.mlkem_public_key, data)

    def encrypt_b64url(self, data: bytes) -> str:
        """The envelope as /encrypt answers it and /decrypt takes it (base64url, unpadded)."""
        return _b64url_encode(self.encrypt(data))
