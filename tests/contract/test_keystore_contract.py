"""One contract for every keystore adapter: what the port promises, observed
through the port only. A new adapter joins by adding a factory to FACTORIES."""
from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from application.crypto.primitives import OAEP_SHA256, generate_rsa_key
from application.ports.keystore import (
    KeyAlgorithm,
    Keystore,
    KeystoreError,
    PrivateKeyOperationError,
    SignatureScheme,
)
from tests.support.keystores import ALIAS, OTHER


def public_key(spki: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_der_public_key(spki)
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def certificate_for(spki: bytes, common_name: str = "test") -> bytes:
    """A certificate of the keystore's public key (RSA or EC), issued by a throw-away CA key."""
    issuer_key = generate_rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(serialization.load_der_public_key(spki))
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


# -- EC keys and the signature schemes ------------------------------------------------------------

#: KeyAlgorithm -> the curve its SubjectPublicKeyInfo must name.
EC_CURVES = {KeyAlgorithm.EC_P256: ec.SECP256R1, KeyAlgorithm.EC_SECP256K1: ec.SECP256K1}
ec_algorithms = pytest.mark.parametrize("algorithm", list(EC_CURVES), ids=[a.value for a in EC_CURVES])
PSS_SHA256_SALT_32 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def ec_public_key(spki: bytes, algorithm: KeyAlgorithm) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(spki)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert isinstance(key.curve, EC_CURVES[algorithm])
    return key


def _spki_of_new_ec_key(algorithm: KeyAlgorithm) -> bytes:
    return ec.generate_private_key(EC_CURVES[algorithm]()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@ec_algorithms
def test_generate_ec_returns_spki_on_the_curve(keystore: Keystore, algorithm: KeyAlgorithm) -> None:
    spki = keystore.generate_key_pair(ALIAS, algorithm)
    key = ec_public_key(spki, algorithm)
    assert key.key_size == 256
    # The SPKI is the canonical (named-curve, uncompressed point) encoding `cryptography` makes.
    assert key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == spki
    other = keystore.generate_key_pair(OTHER, algorithm)
    assert other != spki
    assert sorted(keystore.aliases()) == sorted([ALIAS, OTHER])


def test_rsa_and_ec_keys_live_side_by_side(keystore: Keystore) -> None:
    rsa_key = public_key(keystore.generate_key_pair(ALIAS, KeyAlgorithm.RSA_2048))
    ec_key = ec_public_key(keystore.generate_key_pair(OTHER, KeyAlgorithm.EC_P256), KeyAlgorithm.EC_P256)
    assert sorted(keystore.aliases()) == sorted([ALIAS, OTHER])
    assert keystore.decrypt(ALIAS, rsa_key.encrypt(b"rsa", OAEP_SHA256)) == b"rsa"
    ec_key.verify(keystore.sign(OTHER, b"ec", SignatureScheme.ECDSA_SHA256), b"ec", ec.ECDSA(hashes.SHA256()))


@ec_algorithms
def test_ecdsa_sha256_signature_is_der_and_verifies(keystore: Keystore, algorithm: KeyAlgorithm) -> None:
    key = ec_public_key(keystore.generate_key_pair(ALIAS, algorithm), algorithm)
    for data in (b"to be signed", b"", bytes(range(256)) * 40):
        signature = keystore.sign(ALIAS, data, SignatureScheme.ECDSA_SHA256)
        r, s = decode_dss_signature(signature)  # DER SEQUENCE { r, s }, not raw r || s
        assert 0 < r < 2**256 and 0 < s < 2**256
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        with pytest.raises(InvalidSignature):
            key.verify(signature, data + b"x", ec.ECDSA(hashes.SHA256()))
    # ECDSA is randomised (or deterministic per RFC 6979): either way both signatures verify.
    again = keystore.sign(ALIAS, b"to be signed", SignatureScheme.ECDSA_SHA256)
    key.verify(again, b"to be signed", ec.ECDSA(hashes.SHA256()))


def test_ecdsa_signature_is_made_with_the_alias_key(keystore: Keystore) -> None:
    keystore.generate_key_pair(ALIAS, KeyAlgorithm.EC_P256)
    other = ec_public_key(keystore.generate_key_pair(OTHER, KeyAlgorithm.EC_P256), KeyAlgorithm.EC_P256)
    with pytest.raises(InvalidSignature):
        other.verify(keystore.sign(ALIAS, b"data", SignatureScheme.ECDSA_SHA256), b"data", ec.ECDSA(hashes.SHA256()))


def test_rsa_pss_sha256_verifies_with_mgf1_sha256_salt_32(keystore: Keystore) -> None:
    key = public_key(keystore.generate_key_pair(ALIAS))
    signature = keystore.sign(ALIAS, b"to be signed", SignatureScheme.RSA_PSS_SHA256)
    assert len(signature) == 256
    key.verify(signature, b"to be signed", PSS_SHA256_SALT_32, hashes.SHA256())
    with pytest.raises(InvalidSignature):
        key.verify(signature, b"something else", PSS_SHA256_SALT_32, hashes.SHA256())
    # Not a PKCS#1 v1.5 signature, and not one with another salt length.
    with pytest.raises(InvalidSignature):
        key.verify(signature, b"to be signed", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        key.verify(signature, b"to be signed", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=20),
                   hashes.SHA256())
    # A random salt: signing twice gives two different signatures, both valid.
    again = keystore.sign(ALIAS, b"to be signed", SignatureScheme.RSA_PSS_SHA256)
    assert again != signature
    key.verify(again, b"to be signed", PSS_SHA256_SALT_32, hashes.SHA256())


def test_default_scheme_is_pkcs1_sha256(keystore: Keystore) -> None:
    key = public_key(keystore.generate_key_pair(ALIAS))
    explicit = keystore.sign(ALIAS, b"data", SignatureScheme.RSA_PKCS1_SHA256)
    assert keystore.sign(ALIAS, b"data") == explicit  # PKCS#1 v1.5 is deterministic
    key.verify(explicit, b"data", padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize(
    ("algorithm", "scheme"),
    [
        (KeyAlgorithm.RSA_2048, SignatureScheme.ECDSA_SHA256),
        (KeyAlgorithm.RSA_2048, SignatureScheme.ED25519),
        (KeyAlgorithm.EC_P256, SignatureScheme.RSA_PKCS1_SHA256),
        (KeyAlgorithm.EC_P256, SignatureScheme.RSA_PSS_SHA256),
        (KeyAlgorithm.EC_P256, SignatureScheme.ED25519),
        (KeyAlgorithm.EC_SECP256K1, SignatureScheme.RSA_PKCS1_SHA256),
        (KeyAlgorithm.EC_SECP256K1, SignatureScheme.RSA_PSS_SHA256),
    ],
    ids=lambda value: value.value,
)
def test_scheme_that_does_not_fit_the_key_raises(
    keystore: Keystore, algorithm: KeyAlgorithm, scheme: SignatureScheme
) -> None:
    keystore.generate_key_pair(ALIAS, algorithm)
    with pytest.raises(PrivateKeyOperationError):
        keystore.sign(ALIAS, b"data", scheme)
    # A refused scheme is a failure of that request only: the key still signs with its own scheme.
    own = SignatureScheme.RSA_PKCS1_SHA256 if algorithm is KeyAlgorithm.RSA_2048 else SignatureScheme.ECDSA_SHA256
    assert keystore.sign(ALIAS, b"data", own)
    assert keystore.aliases() == [ALIAS]


@ec_algorithms
def test_decrypt_with_an_ec_key_raises(keystore: Keystore, algorithm: KeyAlgorithm) -> None:
    key = ec_public_key(keystore.generate_key_pair(ALIAS, algorithm), algorithm)
    for block in (b"\x01" * 256, b"\x00" * 32, b""):
        with pytest.raises(PrivateKeyOperationError):
            keystore.decrypt(ALIAS, block)
    key.verify(keystore.sign(ALIAS, b"data", SignatureScheme.ECDSA_SHA256), b"data", ec.ECDSA(hashes.SHA256()))


@ec_algorithms
def test_certificate_of_an_ec_key_is_stored_and_replaced(keystore: Keystore, algorithm: KeyAlgorithm) -> None:
    spki = keystore.generate_key_pair(ALIAS, algorithm)
    first = certificate_for(spki, "first")
    keystore.store_certificate(ALIAS, first)
    assert keystore.certificate(ALIAS) == first
    second = certificate_for(spki, "second")
    keystore.store_certificate(ALIAS, second)
    assert keystore.certificate(ALIAS) == second
    key = ec_public_key(spki, algorithm)
    key.verify(keystore.sign(ALIAS, b"kept", SignatureScheme.ECDSA_SHA256), b"kept", ec.ECDSA(hashes.SHA256()))


@ec_algorithms
@pytest.mark.parametrize("stranger", ["same-curve", "other-curve", "rsa"])
def test_certificate_for_another_key_is_rejected_for_an_ec_key(
    keystore: Keystore, algorithm: KeyAlgorithm, stranger: str
) -> None:
    keystore.generate_key_pair(ALIAS, algorithm)
    if stranger == "same-curve":
        spki = _spki_of_new_ec_key(algorithm)
    elif stranger == "other-curve":
        spki = _spki_of_new_ec_key(next(a for a in EC_CURVES if a is not algorithm))
    else:
        spki = _spki_of_new_key()
    with pytest.raises(KeystoreError):
        keystore.store_certificate(ALIAS, certificate_for(spki))
    assert keystore.certificate(ALIAS) is None


def test_certificate_of_an_ec_key_is_rejected_for_an_rsa_key(keystore: Keystore) -> None:
    keystore.generate_key_pair(ALIAS)
    with pytest.raises(KeystoreError):
        keystore.store_certificate(ALIAS, certificate_for(_spki_of_new_ec_key(KeyAlgorithm.EC_P256)))
    assert keystore.certificate(ALIAS) is None


@ec_algorithms
def test_delete_removes_an_ec_key_and_its_certificate(keystore: Keystore, algorithm: KeyAlgorithm) -> None:
    spki = keystore.generate_key_pair(ALIAS, algorithm)
    keystore.store_certificate(ALIAS, certificate_for(spki))
    keystore.generate_key_pair(OTHER, algorithm)
    keystore.delete(ALIAS)
    assert keystore.aliases() == [OTHER]
    assert keystore.certificate(ALIAS) is None
    with pytest.raises(KeystoreError):
        keystore.sign(ALIAS, b"data", SignatureScheme.ECDSA_SHA256)
    keystore.delete(ALIAS)  # absent: no error
    # Nothing of the old key is left under the alias (a PKCS#11 token keeps an EC public-key
    # object beside the private key): a new key there reports and uses its own public key.
    fresh = keystore.generate_key_pair(ALIAS, algorithm)
    assert fresh != spki
    key = ec_public_key(fresh, algorithm)
    key.verify(keystore.sign(ALIAS, b"new", SignatureScheme.ECDSA_SHA256), b"new", ec.ECDSA(hashes.SHA256()))
    keystore.store_certificate(ALIAS, certificate_for(fresh))
    with pytest.raises(KeystoreError):
        keystore.store_certificate(ALIAS, certificate_for(spki))  # the deleted key's certificate


@ec_algorithms
def test_duplicate_ec_generate_raises_and_keeps_first_key(keystore: Keystore, algorithm: KeyAlgorithm) -> None:
    key = ec_public_key(keystore.generate_key_pair(ALIAS, algorithm), algorithm)
    for again in (algorithm, KeyAlgorithm.RSA_2048):
        with pytest.raises(KeystoreError):
            keystore.generate_key_pair(ALIAS, again)
    key.verify(keystore.sign(ALIAS, b"first", SignatureScheme.ECDSA_SHA256), b"first", ec.ECDSA(hashes.SHA256()))
    assert keystore.aliases() == [ALIAS]
