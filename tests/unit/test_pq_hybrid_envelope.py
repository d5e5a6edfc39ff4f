"""Issue 18: ML-KEM-768 known answers, the VER_Q1 combiner and framing (ADR 0023).

ML-KEM-768 vectors: tests/vectors/mlkem768_wycheproof.json, taken from C2SP/wycheproof
(testvectors_v1/mlkem_768_keygen_seed_test.json: FIPS 203 key generation from the 64-byte seed d ‖ z,
on the round-3 KAT seeds; testvectors_v1/mlkem_768_test.json: decapsulation, the CCTV "strcmp" vector
and FIPS 203 vectors); the commit is recorded in the file's "source". The combiner's expected values are
computed here with hashlib from the ADR's definition, not with the project's modules.
"""
from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import mlkem as cryptography_mlkem

from application.crypto import mlkem
from clients import pq_envelope as client_envelope
from domain import pq_envelope
from domain.errors import Errors, KeyManagerError

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "mlkem768_wycheproof.json").read_text())
LABEL = b"MOSIP-KEYMANAGER VER_Q1 ML-KEM-768+RSA-OAEP-2048-SHA256 SHA3-256"  # ADR 0023, typed out again

# -- ML-KEM-768 (FIPS 203) ------------------------------------------------------------------------


def test_vectors_cite_their_source() -> None:
    assert "C2SP/wycheproof" in VECTORS["source"] and "commit" in VECTORS["source"]
    assert VECTORS["keygen"] and VECTORS["decaps"]


@pytest.mark.parametrize("vector", VECTORS["keygen"], ids=lambda v: f"tc{v['tcId']}")
def test_mlkem768_keygen_from_seed_known_answer(vector) -> None:
    seed, ek = bytes.fromhex(vector["seed"]), bytes.fromhex(vector["ek"])
    assert len(ek) == pq_envelope.MLKEM768_PUBLIC_KEY_LENGTH
    assert mlkem.public_bytes(mlkem.private_key_from_seed(seed)) == ek
    # and the library itself, in case our helper ever stops using it
    assert cryptography_mlkem.MLKEM768PrivateKey.from_seed_bytes(seed).public_key().public_bytes_raw() == ek


@pytest.mark.parametrize("vector", VECTORS["decaps"], ids=lambda v: f"tc{v['tcId']}")
def test_mlkem768_decapsulation_known_answer(vector) -> None:
    private_key = mlkem.private_key_from_seed(bytes.fromhex(vector["seed"]))
    ciphertext = bytes.fromhex(vector["c"])
    assert len(ciphertext) == pq_envelope.MLKEM768_CIPHERTEXT_LENGTH
    assert mlkem.decapsulate(private_key, ciphertext) == bytes.fromhex(vector["K"])


def test_mlkem_round_trip_and_implicit_rejection() -> None:
    private_key = mlkem.private_key_from_seed(mlkem.new_seed())
    secret, ciphertext = mlkem.encapsulate(mlkem.public_bytes(private_key))
    assert mlkem.decapsulate(private_key, ciphertext) == secret
    tampered = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    other = mlkem.decapsulate(private_key, tampered)  # no error: a pseudorandom secret (FIPS 203 §6.3)
    assert len(other) == 32 and other != secret
    with pytest.raises(KeyManagerError) as caught:
        mlkem.decapsulate(private_key, ciphertext[:-1])
    assert caught.value.error is Errors.CORRUPTED_DATA


def test_bad_seed_and_public_key_refused() -> None:
    with pytest.raises(KeyManagerError):
        mlkem.private_key_from_seed(b"\x00" * 63)
    with pytest.raises(KeyManagerError):
        mlkem.encapsulate(b"\x00" * 100)


# -- the combiner ---------------------------------------------------------------------------------

SS_MLKEM, SS_RSA = bytes(range(32)), bytes(range(32, 64))
CT_MLKEM, CT_RSA = b"\xa5" * 1088, b"\x5a" * 256
KEY_ID, THUMBPRINT = hashlib.sha256(b"kid").digest(), hashlib.sha256(b"cert").digest()
#: SHA3-256 of the concatenation above with LABEL, computed once with hashlib and frozen here:
#: a change of the combiner (order, label) breaks every stored VER_Q1 envelope, and this test.
COMBINER_KAT = "ce589cafedd9fcb8573e0470fb57049118e1e5ade0b9346dd6bbf88a111605f9"


