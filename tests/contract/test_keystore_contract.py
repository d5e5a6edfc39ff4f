"""One contract for every keystore adapter: what the port promises, observed
through the port only. A new adapter joins by adding a factory to FACTORIES."""
from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from adapters.memory.keystore import MemoryKeystore
from adapters.pkcs12.keystore import Pkcs12Keystore
from application.crypto import OAEP_SHA256, generate_rsa_key
from application.ports.keystore import Keystore, KeystoreError, PrivateKeyOperationError

ALIAS = "5b0d1e5c-8c3a-4a8e-9d3e-2f1a6c7b8d90"
OTHER = "0f6c2d1e-1111-4a8e-9d3e-2f1a6c7b8d91"


def _memory(tmp_path: Path, request: pytest.FixtureRequest) -> Keystore:
    return MemoryKeystore()


def _pkcs12(tmp_path: Path, request: pytest.FixtureRequest) -> Keystore:
    return Pkcs12Keystore(tmp_path / "keystore", b"contract-test-password")


def _pkcs11(tmp_path: Path, request: pytest.FixtureRequest) -> Keystore:
    """The session's SoftHSM2 token (the fixture fails under CI=true, skips elsewhere when
    SoftHSM2 is missing). The token outlives the test, so it is emptied first: the contract
    expects a keystore without keys."""
    from adapters.pkcs11.keystore import Pkcs11Keystore

    token = request.getfixturevalue("softhsm_token")
    keystore = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    for alias in {*keystore.aliases(), ALIAS, OTHER}:
        keystore.delete(alias)
    assert keystore.aliases() == []
    return keystore


#: name -> factory(tmp_path, request); a factory needing a fixture asks ``request.getfixturevalue``.
FACTORIES: dict[str, Callable[[Path, pytest.FixtureRequest], Keystore]] = {
    "memory": _memory,
    "pkcs12": _pkcs12,
    "pkcs11": _pkcs11,
}


@pytest.fixture(params=list(FACTORIES))
def keystore(request: pytest.FixtureRequest, tmp_path: Path) -> Keystore:
    return FACTORIES[request.param](tmp_path, request)


