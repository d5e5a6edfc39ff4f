"""The console's sign-in (issue 17): the OpenID Connect authorization-code flow with PKCE against a stand-in
identity provider (tests/support/oidc.py), the session cookie, CSRF protection, roles and audit from the token,
sign-out and expiry. Every refusal in the MOSIP error envelope."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from entrypoints.http.app import create_app
from entrypoints.http.console_session import COOKIE
from entrypoints.settings import Settings
from tests.support.http_api import ok, wrap
from tests.support.oidc import (
    AUDIENCE,
    AUTHORIZATION_URL,
    CONSOLE_CLIENT_ID,
    ISSUER,
    JWKS_URL,
    CodeFlow,
    Idp,
    bearer,
)

API = "/v1/keymanager"
ADMIN = f"{API}/admin"


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"id", "version", "responsetime", "metadata", "response", "errors"}
    assert body["response"] is None and [e["errorCode"] for e in body["errors"]] == [code], body


@pytest.fixture
def console_settings(oidc_settings: Settings) -> Settings:
    return oidc_settings.with_overrides(console_client_id=CONSOLE_CLIENT_ID)


@pytest.fixture
def flow(idp: Idp) -> CodeFlow:
    return CodeFlow(idp)


@pytest.fixture
def console(console_settings: Settings, container):
    return create_app(console_settings, container)


@pytest.fixture
def browser(console):
    return console.test_client()


def start(browser) -> str:
    login = browser.get(f"{ADMIN}/login")
    assert login.status_code == 302
    return login.headers["Location"]


def come_back(browser, location: str):
    back = urlsplit(location)
    return browser.get(f"{back.path}?{back.query}")


def sign_in(browser, flow: CodeFlow):
    answer = come_back(browser, flow.authorize(start(browser)))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer


def csrf(browser) -> dict[str, str]:
    return {"X-CSRF-Token": ok(browser.get(f"{ADMIN}/api/session"))["csrfToken"]}


def set_cookie(response, name: str) -> str:
    return next(header for header in response.headers.getlist("Set-Cookie") if header.startswith(name + "="))


def test_the_code_flow_with_pkce_signs_in(browser, flow: CodeFlow) -> None:
    location = start(browser)
    assert location.startswith(AUTHORIZATION_URL + "?")
    query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CONSOLE_CLIENT_ID
    assert query["redirect_uri"] == "http://127.0.0.1:8088/v1/keymanager/admin/callback"
    assert query["scope"] == "openid" and query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43 and len(query["state"]) >= 40 and len(query["nonce"]) >= 40
    answer = come_back(browser, flow.authorize(location))
    assert answer.status_code == 302 and answer.headers["Location"] == "./"  # from admin/callback: the console
    cookie = set_cookie(answer, COOKIE)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/v1/keymanager" in cookie
    assert "Secure" not in cookie  # a redirect to http://127.0.0.1 (local development): see the next test
    assert 290 <= int(cookie.split("Max-Age=")[1].split(";")[0]) <= 300  # the token's lifetime
    session = ok(browser.get(f"{ADMIN}/api/session"))
    assert (session["user"], session["roles"], session["authMode"]) == ("alice", ["ZONAL_ADMIN"], "oidc")
    assert len(session["csrfToken"]) >= 40 and session["expiresAt"]
    assert {key["applicationId"] for key in ok(browser.get(f"{ADMIN}/api/keys"))["keys"]} >= {"ROOT", "REGISTRATION"}
    assert ok(browser.get(f"{API}/getCertificate", query_string={"applicationId": "ROOT"}))["certificate"]


@pytest.mark.parametrize(("redirect", "secure", "expected"), [
    ("https://km.example/v1/keymanager/admin/callback", "auto", True),
    ("http://127.0.0.1:8088/v1/keymanager/admin/callback", "true", True),
    ("https://km.example/v1/keymanager/admin/callback", "false", False),
])
def test_the_session_cookie_is_secure_unless_told(console_settings, container, idp: Idp, redirect: str,
                                                  secure: str, expected: bool) -> None:
    settings = console_settings.with_overrides(console_redirect_url=redirect, console_cookie_secure=secure)
    browser = create_app(settings, container).test_client()
    flow = CodeFlow(idp)
    site = "https://km.example"  # the test client sends a Secure cookie over https only, as a browser does
    login = browser.get(f"{ADMIN}/login", base_url=site)
    assert ("Secure" in set_cookie(login, "km_console_login")) is expected
    back = urlsplit(flow.authorize(login.headers["Location"]))
    answer = browser.get(f"{back.path}?{back.query}", base_url=site)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert ("Secure" in set_cookie(answer, COOKIE)) is expected


def test_changes_need_the_csrf_token(browser, flow: CodeFlow) -> None:
    sign_in(browser, flow)
    body = wrap({"validityDays": 100, "preExpireDays": 10, "accessAllowed": ["NA"]})
    refused(browser.put(f"{ADMIN}/api/policies/REGISTRATION", json=body), 403, "KER-ATH-403")
    refused(browser.put(f"{ADMIN}/api/policies/REGISTRATION", json=body, headers={"X-CSRF-Token": "guess"}),
            403, "KER-ATH-403")
    refused(browser.put(f"{API}/revokeKey", json=wrap({"applicationId": "REGISTRATION", "referenceId": "x"})),
            403, "KER-ATH-403")  # every API endpoint, not only the console's
    assert ok(browser.put(f"{ADMIN}/api/policies/REGISTRATION", json=body, headers=csrf(browser)))["validityDays"] == 100
    records = ok(browser.get(f"{ADMIN}/api/audit", query_string={"operation": "updateKeyPolicy"}))["records"]
    assert [(r["subject"], r["outcome"]) for r in records] == [("alice", "success")]  # the token's user


def test_a_role_the_token_lacks_is_refused(console, idp: Idp) -> None:
    browser = console.test_client()
    sign_in(browser, CodeFlow(idp, user="reg", roles=["REGISTRATION_PROCESSOR"]))
    assert ok(browser.get(f"{ADMIN}/api/session"))["roles"] == ["REGISTRATION_PROCESSOR"]
    refused(browser.get(f"{ADMIN}/api/keys"), 403, "KER-ATH-403")
    body = wrap({"validityDays": 100, "preExpireDays": 10})
    refused(browser.put(f"{ADMIN}/api/policies/REGISTRATION", json=body, headers=csrf(browser)), 403, "KER-ATH-403")
    # the same API for a token with the role: the refusal was recorded with the caller
    admin = bearer(idp.token(roles=["GLOBAL_ADMIN"]))
    records = ok(console.test_client().get(f"{ADMIN}/api/audit", headers=admin,
                                           query_string={"operation": "updateKeyPolicy"}))["records"]
    assert [(r["subject"], r["outcome"]) for r in records] == [("reg", "KER-ATH-403")]


def test_a_bearer_header_wins_over_the_session(browser, flow: CodeFlow, idp: Idp) -> None:
    sign_in(browser, flow)
    refused(browser.get(f"{ADMIN}/api/keys", headers=bearer(idp.token(roles=["RESIDENT"]))), 403, "KER-ATH-403")


def test_sign_out_ends_the_session(browser, flow: CodeFlow, console) -> None:
    sign_in(browser, flow)
    session_id = browser.get_cookie(COOKIE, path="/v1/keymanager").value
    refused(browser.post(f"{ADMIN}/logout"), 403, "KER-ATH-403")  # a forged sign-out
    answer = browser.post(f"{ADMIN}/logout", headers=csrf(browser))
    assert ok(answer) == {"status": "signed out"}
    assert "Max-Age=0" in set_cookie(answer, COOKIE) or "expires=Thu, 01 Jan 1970" in set_cookie(answer, COOKIE)
    refused(browser.get(f"{ADMIN}/api/session"), 401, "KER-ATH-401")
    replay = console.test_client()
    replay.set_cookie(COOKIE, session_id, path="/v1/keymanager")
    refused(replay.get(f"{ADMIN}/api/keys"), 401, "KER-ATH-401")  # the old id is gone on the server


def test_an_expired_session_is_refused(browser, flow: CodeFlow, console) -> None:
    sign_in(browser, flow)
    sessions = console.extensions["keymanager.auth"].sessions
    sessions.clock = lambda: time.time() + 301
    refused(browser.get(f"{ADMIN}/api/keys"), 401, "KER-ATH-401")


def test_an_expired_token_ends_its_session(console_settings, container, idp: Idp) -> None:
    console = create_app(console_settings.with_overrides(oidc_leeway_seconds=0), container)
    browser = console.test_client()
    sign_in(browser, CodeFlow(idp, lifetime=1))
    time.sleep(1.5)
    refused(browser.get(f"{ADMIN}/api/keys"), 401, "KER-ATH-401")


def test_sign_in_refusals(browser, flow: CodeFlow, idp: Idp) -> None:
    # no state cookie: a callback this browser did not start (login CSRF)
    location = start(browser)
    other = browser.application.test_client()
    refused(come_back(other, flow.authorize(location)), 401, "KER-ATH-401")
    # a code used twice
    location = start(browser)
    back = flow.authorize(location)
    assert come_back(browser, back).status_code == 302
    refused(come_back(browser, back), 401, "KER-ATH-401")
    # a verifier that does not match the challenge
    location = start(browser).replace("code_challenge=", "code_challenge=x")
    refused(come_back(browser, flow.authorize(location)), 401, "KER-ATH-401")
    assert flow.refusals[-1] == "PKCE verifier"
    # an ID token with another nonce
    back = flow.authorize(start(browser))
    code = parse_qs(urlsplit(back).query)["code"][0]
    flow.codes[code]["nonce"] = "replayed"
    refused(come_back(browser, back), 401, "KER-ATH-401")
    # the identity provider said no
    refused(browser.get(f"{ADMIN}/callback", query_string={"error": "access_denied"}), 401, "KER-ATH-401")
    refused(other.get(f"{ADMIN}/api/session"), 401, "KER-ATH-401")


def test_a_token_the_api_would_refuse_does_not_sign_in(browser, idp: Idp) -> None:
    flow = CodeFlow(idp, lifetime=-120)  # expired beyond the leeway
    refused(come_back(browser, flow.authorize(start(browser))), 401, "KER-ATH-401")


def test_a_confidential_client_sends_its_secret(console_settings, container, idp: Idp) -> None:
    flow = CodeFlow(idp, client_secret="s3cret")
    good = create_app(console_settings.with_overrides(console_client_secret="s3cret"), container).test_client()
    assert sign_in(good, flow).status_code == 302
    bad = create_app(console_settings.with_overrides(console_client_secret="wrong"), container).test_client()
    refused(come_back(bad, flow.authorize(start(bad))), 401, "KER-ATH-401")
    assert flow.refusals[-1] == "client authentication"


def test_sessions_are_shared_by_processes_of_one_data_directory(tmp_path, idp: Idp, make_container) -> None:
    settings = Settings(data_dir=tmp_path / "data", store="sqlite", keystore="memory", auth_mode="oidc",
                        oidc_issuer=ISSUER, oidc_jwks_url=JWKS_URL, oidc_audience=(AUDIENCE,),
                        console_client_id=CONSOLE_CLIENT_ID)
    one = create_app(settings, make_container(settings)).test_client()
    two = create_app(settings, make_container(settings)).test_client()
    sign_in(one, CodeFlow(idp))
    two.set_cookie(COOKIE, one.get_cookie(COOKIE, path="/v1/keymanager").value, path="/v1/keymanager")
    assert ok(two.get(f"{ADMIN}/api/session"))["user"] == "alice"
    stored = list((tmp_path / "data" / "console-sessions").iterdir())
    assert stored and all(path.stat().st_mode & 0o077 == 0 for path in stored)


def test_without_a_client_id_there_is_no_sign_in(oidc_client) -> None:
    refused(oidc_client.get(f"{ADMIN}/login"), 404, "KER-KMS-005")


def test_the_dev_mode_has_no_sign_in(client) -> None:
    assert client.get(f"{ADMIN}/login").headers["Location"] == "./"
    session = ok(client.get(f"{ADMIN}/api/session"))
    assert (session["user"], session["authMode"], session["csrfToken"]) == ("dev", "dev", None)


def test_the_document_lists_the_admin_api_but_not_the_redirects(client) -> None:
    paths = client.get(f"{API}/v3/api-docs").get_json()["paths"]
    assert {"/v1/keymanager/admin/api/keys", "/v1/keymanager/admin/api/keys/{alias}/certificate",
            "/v1/keymanager/admin/api/policies", "/v1/keymanager/admin/api/policies/{applicationId}",
            "/v1/keymanager/admin/api/audit", "/v1/keymanager/admin/api/audit/verify",
            "/v1/keymanager/admin/api/session"} <= set(paths)
    assert not {"/v1/keymanager/admin/login", "/v1/keymanager/admin/callback", "/v1/keymanager/admin/logout"} & set(
        paths)
    put = paths["/v1/keymanager/admin/api/policies/{applicationId}"]["put"]
    assert put["x-mosip-role-key"] == "putadminpolicy" and put["x-audited"] == "updateKeyPolicy"
