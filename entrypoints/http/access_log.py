"""The access log (issue 12): one INFO line per request on ``keymanager.access``, without personal data.

A line names the method, the route *template* (``/v1/keymanager/tokenid/{uin}/{partnercode}``), the
status, the duration and a request id; never the concrete path (it carries UINs, partner codes, key
identifiers) and never the query string (``zkReEncryptRandomKey?encryptedKey=…``). A path that matches
no route is logged as ``<unmatched>``: it is caller text like any other and may itself hold a UIN.

Request id: the caller's ``X-Request-ID`` when it is short and plain (≤ 64 characters of
``[A-Za-z0-9._-]``), otherwise a fresh uuid4 (hex); it is echoed in the ``X-Request-ID`` response header
and named by the error log of the same request (``errors.py``).

Hot path: one ``before_request`` (a clock read, an environ entry), one ``after_request`` (a dict lookup
for the template, computed once per rule, a header, one logging call). ``install_access_log`` must run
before the other hooks are installed: its ``before_request`` then runs first (an authentication refusal
raised by a later hook still gets a start time and an id) and its ``after_request`` runs last (it sees
the final status, after the audit hook).
"""
from __future__ import annotations

import logging
import re
from time import perf_counter
from typing import Any
from uuid import uuid4

from flask import Flask, Response, has_request_context, request

log = logging.getLogger("keymanager.access")

HEADER = "X-Request-ID"
_ENVIRON_HEADER = "HTTP_X_REQUEST_ID"
#: environ key of this request's (start, request id).
ENVIRON_KEY = "keymanager.access"
UNMATCHED = "<unmatched>"
#: Logged instead of a route for requests the server refused before routing them (their body was not read).
UNREAD = "<unread>"
#: Methods logged as they are; any other (extension methods are caller text too) is logged as "<other>".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PLACEHOLDER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
#: rule text (``/tokenid/<uin>/<partnercode>``) -> logged template (``/tokenid/{uin}/{partnercode}``).
_templates: dict[str, str] = {}


def template_of(rule_text: str) -> str:
    template = _templates.get(rule_text)
    if template is None:
        template = _templates[rule_text] = _PLACEHOLDER.sub(r"{\1}", rule_text)
    return template


def route_template() -> str:
    """The current request's route template, or ``<unmatched>``; never the concrete path."""
    rule = request.url_rule
    return UNMATCHED if rule is None else template_of(rule.rule)


def environ_request_id(environ: dict[str, Any]) -> str | None:
    """The id the access log gave the request of this WSGI environ, None before it did."""
    state = environ.get(ENVIRON_KEY)
    return None if state is None else state[1]


def request_id() -> str:
    """The current request's id (set by the access log's ``before_request``), or ``-``."""
    return environ_request_id(request.environ) or "-"


def current_request_id() -> str | None:
    """The id of the request being served on this thread, None outside a request (log records' request_id)."""
    return environ_request_id(request.environ) if has_request_context() else None


def _method(method: str) -> str:
    return method if method in METHODS else "<other>"


def logged_method() -> str:
    return _method(request.method)


def _new_request_id(given: str | None) -> str:
    return given if given is not None and _SAFE_ID.fullmatch(given) else uuid4().hex


def _line(method: str, route: str, status: int, started: float, rid: str) -> None:
    latency = round((perf_counter() - started) * 1000.0, 1)
    log.info("%s %s %d %.1fms rid=%s", method, route, status, latency, rid,
             extra={"method": method, "route": route, "status": status, "latency_ms": latency, "request_id": rid})


def _start() -> None:
    environ = request.environ
    environ[ENVIRON_KEY] = (perf_counter(), _new_request_id(environ.get(_ENVIRON_HEADER)))


def _finish(response: Response) -> Response:
    environ = request.environ
    state = environ.get(ENVIRON_KEY)
    if state is None:  # our before_request did not run (cannot happen when installed first): still log
        state = environ[ENVIRON_KEY] = (perf_counter(), uuid4().hex)
    started, rid = state
    response.headers[HEADER] = rid
    _line(logged_method(), route_template(), response.status_code, started, rid)
    return response


def log_unrouted(method: str, given_id: str | None, status: int, started: float) -> str:
    """The access line of a request refused before it reached the application (the server's body
    checks: 400, 408, 413); returns its request id, for the response header."""
    rid = _new_request_id(given_id)
    _line(_method(method), UNREAD, status, started, rid)
    return rid


def install_access_log(app: Flask) -> None:
    """Install before any other before/after_request hook (see the module docstring)."""
    app.before_request(_start)
    app.after_request(_finish)
