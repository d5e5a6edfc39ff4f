"""Authentication and authorisation of /v1/keymanager: OIDC bearer tokens and the dev mode.

The identity provider's JWKS endpoint is stood in for by ``responses``; tokens are minted here
with PyJWT (an implementation independent of the service's joserfc) from an RSA key made here.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import re
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from domain.keys import KeyPolicy
from entrypoints.cli import run_status
from entrypoints.http.app import create_app
from entrypoints.http.roles import ROLE_TABLE, RolePolicy
from entrypoints.settings import ConfigurationError, Settings
from tests.support.containers import init_master_keys
from tests.support.oidc import AUDIENCE, ISSUER, JWKS_URL, KEYS, Idp, bearer

API = "/v1/keymanager"
PLAINTEXT = b"attack at dawn"


# -- the identity provider ----------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def wrap(request: dict[str, Any]) -> dict[str, Any]:
    return {"id": "mosip.crypto.service", "version": "1.0", "requesttime": "2024-05-01T10:15:30.123Z",
            "metadata": {}, "request": request}


def get_certificate(client, headers: dict[str, str] | None = None):
    return client.get(f"{API}/getCertificate", query_string={"applicationId": "REGISTRATION", "referenceId": "x"},
                      headers=headers or {})


def encrypt(client, token: str, app: str = "REGISTRATION"):
    request = {"applicationId": app, "referenceId": "x", "data": b64url(PLAINTEXT)}
    return client.post(f"{API}/encrypt", json=wrap(request), headers=bearer(token))


def decrypt(client, token: str, data: str, app: str = "REGISTRATION"):
    return client.post(f"{API}/decrypt", json=wrap({"applicationId": app, "referenceId": "x", "data": data}),
                       headers=bearer(token))


def assert_ok(response) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["errors"] is None, body
    return body["response"]


def assert_refused(response, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"id", "version", "responsetime", "metadata", "response", "errors"}
    assert body["response"] is None
    assert body["errors"] == [{"errorCode": code, "message": message}]


def assert_unauthenticated(response) -> None:
    assert_refused(response, 401, "KER-ATH-401", "Authentication failed")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def hs256_with_public_key(payload: dict[str, Any], kid: str = "k1") -> str:
    """The algorithm-confusion attack: HMAC keyed with the RSA public key's PEM (PyJWT refuses to make it)."""
    secret = KEYS[kid].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + b64url(
        json.dumps(payload).encode()
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def unsigned(payload: dict[str, Any], kid: str = "k1") -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{b64url(json.dumps(payload).encode())}."


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return ".".join((header, payload, signature[:middle] + flipped + signature[middle + 1:]))


# -- authentication -----------------------------------------------------------------------------


def test_a_valid_token_passes(oidc_client, idp: Idp) -> None:
    token = idp.token()
    assert assert_ok(get_certificate(oidc_client, bearer(token)))["certificate"].startswith("-----BEGIN CERTIFICATE")
    assert assert_ok(encrypt(oidc_client, token))["data"]
    assert idp.fetches == 1  # the JWKS is cached between requests
    assert "X-Keymanager-Auth-Mode" not in get_certificate(oidc_client, bearer(token)).headers


def test_the_authorization_cookie_carries_a_raw_token(oidc_client, idp: Idp) -> None:
    oidc_client.set_cookie("Authorization", idp.token())
    assert_ok(get_certificate(oidc_client))


def test_a_token_within_the_leeway_still_passes(oidc_client, idp: Idp) -> None:
    now = int(time.time())
    assert_ok(get_certificate(oidc_client, bearer(idp.token(exp=now - 5, nbf=now + 5, iat=now + 5))))


def test_an_ec_key_at_the_idp_works(oidc_client, idp: Idp) -> None:
    idp.publish("ec1")
    assert_ok(get_certificate(oidc_client, bearer(idp.token(kid="ec1", alg="ES256"))))


def test_an_algorithm_other_than_the_one_the_idp_declared_for_the_key_is_refused(oidc_client, idp: Idp) -> None:
    assert_unauthenticated(get_certificate(oidc_client, bearer(idp.token(alg="PS256"))))


def test_head_and_options_are_authenticated_too(oidc_client, idp: Idp) -> None:
    assert_unauthenticated(oidc_client.options(f"{API}/encrypt"))
    assert oidc_client.options(f"{API}/encrypt", headers=bearer(idp.token())).status_code == 200
    assert oidc_client.head(f"{API}/getCertificate").status_code == 401  # HEAD: no body
    assert oidc_client.head(f"{API}/getCertificate", headers=bearer(idp.token(roles=["PMS_USER"]))).status_code == 403


def test_an_audience_list_containing_ours_passes(oidc_client, idp: Idp) -> None:
    assert_ok(get_certificate(oidc_client, bearer(idp.token(aud=["account", AUDIENCE]))))


REJECTED_TOKENS = {
    "expired": lambda idp: idp.token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200,
                                     nbf=int(time.time()) - 7200),
    "not yet valid": lambda idp: idp.token(nbf=int(time.time()) + 3600),
    "issued in the future": lambda idp: idp.token(iat=int(time.time()) + 3600),
    "wrong issuer": lambda idp: idp.token(iss="https://evil.example/realms/mosip"),
    "wrong audience": lambda idp: idp.token(aud="another-service"),
    "no audience": lambda idp: idp.token(aud=None),
    "no issuer": lambda idp: idp.token(iss=None),
    "no expiry": lambda idp: idp.token(exp=None),
    "alg none": lambda idp: unsigned(claims_of(idp.token())),
    "HS256 keyed with the public key": lambda idp: hs256_with_public_key(claims_of(idp.token())),
    "tampered signature": lambda idp: tampered(idp.token()),
    "tampered payload": lambda idp: ".".join(
        (idp.token().split(".")[0], b64url(json.dumps({**claims_of(idp.token()), "preferred_username": "root"})
                                           .encode()), idp.token().split(".")[2])
    ),
    "signed by a key the IdP never published, under a published kid": lambda idp: idp.token(key=KEYS["rogue"]),
    "not a JWT": lambda idp: "not-a-jwt",
    "three garbage segments": lambda idp: "a.b.c",
    "a JWE-shaped token": lambda idp: "a.b.c.d.e",
}


