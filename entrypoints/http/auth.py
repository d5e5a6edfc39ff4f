"""Who is calling: OIDC bearer tokens checked against the issuer's JWKS, or the announced dev mode.

Every request to the app is authenticated before routing-dependent work, then authorised against
the role table (roles.py). Failures raise ``AuthenticationRequired`` (401) or ``AccessDenied`` (403),
turned into the MOSIP envelope by errors.py. Reasons go to the server log as fixed phrases: never
token content, never a library's exception text.

Tokens are verified with joserfc (already the service's JOSE library, ADR 0009); the accepted
algorithms are pinned to asymmetric ones, so ``alg: none`` and HMAC-with-the-public-key cannot pass.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask, Request, Response, g, request
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import JWKRegistry

from ..settings import Settings
from .console_session import SessionRefused, SessionStore, build_session_store, end_session, session_token
from .metrics import ENDPOINT as METRICS_ENDPOINT
from .roles import RolePolicy
from .routes import AUTHENTICATED, PUBLIC, Endpoint, endpoints_of

log = logging.getLogger("keymanager.auth")

#: Asymmetric JWS algorithms only: never "none", never HS*.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519")
ASYMMETRIC_KEY_TYPES = ("RSA", "EC", "OKP")
REGISTERED_CLAIMS = {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}
MAX_TOKEN_CHARS = 16 * 1024
MAX_JWKS_BYTES = 1024 * 1024
AUTH_MODE_HEADER = "X-Keymanager-Auth-Mode"
DEV_USER = "dev"


class AuthenticationRequired(Exception):
    """HTTP 401. ``reason`` is a fixed phrase for the server log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AccessDenied(Exception):
    """HTTP 403: authenticated, but no role allowed for the endpoint."""


@dataclass(frozen=True)
class Principal:
    subject: str | None
    username: str | None  # what the key policy's access_allowed list names
    roles: frozenset[str]


def current_username() -> str | None:
    """The caller's user name for the access_allowed rule (None outside a request)."""
    principal = g.get("principal")
    return principal.username if principal is not None else None


# -- JWKS -------------------------------------------------------------------------------------


class JwksCache:
    """The issuer's signing keys by ``kid``, fetched over HTTP and kept ``max_age`` seconds.

    An unknown ``kid`` (a key rotated in at the IdP) triggers a refresh, but at most one per
    ``min_refresh`` seconds, so tokens with invented kids cannot turn into a flood of requests
    to the IdP. A failed fetch keeps the keys already known and is retried no sooner either.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        max_age: float,
        min_refresh: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.max_age = max_age
        self.min_refresh = min_refresh
        self.clock = clock
        self._keys: dict[str | None, Any] = {}
        self._loaded_at: float | None = None
        self._refreshed_at: float | None = None
        self._failed_at: float | None = None
        self._session = requests.Session()
        self._lock = threading.Lock()

    def key(self, kid: str | None) -> Any | None:
        found = _pick(self._keys, kid)  # a snapshot: the dict is replaced whole, never changed in place
        if found is not None and not self._stale(self.clock()):
            return found
        with self._lock:  # one fetch at a time; the others wait and use its result
            now = self.clock()
            if self._stale(now):
                if self._since(self._failed_at, now):
                    self._load(now)
            elif _pick(self._keys, kid) is None and self._since(self._refreshed_at, now) and self._since(
                self._failed_at, now
            ):
                self._refreshed_at = now
                self._load(now)
            return _pick(self._keys, kid)

    def _stale(self, now: float) -> bool:
        return self._loaded_at is None or now - self._loaded_at >= self.max_age

    def _since(self, moment: float | None, now: float) -> bool:
        return moment is None or now - moment >= self.min_refresh

    def _load(self, now: float) -> None:
        try:
            response = self._session.get(self.url, timeout=self.timeout, headers={"Accept": "application/json"})
            response.raise_for_status()
            if len(response.content) > MAX_JWKS_BYTES:
                raise ValueError("JWKS document too large")
            keys = parse_jwks(response.json())
        except (requests.RequestException, ValueError, TypeError) as error:
            self._failed_at = now
            log.warning("JWKS fetch from %s failed (%s); keeping %d known key(s)", self.url,
                        type(error).__name__, len(self._keys))
            return
        self._keys, self._loaded_at, self._failed_at = keys, now, None
        log.info("JWKS loaded from %s: %d signing key(s)", self.url, len(keys))


def _pick(keys: dict[str | None, Any], kid: str | None) -> Any | None:
    """The key named by kid; a token without kid is only unambiguous when the set has one key."""
    if kid is None and len(keys) == 1:
        return next(iter(keys.values()))
    return keys.get(kid) if kid is not None else None


def parse_jwks(document: Any) -> dict[str | None, Any]:
    """Asymmetric signing keys by kid; encryption and symmetric keys, and keys that do not
    parse, are left out. A key without kid is kept under None (used only if it is the only one)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: dict[str | None, Any] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") not in ASYMMETRIC_KEY_TYPES or entry.get("use") == "enc":
            continue
        try:
            key = JWKRegistry.import_key(entry)
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        kid = entry.get("kid")
        keys[kid if isinstance(kid, str) else None] = key
    return keys


