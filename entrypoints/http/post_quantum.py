"""Ours, beyond the reference (issue 18, ADR 0023): the ML-KEM public-key statement and /rewrap.

/encrypt's ``pqHybrid`` and /decrypt's VER_Q1 reading live in the cryptomanager controller's use cases.
"""
from __future__ import annotations

from typing import Any

from flask import Response

from application.use_cases.cryptomanager.rewrap import RewrapCommand, RewrapData
from application.use_cases.keymanager.get_pq_public_key import GetPqPublicKey, GetPqPublicKeyCommand
from domain.codec import b64url_encode

from . import responses
from .audit import note_envelope_thumbprint, note_key
from .auth import current_username
from .envelope import success
from .routes import Controller
from .schemas import KeyQuery, RewrapRequest

api = Controller("post_quantum", tag="post-quantum-controller")
blueprint = api.blueprint


@api.get("/getPqPublicKey", summary="The ML-KEM-768 public key of (applicationId, referenceId), signed by the "
         "module key; made with its RSA twin's validity on first use", role="getgetpqpublickey", query=KeyQuery,
         response=responses.PqPublicKeyResponse, use_case="get_pq_public_key")
def get_pq_public_key(query: dict[str, Any], use_case: GetPqPublicKey) -> Response:
    statement = use_case.execute(
        GetPqPublicKeyCommand(query["applicationId"], (query["referenceId"] or "").strip())
    )
    note_key(thumbprint_hex=statement.fields["rsaCertificateThumbprint"])
    return success({**statement.fields, "signature": statement.signature})


@api.post("/rewrap", summary="Re-encrypt a VER_R2 or VER_Q1 envelope to the current key of (applicationId, "
          "referenceId), optionally into the hybrid post-quantum format; the plaintext is never returned",
          role="postrewrap", audit="rewrap", request=RewrapRequest, response=responses.RewrapResponse,
          use_case="rewrap_data")
def rewrap(dto: RewrapCommand, use_case: RewrapData) -> Response:
    note_envelope_thumbprint(dto.data)  # the key the old envelope names, whatever the outcome
    result = use_case.execute(RewrapCommand(dto.app_id, dto.ref_id, dto.data, dto.pq_hybrid, current_username()))
    return success({"data": b64url_encode(result.data), "pqHybrid": result.pq_hybrid})
