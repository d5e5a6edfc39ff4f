"""CryptomanagerController: /encrypt, /decrypt, PIN-based encryption, JWE and Argon2."""
from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response

from application.use_cases.decrypt_data import DecryptCommand, DecryptData
from application.use_cases.encrypt_data import EncryptCommand, EncryptData
from application.use_cases.generate_argon2_hash import GenerateArgon2Hash
from application.use_cases.jwt_encryption import JwtDecrypt, JwtDecryptCommand, JwtEncrypt, JwtEncryptCommand
from application.use_cases.pin_encryption import PinEncryption
from domain.codec import b64_decode_lenient, b64url_encode

from ..containers import Container
from .audit import note_envelope_thumbprint
from .blocking import blocking
from .auth import current_username
from .envelope import format_local, request_body, success
from .schemas import (
    Argon2HashRequest,
    CryptomanagerRequest,
    JwtDecryptRequest,
    JwtEncryptRequest,
    PinCryptoRequest,
    load_request,
)

blueprint = Blueprint("cryptomanager", __name__)


def _optional_bytes(value: str | None) -> bytes | None:
    """Blank optional inputs count as absent, as in the reference."""
    return b64_decode_lenient(value) if value and value.strip() else None


def _crypto_fields(dto: dict[str, Any]) -> dict[str, Any]:
    return {
        "app_id": dto["applicationId"],
        "ref_id": (dto["referenceId"] or "").strip(),
        "data": b64_decode_lenient(dto["data"]),
        "salt": _optional_bytes(dto["salt"]),
        "aad": _optional_bytes(dto["aad"]),
    }


@blueprint.post("/encrypt")
@inject
def encrypt(use_case: EncryptData = Provide[Container.encrypt_data]) -> Response:
    dto = load_request(CryptomanagerRequest, request_body())
    result = use_case.execute(EncryptCommand(**_crypto_fields(dto)))
    note_envelope_thumbprint(result.data)
    return success({"data": b64url_encode(result.data)})


@blueprint.post("/decrypt")
@inject
def decrypt(use_case: DecryptData = Provide[Container.decrypt_data]) -> Response:
    dto = load_request(CryptomanagerRequest, request_body())
    fields = _crypto_fields(dto)
    note_envelope_thumbprint(fields["data"])  # before decrypting: a failed attempt names its key too
    result = use_case.execute(DecryptCommand(**fields, caller=current_username()))
    return success({"data": b64url_encode(result.data)})


@blueprint.post("/encryptWithPin")
@blocking
@inject
def encrypt_with_pin(use_case: PinEncryption = Provide[Container.pin_encryption]) -> Response:
    dto = load_request(PinCryptoRequest, request_body())
    return success({"data": use_case.encrypt(dto["data"], dto["userPin"])})


@blueprint.post("/decryptWithPin")
@blocking
@inject
def decrypt_with_pin(use_case: PinEncryption = Provide[Container.pin_encryption]) -> Response:
    dto = load_request(PinCryptoRequest, request_body())
    return success({"data": use_case.decrypt(dto["data"], dto["userPin"])})


@blueprint.post("/jwtEncrypt")
@inject
def jwt_encrypt(use_case: JwtEncrypt = Provide[Container.jwt_encrypt]) -> Response:
    dto = load_request(JwtEncryptRequest, request_body())
    compress = dto["enableDefCompression"]
    result = use_case.execute(
        JwtEncryptCommand(
            data=dto["data"],
            app_id=dto["applicationId"],
            ref_id=dto["referenceId"],
            x509_certificate=dto["x509Certificate"],
            compress=True if compress is None else bool(compress),
            include_certificate=bool(dto["includeCertificate"]),
            include_cert_hash=bool(dto["includeCertHash"]),
            jwk_set_url=dto["jwkSetUrl"],
        )
    )
    return success({"data": result.data, "timestamp": format_local(result.timestamp)})


@blueprint.post("/jwtDecrypt")
@inject
def jwt_decrypt(use_case: JwtDecrypt = Provide[Container.jwt_decrypt]) -> Response:
    dto = load_request(JwtDecryptRequest, request_body())
    result = use_case.execute(
        JwtDecryptCommand(dto["applicationId"], dto["referenceId"], dto["encData"], caller=current_username())
    )
    return success({"data": result.data, "timestamp": format_local(result.timestamp)})


@blueprint.post("/generateArgon2Hash")
@blocking
@inject
def generate_argon2_hash(use_case: GenerateArgon2Hash = Provide[Container.generate_argon2_hash]) -> Response:
    dto = load_request(Argon2HashRequest, request_body())
    result = use_case.execute(dto["inputData"], dto["salt"])
    return success({"hashValue": result.hash_value, "salt": result.salt})
