"""The client-crypto formats (application/crypto/client_crypto.py), checked against layouts and OAEP
parameters built here with `cryptography` from mosip-crypto.md §10.1, not with the module itself."""
from __future__ import annotations

import os
import struct

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.crypto.client_crypto import (
    ClientType,
    client_public_key,
    encrypt,
    open_sealed,
    split_wrapped_key,
    verify,
)
from domain.errors import KeyManagerError

PLAINTEXT = b'{"registration":"packet"}' + bytes(range(256))
SHA256_MGF256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
SHA256_MGF1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA256(), label=None)
TPM_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"\x00")
#: Which OAEP parameters open the wrapped key of each kind (the others must not).
OAEP_OF = {ClientType.LOCAL: SHA256_MGF256, ClientType.ANDROID: SHA256_MGF1, ClientType.TPM: TPM_OAEP}


def spki(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def tpmt_public(key: rsa.RSAPrivateKey, exponent_field: int = 0) -> bytes:
    """An RSA TPMT_PUBLIC as tpm2-tools writes a signing key (TPM 2.0 Part 2, §12.2.4)."""
    modulus = key.public_key().public_numbers().n.to_bytes(256, "big")
    return (struct.pack(">HHIH", 0x0001, 0x000B, 0x00040072, 0) + struct.pack(">HHH", 0x0010, 0x0014, 0x000B)
            + struct.pack(">HIH", 2048, exponent_field, 256) + modulus)


def fails(code: str = "KER-CC-004"):
    return pytest.raises(KeyManagerError, match=code)


# -- which kind of key --------------------------------------------------------------------------


@pytest.mark.parametrize("said", [None, ClientType.LOCAL, ClientType.ANDROID, ClientType.TPM])
def test_a_tpmt_public_is_a_tpm_key_whatever_the_caller_says(rsa_keys, said) -> None:
    key = rsa_keys()
    for exponent_field in (0, 65537):
        found = client_public_key(tpmt_public(key, exponent_field), said)
        assert found.kind is ClientType.TPM
        assert found.key.public_numbers() == key.public_key().public_numbers()


def test_spki_is_local_by_default_or_android_when_said(rsa_keys) -> None:
    key = rsa_keys()
    assert client_public_key(spki(key), None).kind is ClientType.LOCAL
    assert client_public_key(spki(key), ClientType.LOCAL).kind is ClientType.LOCAL
    assert client_public_key(spki(key), ClientType.ANDROID).kind is ClientType.ANDROID
    assert client_public_key(spki(key), None).key.public_numbers() == key.public_key().public_numbers()


def test_keys_that_are_none_of_the_kinds(rsa_keys) -> None:
    key = rsa_keys()
    with fails():
        client_public_key(spki(key), ClientType.TPM)  # TPM asked for, but no TPMT_PUBLIC
    with fails():
        client_public_key(spki(ec.generate_private_key(ec.SECP256R1())), None)  # not RSA
    with fails():
        client_public_key(b"not a key", ClientType.ANDROID)
    with fails():
        client_public_key(tpmt_public(key)[:-1], None)  # cut short: not TPM, and no SPKI either
    with fails():
        client_public_key(tpmt_public(key, exponent_field=2), None)  # an even exponent is no RSA key


# -- signatures ---------------------------------------------------------------------------------


def test_sha256_with_rsa_verifies_for_every_kind_and_a_bad_signature_is_false(rsa_keys) -> None:
    key = rsa_keys()
    signature = key.sign(PLAINTEXT, padding.PKCS1v15(), hashes.SHA256())
    for blob, said in ((spki(key), None), (spki(key), ClientType.ANDROID), (tpmt_public(key), None)):
        public = client_public_key(blob, said)
        assert verify(public, signature, PLAINTEXT) is True
        assert verify(public, signature, PLAINTEXT + b"!") is False
        assert verify(public, signature[:-1] + bytes([signature[-1] ^ 1]), PLAINTEXT) is False
        assert verify(public, b"", PLAINTEXT) is False
    pss = key.sign(PLAINTEXT, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    assert verify(client_public_key(spki(key), None), pss, PLAINTEXT) is False


# -- encryption to a client ---------------------------------------------------------------------


def open_layout(private_key: rsa.RSAPrivateKey, wire: bytes, oaep: padding.OAEP) -> bytes:
    """mosip-crypto.md §10.1: RSA_ENC(K) ‖ iv(12) ‖ aad(32) ‖ ct‖tag."""
    secret = private_key.decrypt(wire[:256], oaep)
    iv, aad, sealed = wire[256:268], wire[268:300], wire[300:]
    return AESGCM(secret).decrypt(iv, sealed, aad)


@pytest.mark.parametrize("kind", list(ClientType))
def test_encrypt_opens_with_the_kinds_oaep_parameters_only(rsa_keys, kind: ClientType) -> None:
    key = rsa_keys()
    blob = tpmt_public(key) if kind is ClientType.TPM else spki(key)
    wire = encrypt(client_public_key(blob, kind), PLAINTEXT)
    assert len(wire) == 256 + 12 + 32 + len(PLAINTEXT) + 16
    assert open_layout(key, wire, OAEP_OF[kind]) == PLAINTEXT
    for other, oaep in OAEP_OF.items():
        if other is not kind:
            with pytest.raises(ValueError):
                key.decrypt(wire[:256], oaep)


def test_each_encryption_has_its_own_key_iv_and_aad(rsa_keys) -> None:
    public = client_public_key(spki(rsa_keys()), None)
    first, second = encrypt(public, PLAINTEXT), encrypt(public, PLAINTEXT)
    assert first[:256] != second[:256] and first[256:268] != second[256:268] and first[268:300] != second[268:300]


def test_empty_data_is_refused_as_the_reference_does(rsa_keys) -> None:
    with fails("KER-FSE-006"):
        encrypt(client_public_key(spki(rsa_keys()), None), b"")


# -- opening data sealed to the service -----------------------------------------------------------


def sealed(secret: bytes, iv_length: int, aad_length: int, plaintext: bytes = PLAINTEXT) -> bytes:
    iv, aad = os.urandom(iv_length), os.urandom(aad_length)
    return iv + aad + AESGCM(secret).encrypt(iv, plaintext, aad)


def test_open_the_current_and_the_1_1_4_4_layouts() -> None:
    secret = os.urandom(32)
    assert open_sealed(secret, sealed(secret, 12, 32)) == PLAINTEXT
    assert open_sealed(secret, sealed(secret, 16, 12)) == PLAINTEXT
    assert open_sealed(secret, sealed(secret, 16, 12, b"")) == b""


def test_tampered_short_or_foreign_sealed_data_is_kerc_cc_004() -> None:
    secret = os.urandom(32)
    good = sealed(secret, 12, 32)
    for index in (0, 12, 44, len(good) - 1):  # iv, aad, ciphertext, tag
        tampered = bytearray(good)
        tampered[index] ^= 1
        with fails():
            open_sealed(secret, bytes(tampered))
    with fails():
        open_sealed(os.urandom(32), good)  # another key
    with fails():
        open_sealed(secret, good[:40])  # shorter than either layout
    with fails():
        open_sealed(b"short", good)  # the RSA block held no AES key


def test_split_wrapped_key() -> None:
    wrapped, rest = split_wrapped_key(bytes(256) + b"rest")
    assert (len(wrapped), rest) == (256, b"rest")
    with fails():
        split_wrapped_key(bytes(256))
