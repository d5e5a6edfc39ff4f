"""Console sign-in (issue 17): the OpenID Connect authorization-code flow with PKCE (S256).

``admin/login`` sends the browser to the issuer's authorization endpoint with a fresh ``state``, ``nonce`` and
``code_challenge``; the state is also put in a short-lived HttpOnly cookie, so that the callback only completes a
sign-in this browser started (no login CSRF). ``admin/callback`` exchanges the code (with the PKCE verifier, the
client id and, for a confidential client, its secret) at the token endpoint, then verifies the access token
exactly as the API verifies a bearer token (auth.TokenVerifier: signature against the JWKS, issuer, audience,
expiry) and the ID token's signature, issuer, audience (the client id), expiry and nonce. Only then is a
server-side session made (console_session.py) and its id set in a cookie: HttpOnly, SameSite=Strict,
Path=/v1/keymanager, Secure (KEYMANAGER_CONSOLE_COOKIE_SECURE). ``admin/logout`` ends the session.

These three routes are not part of the API document (they are browser redirects) and need no token: they are
how a browser gets one. They grant nothing by themselves: every API call the console then makes goes through the
same authentication, role check and audit as any other caller's (auth.py).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Response, current_app, request
from joserfc import jwt
from joserfc.errors import JoseError
from werkzeug.wrappers import Response as BaseResponse

from ..settings import Settings
from .auth import AuthenticationRequired, AuthState, TokenVerifier
from .console_session import (
    COOKIE,
    COOKIE_PATH,
    CSRF_HEADER,
    LOGIN_SECONDS,
    MAX_SESSION_SECONDS,
    Entry,
    new_secret,
)
from .envelope import failure, success
from .errors import FORBIDDEN, UNAUTHENTICATED
from .routes import PUBLIC, Controller

log = logging.getLogger("keymanager.auth")

api = Controller("console_auth", tag="console")
blueprint = api.blueprint

LOGIN_COOKIE = "km_console_login"
SETTINGS = "keymanager.console_settings"
NOT_CONFIGURED = ("KER-KMS-005", "Invalid request: console sign-in is not configured (KEYMANAGER_CONSOLE_CLIENT_ID)")
MAX_TOKEN_RESPONSE_BYTES = 256 * 1024


def install_console_auth(app: Any, settings: Settings) -> None:
    app.extensions[SETTINGS] = settings


def _settings() -> Settings:
    return current_app.extensions[SETTINGS]


def _auth() -> AuthState:
    return current_app.extensions["keymanager.auth"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def code_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(ASCII(code_verifier)))."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _refused(reason: str) -> Response:
    log.info("console sign-in refused: %s", reason)  # a fixed phrase, never a token or a code
    response = failure([UNAUTHENTICATED], 401)
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


@api.get("/admin/login", summary="Console sign-in: to the identity provider", role=PUBLIC, documented=False)
def console_login() -> BaseResponse:
    settings, state = _settings(), _auth()
    if state.mode != "oidc" or state.sessions is None:
        return current_app.redirect("./", 302)  # the dev mode has no sign-in: the console is open
    if not settings.console_client_id:
        return failure([NOT_CONFIGURED], 404)
    login_state, nonce, verifier = new_secret(), new_secret(), secrets.token_urlsafe(48)
    state.sessions.put(f"login:{login_state}", Entry(kind="login", expires_at=time.time() + LOGIN_SECONDS,
                                                     code_verifier=verifier, nonce=nonce))
    query = urlencode({
        "response_type": "code", "client_id": settings.console_client_id, "redirect_uri": settings.console_redirect_url,
        "scope": "openid", "state": login_state, "nonce": nonce, "code_challenge": code_challenge(verifier),
        "code_challenge_method": "S256",
    })
    url = settings.authorization_url
    response = current_app.redirect(f"{url}{'&' if '?' in url else '?'}{query}", 302)
    # Lax, not Strict: the identity provider's redirect back is a cross-site navigation.
    response.set_cookie(LOGIN_COOKIE, login_state, max_age=LOGIN_SECONDS, path=COOKIE_PATH, httponly=True,
                        secure=settings.console_cookie_is_secure, samesite="Lax")
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("/admin/callback", summary="Console sign-in: back from the identity provider", role=PUBLIC,
         documented=False)
def console_callback() -> BaseResponse:
    settings, state = _settings(), _auth()
    if state.mode != "oidc" or state.sessions is None or state.verifier is None:
        return current_app.redirect("./", 302)
    if not settings.console_client_id:
        return failure([NOT_CONFIGURED], 404)
    if request.args.get("error"):
        return _refused("the identity provider answered an error")
    code, login_state = request.args.get("code", ""), request.args.get("state", "")
    started = request.cookies.get(LOGIN_COOKIE, "")
    if not code or not login_state or not started or not hmac.compare_digest(login_state.encode(), started.encode()):
        return _refused("state missing or not the one this browser started")
    login = state.sessions.get(f"login:{login_state}")
    state.sessions.delete(f"login:{login_state}")  # one use
    if login is None or login.kind != "login":
        return _refused("unknown or expired sign-in")
    try:
        tokens = _exchange(settings, code, login.code_verifier)
        access_token = tokens.get("access_token")
        if not isinstance(access_token, str):
            raise AuthenticationRequired("no access token in the token response")
        principal = state.verifier.verify(access_token)  # exactly as a bearer token
        _verify_id_token(state.verifier, settings, tokens.get("id_token"), login.nonce)
    except AuthenticationRequired as error:
        return _refused(error.reason)
    now = time.time()
    expires_at = min(_expiry(access_token), now + MAX_SESSION_SECONDS)
    session_id = new_secret()
    state.sessions.put(f"session:{session_id}", Entry(
        kind="session", expires_at=expires_at, access_token=access_token, csrf_token=new_secret(),
        user=principal.username or principal.subject,
    ))
    log.info("console sign-in: %s", principal.username or principal.subject)
    response = current_app.redirect("./", 302)  # the console, /v1/keymanager/admin/
    response.set_cookie(COOKIE, session_id, max_age=max(1, int(expires_at - now)), path=COOKIE_PATH, httponly=True,
                        secure=settings.console_cookie_is_secure, samesite="Strict")
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    response.headers["Cache-Control"] = "no-store"
    return response


@api.post("/admin/logout", summary="Console sign-out", role=PUBLIC, documented=False)
def console_logout() -> Response:
    """Ends the server-side session (with the session's CSRF token: a forged sign-out is refused) and clears the
    cookie. Without a session there is nothing to end: the answer is the same."""
    state = _auth()
    session_id = request.cookies.get(COOKIE)
    if session_id and state.sessions is not None:
        entry = state.sessions.get(f"session:{session_id}")
        if entry is not None:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not hmac.compare_digest(sent.encode("utf-8", "replace"), entry.csrf_token.encode()):
                log.info("console sign-out refused: CSRF token missing or wrong")
                return failure([FORBIDDEN], 403)
            state.sessions.delete(f"session:{session_id}")
            log.info("console sign-out: %s", entry.user)
    response = success({"status": "signed out"})
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=_settings().console_cookie_is_secure, httponly=True,
                           samesite="Strict")
    return response


# -- the token endpoint and the ID token ---------------------------------------------------------


def _exchange(settings: Settings, code: str, verifier: str) -> dict[str, Any]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": settings.console_redirect_url,
            "code_verifier": verifier, "client_id": settings.console_client_id or ""}
    secret = settings.console_client_secret
    auth = (settings.console_client_id or "", secret) if secret else None  # client_secret_basic
    try:
        answer = requests.post(settings.token_url, data=form, auth=auth, timeout=settings.oidc_http_timeout_seconds,
                               headers={"Accept": "application/json"})
    except requests.RequestException as error:
        raise AuthenticationRequired(f"token endpoint unreachable ({type(error).__name__})") from None
    if answer.status_code != 200:
        raise AuthenticationRequired(f"token endpoint answered HTTP {answer.status_code}")
    if len(answer.content) > MAX_TOKEN_RESPONSE_BYTES:
        raise AuthenticationRequired("token response too large")
    try:
        tokens = answer.json()
    except ValueError:
        raise AuthenticationRequired("token response is not JSON") from None
    if not isinstance(tokens, dict):
        raise AuthenticationRequired("token response is not an object")
    return tokens


def _verify_id_token(verifier: TokenVerifier, settings: Settings, id_token: Any, nonce: str) -> None:
    """Signature (the same JWKS and algorithms as access tokens), issuer, audience = our client id, expiry, nonce."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        raise AuthenticationRequired("no ID token")
    claims = verifier.verify_claims(id_token, jwt.JWTClaimsRegistry(
        leeway=settings.oidc_leeway_seconds,
        iss={"essential": True, "value": settings.oidc_issuer or ""},
        aud={"essential": True, "values": [settings.console_client_id or ""]},
        exp={"essential": True},
    ))
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise AuthenticationRequired("ID token nonce does not match")


def _expiry(access_token: str) -> float:
    """The ``exp`` of a token already verified (so its payload is well-formed)."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError, JoseError):
        return time.time()