@pytest.mark.parametrize("make", REJECTED_TOKENS.values(), ids=REJECTED_TOKENS.keys())
def test_invalid_tokens_are_refused_with_401(oidc_client, idp: Idp, make, caplog) -> None:
    token = make(idp)
    with caplog.at_level(logging.DEBUG):
        response = get_certificate(oidc_client, bearer(token))
    assert_unauthenticated(response)
    # Nothing of the token in the answer or in the logs.
    for fragment in {part for part in token.split(".") if len(part) > 8}:
        assert fragment not in response.get_data(as_text=True)
        assert fragment not in caplog.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
        {"Authorization": "Token abc.def.ghi"},
        {"Authorization": "Bearer a.b.c extra"},
    ],
    ids=["missing", "bearer without token", "bearer and blank", "basic", "other scheme", "two tokens"],
)
def test_missing_or_malformed_authorization_is_refused_with_401(oidc_client, idp: Idp, headers) -> None:
    assert_unauthenticated(get_certificate(oidc_client, headers))
    assert_unauthenticated(oidc_client.post(f"{API}/encrypt", json=wrap({}), headers=headers))


def test_the_header_wins_over_the_cookie(oidc_client, idp: Idp) -> None:
    oidc_client.set_cookie("Authorization", idp.token())
    assert_unauthenticated(get_certificate(oidc_client, bearer(idp.token(aud="another-service"))))


def test_unknown_paths_need_a_token_too(oidc_client, idp: Idp) -> None:
    assert_unauthenticated(oidc_client.get(f"{API}/noSuchEndpoint"))
    response = oidc_client.get(f"{API}/noSuchEndpoint", headers=bearer(idp.token()))
    assert response.status_code == 404


