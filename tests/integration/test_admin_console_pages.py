"""The console's static files (entrypoints/http/console.py, ADR 0022): a fixed allow-list, content types, the
Content-Security-Policy that allows only this origin, no inline script, no token needed for the files (the data
behind them needs one), and no file in the directory that is not served. The pages themselves run in a real
browser in tests/e2e/test_admin_console_browser.py."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from entrypoints.http import console
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

ADMIN = "/v1/keymanager/admin"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("console.js", "text/javascript; charset=utf-8"), ("console.css", "text/css; charset=utf-8"),
     ("console.svg", "image/svg+xml; charset=utf-8")],
)
def test_assets_with_their_content_type_and_policy(client, name: str, content_type: str) -> None:
    response = client.get(f"{ADMIN}/{name}")
    assert response.status_code == 200
    assert response.content_type == content_type
    assert response.headers["Content-Security-Policy"] == console.CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.cache_control.no_cache
    assert response.data
    revalidated = client.get(f"{ADMIN}/{name}", headers={"If-None-Match": response.headers["ETag"]})
    assert revalidated.status_code == 304


def test_the_page_has_no_inline_script_or_style_and_nothing_from_elsewhere(client) -> None:
    response = client.get(f"{ADMIN}/")
    assert response.status_code == 200 and response.content_type == "text/html; charset=utf-8"
    assert response.cache_control.no_store
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    page = response.get_data(as_text=True)
    assert re.findall(r"<script\b[^>]*>", page) == ['<script src="console.js" defer>']  # no inline script
    assert "<style" not in page and " style=" not in page and " on" + "click=" not in page
    for text in (page, client.get(f"{ADMIN}/console.js").get_data(as_text=True),
                 client.get(f"{ADMIN}/console.css").get_data(as_text=True)):
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text)  # the SVG namespace is a name, not a fetch
        assert "innerHTML" not in text and "eval(" not in text


def test_admin_redirects_to_the_page_by_a_relative_url(client) -> None:
    response = client.get(ADMIN)
    assert response.status_code == 302
    target = urljoin(f"http://localhost{ADMIN}", response.headers["Location"])
    assert target == f"http://localhost{ADMIN}/"


@pytest.mark.parametrize("name", ["index.html", "console.js.map", "../console.py", "..%2fconsole.py", "CONSOLE.JS",
                                  "console/console.js", "x.js"])
def test_anything_else_is_not_found(client, name: str) -> None:
    assert client.get(f"{ADMIN}/{name}").status_code == 404


def test_every_file_of_the_directory_is_served_and_nothing_else_is_there() -> None:
    files = {path.name for path in Path(console.DIRECTORY).iterdir()}
    assert files == {"index.html", *console.ASSETS}


def test_no_token_needed_for_the_files(memory_settings: Settings, container) -> None:
    issuer = "https://idp.example/realms/mosip"  # never called: these files need no token
    oidc = memory_settings.with_overrides(auth_mode="oidc", oidc_issuer=issuer,
                                          oidc_jwks_url=issuer + "/protocol/openid-connect/certs",
                                          oidc_audience=("keymanager",))
    client = create_app(oidc, container).test_client()
    for path in (ADMIN, f"{ADMIN}/", f"{ADMIN}/console.js", f"{ADMIN}/console.css", f"{ADMIN}/console.svg"):
        assert client.get(path).status_code in (200, 302), path
    assert client.get("/v1/keymanager/getCertificate?applicationId=ROOT").status_code == 401