# -- tokens -----------------------------------------------------------------------------------


class TokenVerifier:
    """Signature (JWKS), issuer, audience, expiry and not-before, then the principal's claims."""

    def __init__(self, settings: Settings, jwks: JwksCache) -> None:
        self.jwks = jwks
        self.roles_claim = settings.oidc_roles_claim
        self.username_claim = settings.oidc_username_claim
        self.registry = jws.JWSRegistry(algorithms=list(ALGORITHMS), strict_check_header=False)
        self.registry.max_header_length = 4096
        self.claims = jwt.JWTClaimsRegistry(
            leeway=settings.oidc_leeway_seconds,
            iss={"essential": True, "value": settings.oidc_issuer or ""},
            aud={"essential": True, "values": list(settings.oidc_audience)},
            exp={"essential": True},
        )

    def verify(self, token: str) -> Principal:
        claims = self.verify_claims(token, self.claims)
        return Principal(
            subject=claims.get("sub") if isinstance(claims.get("sub"), str) else None,
            username=_text(claim_at(claims, self.username_claim)),
            roles=_roles(claim_at(claims, self.roles_claim)),
        )

    def verify_claims(self, token: str, registry: jwt.JWTClaimsRegistry) -> dict[str, Any]:
        """The token's claims once its signature (the issuer's JWKS, asymmetric algorithms only) and the
        claims ``registry`` asks for are checked; AuthenticationRequired otherwise. The console's sign-in
        checks its ID token through here too (console_auth.py), with the client id as audience."""
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise AuthenticationRequired("malformed token")
        try:
            header = jws.extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, TypeError, KeyError, UnicodeError):
            raise AuthenticationRequired("malformed token") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise AuthenticationRequired("algorithm not accepted")
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationRequired("malformed token")
        key = self.jwks.key(kid)
        if key is None:
            raise AuthenticationRequired("unknown signing key")
        if key.alg and key.alg != algorithm:  # the IdP said what the key is for
            raise AuthenticationRequired("algorithm does not match the key")
        try:
            claims = jwt.decode(token, key, algorithms=[algorithm], registry=self.registry).claims
            registry.validate(claims)
        except ExpiredTokenError:
            raise AuthenticationRequired("token expired") from None
        except BadSignatureError:
            raise AuthenticationRequired("bad signature") from None
        except ClaimError as error:
            # Claim names only from the registered set (ours to check), so nothing of the token leaks.
            name = error.claim if set(str(error.claim).split(",")) <= REGISTERED_CLAIMS else "?"
            raise AuthenticationRequired(f"claim rejected ({type(error).__name__}: {name})") from None
        except JoseError as error:
            raise AuthenticationRequired(f"token rejected ({type(error).__name__})") from None
        except (ValueError, TypeError, KeyError, UnicodeError):
            raise AuthenticationRequired("malformed token") from None
        return claims


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """A dotted path into nested claims, e.g. ``realm_access.roles``."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _roles(value: Any) -> frozenset[str]:
    if isinstance(value, str):  # some IdPs flatten roles into one space- or comma-separated string
        value = value.replace(",", " ").split()
    if not isinstance(value, list):
        return frozenset()
    return frozenset(role for role in value if isinstance(role, str))


def bearer_token(incoming: Request) -> str:
    """The ``Authorization: Bearer`` header, else the reference's ``Authorization`` cookie (raw token)."""
    header = incoming.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise AuthenticationRequired("malformed Authorization header")
        return token
    cookie = (incoming.cookies.get("Authorization") or "").strip()
    if cookie.lower().startswith("bearer "):
        cookie = cookie[7:].strip()
    if not cookie:
        raise AuthenticationRequired("no token")
    return cookie


# -- the Flask hooks ----------------------------------------------------------------------------


@dataclass
class AuthState:
    """What create_app installed; kept on ``app.extensions`` for the CLI and tests."""

    mode: str
    policy: RolePolicy
    verifier: TokenVerifier | None
    sessions: SessionStore | None = None  # -- admin console (issue 17) -- the console's sessions (oidc only)


