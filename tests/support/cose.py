"""COSE test helpers: the known-answer vectors of mosip-cose-pdf.md A.11, read from the spec itself,
and an independent COSE implementation (python-cwt, ``cwt``) to check the service's output and to
make messages the service must accept. Nothing here uses the project's own COSE code.
"""
from __future__ import annotations

import re
from functools import cache
from typing import Any

import cbor2
import cwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.support.repo import VECTORS_DIR

SPEC = VECTORS_DIR.parent / "mosip-cose-pdf.md"
#: COSE algorithm names of python-cwt, by their labels.
ALGORITHM_NAMES = {-257: "RS256", -37: "PS256", -7: "ES256", -47: "ES256K", -8: "EdDSA"}


@cache
def spec_vectors() -> dict[str, str]:
    """A.11's hex: seed, certificate, v1_sig_structure, v1, v2, v3_claims, v3, and the claim169 fixture."""
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("### A.11"):text.index("### A.12")]
    blocks = re.findall(r"```\n(.*?)\n```", section, re.S)
    certificate, v1_block, v2, v3_block = blocks

    def field(block: str, name: str) -> str:
        return re.search(rf"^{name}\s+([0-9a-f]+)$", block, re.M).group(1)  # type: ignore[union-attr]

    return {
        "seed": re.search(r"Ed25519 seed `([0-9a-f]{64})`", section).group(1),  # type: ignore[union-attr]
        "payload": re.search(r"\* payload `([A-Za-z0-9_-]+)`", section).group(1),  # type: ignore[union-attr]
        "claim169": re.search(r"\n  `(D83D[0-9A-F]+)`", section).group(1),  # type: ignore[union-attr]
        "certificate": certificate.strip(),
        "v1_sig_structure": field(v1_block, "Sig_structure"),
        "v1": field(v1_block, "signedData"),
        "v2": v2.strip(),
        "v3_claims": field(v3_block, "claims"),
        "v3": field(v3_block, "signedData"),
    }


def rfc8032_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(spec_vectors()["seed"]))


def _pem(key: Any) -> bytes:
    if isinstance(key, x509.Certificate):
        return key.public_bytes(serialization.Encoding.PEM)
    if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def cose_key(key: Any, algorithm: str, kid: bytes = b"") -> Any:
    """python-cwt's key for a certificate, public key or private key."""
    return cwt.COSEKey.from_pem(_pem(key), alg=algorithm, kid=kid)


def sign1_parts(signed_hex: str, tags: tuple[int, ...] = (18,)) -> list[Any]:
    """The four parts of the message, after checking its tags with cbor2."""
    item = cbor2.loads(bytes.fromhex(signed_hex))
    for tag in tags:
        assert isinstance(item, cbor2.CBORTag) and item.tag == tag, item
        item = item.value
    assert isinstance(item, list) and len(item) == 4
    return item


def independent_verify(signed_hex: str, public: Any, *, cwt_tag: bool = False) -> tuple[dict, dict, bytes]:
    """python-cwt verifies the COSE_Sign1 (inside tag 61 for a CWT) with the algorithm its protected
    header names; returns (protected, unprotected, payload)."""
    data = bytes.fromhex(signed_hex)
    if cwt_tag:
        outer = cbor2.loads(data)
        assert isinstance(outer, cbor2.CBORTag) and outer.tag == 61
        data = cbor2.dumps(outer.value)
    protected_bytes, unprotected, _, _ = sign1_parts(data.hex())
    protected = cbor2.loads(protected_bytes)
    # python-cwt picks keys by kid: give ours the message's.
    key = cose_key(public, ALGORITHM_NAMES[protected[1]], protected.get(4) or unprotected.get(4) or b"")
    return cwt.COSE.new().decode_with_headers(data, key)


def independent_sign(private_key: Any, algorithm: str, payload: bytes, *, unprotected: dict | None = None,
                     protected: dict | None = None, cwt_tag: bool = False) -> str:
    """A tagged COSE_Sign1 by python-cwt (``alg`` set from the key), as hex; tag 61 around it for a CWT."""
    signed = cwt.COSE.new(alg_auto_inclusion=True).encode_and_sign(
        payload, cose_key(private_key, algorithm), protected=protected or {}, unprotected=unprotected or {}
    )
    if cwt_tag:
        signed = cbor2.dumps(cbor2.CBORTag(61, cbor2.loads(signed)))
    return signed.hex()
