"""Paths and query strings must be valid UTF-8 (issue 12) and hold no NUL character: refused with
KER-KMS-005 before anything runs.

Werkzeug decodes a URL leniently, replacing invalid bytes with U+FFFD: ``referenceId=%ED%A0%80``
(a lone surrogate) would silently become another reference id and create a key for it. A body's
text gets the same rule in ``envelope.request_body``. Cheap on the hot path: plain-ASCII URLs
without percent signs (nearly all) are passed at once.
"""
from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, request

from domain.errors import ValidationError

MESSAGE = "Invalid request: the URL holds text that is not valid UTF-8"
NUL_MESSAGE = "Invalid request: the URL holds a NUL character"
REPLACEMENT = "\ufffd"


def check_url_text() -> None:
    path = request.environ.get("PATH_INFO", "")
    # A NUL (%00) would reach the store as text, which PostgreSQL refuses: no id holds one.
    if "\x00" in path or b"%00" in request.query_string or b"\x00" in request.query_string:
        raise ValidationError([NUL_MESSAGE])
    if not path.isascii():
        try:  # PEP 3333: PATH_INFO holds the path's (percent-decoded) bytes as latin-1 text
            text = path.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise ValidationError([MESSAGE]) from None
        if REPLACEMENT in text:  # granian decodes a path leniently before we see it: invalid bytes became U+FFFD
            raise ValidationError([MESSAGE])
    query = request.query_string
    if b"%" in query or not query.isascii():
        try:
            unquote_to_bytes(query).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError([MESSAGE]) from None


def install_url_check(app: Flask) -> None:
    app.before_request(check_url_text)
