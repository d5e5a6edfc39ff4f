"""The MOSIP request and response envelopes.

Response: {id, version, responsetime, metadata, response, errors}; success
responses carry "errors": null, failures "response": null and an errors list.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from flask import Response, g, request

from domain.errors import ValidationError


def format_instant(instant: datetime | None) -> str | None:
    """The reference's annotated format yyyy-MM-dd'T'HH:mm:ss.SSS'Z' (UTC)."""
    if instant is None:
        return None
    utc = instant.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_local(instant: datetime) -> str:
    """Unannotated LocalDateTime fields, as Jackson writes them: ISO local date-time
    (UTC), no zone suffix, fraction only when non-zero, in groups of three digits."""
    local = instant.astimezone(timezone.utc).replace(tzinfo=None)
    if local.microsecond == 0:
        return local.isoformat(timespec="seconds")
    if local.microsecond % 1000 == 0:
        return local.isoformat(timespec="milliseconds")
    return local.isoformat(timespec="microseconds")


def request_body() -> dict[str, Any]:
    """The parsed JSON body (cached on ``g``); malformed or non-object JSON is KER-KMS-005."""
    if "body" in g:
        return g.body
    g.body = {}
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(["Invalid request: the body is not valid JSON"]) from None
    if not isinstance(body, dict):
        raise ValidationError(["Invalid request: the body must be a JSON object"])
    g.body = body
    return body


def _echo(field: str, default: Any) -> Any:
    body = g.get("body")
    if not isinstance(body, dict):
        return default
    return body.get(field, default)


def _respond(payload: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def success(response: dict[str, Any]) -> Response:
    return _respond(
        {
            "id": _echo("id", None),
            "version": _echo("version", None),
            "responsetime": format_instant(datetime.now(timezone.utc)),
            "metadata": None,
            "response": response,
            "errors": None,
        },
        200,
    )


def failure(errors: list[tuple[str, str]], status: int) -> Response:
    has_body = isinstance(g.get("body"), dict) and bool(g.get("body"))
    if errors:
        g.error_code = errors[0][0]  # the outcome the audit trail records (entrypoints/http/audit.py)
    return _respond(
        {
            "id": _echo("id", "") if has_body else None,
            "version": _echo("version", "") if has_body else None,
            "responsetime": format_instant(datetime.now(timezone.utc)),
            "metadata": None,
            "response": None,
            "errors": [{"errorCode": code, "message": message} for code, message in errors],
        },
        status,
    )