def install_auth(app: Flask, settings: Settings) -> AuthState:
    """Authentication and authorisation of every request, from the endpoints' declarations (routes.py).

    Call after the routes are installed."""
    policy = RolePolicy(settings.role_overrides)
    cors = bool(settings.cors_origins)
    endpoints = endpoints_of(app)
    # Who needs no token, decided once: the endpoints declared PUBLIC (probes, the API document), and
    # the metrics unless KEYMANAGER_METRICS_PUBLIC=false.
    public_endpoints = {name for name, endpoint in endpoints.items() if endpoint.role == PUBLIC}
    if settings.metrics_public:
        public_endpoints.add(METRICS_ENDPOINT)
    if settings.auth_mode == "dev":
        dev = Principal(subject=DEV_USER, username=DEV_USER, roles=policy.all_roles())
        authenticate: Callable[[Request], Principal] = lambda _request: dev  # noqa: E731 - one of two
        verifier = None
        sessions: SessionStore | None = None  # no sign-in in the dev mode
        log.warning(
            "authentication is DISABLED (KEYMANAGER_AUTH=dev): every request acts as user '%s' with every role; "
            "set KEYMANAGER_AUTH=oidc with KEYMANAGER_OIDC_ISSUER, KEYMANAGER_OIDC_JWKS_URL and "
            "KEYMANAGER_OIDC_AUDIENCE for anything but local development", DEV_USER,
        )

        @app.after_request
        def _announce_dev_mode(response: Response) -> Response:
            response.headers[AUTH_MODE_HEADER] = "dev"
            return response
    else:
        jwks = JwksCache(
            settings.oidc_jwks_url or "",
            timeout=settings.oidc_http_timeout_seconds,
            max_age=settings.oidc_jwks_cache_seconds,
            min_refresh=settings.oidc_jwks_min_refresh_seconds,
        )
        verifier = TokenVerifier(settings, jwks)
        sessions = build_session_store(settings)
        authenticate = lambda incoming: oidc_principal(incoming, verifier, sessions)  # noqa: E731
        log.info("authentication: OIDC tokens from %s (keys: %s)", settings.oidc_issuer, settings.oidc_jwks_url)

    @app.before_request
    def _authenticate_and_authorise() -> None:
        if request.endpoint in public_endpoints:
            return  # no token, no principal, nothing audited
        if cors and _is_preflight():
            return  # a browser's CORS preflight carries no token; Flask answers it itself, no handler runs
        principal = authenticate(request)
        g.principal = principal
        _authorise(principal, policy, endpoints)

    state = AuthState(settings.auth_mode, policy, verifier, sessions)
    app.extensions["keymanager.auth"] = state
    return state


# -- admin console (issue 17) --


def oidc_principal(incoming: Request, verifier: TokenVerifier, sessions: SessionStore) -> Principal:
    """A bearer token (header) wins; without one, the console's session cookie (its token verified like a
    bearer token, non-GET requests CSRF-checked); else the reference's ``Authorization`` cookie."""
    if incoming.headers.get("Authorization") is None:
        try:
            token = session_token(incoming, sessions)
        except SessionRefused as refused:
            if refused.forbidden:
                log.info("refused %s %s: %s", incoming.method, incoming.path, refused.reason)
                raise AccessDenied() from None
            raise AuthenticationRequired(refused.reason) from None
        if token is not None:
            try:
                return verifier.verify(token)
            except AuthenticationRequired:
                end_session(sessions, g.console_session.session_id)  # an expired token ends its session
                raise
    return verifier.verify(bearer_token(incoming))


def _is_preflight() -> bool:
    rule = request.url_rule
    return (
        request.method == "OPTIONS" and rule is not None and getattr(rule, "provide_automatic_options", False)
        and "Origin" in request.headers and "Access-Control-Request-Method" in request.headers
    )


def _authorise(principal: Principal, policy: RolePolicy, endpoints: dict[str, Endpoint]) -> None:
    rule = request.url_rule
    if rule is None:  # no such path or method: routing answers 404/405, nothing runs
        return
    if request.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
        return  # Flask's own answer: an Allow header, no handler runs
    endpoint = endpoints.get(request.endpoint or "")
    try:
        if endpoint is None:
            raise KeyError(request.endpoint)
        if endpoint.role == AUTHENTICATED:
            return
        allowed = policy.allowed_roles(endpoint.role)
    except KeyError:
        # A view that was not declared through routes.Controller is refused, not opened.
        log.error("no declared role for %s %s: refused", request.method, rule.rule)
        raise AccessDenied() from None
    if not principal.roles & allowed:
        log.info("refused %s %s to %s: no allowed role", request.method, rule.rule,
                 principal.username or principal.subject)
        raise AccessDenied()
