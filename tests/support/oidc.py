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
