"""ZKCryptoManagerController: zero-knowledge encryption of identity attributes (ADR 0013)."""
from __future__ import annotations

from typing import Any

from flask import Response

from application.use_cases.zk.attributes import ZkAttribute
from application.use_cases.zk.zk_decrypt import ZkDecrypt, ZkDecryptCommand
from application.use_cases.zk.zk_encrypt import ZkEncrypt, ZkEncryptCommand
from application.use_cases.zk.zk_reencrypt_random_key import ZkReEncryptRandomKey

from . import responses
from .auth import current_username
from .envelope import success
from .routes import Controller
from .schemas import EncryptedKeyQuery, ZkCryptoRequest

api = Controller("zk", tag="zk-crypto-manager-controller")
blueprint = api.blueprint


def _answer(attributes: list[ZkAttribute], encrypted_random_key: str | None, index: str | None) -> Response:
    return success(
        {
            "zkDataAttributes": [{"identifier": a.identifier, "value": a.value} for a in attributes],
            "encryptedRandomKey": encrypted_random_key,
            "rankomKeyIndex": index,  # sic: the reference's field name
        }
    )


@api.post("/zkEncrypt", summary="Encrypt identity attributes with a key derived for the id (zero knowledge)",
          role="postzkencrypt", audit="zkEncrypt", request=ZkCryptoRequest, response=responses.ZkCryptoResponse,
          use_case="zk_encrypt")
def zk_encrypt(dto: dict[str, Any], use_case: ZkEncrypt) -> Response:
    result = use_case.execute(ZkEncryptCommand(dto["id"].strip(), dto["zkDataAttributes"]))
    return _answer(result.attributes, result.encrypted_random_key, result.random_key_index)


@api.post("/zkDecrypt", summary="Decrypt attributes encrypted by zkEncrypt", role="postzkdecrypt", audit="zkDecrypt",
          request=ZkCryptoRequest, response=responses.ZkCryptoResponse, use_case="zk_decrypt")
def zk_decrypt(dto: dict[str, Any], use_case: ZkDecrypt) -> Response:
    return _answer(use_case.execute(ZkDecryptCommand(dto["id"].strip(), dto["zkDataAttributes"])), None, None)


@api.post("/zkReEncryptRandomKey", summary="Re-encrypt a random key for the decrypting partner (IDA)",
          role="postzkreencryptrandomkey", audit="zkReEncryptRandomKey", query=EncryptedKeyQuery, form=True,
          response=responses.EncryptedKeyResponse, use_case="zk_reencrypt_random_key")
def zk_reencrypt_random_key(query: dict[str, str], use_case: ZkReEncryptRandomKey) -> Response:
    # A request parameter (query string or form field), not a JSON body, as in the reference.
    return success({"encryptedKey": use_case.execute(query["encryptedKey"], caller=current_username())})
