"""CryptomanagerController: /encrypt and /decrypt."""
from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response

from application.use_cases.decrypt_data import DecryptCommand, DecryptData
from application.use_cases.encrypt_data import EncryptCommand, EncryptData
from domain.codec import b64_decode_lenient, b64url_encode

from ..containers import Container
from .audit import note_envelope_thumbprint
from .auth import current_username
from .envelope import request_body, success
from .schemas import CryptomanagerRequest, load_request

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
