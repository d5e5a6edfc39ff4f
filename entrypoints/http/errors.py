"""One error handler: every failure becomes the MOSIP error envelope.

Business errors are HTTP 200 with the reference's code (as the reference does);
the caller's protocol mistakes (unknown path, wrong method, body too large) get
their HTTP status; anything unexpected is a 500 whose message says nothing of
its cause. Internal details go to the server log only, never to the caller.
"""
from __future__ import annotations

import logging
import traceback

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from domain.errors import (
    Errors,
    KeyManagerError,
    MultipleErrors,
    ServiceBusyError,
    StoreUnavailableError,
    ValidationError,
)

from .access_log import logged_method, request_id, route_template
from .auth import AccessDenied, AuthenticationRequired
from .envelope import failure

log = logging.getLogger("keymanager.http")
auth_log = logging.getLogger("keymanager.auth")

BAD_REQUEST = Errors.INVALID_REQUEST.value.code
#: The reference's auth adapter codes (mosip-api.md §1.2); our messages stay generic on purpose.
UNAUTHENTICATED = ("KER-ATH-401", "Authentication failed")
FORBIDDEN = ("KER-ATH-403", "Forbidden")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AuthenticationRequired)
    def _unauthenticated(error: AuthenticationRequired) -> Response:
        auth_log.info("refused (401): %s", error.reason)  # a fixed phrase, never token content
        response = failure([UNAUTHENTICATED], 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="keymanager"'
        return response

    @app.errorhandler(AccessDenied)
    def _forbidden(error: AccessDenied) -> Response:
        return failure([FORBIDDEN], 403)

    @app.errorhandler(ValidationError)
    def _validation(error: ValidationError) -> Response:
        return failure([(error.code, message) for message in error.messages], 200)

    @app.errorhandler(MultipleErrors)
    def _several(error: MultipleErrors) -> Response:
        return failure(error.pairs(), 200)

    @app.errorhandler(StoreUnavailableError)
    def _unavailable(error: StoreUnavailableError) -> Response:
        if isinstance(error, ServiceBusyError):
            log.warning("slow-work limit reached: request refused with 503")
            response = failure([(error.code, error.message)], 503)
            response.headers["Retry-After"] = "1"
            return response
        log.warning("store unavailable: %s", error.code)
        return failure([(error.code, error.message)], 503)

    @app.errorhandler(KeyManagerError)
    def _business(error: KeyManagerError) -> Response:
        return failure([(error.code, error.message)], 200)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge) -> Response:
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return failure([(BAD_REQUEST, f"Invalid request: the body exceeds the limit of {limit} bytes")], 413)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        if status >= 500:
            return failure([(Errors.INTERNAL.value.code, Errors.INTERNAL.value.message)], status)
        return failure([(BAD_REQUEST, f"Invalid request: {error.name}")], status)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # No exc_info: logging would print str(error), and exception messages can quote caller data
        # (int("<a UIN>") -> "invalid literal ... '<the UIN>'"). The line names the type, the route
        # template and the request id; the traceback keeps file/line/code and drops every message.
        log.error("unhandled %s on %s %s rid=%s\n%s", _type_name(error), logged_method(), route_template(),
                  request_id(), _traceback_without_messages(error))
        return failure([(Errors.INTERNAL.value.code, Errors.INTERNAL.value.message)], 500)


def _type_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _traceback_without_messages(error: BaseException) -> str:
    """The traceback of ``error`` and of its causes/contexts, each ending with the exception type only."""
    chain: list[tuple[BaseException, str]] = []  # newest first, with how it links to the older one
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.__cause__ is not None:
            chain.append((current, "The above exception was the direct cause of the following exception:"))
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            chain.append((current, "During handling of the above exception, another exception occurred:"))
            current = current.__context__
        else:
            chain.append((current, ""))
            current = None
    parts: list[str] = []
    for exc, link in reversed(chain):
        if link and parts:
            parts.append(f"\n{link}\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(exc.__traceback__))
        parts.append(f"{_type_name(exc)} (message withheld: it may quote request data)\n")
    return "".join(parts).rstrip("\n")
