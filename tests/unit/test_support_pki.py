"""tests/support/pki.py: the certificate builder produces what trust-store tests rely on."""
from __future__ import annotations

import base64
import hashlib
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtensionOID, NameOID

from tests.support.pki import b64url, make_certificate, make_hierarchy, to_p7b_der

NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def test_hierarchy_chains_and_names():
    h = make_hierarchy(NOW, organization="Acme", prefix="Chain")
    h.partner.certificate.verify_directly_issued_by(h.intermediate.certificate)
    h.intermediate.certificate.verify_directly_issued_by(h.root.certificate)
    h.root.certificate.verify_directly_issued_by(h.root.certificate)
    partner = h.partner.certificate
    assert partner.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme"
    assert partner.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Chain Partner"
    assert partner.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    root_bc = h.root.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert root_bc.critical and root_bc.value.ca
    assert len({h.root.private_key.public_key().public_numbers().n,
                h.intermediate.private_key.public_key().public_numbers().n,
                h.partner.private_key.public_key().public_numbers().n}) == 3
    aki = partner.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value
    ski = h.intermediate.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert aki.key_identifier == ski.value.digest
    with pytest.raises(x509.ExtensionNotFound):
        h.root.certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)


def test_key_usage_and_partner_ca():
    h = make_hierarchy(NOW, prefix="KU", partner_ca=True)
    usage = h.partner.certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    leaf = make_certificate("KU Leaf", issuer=h.partner, now=NOW, ca=False)
    leaf_usage = leaf.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert leaf_usage.digital_signature and leaf_usage.key_encipherment
    assert not leaf_usage.key_cert_sign
    bare = make_certificate("KU Bare", issuer=h.partner, now=NOW, extensions=False)
    assert len(bare.certificate.extensions) == 0
    assert bare.certificate.version == x509.Version.v3


def test_same_common_name_reuses_key():
    first = make_certificate("Renewed CA", now=NOW)
    renewed = make_certificate("Renewed CA", now=NOW + timedelta(days=400))
    assert first.private_key is renewed.private_key
    assert first.certificate.serial_number != renewed.certificate.serial_number


def test_v1_certificate():
    root = make_certificate("V1 Root", now=NOW)
    v1 = make_certificate("V1 Leaf", issuer=root, now=NOW, version=1, ca=False)
    assert v1.certificate.version == x509.Version.v1
    assert len(v1.certificate.extensions) == 0
    v1.certificate.verify_directly_issued_by(root.certificate)
    self_signed = make_certificate("V1 Self", now=NOW, version=1, hash_name="sha1")
    assert self_signed.certificate.version == x509.Version.v1
    assert isinstance(self_signed.certificate.signature_hash_algorithm, hashes.SHA1)


def test_sha1_certificate_signature_verifies():
    root = make_certificate("SHA1 Root", now=NOW)
    leaf = make_certificate("SHA1 Leaf", issuer=root, now=NOW, hash_name="sha1", ca=False)
    cert = leaf.certificate
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA1)
    root.private_key.public_key().verify(
        cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA1())


def test_sha384_and_ec_and_weak_key():
    strong = make_certificate("SHA384 Root", now=NOW, hash_name="sha384")
    assert isinstance(strong.certificate.signature_hash_algorithm, hashes.SHA384)
    weak = make_certificate("Weak Root", now=NOW, key_size=1024)
    assert weak.certificate.public_key().key_size == 1024
    ec_root = make_certificate("EC Root", now=NOW, ec_curve=ec.SECP256R1())
    ec_v1 = make_certificate("EC V1", issuer=ec_root, now=NOW, version=1)
    assert isinstance(ec_root.private_key, ec.EllipticCurvePrivateKey)
    assert ec_v1.certificate.version == x509.Version.v1
    ec_v1.certificate.verify_directly_issued_by(ec_root.certificate)
    with pytest.raises(ValueError):
        make_certificate("EC SHA1", issuer=ec_root, now=NOW, hash_name="sha1")


def test_expired_and_future_dates():
    expired = make_certificate("Expired CA", now=NOW, not_after=NOW - timedelta(days=10))
    assert expired.certificate.not_valid_after_utc == NOW - timedelta(days=10)
    assert expired.certificate.not_valid_before_utc < expired.certificate.not_valid_after_utc
    future = make_certificate("Future CA", now=NOW, not_before=NOW + timedelta(days=5))
    assert future.certificate.not_valid_before_utc == NOW + timedelta(days=5)
    assert future.certificate.not_valid_after_utc > future.certificate.not_valid_before_utc
    default = make_certificate("Default CA", now=NOW)
    assert default.certificate.not_valid_before_utc == NOW - timedelta(days=1)
    assert default.certificate.not_valid_after_utc == NOW + timedelta(days=3 * 365)


@pytest.mark.parametrize("indefinite", [False, True])
def test_p7b_keeps_order(indefinite):
    h = make_hierarchy(NOW, prefix="P7B")
    # An order a sorting serializer would not keep: leaf first, then root, then intermediate.
    certs = [h.partner.certificate, h.root.certificate, h.intermediate.certificate]
    expected = [c.subject for c in certs]
    blob = to_p7b_der(certs, indefinite_length=indefinite)
    assert (blob[1] == 0x80) is indefinite and blob.endswith(b"\x00\x00") is indefinite

    info = cms.ContentInfo.load(blob)
    assert info["content_type"].native == "signed_data"
    parsed = [x509.load_der_x509_certificate(choice.chosen.dump())
              for choice in info["content"]["certificates"]]
    assert [c.subject for c in parsed] == expected

    # An unsorted SET OF (or indefinite lengths) is BER, not DER: cryptography 50 warns, then
    # falls back to a BER parse. The warning is expected here; the order must still survive.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PKCS#7 certificates could not be parsed as DER")
        loaded = pkcs7.load_der_pkcs7_certificates(blob)
    assert [c.subject for c in loaded] == expected


def test_issued_encodings_and_b64url():
    issued = make_certificate("Enc Root", now=NOW)
    assert issued.pem.startswith("-----BEGIN CERTIFICATE-----")
    reloaded = x509.load_pem_x509_certificate(issued.pem.encode())
    assert reloaded.public_bytes(serialization.Encoding.DER) == issued.der
    assert issued.sha1_hex == hashlib.sha1(issued.der).hexdigest()
    assert issued.sha1_hex == issued.sha1_hex.lower() and len(issued.sha1_hex) == 40
    assert b64url(b"\xfb\xff") == "-_8"
    assert base64.urlsafe_b64decode(b64url(issued.der) + "==") == issued.der
