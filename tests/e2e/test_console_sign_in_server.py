"""The console's sign-in against a real server process with two workers (issue 17): the authorization-code
flow with PKCE through a stand-in identity provider over real HTTP (tests/support/oidc.py: IdpServer), followed
by a client that keeps cookies as a browser does. The session, made by one worker, is found by the others."""
from __future__ import annotations

from pathlib import Path

from tests.support.oidc import IdpServer
from tests.support.server import requests, server_factory


def test_sign_in_then_every_worker_knows_the_session(tmp_path: Path) -> None:
    with IdpServer(user="alice", roles=["ZONAL_ADMIN"]) as idp, server_factory(tmp_path) as make:
        server = make("console", KEYMANAGER_ZK_POOL_SIZE="0", KEYMANAGER_INIT_KEYS="ROOT,REGISTRATION")
        server.env.update(idp.server_env(f"http://127.0.0.1:{server.port}/v1/keymanager/admin/callback"))
        server.start()
        browser = requests.Session()
        landed = browser.get(f"{server.base}/admin/login", timeout=30)  # -> the IdP -> callback -> the console
        assert landed.status_code == 200 and landed.url == f"{server.base}/admin/", server.output()
        [cookie] = [c for c in browser.cookies if c.name == "km_console_session"]
        assert cookie.path == "/v1/keymanager" and cookie.has_nonstandard_attr("HttpOnly")
        sessions = [browser.get(f"{server.base}/admin/api/session", timeout=30).json()["response"]
                    for _ in range(12)]  # two workers: both must find it
        assert {(s["user"], tuple(s["roles"])) for s in sessions} == {("alice", ("ZONAL_ADMIN",))}
        keys = browser.get(f"{server.base}/admin/api/keys", timeout=30).json()["response"]["keys"]
        assert {key["applicationId"] for key in keys} == {"ROOT", "REGISTRATION"}
        csrf = {"X-CSRF-Token": sessions[0]["csrfToken"]}
        body = {"id": "e2e", "version": "1.0", "request": {"validityDays": 90, "preExpireDays": 9,
                                                           "accessAllowed": ["NA"]}}
        refused = browser.put(f"{server.base}/admin/api/policies/REGISTRATION", json=body, timeout=30)
        assert refused.status_code == 403 and refused.json()["errors"][0]["errorCode"] == "KER-ATH-403"
        changed = browser.put(f"{server.base}/admin/api/policies/REGISTRATION", json=body, headers=csrf, timeout=30)
        assert changed.json()["response"]["validityDays"] == 90
        assert browser.post(f"{server.base}/admin/logout", headers=csrf, timeout=30).status_code == 200
        assert browser.get(f"{server.base}/admin/api/session", timeout=30).status_code == 401
