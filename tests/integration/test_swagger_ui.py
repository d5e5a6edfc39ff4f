"""Swagger UI's page and assets, served from the swagger-ui-bundle package (entrypoints/http/swagger_ui.py):
content types, caching, a fixed allow-list, the springdoc redirect, and no token needed. The page itself is
rendered in a real browser by tests/e2e/test_swagger_ui_browser.py."""
from __future__ import annotations

from urllib.parse import urljoin

import pytest

from entrypoints.http.app import create_app
from entrypoints.settings import Settings

UI = "/v1/keymanager/swagger-ui"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("index.css", "text/css; charset=utf-8"),
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("swagger-ui-standalone-preset.js", "text/javascript; charset=utf-8"),
        ("favicon-16x16.png", "image/png"),
        ("favicon-32x32.png", "image/png"),
        ("oauth2-redirect.html", "text/html; charset=utf-8"),
    ],
)
def test_assets_come_from_the_package_with_their_content_type(client, name: str, content_type: str) -> None:
    response = client.get(f"{UI}/{name}")
    assert response.status_code == 200
    assert response.content_type == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.cache_control.public and response.cache_control.max_age >= 3600
    assert response.data
    revalidated = client.get(f"{UI}/{name}", headers={"If-None-Match": response.headers["ETag"]})
    assert revalidated.status_code == 304


def test_the_page_loads_the_assets_and_our_initializer(client) -> None:
    response = client.get(f"{UI}/index.html")
    assert response.status_code == 200 and response.content_type == "text/html; charset=utf-8"
    assert response.cache_control.no_store
    page = response.get_data(as_text=True)
    for src in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-initializer.js"):
        assert f'"./{src}"' in page
    assert "http://" not in page and "https://" not in page  # nothing from another host


def test_the_initializer_opens_our_document_by_a_relative_url(client) -> None:
    response = client.get(f"{UI}/swagger-initializer.js")
    assert response.status_code == 200 and response.content_type == "text/javascript; charset=utf-8"
    script = response.get_data(as_text=True)
    assert 'url: "../v3/api-docs"' in script
    assert "deepLinking: true" in script and 'layout: "StandaloneLayout"' in script
    assert "validatorUrl: null" in script  # no badge fetched from validator.swagger.io
    assert "petstore" not in script and "http" not in script


@pytest.mark.parametrize(
    "name",
    ["index.j2", "index.html.j2", "swagger-ui-bundle.js.map", "swagger-ui.js", "swagger-ui-es-bundle.js",
     "../setup.cfg", "..%2fsetup.cfg", "%2e%2e%2fsetup.cfg", "__init__.py", "", "SWAGGER-UI.CSS"],
)
def test_anything_else_is_not_found(client, name: str) -> None:
    assert client.get(f"{UI}/{name}").status_code == 404


def test_swagger_ui_html_redirects_to_the_page(client) -> None:
    response = client.get("/v1/keymanager/swagger-ui.html")
    assert response.status_code == 302
    # relative, so it holds behind an ingress that adds a prefix; resolved as a browser does (RFC 3986), which
    # Werkzeug's follow_redirects does not
    target = urljoin("http://localhost/v1/keymanager/swagger-ui.html", response.headers["Location"])
    assert target == f"http://localhost{UI}/index.html"
    assert client.get(target).status_code == 200


def test_no_token_needed_when_the_api_needs_one(memory_settings: Settings, container) -> None:
    issuer = "https://idp.example/realms/mosip"  # never called: these pages need no token
    oidc = memory_settings.with_overrides(auth_mode="oidc", oidc_issuer=issuer,
                                          oidc_jwks_url=issuer + "/protocol/openid-connect/certs",
                                          oidc_audience=("keymanager",))
    client = create_app(oidc, container).test_client()
    for path in ("/v1/keymanager/swagger-ui.html", f"{UI}/index.html", f"{UI}/swagger-initializer.js",
                 f"{UI}/swagger-ui-bundle.js"):
        assert client.get(path).status_code in (200, 302), path
    assert client.get("/v1/keymanager/getCertificate?applicationId=ROOT").status_code == 401
