"""ClientCryptoController: the service's own client keys (sign, decrypt) and a client's keys (TPM,
Android, local: verify, encrypt).

Deliberate fix: the reference lets its KER-CC-* failures escape as HTTP 500 (KER-KMS-500); here a
key, signature or ciphertext the caller got wrong is HTTP 200 with KER-CC-004, a signature that does
not verify is ``verified: false``, and malformed base64 is KER-CRY-003 as everywhere else.
"""
from __future__ import annotations

from typing import Any

from flask import Response

from application.keys.client_keys import ENCRYPTION_ALIAS, ClientKey
from application.use_cases.client_crypto.client_public_keys import (
    ClientEncryptCommand,
    ClientVerifyCommand,
    EncryptForClient,
    VerifyClientSignature,
)
from application.use_cases.client_crypto.service_keys import (
    ClientDecrypt,
    ClientDecryptCommand,
    ClientSign,
    ClientSignCommand,
    KeyPurpose,
    ServicePublicKey,
)
from domain.codec import b64url_encode

from . import responses
from .audit import note_key
from .envelope import success
from .routes import Controller
from .schemas import (
    ClientPublicKeyRequest,
    TpmDecryptRequest,
    TpmEncryptRequest,
    TpmSignRequest,
    TpmSignVerifyRequest,
)

api = Controller("client_crypto", tag="client-crypto-controller")
blueprint = api.blueprint


def _note(key: ClientKey) -> None:
    note_key(alias=key.alias, thumbprint_hex=key.thumbprint)


@api.post("/cssign", summary="Sign data (SHA256withRSA) with the service's own client signing key",
          role="postcssign", audit="cssign", request=TpmSignRequest, response=responses.TpmSignResponse,
          use_case="client_sign")
def cs_sign(dto: ClientSignCommand, use_case: ClientSign) -> Response:
    result = use_case.execute(dto)
    _note(result.key)
    return success({"data": b64url_encode(result.data)})


@api.post("/csverifysign", summary="Verify a SHA256withRSA signature with a client's public key "
                                   "(TPMT_PUBLIC, or SPKI for LOCAL and ANDROID)",
          role="postcsverifysign", audit="csverifysign", request=TpmSignVerifyRequest,
          response=responses.TpmSignVerifyResponse, use_case="verify_client_signature")
def cs_verify_sign(dto: ClientVerifyCommand, use_case: VerifyClientSignature) -> Response:
    return success({"verified": use_case.execute(dto)})


@api.post("/tpmencrypt", summary="Encrypt data to a client's public key (AES-256-GCM, the key wrapped with "
                                 "the client type's RSA-OAEP)",
          role="posttpmencrypt", audit="tpmencrypt", request=TpmEncryptRequest,
          response=responses.TpmCryptoResponse, use_case="encrypt_for_client")
def tpm_encrypt(dto: ClientEncryptCommand, use_case: EncryptForClient) -> Response:
    return success({"value": b64url_encode(use_case.execute(dto))})


@api.post("/tpmdecrypt", summary="Decrypt data encrypted to the service's own client encryption key",
          role="posttpmdecrypt", audit="tpmdecrypt", request=TpmDecryptRequest,
          response=responses.TpmCryptoResponse, use_case="client_decrypt")
def tpm_decrypt(dto: ClientDecryptCommand, use_case: ClientDecrypt) -> Response:
    note_key(alias=ENCRYPTION_ALIAS)  # before decrypting: a failed attempt names its key too
    result = use_case.execute(dto)
    _note(result.key)
    return success({"value": b64url_encode(result.data)})


def _public_key(use_case: ServicePublicKey, purpose: KeyPurpose) -> Response:
    key = use_case.execute(purpose)
    _note(key)
    return success({"publicKey": b64url_encode(key.spki)})


@api.post("/tpmsigning/publickey", summary="The service's client signing public key (SPKI)",
          role="posttpmsigningpublickey", audit="tpmsigning/publickey", request=ClientPublicKeyRequest,
          response=responses.ClientPublicKeyResponse, use_case="service_public_key")
def tpm_signing_public_key(dto: dict[str, Any], use_case: ServicePublicKey) -> Response:
    return _public_key(use_case, KeyPurpose.SIGNING)


@api.post("/tpmencryption/publickey", summary="The service's client encryption public key (SPKI)",
          role="posttpmencryptionpublickey", audit="tpmencryption/publickey", request=ClientPublicKeyRequest,
          response=responses.ClientPublicKeyResponse, use_case="service_public_key")
def tpm_encryption_public_key(dto: dict[str, Any], use_case: ServicePublicKey) -> Response:
    return _public_key(use_case, KeyPurpose.ENCRYPTION)
