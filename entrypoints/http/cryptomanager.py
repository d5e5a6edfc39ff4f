"""CryptomanagerController: /encrypt, /decrypt, PIN-based encryption, JWE and Argon2."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Response

from application.use_cases.cryptomanager.decrypt_data import DecryptCommand, DecryptData
from application.use_cases.cryptomanager.encrypt_data import EncryptCommand, EncryptData
from application.use_cases.cryptomanager.generate_argon2_hash import GenerateArgon2Hash
from application.use_cases.cryptomanager.jwt_encryption import (
    JwtDecrypt,
    JwtDecryptCommand,
    JwtEncrypt,
    JwtEncryptCommand,
)
from application.use_cases.cryptomanager.pin_encryption import PinEncryption
from domain.codec import b64url_encode

from . import responses
from .audit import note_envelope_thumbprint
from .auth import current_username
from .envelope import format_local, success
from .routes import Controller
from .schemas import (
    Argon2HashRequest,
    DecryptRequest,
    EncryptRequest,
    JwtDecryptRequest,
    JwtEncryptRequest,
    PinCryptoRequest,
)

api = Controller("cryptomanager", tag="cryptomanager-controller")
blueprint = api.blueprint


@api.post("/encrypt", summary="Encrypt data to the current key of (applicationId, referenceId)", role="postencrypt",
          audit="encrypt", request=EncryptRequest, response=responses.DataResponse, use_case="encrypt_data")
def encrypt(dto: EncryptCommand, use_case: EncryptData) -> Response:
    result = use_case.execute(dto)
    note_envelope_thumbprint(result.data)
    return success({"data": b64url_encode(result.data)})


@api.post("/decrypt", summary="Decrypt data encrypted to a key of (applicationId, referenceId)", role="postdecrypt",
          audit="decrypt", request=DecryptRequest, response=responses.DataResponse, use_case="decrypt_data")
def decrypt(dto: DecryptCommand, use_case: DecryptData) -> Response:
    note_envelope_thumbprint(dto.data)  # before decrypting: a failed attempt names its key too
    result = use_case.execute(replace(dto, caller=current_username()))
    return success({"data": b64url_encode(result.data)})


@api.post("/encryptWithPin", summary="Encrypt data with a key derived from a PIN (PBKDF2)", role="postencryptwithpin",
          audit="encryptWithPin", request=PinCryptoRequest, response=responses.DataResponse,
          use_case="pin_encryption", blocking=True)
def encrypt_with_pin(dto: dict[str, Any], use_case: PinEncryption) -> Response:
    return success({"data": use_case.encrypt(dto["data"], dto["userPin"])})


@api.post("/decryptWithPin", summary="Decrypt data encrypted with encryptWithPin", role="postdecryptwithpin",
          audit="decryptWithPin", request=PinCryptoRequest, response=responses.DataResponse,
          use_case="pin_encryption", blocking=True)
def decrypt_with_pin(dto: dict[str, Any], use_case: PinEncryption) -> Response:
    return success({"data": use_case.decrypt(dto["data"], dto["userPin"])})


@api.post("/jwtEncrypt", summary="Encrypt data as a JWE to a certificate or (applicationId, referenceId)",
          role="postjwtencrypt", audit="jwtEncrypt", request=JwtEncryptRequest, response=responses.JwtCipherResponse,
          use_case="jwt_encrypt")
def jwt_encrypt(dto: JwtEncryptCommand, use_case: JwtEncrypt) -> Response:
    result = use_case.execute(dto)
    return success({"data": result.data, "timestamp": format_local(result.timestamp)})


@api.post("/jwtDecrypt", summary="Decrypt a JWE made to a key of (applicationId, referenceId)",
          role="postjwtdecrypt", audit="jwtDecrypt", request=JwtDecryptRequest, response=responses.JwtCipherResponse,
          use_case="jwt_decrypt")
def jwt_decrypt(dto: JwtDecryptCommand, use_case: JwtDecrypt) -> Response:
    result = use_case.execute(replace(dto, caller=current_username()))
    return success({"data": result.data, "timestamp": format_local(result.timestamp)})


@api.post("/generateArgon2Hash", summary="Argon2id hash of the input (a random salt unless one is given)",
          role="postgenerateargon2hash", request=Argon2HashRequest, response=responses.Argon2HashResponse,
          use_case="generate_argon2_hash", blocking=True)
def generate_argon2_hash(dto: dict[str, Any], use_case: GenerateArgon2Hash) -> Response:
    result = use_case.execute(dto["inputData"], dto["salt"])
    return success({"hashValue": result.hash_value, "salt": result.salt})
