"""JWS assembly in the reference's byte layout, and verification through joserfc.

Signing is assembled here rather than by a JOSE library because the private key
sits in a keystore (an HSM) that only signs bytes, and because the reference's
header order and its RFC 7797 quirks must be reproduced exactly. Verification,
where the security pitfalls are (``alg: none``, an HMAC keyed with a public key,
algorithm confusion), is left to joserfc with the algorithm list pinned to the
one that fits the key.
"""
from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey

from application.ports.keystore import SignatureScheme
from domain.codec import b64url_decode, b64url_encode
from domain.errors import KeyManagerError

#: JWT (jwtSign) algorithm by reference id; anything else signs RS256.
JWT_ALGORITHM_BY_REFERENCE = {
    "": "RS256",
    "SIGN": "RS256",
    "EC_SECP256K1_SIGN": "ES256K",
    "EC_SECP256R1_SIGN": "ES256",
    "ED25519_SIGN": "EdDSA",
    "ML_DSA_65_SIGN": "ML-DSA-65",  # issue 18: RFC 9964 (draft-ietf-cose-dilithium), ADR 0024
}
#: JWS (jwsSign, signV2) default algorithm by reference id; anything else signs PS256.
JWS_ALGORITHM_BY_REFERENCE = {
    "EC_SECP256K1_SIGN": "ES256K",
    "EC_SECP256R1_SIGN": "ES256",
    "ED25519_SIGN": "EdDSA",
    "ML_DSA_65_SIGN": "ML-DSA-65",
}
# joserfc warns that "EdDSA" is superseded by "Ed25519" (RFC 9864); MOSIP uses "EdDSA".
warnings.filterwarnings("ignore", category=SecurityWarning, module="joserfc")

# -- ML-DSA and batch (issue 18) --
#: The JOSE name of pure ML-DSA-65 (FIPS 204, empty context): RFC 9964 §2, from draft-ietf-cose-dilithium-11.
ML_DSA_65 = "ML-DSA-65"
ML_DSA_65_SIGNATURE_BYTES = 3309
ASYMMETRIC_ALGORITHMS = ("RS256", "PS256", "ES256", "ES256K", "EdDSA", ML_DSA_65)
MAX_HEADER_BYTES = 64 * 1024
DER = Encoding.DER
MAX_PAYLOAD_BYTES = 32 * 1024 * 1024


def jwt_algorithm(ref_id: str) -> str:
    return JWT_ALGORITHM_BY_REFERENCE.get(ref_id, "RS256")


def jws_algorithm(ref_id: str, requested: str | None = None) -> str:
    if requested and requested in ASYMMETRIC_ALGORITHMS:
        return requested
    return JWS_ALGORITHM_BY_REFERENCE.get(ref_id, "PS256")


def header_bytes(fields: Sequence[tuple[str, Any]]) -> bytes:
    """Compact JSON keeping the given order (jose4j keeps insertion order)."""
    return json.dumps(dict(fields), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def std_b64(data: bytes) -> str:
    """x5c entries are standard base64 with padding (RFC 7515 §4.1.6)."""
    return base64.b64encode(data).decode("ascii")


def compact(
    header: bytes, payload: bytes, sign: Callable[[bytes], bytes], *, detached: bool, encode_payload: bool = True
) -> str:
    """``b64u(header).payload.b64u(signature)``; detached leaves the payload segment empty.

    With ``encode_payload=False`` (RFC 7797 ``b64: false``) the raw payload bytes are signed.
    """
    encoded_header = b64url_encode(header)
    payload_segment = b64url_encode(payload) if encode_payload else payload.decode("utf-8", "surrogateescape")
    signing_input = encoded_header.encode("ascii") + b"." + (
        payload_segment.encode("ascii") if encode_payload else payload
    )
    signature = b64url_encode(sign(signing_input))
    return f"{encoded_header}.{'' if detached else payload_segment}.{signature}"


def der_to_raw_ecdsa(signature: bytes, size: int = 32) -> bytes:
    """DER ECDSA signature to the JOSE form r ‖ s (RFC 7518 §3.4)."""
    r, s = decode_dss_signature(signature)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def raw_to_der_ecdsa(signature: bytes) -> bytes:
    half = len(signature) // 2
    return encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))


