"""The service's own client-crypto key pairs (application/keys/client_keys.py) on the in-memory store
and keystore: made once on first use, whoever races for them, recovered from a half-made pair."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID

from application.keys.client_keys import ENCRYPTION_ALIAS, SIGNING_ALIAS, ClientKeys
from domain.errors import KeyManagerError


@pytest.fixture
def built(memory_settings, clock, make_container):
    return make_container(memory_settings, clock)


def fresh(container) -> ClientKeys:
    """Another ClientKeys on the same store and keystore (as another worker would have), no cache shared."""
    return ClientKeys(container.keystore(), container.uow_factory(), container.clock(),
                      container.certificate_defaults())


def test_made_on_first_use_then_the_same_pairs(built) -> None:
    keystore = built.keystore()
    assert keystore.aliases() == []
    signing, encryption = fresh(built).signing_key(), fresh(built).encryption_key()
    assert sorted(keystore.aliases()) == sorted([SIGNING_ALIAS, ENCRYPTION_ALIAS])
    assert signing.spki != encryption.spki
    again = fresh(built)
    assert again.signing_key() == signing and again.encryption_key() == encryption


def test_the_certificate_only_carries_the_public_key(built) -> None:
    key = fresh(built).signing_key()
    certificate = x509.load_der_x509_certificate(key.certificate_der)
    assert certificate.issuer == certificate.subject
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "www.mosip.io (CLIENT_CRYPTO-SIGNING)"
    assert certificate.not_valid_after_utc == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    certificate.public_key().verify(  # self-signed by the key it carries
        certificate.signature, certificate.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256()
    )


def test_racing_threads_end_with_one_pair(built) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda _: fresh(built).signing_key(), range(16)))
    assert len({key.spki for key in keys}) == 1
    assert built.keystore().aliases() == [SIGNING_ALIAS]


def test_a_pair_left_without_its_certificate_is_made_again(built) -> None:
    keystore = built.keystore()
    left_over = keystore.generate_key_pair(SIGNING_ALIAS)  # a crash before the certificate was stored
    key = fresh(built).signing_key()
    assert key.spki != left_over
    assert keystore.aliases() == [SIGNING_ALIAS]
    assert keystore.certificate(SIGNING_ALIAS) == key.certificate_der


def test_creation_is_in_the_audit_trail(built) -> None:
    key = fresh(built).encryption_key()
    records = [r for r in built.audit_log().records() if r.key_alias == ENCRYPTION_ALIAS]
    assert [(r.operation, r.thumbprint) for r in records] == [("generateKey", key.thumbprint)]
    fresh(built).encryption_key()
    assert len([r for r in built.audit_log().records() if r.key_alias == ENCRYPTION_ALIAS]) == 1


def test_signing_and_unwrapping(built) -> None:
    keys = fresh(built)
    signature, key = keys.sign(b"data")
    key.public_key.verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())
    secret = bytes(range(32))
    wrapped = keys.encryption_key().public_key.encrypt(
        secret, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    )
    assert keys.unwrap(wrapped)[0] == secret
    with pytest.raises(KeyManagerError, match="KER-CC-004"):
        keys.unwrap(bytes(256))
