"""The MOSIP request and response envelopes.

Response: {id, version, responsetime, metadata, response, errors}; success
responses carry "errors": null, failures "response": null and an errors list.
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from flask import Response, g, request

from domain import codec
from domain.errors import ValidationError


def format_instant(instant: datetime | None) -> str | None:
    """The reference's annotated format yyyy-MM-dd'T'HH:mm:ss.SSS'Z' (UTC); None stays None."""
    return None if instant is None else codec.format_instant(instant)


def format_local(instant: datetime) -> str:
    """Unannotated LocalDateTime fields, as Jackson writes them: ISO local date-time
    (UTC), no zone suffix, fraction only when non-zero, in groups of three digits."""
    local = instant.astimezone(UTC).replace(tzinfo=None)
    if local.microsecond == 0:
        return local.isoformat(timespec="seconds")
    if local.microsecond % 1000 == 0:
        return local.isoformat(timespec="milliseconds")
    return local.isoformat(timespec="microseconds")


#: No MOSIP request nests deeper than about 6 levels; deeper is hostile (and json recurses per level).
MAX_DEPTH = 32
TOO_DEEP = f"Invalid request: the body is nested deeper than {MAX_DEPTH} levels"
NOT_UNICODE = "Invalid request: the body holds text that is not valid Unicode"
NUL_CHARACTER = "Invalid request: the body holds a NUL character"
BAD_REQUESTTIME = "Invalid request: requesttime must be an ISO 8601 date-time such as 2024-05-01T10:15:30.123Z"
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # "\ud800" escapes decode to lone surrogates: not text
# The reference's LocalDateTime (ISO local date-time, trailing Z accepted), offsets allowed too.
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
                        r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?\Z")


def request_body() -> dict[str, Any]:
    """The parsed JSON body (cached on ``g``). KER-KMS-005 for malformed or non-object JSON,
    nesting beyond MAX_DEPTH, lone surrogates anywhere, or a requesttime that is no date-time:
    checked here, before any endpoint works on the body."""
    if "body" in g:
        return g.body
    g.body = {}
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw.strip() else None
    except RecursionError:
        raise ValidationError([TOO_DEEP]) from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(["Invalid request: the body is not valid JSON"]) from None
    if not isinstance(body, dict):
        raise ValidationError(["Invalid request: the body must be a JSON object"])
    _check_tree(body)
    g.body = body  # readable from here on: errors echo its id and version
    _check_requesttime(body.get("requesttime"))
    return body


def _check_tree(body: dict[str, Any]) -> None:
    """Depth and text of every key and value, iteratively (a recursive walk could itself overflow)."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValidationError([TOO_DEEP])
        if isinstance(node, dict):
            for key in node:
                _check_text(key)
            node = node.values()
        for child in node:
            if isinstance(child, str):
                _check_text(child)
            elif isinstance(child, (dict, list)):
                stack.append((child, depth + 1))


def _check_text(text: str) -> None:
    if not text.isascii() and _SURROGATE.search(text):  # isascii() is O(1): most text stops there
        raise ValidationError([NOT_UNICODE])
    # Java strings hold U+0000, PostgreSQL text cannot: refused before it reaches a query.
    if "\x00" in text:
        raise ValidationError([NUL_CHARACTER])


def _check_requesttime(value: Any) -> None:
    """Absent or null is accepted (mosip-api.md §1.3), blank too (Jackson reads "" as null)."""
    if value is None:
        return
    text = value.strip() if isinstance(value, str) else None
    if text == "":
        return
    if text is not None and _DATE_TIME.match(text):
        try:
            datetime.fromisoformat(text)
            return
        except ValueError:  # well-formed but no calendar date-time (month 13, 30 February, hour 24)
            pass
    raise ValidationError([BAD_REQUESTTIME])


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
            "responsetime": format_instant(datetime.now(UTC)),
            "metadata": None,
            "response": response,
            "errors": None,
        },
        200,
    )


def echoed_id_version() -> tuple[Any, Any]:
    """The id and version an error envelope echoes: the request's ("" when it has none), None without a body."""
    if not (isinstance(g.get("body"), dict) and bool(g.get("body"))):
        return None, None
    return _echo("id", ""), _echo("version", "")


def _error_payload(errors: list[tuple[str, str]], request_id: Any, version: Any) -> dict[str, Any]:
    return {
        "id": request_id,
        "version": version,
        "responsetime": format_instant(datetime.now(UTC)),
        "metadata": None,
        "response": None,
        "errors": [{"errorCode": code, "message": message} for code, message in errors],
    }


def error_body(errors: list[tuple[str, str]], request_id: Any = None, version: Any = None) -> bytes:
    """The error envelope as bytes, for answers made outside a Flask response (the server's own
    refusals, an answer withheld for want of its audit record)."""
    return json.dumps(_error_payload(errors, request_id, version)).encode("utf-8")


def failure(errors: list[tuple[str, str]], status: int) -> Response:
    if errors:
        g.error_code = errors[0][0]  # the outcome the audit trail records (entrypoints/http/audit.py)
    return _respond(_error_payload(errors, *echoed_id_version()), status)