def public_key(spki: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_der_public_key(spki)
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def certificate_for(spki: bytes, common_name: str = "test") -> bytes:
    """A certificate of the keystore's public key, issued by a throw-away CA key."""
    issuer_key = generate_rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key(spki))
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(issuer_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_generate_returns_rsa_2048_spki(keystore: Keystore) -> None:
    key = public_key(keystore.generate_key_pair(ALIAS))
    assert key.key_size == 2048
    assert key.public_numbers().e == 65537


def test_decrypt_round_trips_oaep_sha256(keystore: Keystore) -> None:
    key = public_key(keystore.generate_key_pair(ALIAS))
    secret = b"\x00\x01 a 32-byte AES key, more or less"
    assert keystore.decrypt(ALIAS, key.encrypt(secret, OAEP_SHA256)) == secret


def test_decrypt_tampered_block_raises(keystore: Keystore) -> None:
    key = public_key(keystore.generate_key_pair(ALIAS))
    block = bytearray(key.encrypt(b"secret", OAEP_SHA256))
    block[10] ^= 0x01
    with pytest.raises(PrivateKeyOperationError):
        keystore.decrypt(ALIAS, bytes(block))


def test_decrypt_with_other_key_raises(keystore: Keystore) -> None:
    keystore.generate_key_pair(ALIAS)
    other = public_key(keystore.generate_key_pair(OTHER))
    with pytest.raises(PrivateKeyOperationError):
        keystore.decrypt(ALIAS, other.encrypt(b"secret", OAEP_SHA256))


@pytest.mark.parametrize("block", [b"\xff" * 256, b"\x00" * 256, b"\x01" * 255, b"\x01" * 257, b""],
                         ids=["above-modulus", "zero", "short", "long", "empty"])
def test_decrypt_malformed_block_raises(keystore: Keystore, block: bytes) -> None:
    """A block the RSA operation cannot take (c >= n, wrong length) is a decryption failure
    of that input, not a keystore failure: the keystore keeps working."""
    key = public_key(keystore.generate_key_pair(ALIAS))
    with pytest.raises(PrivateKeyOperationError):
        keystore.decrypt(ALIAS, block)
    assert keystore.decrypt(ALIAS, key.encrypt(b"still fine", OAEP_SHA256)) == b"still fine"


def test_decrypt_block_of_the_modulus_itself_raises(keystore: Keystore) -> None:
    key = public_key(keystore.generate_key_pair(ALIAS))
    modulus = key.public_numbers().n.to_bytes(256, "big")
    with pytest.raises(PrivateKeyOperationError):
        keystore.decrypt(ALIAS, modulus)


def test_sign_verifies_with_public_key(keystore: Keystore) -> None:
    key = public_key(keystore.generate_key_pair(ALIAS))
    signature = keystore.sign(ALIAS, b"to be signed")
    key.verify(signature, b"to be signed", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        key.verify(signature, b"something else", padding.PKCS1v15(), hashes.SHA256())


def test_certificate_absent_stored_replaced(keystore: Keystore) -> None:
    spki = keystore.generate_key_pair(ALIAS)
    assert keystore.certificate(ALIAS) is None
    first = certificate_for(spki, "first")
    keystore.store_certificate(ALIAS, first)
    assert keystore.certificate(ALIAS) == first
    second = certificate_for(spki, "second")
    keystore.store_certificate(ALIAS, second)
    assert keystore.certificate(ALIAS) == second


def test_storing_a_certificate_keeps_the_key(keystore: Keystore) -> None:
    key = public_key(spki := keystore.generate_key_pair(ALIAS))
    keystore.store_certificate(ALIAS, certificate_for(spki))
    assert keystore.decrypt(ALIAS, key.encrypt(b"still here", OAEP_SHA256)) == b"still here"


def test_certificate_of_unknown_alias_is_none(keystore: Keystore) -> None:
    assert keystore.certificate(ALIAS) is None


def test_certificate_for_another_key_is_rejected(keystore: Keystore) -> None:
    keystore.generate_key_pair(ALIAS)
    stranger = certificate_for(_spki_of_new_key())
    with pytest.raises(KeystoreError):
        keystore.store_certificate(ALIAS, stranger)
    assert keystore.certificate(ALIAS) is None


def test_invalid_certificate_der_is_rejected(keystore: Keystore) -> None:
    keystore.generate_key_pair(ALIAS)
    with pytest.raises(KeystoreError):
        keystore.store_certificate(ALIAS, b"not a certificate")


def test_aliases_lists_generated_keys(keystore: Keystore) -> None:
    assert keystore.aliases() == []
    keystore.generate_key_pair(ALIAS)
    keystore.generate_key_pair(OTHER)
    assert sorted(keystore.aliases()) == sorted([ALIAS, OTHER])


def test_delete_removes_key_and_certificate(keystore: Keystore) -> None:
    spki = keystore.generate_key_pair(ALIAS)
    keystore.store_certificate(ALIAS, certificate_for(spki))
    keystore.generate_key_pair(OTHER)
    keystore.delete(ALIAS)
    assert keystore.aliases() == [OTHER]
    assert keystore.certificate(ALIAS) is None
    with pytest.raises(KeystoreError):
        keystore.sign(ALIAS, b"data")
    keystore.delete(ALIAS)  # absent: no error


def test_alias_can_be_generated_again_after_delete(keystore: Keystore) -> None:
    first = keystore.generate_key_pair(ALIAS)
    keystore.delete(ALIAS)
    assert keystore.generate_key_pair(ALIAS) != first


@pytest.mark.parametrize(
    "operation",
    [
        lambda ks: ks.decrypt(ALIAS, b"\x00" * 256),
        lambda ks: ks.sign(ALIAS, b"data"),
        lambda ks: ks.store_certificate(ALIAS, certificate_for(_spki_of_new_key())),
    ],
    ids=["decrypt", "sign", "store_certificate"],
)
def test_unknown_alias_raises(keystore: Keystore, operation: Callable[[Keystore], object]) -> None:
    with pytest.raises(KeystoreError, match="No such alias"):
        operation(keystore)


def test_duplicate_generate_raises_and_keeps_first_key(keystore: Keystore) -> None:
    key = public_key(keystore.generate_key_pair(ALIAS))
    with pytest.raises(KeystoreError):
        keystore.generate_key_pair(ALIAS)
    assert keystore.decrypt(ALIAS, key.encrypt(b"first", OAEP_SHA256)) == b"first"


def test_health_is_ok(keystore: Keystore) -> None:
    keystore.generate_key_pair(ALIAS)
    health = keystore.health()
    assert health.ok
    assert health.detail


def _spki_of_new_key() -> bytes:
    return generate_rsa_key().public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