def test_an_unknown_kid_refreshes_the_jwks_once_then_is_refused(oidc_client, idp: Idp) -> None:
    assert_ok(get_certificate(oidc_client, bearer(idp.token())))
    assert idp.fetches == 1
    stranger = idp.token(kid="unknown", key=KEYS["rogue"])
    assert_unauthenticated(get_certificate(oidc_client, bearer(stranger)))
    assert idp.fetches == 2  # one refresh for the unknown kid
    for _ in range(5):
        assert_unauthenticated(get_certificate(oidc_client, bearer(idp.token(kid="other", key=KEYS["rogue"]))))
    assert idp.fetches == 2  # rate-limited: invented kids cannot hammer the IdP
    assert_ok(get_certificate(oidc_client, bearer(idp.token())))  # known keys keep working


def test_the_refresh_rate_limit_lifts_after_its_interval(oidc_app, oidc_settings: Settings, idp: Idp) -> None:
    now = [1000.0]
    oidc_app.extensions["keymanager.auth"].verifier.jwks.clock = lambda: now[0]
    client = oidc_app.test_client()
    assert_ok(get_certificate(client, bearer(idp.token())))
    assert_unauthenticated(get_certificate(client, bearer(idp.token(kid="k2", key=KEYS["k2"]))))
    assert idp.fetches == 2
    idp.publish("k2")
    assert_unauthenticated(get_certificate(client, bearer(idp.token(kid="k2"))))
    assert idp.fetches == 2  # still within the interval: no new fetch
    now[0] += oidc_settings.oidc_jwks_min_refresh_seconds
    assert_ok(get_certificate(client, bearer(idp.token(kid="k2"))))
    assert idp.fetches == 3


def test_a_key_rotation_at_the_idp_is_picked_up(oidc_client, idp: Idp) -> None:
    assert_ok(get_certificate(oidc_client, bearer(idp.token(kid="k1"))))
    idp.publish("k2")  # the IdP rotates after our cache was filled
    assert_ok(get_certificate(oidc_client, bearer(idp.token(kid="k2"))))
    assert idp.fetches == 2
    assert_ok(get_certificate(oidc_client, bearer(idp.token(kid="k1"))))
    assert idp.fetches == 2


def test_the_jwks_is_fetched_again_when_its_cache_expires(oidc_app, oidc_settings: Settings, idp: Idp) -> None:
    now = [0.0]
    oidc_app.extensions["keymanager.auth"].verifier.jwks.clock = lambda: now[0]
    client = oidc_app.test_client()
    assert_ok(get_certificate(client, bearer(idp.token())))
    now[0] += oidc_settings.oidc_jwks_cache_seconds
    assert_ok(get_certificate(client, bearer(idp.token())))
    assert idp.fetches == 2


def test_an_unreachable_idp_means_401_without_details(oidc_client, idp: Idp, caplog) -> None:
    idp.status = 503
    with caplog.at_level(logging.WARNING):
        response = get_certificate(oidc_client, bearer(idp.token()))
    assert_unauthenticated(response)
    assert "JWKS fetch" in caplog.text


# -- authorisation ------------------------------------------------------------------------------


