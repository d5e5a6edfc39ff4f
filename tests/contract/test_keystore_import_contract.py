"""The keystore port's import half (``keymanager keystore import``), one contract for every adapter
of tests/contract/test_keystore_contract.py: import_key_pair and import_secret_key store keys made
elsewhere under the given alias, usable as generated ones are; a taken alias, a certificate of
another key or a key we do not hold are refused and leave nothing behind. Then what only the
token promises: an imported key is sensitive and non-extractable there."""
from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

from application.crypto.primitives import OAEP_SHA256
from application.ports.keystore import Keystore, KeystoreError, SignatureScheme
from tests.support.keystores import ALIAS, OTHER
from tests.support.required import adapter_params

BLOCKS = bytes(range(32))


def pkcs8(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def certificate(key, issuer_key=None) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imported")])
    now = datetime.datetime.now(datetime.UTC)
    signer = issuer_key or key
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(signer, None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def ecb(key: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(data) + encryptor.finalize()


@pytest.fixture
def rsa_pair(rsa_keys):
    key = rsa_keys()
    return key, certificate(key)


def test_imported_rsa_key_pair_decrypts_signs_and_keeps_its_leaf(keystore: Keystore, rsa_pair, rsa_keys) -> None:
    key, leaf = rsa_pair
    issuer = certificate(rsa_keys())
    keystore.import_key_pair(ALIAS, pkcs8(key), [leaf, issuer])
    assert keystore.aliases() == [ALIAS]
    assert keystore.certificate(ALIAS) == leaf  # the leaf only, as the reference keeps chains of one
    assert keystore.decrypt(ALIAS, key.public_key().encrypt(b"session key", OAEP_SHA256)) == b"session key"
    signature = keystore.sign(ALIAS, b"data", SignatureScheme.RSA_PKCS1_SHA256)
    key.public_key().verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP256K1()], ids=lambda c: c.name)
def test_imported_ec_key_pair_signs(keystore: Keystore, curve) -> None:
    key = ec.generate_private_key(curve)
    leaf = certificate(key)
    keystore.import_key_pair(ALIAS, pkcs8(key), [leaf])
    signature = keystore.sign(ALIAS, b"data", SignatureScheme.ECDSA_SHA256)
    key.public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA256()))
    assert keystore.certificate(ALIAS) == leaf


@pytest.mark.parametrize("length", [16, 24, 32])
def test_imported_secret_key_wraps_as_the_original(keystore: Keystore, length: int) -> None:
    key = bytes(range(100, 100 + length))
    keystore.import_secret_key(ALIAS, key)
    assert keystore.encrypt_blocks(ALIAS, BLOCKS) == ecb(key, BLOCKS)
    assert keystore.decrypt_blocks(ALIAS, ecb(key, BLOCKS)) == BLOCKS
    assert keystore.aliases() == [ALIAS]


def test_a_taken_alias_is_refused_and_keeps_the_first_key(keystore: Keystore, rsa_pair) -> None:
    key, leaf = rsa_pair
    keystore.generate_secret_key(ALIAS)
    before = keystore.encrypt_blocks(ALIAS, BLOCKS)
    with pytest.raises(KeystoreError):
        keystore.import_key_pair(ALIAS, pkcs8(key), [leaf])
    with pytest.raises(KeystoreError):
        keystore.import_secret_key(ALIAS, bytes(32))
    keystore.import_key_pair(OTHER, pkcs8(key), [leaf])
    with pytest.raises(KeystoreError):
        keystore.import_secret_key(OTHER, bytes(32))
    assert keystore.encrypt_blocks(ALIAS, BLOCKS) == before
    assert keystore.certificate(OTHER) == leaf


def test_a_certificate_of_another_key_is_refused(keystore: Keystore, rsa_pair, rsa_keys) -> None:
    key, _ = rsa_pair
    with pytest.raises(KeystoreError, match="not the key's"):
        keystore.import_key_pair(ALIAS, pkcs8(key), [certificate(rsa_keys())])
    with pytest.raises(KeystoreError, match="no certificate"):
        keystore.import_key_pair(ALIAS, pkcs8(key), [])
    assert keystore.aliases() == []


@pytest.mark.parametrize("make", [
    lambda: ed25519.Ed25519PrivateKey.generate(),
    lambda: ec.generate_private_key(ec.SECP384R1()),
    lambda: dsa.generate_private_key(2048),
    lambda: rsa.generate_private_key(65537, 1024),
], ids=["ed25519", "p384", "dsa", "rsa1024"])
def test_keys_we_do_not_hold_are_refused(keystore: Keystore, make) -> None:
    key = make()
    with pytest.raises(KeystoreError, match="Cannot import"):
        keystore.import_key_pair(ALIAS, pkcs8(key), [certificate(key)])
    assert keystore.aliases() == []


@pytest.mark.parametrize("length", [0, 15, 31, 64])
def test_a_secret_key_of_another_length_is_refused(keystore: Keystore, length: int) -> None:
    with pytest.raises(KeystoreError, match="not an AES key"):
        keystore.import_secret_key(ALIAS, bytes(length))
    assert keystore.aliases() == []


def test_imported_keys_can_be_deleted(keystore: Keystore, rsa_pair) -> None:
    key, leaf = rsa_pair
    keystore.import_key_pair(ALIAS, pkcs8(key), [leaf])
    keystore.import_secret_key(OTHER, bytes(32))
    keystore.delete(ALIAS)
    keystore.delete(OTHER)
    assert keystore.aliases() == []
    assert keystore.certificate(ALIAS) is None


# -- the token: an imported key never leaves it ---------------------------------------------------


@pytest.fixture(params=adapter_params(["pkcs11"]))
def token_keystore(request, tmp_path):
    from tests.support.keystores import FACTORIES

    return FACTORIES[request.param](tmp_path, request), request.getfixturevalue("softhsm_token")


def test_imported_token_keys_are_sensitive_and_not_extractable(token_keystore, rsa_pair) -> None:
    from pkcs11 import Attribute, ObjectClass

    from tests.support.pkcs11 import own_session, token_private_key_attributes

    keystore, token = token_keystore
    key, leaf = rsa_pair
    keystore.import_key_pair(ALIAS, pkcs8(key), [leaf])
    keystore.import_secret_key(OTHER, bytes(32))
    attributes = token_private_key_attributes(token, ALIAS)
    assert attributes is not None
    assert attributes["sensitive"] and not attributes["extractable"] and attributes["token"]
    assert not attributes["exponent_readable"]
    assert attributes["modulus"] == key.public_key().public_numbers().n
    with own_session(token) as session:
        (secret,) = session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.ID: OTHER.encode()})
        assert secret[Attribute.SENSITIVE] and not secret[Attribute.EXTRACTABLE] and secret[Attribute.TOKEN]
        assert secret[Attribute.LABEL] == OTHER