def test_combiner_known_answer() -> None:
    expected = hashlib.sha3_256(SS_MLKEM + SS_RSA + CT_MLKEM + CT_RSA + KEY_ID + THUMBPRINT + LABEL).hexdigest()
    assert expected == COMBINER_KAT
    assert pq_envelope.LABEL == LABEL == client_envelope.LABEL
    assert pq_envelope.combine(SS_MLKEM, SS_RSA, CT_MLKEM, CT_RSA, KEY_ID, THUMBPRINT).hex() == COMBINER_KAT
    assert client_envelope.combine(SS_MLKEM, SS_RSA, CT_MLKEM, CT_RSA, KEY_ID, THUMBPRINT).hex() == COMBINER_KAT


@pytest.mark.parametrize("position", range(6))
def test_combiner_depends_on_every_input(position: int) -> None:
    """Changing either secret, either ciphertext or either key's identity changes K."""
    inputs = [SS_MLKEM, SS_RSA, CT_MLKEM, CT_RSA, KEY_ID, THUMBPRINT]
    changed = list(inputs)
    changed[position] = bytes([changed[position][0] ^ 0x80]) + changed[position][1:]
    assert pq_envelope.combine(*changed) != pq_envelope.combine(*inputs)


def test_combiner_refuses_secrets_of_the_wrong_length() -> None:
    with pytest.raises(KeyManagerError):
        pq_envelope.combine(SS_MLKEM[:31], SS_RSA, CT_MLKEM, CT_RSA, KEY_ID, THUMBPRINT)


# -- framing --------------------------------------------------------------------------------------

AAD = bytes(range(100, 132))
SEALED = b"ciphertext-and-tag" * 2


def wire() -> bytes:
    return pq_envelope.build(THUMBPRINT, KEY_ID, CT_MLKEM, CT_RSA, AAD, SEALED)


def test_wire_layout_byte_for_byte() -> None:
    """The layout of ADR 0023, assembled independently."""
    expected = b"VER_Q1" + THUMBPRINT + KEY_ID + struct.pack(">HH", 1088, 256) + CT_MLKEM + CT_RSA
    expected += b"#KEY_SPLITTER#" + AAD + SEALED
    assert wire() == expected
    parts = pq_envelope.split(expected)
    assert (parts.rsa_thumbprint, parts.pq_key_id, parts.kem_ciphertext, parts.rsa_ciphertext) == (
        THUMBPRINT, KEY_ID, CT_MLKEM, CT_RSA
    )
    assert (parts.aad, parts.nonce, parts.sealed) == (AAD, AAD[:12], SEALED)


def test_splitter_bytes_inside_a_ciphertext_do_not_confuse_the_parser() -> None:
    ct = b"#KEY_SPLITTER#" + CT_MLKEM[14:]
    parts = pq_envelope.split(pq_envelope.build(THUMBPRINT, KEY_ID, ct, CT_RSA, AAD, SEALED))
    assert parts.kem_ciphertext == ct and parts.sealed == SEALED


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda w: w[:50], id="cut-in-header"),
        pytest.param(lambda w: w[:74 + 1000], id="cut-in-kem-ciphertext"),
        pytest.param(lambda w: w[:74 + 1088 + 256 + 5], id="cut-in-splitter"),
        pytest.param(lambda w: w[:74 + 1088 + 256 + 14 + 40], id="data-shorter-than-aad-and-tag"),
        pytest.param(lambda w: w[:70] + struct.pack(">HH", 1087, 256) + w[74:], id="wrong-kem-length"),
        pytest.param(lambda w: w[:70] + struct.pack(">HH", 1088, 0) + w[74:], id="zero-rsa-length"),
        pytest.param(lambda w: w[:70] + struct.pack(">HH", 1088, 255) + w[74:], id="rsa-length-off-by-one"),
        pytest.param(lambda w: w.replace(b"#KEY_SPLITTER#", b"#KEY_SPLITTEr#"), id="splitter-changed"),
    ],
)
def test_structural_damage_is_kercry003(mangle) -> None:
    with pytest.raises(KeyManagerError) as caught:
        pq_envelope.split(mangle(wire()))
    assert caught.value.error is Errors.INVALID_DATA_WITHOUT_SPLITTER


def test_only_the_header_marks_a_hybrid_envelope() -> None:
    assert pq_envelope.is_hybrid(wire())
    assert not pq_envelope.is_hybrid(b"VER_R2" + wire()[6:])