def api_routes(app) -> list[tuple[str, str, str]]:
    """(method, rule, role key) of every /v1/keymanager route that needs a role, without HEAD and OPTIONS."""
    from entrypoints.http.routes import PUBLIC, endpoints_of

    endpoints = endpoints_of(app)
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "metrics.prometheus":
            continue  # open by default (KEYMANAGER_METRICS_PUBLIC); its closed mode: tests/integration/test_metrics.py
        if rule.rule.startswith(API + "/") and endpoints[rule.endpoint].role != PUBLIC:
            routes += [(method, rule.rule, endpoints[rule.endpoint].role)
                       for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_every_route_is_declared_with_a_known_role_key(oidc_app) -> None:
    """Every Flask rule under the API comes from a declaration (routes.Controller) naming a ROLE_TABLE key."""
    from entrypoints.http.routes import AUTHENTICATED, PUBLIC, endpoints_of

    endpoints = endpoints_of(oidc_app)
    rules = [rule for rule in oidc_app.url_map.iter_rules() if rule.rule.startswith(API + "/")]
    assert len(rules) >= 40
    undeclared = [rule.rule for rule in rules if rule.endpoint not in endpoints]
    assert undeclared == [], "views registered without routes.Controller: auth would refuse them"
    unknown = [e.name for e in endpoints.values() if e.role not in ROLE_TABLE and e.role not in (PUBLIC, AUTHENTICATED)]
    assert unknown == []


def test_a_view_outside_the_declarations_is_refused(oidc_settings: Settings, container, idp: Idp) -> None:
    """Fail closed: a route added to Flask without a declaration answers 403 even to a caller with every role."""
    app = create_app(oidc_settings, container)
    app.add_url_rule(f"{API}/undeclared", "undeclared", lambda: "should never be seen")
    token = idp.token(roles=sorted(RolePolicy().all_roles()))
    response = app.test_client().get(f"{API}/undeclared", headers=bearer(token))
    assert response.status_code == 403 and b"should never be seen" not in response.data


def test_an_unknown_role_key_in_a_declaration_is_refused_at_import() -> None:
    from entrypoints.http.routes import Controller

    with pytest.raises(ValueError, match="unknown role key"):
        Controller("typo", tag="t").post("/x", summary="x", role="postencryptt")


def test_authorisation_matrix(oidc_app, idp: Idp) -> None:
    """For every route: each allowed role alone passes the auth layer; no allowed role gives 403."""
    from entrypoints.http.routes import AUTHENTICATED

    client = oidc_app.test_client()
    policy = RolePolicy()
    every_role = policy.all_roles()
    tokens: dict[frozenset[str], str] = {}

    def token_for(roles: frozenset[str]) -> str:
        if roles not in tokens:
            tokens[roles] = idp.token(roles=sorted(roles))
        return tokens[roles]

    problems = []
    for method, rule, key in api_routes(oidc_app):
        url = re.sub(r"<[^>]*>", "CERTIFICATE", rule)
        if key == AUTHENTICATED:  # no role check (the reference has no @PreAuthorize): any role passes
            response = client.open(url, method=method, json=wrap({}),
                                   headers=bearer(token_for(frozenset({"SOME_OTHER_ROLE"}))))
            if response.status_code in (401, 403):
                problems.append(f"{method} {rule}: an authenticated caller refused with {response.status_code}")
            continue
        allowed = policy.allowed_roles(key)
        assert allowed, f"{method} {rule} allows no role"
        for role in sorted(allowed):
            response = client.open(url, method=method, json=wrap({}), headers=bearer(token_for(frozenset({role}))))
            if response.status_code in (401, 403):
                problems.append(f"{method} {rule}: role {role} refused with {response.status_code}")
        others = (every_role - allowed) | {"SOME_OTHER_ROLE"}
        response = client.open(url, method=method, json=wrap({}), headers=bearer(token_for(frozenset(others))))
        if response.status_code != 403 or response.get_json()["errors"] != [
            {"errorCode": "KER-ATH-403", "message": "Forbidden"}
        ]:
            problems.append(f"{method} {rule}: without an allowed role answered {response.status_code}")
    assert problems == []


def test_a_token_without_roles_is_forbidden(oidc_client, idp: Idp) -> None:
    assert_refused(get_certificate(oidc_client, bearer(idp.token(roles=[]))), 403, "KER-ATH-403", "Forbidden")
    assert_refused(get_certificate(oidc_client, bearer(idp.token(realm_access=None))), 403, "KER-ATH-403",
                   "Forbidden")


def test_the_reference_defaults_for_signing_include_credential_issuance(oidc_client, idp: Idp) -> None:
    issuer = idp.token(roles=["CREDENTIAL_ISSUANCE"])
    request = wrap({"dataToSign": b64url(b'{"a":1}'), "applicationId": "REGISTRATION", "referenceId": ""})
    assert oidc_client.post(f"{API}/jwsSign", json=request, headers=bearer(issuer)).status_code not in (401, 403)
    assert oidc_client.post(f"{API}/jwtSign", json=request, headers=bearer(issuer)).status_code == 403


def test_roles_are_overridable_per_property_key(oidc_settings: Settings, container, idp: Idp) -> None:
    settings = oidc_settings.with_overrides(role_overrides={"postencrypt": ("KEY_USER",)})
    client = create_app(settings, container).test_client()
    assert_ok(encrypt(client, idp.token(roles=["KEY_USER"])))
    assert_refused(encrypt(client, idp.token(roles=["REGISTRATION_PROCESSOR"])), 403, "KER-ATH-403", "Forbidden")
    assert_ok(get_certificate(client, bearer(idp.token(roles=["REGISTRATION_PROCESSOR"]))))  # others unchanged


def test_role_overrides_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"KEYMANAGER_ROLES_POSTENCRYPT": " KEY_USER, AUDITOR ", "KEYMANAGER_ROLES_PUTREVOKEKEY": ""}
    )
    assert settings.role_overrides == (("postencrypt", ("KEY_USER", "AUDITOR")),)


