"""A stand-in OpenID Connect identity provider for the authentication tests: signing keys, their
JWKS served through ``responses`` at JWKS_URL, and a token mint (PyJWT, an implementation
independent of the service's joserfc)."""
from __future__ import annotations

import json
import time
from typing import Any

import jwt
import responses
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://idp.example/realms/mosip"
JWKS_URL = ISSUER + "/protocol/openid-connect/certs"
AUDIENCE = "keymanager"


class Idp:
    """Signing keys, their published JWKS (served by ``responses``), and a token mint."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.keys: dict[str, Any] = {}
        self.published: list[str] = []
        self.status = 200
        mock.add_callback(responses.GET, JWKS_URL, callback=self._serve)

    def _serve(self, _request) -> tuple[int, dict[str, str], str]:
        if self.status != 200:
            return self.status, {}, "unavailable"
        keys = []
        for kid in self.published:
            public = self.keys[kid].public_key()
            if isinstance(public, rsa.RSAPublicKey):
                keys.append({**RSAAlgorithm.to_jwk(public, as_dict=True), "kid": kid, "use": "sig", "alg": "RS256"})
            else:
                keys.append({**ECAlgorithm.to_jwk(public, as_dict=True), "kid": kid, "use": "sig", "alg": "ES256"})
        # Keycloak also publishes an encryption key: it must be ignored.
        encryption = RSAAlgorithm.to_jwk(KEYS["enc"].public_key(), as_dict=True)
        keys.append({**encryption, "kid": "enc-key", "use": "enc", "alg": "RSA-OAEP"})
        return 200, {"Content-Type": "application/json"}, json.dumps({"keys": keys})

    def publish(self, kid: str) -> None:
        self.keys[kid] = KEYS[kid]
        self.published.append(kid)

    @property
    def fetches(self) -> int:
        return sum(1 for call in self.mock.calls if call.request.url == JWKS_URL)

    def token(self, *, kid: str = "k1", key: Any = None, alg: str = "RS256",
              roles: list[str] | None = None, user: str | None = "alice", **claims: Any) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": "f3b1c2d4", "iat": now, "nbf": now, "exp": now + 300,
            "realm_access": {"roles": ["REGISTRATION_PROCESSOR"] if roles is None else roles},
        }
        if user is not None:
            payload["preferred_username"] = user
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key or KEYS[kid], algorithm=alg, headers={"kid": kid})


#: Made once: RSA key generation is the slow part.
KEYS: dict[str, Any] = {
    name: rsa.generate_private_key(public_exponent=65537, key_size=2048) for name in ("k1", "k2", "rogue", "enc")
}
KEYS["ec1"] = ec.generate_private_key(ec.SECP256R1())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- admin console (issue 17): the authorization-code flow with PKCE -------------------------------

AUTHORIZATION_URL = ISSUER + "/protocol/openid-connect/auth"
TOKEN_URL = ISSUER + "/protocol/openid-connect/token"
CONSOLE_CLIENT_ID = "keymanager-console"
CONSOLE_REDIRECT_URL = "http://127.0.0.1:8088/v1/keymanager/admin/callback"


class CodeFlow:
    """The identity provider's side of the console's sign-in: an authorization endpoint that sends the browser
    back with a code (``authorize``), and a token endpoint (served through ``responses`` at TOKEN_URL, or called
    as ``token``) that checks the code, the client id (and secret, when one is set), the redirect URI and the PKCE
    verifier against the S256 challenge, then issues an access token and an ID token signed by ``idp``'s key.

    ``user`` and ``roles`` say who signs in; ``lifetime`` how long the access token lives."""

    def __init__(self, idp: Any, *, client_id: str = CONSOLE_CLIENT_ID, client_secret: str | None = None,
                 user: str = "alice", roles: list[str] | None = None, lifetime: int = 300,
                 issuer: str = ISSUER, authorization_url: str = AUTHORIZATION_URL, serve_token: bool = True) -> None:
        self.idp = idp  # an Idp (or anything with its token(...) mint)
        self.issuer = issuer
        self.authorization_url = authorization_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.user = user
        self.roles = ["ZONAL_ADMIN"] if roles is None else roles
        self.lifetime = lifetime
        self.codes: dict[str, dict[str, str]] = {}
        self.refusals: list[str] = []  # why the token endpoint said no, for the tests' asserts
        if serve_token:
            idp.mock.add_callback(responses.POST, TOKEN_URL, callback=self._serve_token)

    def authorize(self, location: str) -> str:
        """What the authorization endpoint answers the browser ``location`` sent to it: the redirect back to the
        client, with a code for these parameters (the user is taken as signed in)."""
        import secrets
        from urllib.parse import parse_qs, urlencode, urlsplit

        query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        assert location.startswith(self.authorization_url + "?"), location
        assert query["response_type"] == "code" and query["client_id"] == self.client_id
        assert query["code_challenge_method"] == "S256" and "openid" in query["scope"].split()
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def _serve_token(self, request) -> tuple[int, dict[str, str], str]:
        from urllib.parse import parse_qs

        form = {name: values[0] for name, values in parse_qs(request.body or "").items()}
        status, answer = self.token(form, dict(request.headers))
        return status, {"Content-Type": "application/json"}, json.dumps(answer)

    def token(self, form: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        import base64
        import hashlib

        def refuse(reason: str, error: str = "invalid_grant") -> tuple[int, dict[str, Any]]:
            self.refusals.append(reason)
            return 400, {"error": error, "error_description": reason}

        if form.get("grant_type") != "authorization_code":
            return refuse("grant type", "unsupported_grant_type")
        if self.client_secret is not None:
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            if headers.get("Authorization") != f"Basic {expected}":
                return refuse("client authentication", "invalid_client")
        if form.get("client_id") != self.client_id:
            return refuse("client id", "invalid_client")
        asked = self.codes.pop(form.get("code", ""), None)  # a code is used once
        if asked is None:
            return refuse("unknown or used code")
        if form.get("redirect_uri") != asked["redirect_uri"]:
            return refuse("redirect uri")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != asked["code_challenge"]:
            return refuse("PKCE verifier")
        now = int(time.time())
        access = self.idp.token(roles=self.roles, user=self.user, exp=now + self.lifetime, iss=self.issuer)
        id_token = jwt.encode(
            {"iss": self.issuer, "aud": self.client_id, "sub": "f3b1c2d4", "iat": now, "exp": now + self.lifetime,
             "nonce": asked["nonce"], "preferred_username": self.user},
            KEYS["k1"], algorithm="RS256", headers={"kid": "k1"},
        )
        return 200, {"access_token": access, "id_token": id_token, "token_type": "Bearer",
                     "expires_in": self.lifetime}


class IdpServer:
    """The stand-in identity provider over real HTTP, for a server process and a browser (tests/e2e): at
    ``issuer`` = http://127.0.0.1:<port>/realms/mosip it serves ``/protocol/openid-connect/certs`` (the JWKS of
    key k1), ``/auth`` (signs ``user`` in at once and redirects back with a code) and ``/token`` (CodeFlow's
    checks: client, redirect URI, PKCE). ``flow.user`` / ``flow.roles`` may be changed between sign-ins.

        with IdpServer() as idp:
            env = idp.server_env("http://127.0.0.1:8088/v1/keymanager/admin/callback")
    """

    def __init__(self, *, user: str = "alice", roles: list[str] | None = None, lifetime: int = 300) -> None:
        self.user, self.roles, self.lifetime = user, roles, lifetime
        self._server: Any = None
        self.issuer = ""
        self.flow: CodeFlow | None = None

    def __enter__(self) -> IdpServer:
        import threading

        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}/realms/mosip"
        self.flow = CodeFlow(self, user=self.user, roles=self.roles, lifetime=self.lifetime, issuer=self.issuer,
                             authorization_url=self.issuer + "/protocol/openid-connect/auth", serve_token=False)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()

    def token(self, *, roles: list[str] | None = None, user: str | None = "alice", **claims: Any) -> str:
        """An access token as this issuer signs it (also for bearer calls in a test)."""
        now = int(time.time())
        payload: dict[str, Any] = {"iss": self.issuer, "aud": AUDIENCE, "sub": "f3b1c2d4", "iat": now, "nbf": now,
                                   "exp": now + 300, "realm_access": {"roles": roles or []}}
        if user is not None:
            payload["preferred_username"] = user
        payload.update(claims)
        return jwt.encode(payload, KEYS["k1"], algorithm="RS256", headers={"kid": "k1"})

    def server_env(self, redirect_url: str) -> dict[str, str]:
        """The keymanager server's environment for signing in here."""
        return {
            "KEYMANAGER_AUTH": "oidc", "KEYMANAGER_OIDC_ISSUER": self.issuer,
            "KEYMANAGER_OIDC_JWKS_URL": self.issuer + "/protocol/openid-connect/certs",
            "KEYMANAGER_OIDC_AUDIENCE": AUDIENCE, "KEYMANAGER_CONSOLE_CLIENT_ID": CONSOLE_CLIENT_ID,
            "KEYMANAGER_CONSOLE_REDIRECT_URL": redirect_url,
        }

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        from urllib.parse import parse_qs

        from werkzeug.wrappers import Request, Response

        incoming = Request(environ)
        path = incoming.path.removeprefix("/realms/mosip/protocol/openid-connect")
        assert self.flow is not None
        if path == "/certs":
            jwk = {**RSAAlgorithm.to_jwk(KEYS["k1"].public_key(), as_dict=True), "kid": "k1", "use": "sig",
                   "alg": "RS256"}
            answer = Response(json.dumps({"keys": [jwk]}), mimetype="application/json")
        elif path == "/auth":
            answer = Response(status=302, headers={"Location": self.flow.authorize(incoming.url)})
        elif path == "/token" and incoming.method == "POST":
            form = {name: values[0] for name, values in parse_qs(incoming.get_data(as_text=True)).items()}
            status, body = self.flow.token(form, dict(incoming.headers))
            answer = Response(json.dumps(body), status=status, mimetype="application/json")
        else:
            answer = Response("not found", status=404)
        return answer(environ, start_response)
