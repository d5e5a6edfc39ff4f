"""Batch operations (issue 18, ADR 0024): ``/encrypt/batch``, ``/decrypt/batch``, ``/jwtSign/batch``.

``request: {items: [<the single endpoint's request object> ...]}`` answers ``response: {items: [{index,
response | errors}]}``, one entry per item in order. Each item is loaded with the single endpoint's request
schema and run through the single endpoint's use case; its error is its own answer (application/use_cases/
batch.py). The envelope carries errors only for a malformed batch: no list, an empty one, or more than
KEYMANAGER_BATCH_MAX_ITEMS items (KER-KMS-005). Roles are the single endpoints' (a batch does nothing a
caller could not do one item at a time); the audit trail gets one record per item (audit.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Response, current_app

from application.keys.hierarchy import used_key
from application.use_cases.batch import ItemOutcome, check_batch_size, run_each
from application.use_cases.cryptomanager.decrypt_data import DecryptData
from application.use_cases.cryptomanager.encrypt_data import EncryptData
from application.use_cases.signature.sign_jwt import JwtSign
from domain.audit import SUCCESS
from domain.codec import b64url_encode
from domain.errors import KeyManagerError, MultipleErrors, ValidationError

from . import responses
from .audit import BatchItemAudit, envelope_thumbprint, note_batch_items
from .auth import current_username
from .envelope import format_local, success
from .routes import Controller
from .schemas import (
    DecryptBatchRequest,
    DecryptRequest,
    EncryptBatchRequest,
    EncryptRequest,
    JwtSignBatchRequest,
    JwtSignRequest,
    load_item,
)

api = Controller("batch", tag="batch-operations")
blueprint = api.blueprint


def _text(item: Any, name: str) -> str | None:
    value = item.get(name) if isinstance(item, dict) else None
    return value.strip() if isinstance(value, str) else None


class _Batch:
    """Runs the items and keeps, per item, what its audit record says."""

    def __init__(self, items: list[Any]) -> None:
        check_batch_size(len(items), current_app.config["KEYMANAGER_BATCH_MAX_ITEMS"])
        self.items = items
        self.keys: dict[int, tuple[str | None, str | None]] = {}

    def run(self, run: Callable[[int, Any], dict[str, Any]]) -> Response:
        outcomes = run_each(self.items, run)
        note_batch_items([self._audit(outcome) for outcome in outcomes])
        return success({"items": [_answer(outcome) for outcome in outcomes]})

    def note_key(self, index: int, alias: str | None, thumbprint: str | None) -> None:
        self.keys[index] = (alias, thumbprint)

    def _audit(self, outcome: ItemOutcome[dict[str, Any]]) -> BatchItemAudit:
        item = self.items[outcome.index]
        alias, thumbprint = self.keys.get(outcome.index, (None, None))
        return BatchItemAudit(
            outcome=SUCCESS if outcome.error is None else outcome.error.code,
            app_id=_text(item, "applicationId"), ref_id=_text(item, "referenceId"),
            key_alias=alias, thumbprint=thumbprint,
        )


def _answer(outcome: ItemOutcome[dict[str, Any]]) -> dict[str, Any]:
    if outcome.error is None:
        return {"index": outcome.index, "response": outcome.result, "errors": None}
    return {"index": outcome.index, "response": None, "errors": _errors(outcome.error)}


def _errors(error: KeyManagerError) -> list[dict[str, str]]:
    if isinstance(error, ValidationError):
        return [{"errorCode": error.code, "message": message} for message in error.messages]
    if isinstance(error, MultipleErrors):
        return [{"errorCode": code, "message": message} for code, message in error.pairs()]
    return [{"errorCode": error.code, "message": error.message}]


@api.post("/encrypt/batch", summary="Encrypt many items, each as /encrypt does; each item answered on its own",
          role="postencrypt", audit="encrypt/batch", request=EncryptBatchRequest, response=responses.DataBatchResponse,
          use_case="encrypt_data", blocking=True)
def encrypt_batch(dto: dict[str, Any], use_case: EncryptData) -> Response:
    batch = _Batch(dto["items"])

    def run(index: int, item: Any) -> dict[str, Any]:
        result = use_case.execute(load_item(EncryptRequest, item))
        batch.note_key(index, None, envelope_thumbprint(result.data))
        return {"data": b64url_encode(result.data)}

    return batch.run(run)


@api.post("/decrypt/batch", summary="Decrypt many items, each as /decrypt does; each item answered on its own",
          role="postdecrypt", audit="decrypt/batch", request=DecryptBatchRequest, response=responses.DataBatchResponse,
          use_case="decrypt_data", blocking=True)
def decrypt_batch(dto: dict[str, Any], use_case: DecryptData) -> Response:
    batch = _Batch(dto["items"])
    caller = current_username()

    def run(index: int, item: Any) -> dict[str, Any]:
        command = load_item(DecryptRequest, item)
        batch.note_key(index, None, envelope_thumbprint(command.data))  # before: a failed attempt names its key
        return {"data": b64url_encode(use_case.execute(replace(command, caller=caller)).data)}

    return batch.run(run)


@api.post("/jwtSign/batch", summary="Sign many JSON documents, each as /jwtSign does; each item answered on its own",
          role="postjwtsign", audit="jwtSign/batch", request=JwtSignBatchRequest,
          response=responses.JwtSignBatchResponse, use_case="jwt_sign", blocking=True)
def jwt_sign_batch(dto: dict[str, Any], use_case: JwtSign) -> Response:
    batch = _Batch(dto["items"])
    caller = current_username()

    def run(index: int, item: Any) -> dict[str, Any]:
        token = used_key.set(None)
        try:
            result = use_case.execute(replace(load_item(JwtSignRequest, item), caller=caller))
        finally:
            key = used_key.get()
            if key is not None:
                batch.note_key(index, key.alias, key.thumbprint)
            used_key.reset(token)
        return {"jwtSignedData": result.jwt_signed_data, "timestamp": format_local(result.timestamp)}

    return batch.run(run)