def test_an_unknown_role_key_is_a_configuration_error(memory_settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="KEYMANAGER_ROLES_POSTENCRYPTT"):
        create_app(memory_settings.with_overrides(role_overrides={"postencryptt": ("X",)}))


def test_the_roles_claim_path_is_configurable(oidc_settings: Settings, container, idp: Idp) -> None:
    settings = oidc_settings.with_overrides(oidc_roles_claim="resource_access.keymanager.roles")
    client = create_app(settings, container).test_client()
    token = idp.token(roles=[], resource_access={"keymanager": {"roles": ["REGISTRATION_PROCESSOR"]}})
    assert_ok(get_certificate(client, bearer(token)))
    assert_refused(get_certificate(client, bearer(idp.token())), 403, "KER-ATH-403", "Forbidden")


def test_the_role_table_uses_the_reference_keys(oidc_app) -> None:
    from entrypoints.http.routes import endpoints_of

    assert "getgetcertificate" in ROLE_TABLE and "postencrypt" in ROLE_TABLE
    # The reference guards generateECSignKey with getCertificate's key (mosip-api.md §2.9).
    assert endpoints_of(oidc_app)["keymanager.generate_ec_sign_key"].role == "getgetcertificate"
    assert "CREDENTIAL_ISSUANCE" in ROLE_TABLE["postsignrawdata"]
    assert "CREDENTIAL_ISSUANCE" not in ROLE_TABLE["postjwtsign"]


# -- access_allowed: the token's user name ------------------------------------------------------


@pytest.fixture
def guarded_client(make_container, oidc_settings: Settings, clock, idp: Idp):
    """REGISTRATION keys usable by alice only."""
    built = make_container(oidc_settings, clock)
    with built.uow_factory()() as uow:
        uow.keys.save_policy(KeyPolicy("REGISTRATION", 1095, 60, access_allowed="alice"))
        uow.commit()
    init_master_keys(built)
    return create_app(oidc_settings, built).test_client()


def test_decryption_follows_access_allowed_with_the_token_user(guarded_client, idp: Idp) -> None:
    wire = assert_ok(encrypt(guarded_client, idp.token(user="bob")))["data"]  # encryption is not gated
    assert assert_ok(decrypt(guarded_client, idp.token(user="alice"), wire))["data"] == b64url(PLAINTEXT)
    assert assert_ok(decrypt(guarded_client, idp.token(user="ALICE"), wire))["data"] == b64url(PLAINTEXT)
    for token in (idp.token(user="bob"), idp.token(user=None)):
        response = decrypt(guarded_client, token, wire)
        assert response.status_code == 200
        assert response.get_json()["errors"][0]["errorCode"] == "KER-CRY-012"


def test_signing_follows_access_allowed_with_the_token_user(guarded_client, idp: Idp) -> None:
    request = wrap({"dataToSign": b64url(b'{"a":1}'), "applicationId": "REGISTRATION", "referenceId": ""})
    assert_ok(guarded_client.post(f"{API}/jwtSign", json=request, headers=bearer(idp.token(user="alice"))))
    response = guarded_client.post(f"{API}/jwtSign", json=request, headers=bearer(idp.token(user="bob")))
    assert response.get_json()["errors"][0]["errorCode"] == "KER-JWS-108"


# -- modes --------------------------------------------------------------------------------------


