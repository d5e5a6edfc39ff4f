"""ZKCryptoManagerController: zero-knowledge encryption of identity attributes (ADR 0013)."""
from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, request

from application.use_cases.zk_decrypt import ZkDecrypt, ZkDecryptCommand
from application.use_cases.zk_encrypt import ZkAttribute, ZkEncrypt, ZkEncryptCommand
from application.use_cases.zk_reencrypt_random_key import ZkReEncryptRandomKey
from domain.errors import ValidationError

from ..containers import Container
from .auth import current_username
from .envelope import request_body, success
from .schemas import ZkCryptoRequest, load_request

blueprint = Blueprint("zk", __name__)


def _attributes(dto: dict) -> list[ZkAttribute]:
    return [ZkAttribute(a["identifier"], a["value"]) for a in dto["zkDataAttributes"]]


def _answer(attributes: list[ZkAttribute], encrypted_random_key: str | None, index: str | None) -> Response:
    return success(
        {
            "zkDataAttributes": [{"identifier": a.identifier, "value": a.value} for a in attributes],
            "encryptedRandomKey": encrypted_random_key,
            "rankomKeyIndex": index,  # sic: the reference's field name
        }
    )


@blueprint.post("/zkEncrypt")
@inject
def zk_encrypt(use_case: ZkEncrypt = Provide[Container.zk_encrypt]) -> Response:
    dto = load_request(ZkCryptoRequest, request_body())
    result = use_case.execute(ZkEncryptCommand(dto["id"].strip(), _attributes(dto)))
    return _answer(result.attributes, result.encrypted_random_key, result.random_key_index)


@blueprint.post("/zkDecrypt")
@inject
def zk_decrypt(use_case: ZkDecrypt = Provide[Container.zk_decrypt]) -> Response:
    dto = load_request(ZkCryptoRequest, request_body())
    return _answer(use_case.execute(ZkDecryptCommand(dto["id"].strip(), _attributes(dto))), None, None)


@blueprint.post("/zkReEncryptRandomKey")
@inject
def zk_reencrypt_random_key(
    use_case: ZkReEncryptRandomKey = Provide[Container.zk_reencrypt_random_key],
) -> Response:
    # A request parameter (query string or form field), not a JSON body, as in the reference.
    encrypted_key = request.values.get("encryptedKey")
    if encrypted_key is None:
        raise ValidationError(["Required request parameter 'encryptedKey' for method parameter type String is not present"])
    return success({"encryptedKey": use_case.execute(encrypted_key, caller=current_username())})
