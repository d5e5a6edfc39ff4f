"""The administrator's console (issue 17, ADR 0022): static pages served by the service itself.

The console is one HTML page, one stylesheet, one script and one icon from ``entrypoints/http/console/``; only that
fixed list of files is served (any other name is 404, as for Swagger UI). The page holds no data and no secret: it
calls the service's own JSON API (``admin/api/*`` and the MOSIP endpoints) with the session cookie, and every
non-GET request carries the ``X-CSRF-Token`` header. So the files are PUBLIC (a browser must load the page before
it can sign in), and every action goes through the API's authorisation and audit like any other caller's.

Every console response carries a Content-Security-Policy that allows only this origin: no inline script or style,
no CDN, no frame around the page. Nothing comes from the internet at run time.
"""
from __future__ import annotations

from pathlib import Path

from flask import Response, abort, redirect, send_file
from werkzeug.wrappers import Response as WerkzeugResponse

from .routes import PUBLIC, Controller

api = Controller("console", tag="console")
blueprint = api.blueprint

DIRECTORY = Path(__file__).with_name("console")
#: The files we serve, with their content types (text/* get "; charset=utf-8" from Werkzeug).
ASSETS = {
    "console.js": "text/javascript",
    "console.css": "text/css",
    "console.svg": "image/svg+xml",
}
#: Only this origin; no inline script or style (the page has none), no framing, no <base> tricks.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _harden(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@api.get("/admin", summary="Administrator's console", role=PUBLIC, documented=False)
def console_root() -> WerkzeugResponse:
    return redirect("admin/", 302)  # relative: right behind any prefix; the page's relative URLs need the slash


@api.get("/admin/", summary="Administrator's console", role=PUBLIC, documented=False)
def console_index() -> Response:
    response = send_file(DIRECTORY / "index.html", mimetype="text/html", conditional=False, etag=False)
    response.cache_control.no_store = True
    return _harden(response)


def _asset(name: str) -> Response:
    mimetype = ASSETS.get(name)
    if mimetype is None:
        abort(404)
    # no-cache: revalidated on every load (ETag), so a new version of the service is never shown with old scripts
    response = send_file(DIRECTORY / name, mimetype=mimetype, max_age=0)
    response.cache_control.no_cache = True
    return _harden(response)


@api.get("/admin/console.js", summary="Administrator's console", role=PUBLIC, documented=False)
def console_script() -> Response:
    return _asset("console.js")


@api.get("/admin/console.css", summary="Administrator's console", role=PUBLIC, documented=False)
def console_style() -> Response:
    return _asset("console.css")


@api.get("/admin/console.svg", summary="Administrator's console", role=PUBLIC, documented=False)
def console_icon() -> Response:
    return _asset("console.svg")