def test_dev_mode_is_the_default_and_announced(memory_settings: Settings, container, caplog) -> None:
    assert Settings().auth_mode == "dev" and Settings.from_env({}).auth_mode == "dev"
    with caplog.at_level(logging.WARNING, logger="keymanager.auth"):
        client = create_app(memory_settings, container).test_client()
    assert "authentication is DISABLED (KEYMANAGER_AUTH=dev)" in caplog.text
    response = get_certificate(client)
    assert_ok(response)
    assert response.headers["X-Keymanager-Auth-Mode"] == "dev"
    # Every response says so, errors included; a token, even a bad one, changes nothing.
    assert client.get(f"{API}/noSuchEndpoint").headers["X-Keymanager-Auth-Mode"] == "dev"
    assert_ok(get_certificate(client, {"Authorization": "Bearer not-a-token"}))


def test_dev_mode_user_is_dev_for_access_allowed(make_container, memory_settings: Settings, clock) -> None:
    built = make_container(memory_settings, clock)
    with built.uow_factory()() as uow:
        uow.keys.save_policy(KeyPolicy("REGISTRATION", 1095, 60, access_allowed="dev"))
        uow.commit()
    init_master_keys(built)
    client = create_app(memory_settings, built).test_client()
    request = {"applicationId": "REGISTRATION", "referenceId": "x", "data": b64url(PLAINTEXT)}
    wire = assert_ok(client.post(f"{API}/encrypt", json=wrap(request)))["data"]
    decrypted = client.post(f"{API}/decrypt", json=wrap({**request, "data": wire}))
    assert assert_ok(decrypted)["data"] == b64url(PLAINTEXT)


def test_status_prints_the_auth_mode(container, memory_settings: Settings, oidc_settings: Settings) -> None:
    out = io.StringIO()
    run_status(container, out, memory_settings)
    assert "auth: dev (authentication DISABLED" in out.getvalue()
    out = io.StringIO()
    run_status(container, out, oidc_settings)
    assert f"auth: oidc (issuer {ISSUER}" in out.getvalue()


def test_the_cli_status_command_prints_the_auth_mode(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from tests.support.repo import REPO_ROOT

    env = {name: value for name, value in os.environ.items() if not name.startswith("KEYMANAGER_")}
    env.update(KEYMANAGER_STORE="memory", KEYMANAGER_KEYSTORE="memory", KEYMANAGER_DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "entrypoints.cli", "status"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "auth: dev (authentication DISABLED" in result.stdout


@pytest.mark.parametrize(
    "env, missing",
    [
        ({"KEYMANAGER_AUTH": "oidc"}, "KEYMANAGER_OIDC_ISSUER, KEYMANAGER_OIDC_JWKS_URL, KEYMANAGER_OIDC_AUDIENCE"),
        ({"KEYMANAGER_AUTH": "oidc", "KEYMANAGER_OIDC_ISSUER": ISSUER, "KEYMANAGER_OIDC_JWKS_URL": JWKS_URL},
         "KEYMANAGER_OIDC_AUDIENCE"),
    ],
)
def test_oidc_mode_needs_its_settings(env: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(missing)):
        Settings.from_env(env)


@pytest.mark.parametrize("value", ["none", "off", "disabled", "basic"])
def test_an_unknown_auth_mode_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ConfigurationError, match="KEYMANAGER_AUTH"):
        Settings.from_env({"KEYMANAGER_AUTH": value})
    with pytest.raises(ConfigurationError, match="KEYMANAGER_AUTH"):
        Settings(auth_mode=value)


def test_oidc_settings_from_the_environment() -> None:
    settings = Settings.from_env({
        "KEYMANAGER_AUTH": "OIDC", "KEYMANAGER_OIDC_ISSUER": ISSUER, "KEYMANAGER_OIDC_JWKS_URL": JWKS_URL,
        "KEYMANAGER_OIDC_AUDIENCE": "keymanager, account", "KEYMANAGER_OIDC_LEEWAY_SECONDS": "10",
        "KEYMANAGER_OIDC_USERNAME_CLAIM": "email",
    })
    assert settings.auth_mode == "oidc"
    assert settings.oidc_audience == ("keymanager", "account")
    assert settings.oidc_leeway_seconds == 10 and settings.oidc_username_claim == "email"
