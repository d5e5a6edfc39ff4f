"""The keystore contract for Ed25519 key pairs (KeyAlgorithm.ED25519, KEYMANAGER_ED25519_IN_KEYSTORE):
every adapter makes them, signs with them (pure Ed25519, checked with `cryptography`), keeps their
certificate, and refuses what such a key cannot do. On SoftHSM2 the pair is made inside the token
(CKM_EC_EDWARDS_KEY_PAIR_GEN) and signs with CKM_EDDSA."""
from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from application.ports.keystore import KeyAlgorithm, Keystore, KeystoreError, PrivateKeyOperationError, SignatureScheme
from tests.support.keystores import ALIAS, OTHER

_ISSUER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ed25519_key(spki: bytes) -> ed25519.Ed25519PublicKey:
    key = serialization.load_der_public_key(spki)
    assert isinstance(key, ed25519.Ed25519PublicKey)
    return key


def certificate_for(public_key: object, common_name: str) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(_ISSUER, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def test_generate_returns_an_ed25519_spki(keystore: Keystore) -> None:
    spki = keystore.generate_key_pair(ALIAS, KeyAlgorithm.ED25519)
    assert len(ed25519_key(spki).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)) == 32
    assert keystore.aliases() == [ALIAS]


@pytest.mark.parametrize("data", [b"", b"message", bytes(range(256)) * 40], ids=["empty", "short", "10k"])
def test_ed25519_signature_verifies(keystore: Keystore, data: bytes) -> None:
    key = ed25519_key(keystore.generate_key_pair(ALIAS, KeyAlgorithm.ED25519))
    signature = keystore.sign(ALIAS, data, SignatureScheme.ED25519)
    assert len(signature) == 64
    key.verify(signature, data)
    with pytest.raises(InvalidSignature):
        key.verify(signature, data + b"x")


def test_each_alias_signs_with_its_own_key(keystore: Keystore) -> None:
    keystore.generate_key_pair(ALIAS, KeyAlgorithm.ED25519)
    other = ed25519_key(keystore.generate_key_pair(OTHER, KeyAlgorithm.ED25519))
    with pytest.raises(InvalidSignature):
        other.verify(keystore.sign(ALIAS, b"data", SignatureScheme.ED25519), b"data")


@pytest.mark.parametrize(
    "scheme", [SignatureScheme.RSA_PKCS1_SHA256, SignatureScheme.RSA_PSS_SHA256, SignatureScheme.ECDSA_SHA256]
)
def test_other_schemes_do_not_fit_an_ed25519_key(keystore: Keystore, scheme: SignatureScheme) -> None:
    key = ed25519_key(keystore.generate_key_pair(ALIAS, KeyAlgorithm.ED25519))
    with pytest.raises(PrivateKeyOperationError):
        keystore.sign(ALIAS, b"data", scheme)
    key.verify(keystore.sign(ALIAS, b"data", SignatureScheme.ED25519), b"data")


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.RSA_2048, KeyAlgorithm.EC_P256])
def test_ed25519_does_not_fit_other_keys(keystore: Keystore, algorithm: KeyAlgorithm) -> None:
    keystore.generate_key_pair(ALIAS, algorithm)
    with pytest.raises(PrivateKeyOperationError):
        keystore.sign(ALIAS, b"data", SignatureScheme.ED25519)


def test_an_ed25519_key_does_not_decrypt(keystore: Keystore) -> None:
    keystore.generate_key_pair(ALIAS, KeyAlgorithm.ED25519)
    for block in (b"\x01" * 256, b""):
        with pytest.raises(PrivateKeyOperationError):
            keystore.decrypt(ALIAS, block)


def test_certificate_of_an_ed25519_key(keystore: Keystore) -> None:
    spki = keystore.generate_key_pair(ALIAS, KeyAlgorithm.ED25519)
    first = certificate_for(ed25519_key(spki), "first")
    keystore.store_certificate(ALIAS, first)
    assert keystore.certificate(ALIAS) == first
    second = certificate_for(ed25519_key(spki), "second")
    keystore.store_certificate(ALIAS, second)
    assert keystore.certificate(ALIAS) == second
    stranger = ed25519.Ed25519PrivateKey.generate().public_key()
    with pytest.raises(KeystoreError):
        keystore.store_certificate(ALIAS, certificate_for(stranger, "stranger"))
    other_type = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(KeystoreError):
        keystore.store_certificate(ALIAS, certificate_for(other_type, "other type"))
    assert keystore.certificate(ALIAS) == second
    ed25519_key(spki).verify(keystore.sign(ALIAS, b"kept", SignatureScheme.ED25519), b"kept")


def test_delete_removes_an_ed25519_key(keystore: Keystore) -> None:
    spki = keystore.generate_key_pair(ALIAS, KeyAlgorithm.ED25519)
    keystore.store_certificate(ALIAS, certificate_for(ed25519_key(spki), "gone"))
    keystore.delete(ALIAS)
    assert keystore.aliases() == []
    assert keystore.certificate(ALIAS) is None
    with pytest.raises(KeystoreError):
        keystore.sign(ALIAS, b"data", SignatureScheme.ED25519)
    ed25519_key(keystore.generate_key_pair(ALIAS, KeyAlgorithm.ED25519))


def test_an_ed25519_alias_cannot_be_generated_twice(keystore: Keystore) -> None:
    first = keystore.generate_key_pair(ALIAS, KeyAlgorithm.ED25519)
    with pytest.raises(KeystoreError):
        keystore.generate_key_pair(ALIAS, KeyAlgorithm.ED25519)
    ed25519_key(first).verify(keystore.sign(ALIAS, b"first", SignatureScheme.ED25519), b"first")
