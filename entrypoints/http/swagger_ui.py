"""Swagger UI served by the service itself, at springdoc's path ``/v1/keymanager/swagger-ui/index.html``.

Why not a CDN: offline deployments (an air-gapped MOSIP installation, an HSM network with no way out) have none,
and an operator's browser should not fetch scripts from a third party to look at a key manager's API. The page and
its assets come from the ``swagger-ui-bundle`` package (Swagger UI 4.15.5) installed with the service; only a fixed
list of its files is served, any other name is 404. The package's ``swagger-initializer.js`` points at the petstore,
so ours replaces it: it opens the API document at ``../v3/api-docs``, a relative URL, so the page works behind any
host name or ingress path prefix. ``validatorUrl: null``: Swagger UI's default validator badge would send the
document's address to validator.swagger.io.
"""
from __future__ import annotations

from flask import Response, abort, redirect, send_file
from swagger_ui_bundle import swagger_ui_path
from werkzeug.wrappers import Response as WerkzeugResponse

from .routes import PUBLIC, Controller

api = Controller("swagger_ui", tag="swagger-ui")
blueprint = api.blueprint

#: The package's files we serve, with their content types (text/* get "; charset=utf-8" from Werkzeug).
ASSETS = {
    "swagger-ui.css": "text/css",
    "index.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-16x16.png": "image/png",
    "favicon-32x32.png": "image/png",
    "oauth2-redirect.html": "text/html",
}
ASSET_MAX_AGE = 24 * 3600  # they change only with the package; ETag and Last-Modified revalidate after that
INITIALIZER = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "../v3/api-docs",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
};
"""


def _nosniff(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@api.get("/swagger-ui.html", summary="Swagger UI", role=PUBLIC, documented=False)
def swagger_ui_html() -> WerkzeugResponse:
    return redirect("swagger-ui/index.html", 302)  # relative: right behind any prefix


@api.get("/swagger-ui/index.html", summary="Swagger UI", role=PUBLIC, documented=False)
def index() -> Response:
    response = send_file(swagger_ui_path / "index.html", mimetype="text/html", conditional=False, etag=False)
    response.cache_control.no_store = True
    return _nosniff(response)


@api.get("/swagger-ui/swagger-initializer.js", summary="Swagger UI", role=PUBLIC, documented=False)
def initializer() -> Response:
    response = Response(INITIALIZER, mimetype="text/javascript")
    response.cache_control.no_cache = True
    return _nosniff(response)


@api.get("/swagger-ui/<name>", summary="Swagger UI", role=PUBLIC, documented=False)
def asset(name: str) -> Response:
    mimetype = ASSETS.get(name)
    if mimetype is None:
        abort(404)
    response = send_file(swagger_ui_path / name, mimetype=mimetype, max_age=ASSET_MAX_AGE)
    response.cache_control.public = True
    return _nosniff(response)