def algorithms_for_key(public_key: Any) -> list[str]:
    """The only algorithms a verification may accept for this key type."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return ["RS256", "PS256"]
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return {"secp256r1": ["ES256"], "secp256k1": ["ES256K"]}.get(public_key.curve.name, [])
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return ["EdDSA"]
    if isinstance(public_key, mldsa.MLDSA65PublicKey):
        return [ML_DSA_65]
    return []


def verify_compact(token: str, public_key: Any, detached_payload: bytes | None = None) -> bool:
    """Whether ``token`` carries a valid signature by ``public_key`` with an algorithm fit for it."""
    algorithms = algorithms_for_key(public_key)
    if not algorithms:
        return False
    if isinstance(public_key, mldsa.MLDSA65PublicKey):
        return verify_ml_dsa_compact(token, public_key, detached_payload)  # joserfc has no ML-DSA
    key_class = RSAKey if isinstance(public_key, rsa.RSAPublicKey) else (
        ECKey if isinstance(public_key, ec.EllipticCurvePublicKey) else OKPKey
    )
    try:
        key = key_class.import_key(public_key)
        # Unknown header parameters are ignored unless listed in crit (RFC 7515 §4): jwtSign/v2
        # and jwsSign/v2 put the caller's additional headers into our own tokens.
        registry = jws.JWSRegistry(algorithms=algorithms, strict_check_header=False)
        registry.max_header_length = MAX_HEADER_BYTES  # x5c chains exceed joserfc's 512-byte default
        registry.max_payload_length = MAX_PAYLOAD_BYTES
        jws.deserialize_compact(token, key, algorithms=algorithms, registry=registry, payload=detached_payload)
    except (JoseError, ValueError, TypeError, KeyError, UnicodeError):
        return False
    return True


_SCHEME_BY_ALGORITHM = {
    "RS256": SignatureScheme.RSA_PKCS1_SHA256,
    "PS256": SignatureScheme.RSA_PSS_SHA256,
    "ES256": SignatureScheme.ECDSA_SHA256,
    "ES256K": SignatureScheme.ECDSA_SHA256,
    "EdDSA": SignatureScheme.ED25519,
    ML_DSA_65: SignatureScheme.ML_DSA_65,
}


def jose_signer(sign: Callable[[bytes, SignatureScheme], bytes], algorithm: str) -> Callable[[bytes], bytes]:
    """The JWS signature bytes for ``algorithm`` (ECDSA in the JOSE r ‖ s form)."""
    scheme = _SCHEME_BY_ALGORITHM[algorithm]
    if scheme is SignatureScheme.ECDSA_SHA256:
        return lambda data: der_to_raw_ecdsa(sign(data, scheme))
    return lambda data: sign(data, scheme)


def algorithm_fits(algorithm: str, public_key: Any) -> bool:
    return algorithm in algorithms_for_key(public_key)


# -- ML-DSA and batch (issue 18) --
#: Header parameters a verifier must understand when listed in ``crit`` (RFC 7515 §4.1.11): only b64.
_UNDERSTOOD_CRITICAL = ("b64",)


def verify_ml_dsa_compact(
    token: str, public_key: mldsa.MLDSA65PublicKey, detached_payload: bytes | None = None
) -> bool:
    """A compact JWS with ``"alg":"ML-DSA-65"`` (RFC 9964), checked as joserfc checks the others: exactly that
    algorithm, a well-formed header under the size limit, ``crit`` naming only parameters we understand and
    that are present (RFC 7515 §4.1.11), ``b64`` false only when critical (RFC 7797 §6), and a signature of
    ML-DSA-65's length that verifies (pure ML-DSA, empty context) over the JWS signing input."""
    parts = (token or "").split(".")
    if len(parts) != 3 or len(parts[0]) > MAX_HEADER_BYTES * 4 // 3 + 4:
        return False
    header_segment, payload_segment, signature_segment = parts
    try:
        header = json.loads(b64url_decode(header_segment))
        signature = b64url_decode(signature_segment)
    except (KeyManagerError, ValueError, UnicodeDecodeError, RecursionError):
        return False
    if not isinstance(header, dict) or header.get("alg") != ML_DSA_65:
        return False
    crit = header.get("crit")
    if crit is not None and not (
        isinstance(crit, list) and crit and all(
            isinstance(name, str) and name in _UNDERSTOOD_CRITICAL and name in header for name in crit
        )
    ):
        return False
    encoded = header.get("b64", True)
    if encoded is not True and not (encoded is False and "b64" in (crit or [])):
        return False
    if encoded:
        payload = payload_segment.encode("ascii", "replace")
    else:
        payload = detached_payload if detached_payload is not None else payload_segment.encode("utf-8", "replace")
    if len(signature) != ML_DSA_65_SIGNATURE_BYTES or len(payload) > MAX_PAYLOAD_BYTES:
        return False
    try:
        public_key.verify(signature, header_segment.encode("ascii", "replace") + b"." + payload)
    except (InvalidSignature, ValueError):
        return False
    return True
