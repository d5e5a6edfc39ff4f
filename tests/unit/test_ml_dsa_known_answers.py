"""ML-DSA-65 (FIPS 204) known answers (issue 18, ADR 0024).

Vectors: tests/vectors/mldsa65_kat.json, the first three cases of ``kat_MLDSA_65_det_pure.rsp`` of the
post-quantum-cryptography/KAT project, as shipped in pyca's ``cryptography_vectors`` 50.0.2
(``asymmetric/MLDSA/kat_MLDSA_65_det_pure.rsp``): the key-generation seed xi, the public key, a message, a
16-byte context and the deterministic pure signature (the file's ``sm`` less its trailing message).
`cryptography` offers only hedged (randomised) signing, so the signature is checked by verification, and
key generation from the seed must give the published public key byte for byte.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa

from application.crypto import jose
from application.crypto.primitives import (
    private_key_from_pkcs8,
    private_key_to_pkcs8,
    sign_with,
    signing_key_from_pkcs8,
)
from application.ports.keystore import SignatureScheme
from domain.codec import b64url_encode
from domain.errors import KeyManagerError

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "mldsa65_kat.json").read_text())["cases"]
CASES = [pytest.param(case, id=f"count-{case['count']}") for case in VECTORS]


@pytest.mark.parametrize("case", CASES)
def test_key_generation_from_the_seed_gives_the_published_public_key(case) -> None:
    private_key = mldsa.MLDSA65PrivateKey.from_seed_bytes(bytes.fromhex(case["xi"]))
    assert private_key.public_key().public_bytes_raw().hex() == case["pk"]


@pytest.mark.parametrize("case", CASES)
def test_the_published_signature_verifies_and_a_changed_one_does_not(case) -> None:
    public_key = mldsa.MLDSA65PublicKey.from_public_bytes(bytes.fromhex(case["pk"]))
    signature, message, context = (bytes.fromhex(case[name]) for name in ("sig", "msg", "ctx"))
    assert len(signature) == jose.ML_DSA_65_SIGNATURE_BYTES
    public_key.verify(signature, message, context)
    for bad_signature, bad_message, bad_context in (
        (bytes([signature[0] ^ 1]) + signature[1:], message, context),
        (signature, message + b"\x00", context),
        (signature, message, None),  # the context is bound into the signature
    ):
        with pytest.raises(InvalidSignature):
            public_key.verify(bad_signature, bad_message, bad_context)


def test_our_signing_path_round_trips_with_the_published_key() -> None:
    """sign_with (pure, empty context, as RFC 9964 asks) with the vector's key, through PKCS#8 (seed form)."""
    case = VECTORS[0]
    private_key = mldsa.MLDSA65PrivateKey.from_seed_bytes(bytes.fromhex(case["xi"]))
    pkcs8 = private_key_to_pkcs8(private_key)
    restored = signing_key_from_pkcs8(pkcs8)
    assert isinstance(restored, mldsa.MLDSA65PrivateKey)
    with pytest.raises(KeyManagerError):  # the decryption path (base keys) takes no ML-DSA key
        private_key_from_pkcs8(pkcs8, generated_by_us=True)
    message = b"MOSIP"
    signature = sign_with(restored, message, SignatureScheme.ML_DSA_65)
    mldsa.MLDSA65PublicKey.from_public_bytes(bytes.fromhex(case["pk"])).verify(signature, message)
    with pytest.raises(ValueError):
        sign_with(restored, message, SignatureScheme.ED25519)


def _token(private_key: mldsa.MLDSA65PrivateKey, header: dict, payload: bytes, *, encode: bool = True) -> str:
    head = b64url_encode(json.dumps(header).encode())
    segment = b64url_encode(payload) if encode else payload.decode()
    signature = private_key.sign(head.encode() + b"." + segment.encode())
    return f"{head}.{segment}.{b64url_encode(signature)}"


def test_jws_verification_rules() -> None:
    case = VECTORS[1]
    private_key = mldsa.MLDSA65PrivateKey.from_seed_bytes(bytes.fromhex(case["xi"]))
    public_key = private_key.public_key()
    payload = b'{"a":1}'
    good = _token(private_key, {"alg": "ML-DSA-65"}, payload)
    assert jose.verify_compact(good, public_key)
    assert jose.algorithms_for_key(public_key) == ["ML-DSA-65"]
    # the algorithm must be exactly ML-DSA-65, whatever the signature
    assert not jose.verify_compact(_token(private_key, {"alg": "EdDSA"}, payload), public_key)
    assert not jose.verify_compact(_token(private_key, {"alg": "none"}, payload), public_key)
    # an unknown critical parameter, or b64:false that is not critical, is refused (RFC 7515, RFC 7797)
    assert not jose.verify_compact(_token(private_key, {"alg": "ML-DSA-65", "crit": ["exp"], "exp": 1}, payload),
                                   public_key)
    raw = _token(private_key, {"alg": "ML-DSA-65", "b64": False}, payload, encode=False)
    assert not jose.verify_compact(raw, public_key)
    detached = _token(private_key, {"alg": "ML-DSA-65", "b64": False, "crit": ["b64"]}, payload, encode=False)
    head, _, signature = detached.split(".")
    assert jose.verify_compact(f"{head}..{signature}", public_key, detached_payload=payload)
    assert not jose.verify_compact(f"{head}..{signature}", public_key, detached_payload=payload + b" ")
    # a truncated signature, and another key
    assert not jose.verify_compact(good[:-4], public_key)
    other = mldsa.MLDSA65PrivateKey.generate().public_key()
    assert not jose.verify_compact(good, other)
    # the SubjectPublicKeyInfo round trip a certificate relies on
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert serialization.load_der_public_key(spki).public_bytes_raw() == public_key.public_bytes_raw()
