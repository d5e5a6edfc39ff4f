"""application/crypto/x509.py: certificates and CSRs in the reference's layout
(mosip-crypto.md §0 PEM rules, §3.8), compared with vectors/test_cert.*."""
from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

from application.crypto.x509 import (
    Subject,
    build_csr,
    certificate_der,
    certificate_pem,
    csr_pem,
    issue_certificate,
    parse_pem_certificate,
    positive_serial,
)
from domain.errors import Errors, KeyManagerError
from tests.support.repo import VECTORS_DIR

# ASN.1 universal tags (X.680).
PRINTABLE_STRING = 0x13
UTF8_STRING = 0x0C
SPEC_RDN_ORDER = [
    NameOID.COUNTRY_NAME,
    NameOID.STATE_OR_PROVINCE_NAME,
    NameOID.LOCALITY_NAME,
    NameOID.ORGANIZATION_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.COMMON_NAME,
]
NOT_BEFORE = datetime(2025, 1, 15, 9, 30, 12, 345678, tzinfo=UTC)
NOT_AFTER = NOT_BEFORE + timedelta(days=1095)


# -- helpers ---------------------------------------------------------------------------------


def _tlv(buf: bytes, i: int) -> tuple[int, bytes, int]:
    tag, length = buf[i], buf[i + 1]
    i += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(buf[i : i + n], "big")
        i += n
    return tag, buf[i : i + length], i + length


def name_value_tags(name: x509.Name) -> list[tuple[str, int]]:
    """(attribute OID dotted string, ASN.1 tag of its value) in DER order."""
    tag, rdn_sequence, _ = _tlv(name.public_bytes(), 0)
    assert tag == 0x30
    out = []
    i = 0
    while i < len(rdn_sequence):
        set_tag, rdn, i = _tlv(rdn_sequence, i)
        assert set_tag == 0x31
        j = 0
        while j < len(rdn):
            _, attribute, j = _tlv(rdn, j)
            oid_tag, oid, k = _tlv(attribute, 0)
            assert oid_tag == 0x06
            value_tag, _, _ = _tlv(attribute, k)
            out.append((x509.ObjectIdentifier(_decode_oid(oid)).dotted_string, value_tag))
    return out


def _decode_oid(body: bytes) -> str:
    first = body[0]
    arcs = [first // 40, first % 40]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return ".".join(map(str, arcs))


def signer_for(key: rsa.RSAPrivateKey):
    return lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def rdn_oids(name: x509.Name) -> list[x509.ObjectIdentifier]:
    oids = []
    for rdn in name.rdns:
        attributes = list(rdn)
        assert len(attributes) == 1, "each RDN holds exactly one attribute"
        oids.append(attributes[0].oid)
    return oids


@pytest.fixture(scope="module")
def ca_key() -> rsa.RSAPrivateKey:
    return serialization.load_der_private_key((VECTORS_DIR / "rsa2048_test_key.pk8.der").read_bytes(), None)


@pytest.fixture(scope="module")
def leaf_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def reference_cert() -> x509.Certificate:
    return x509.load_der_x509_certificate((VECTORS_DIR / "test_cert.der").read_bytes())


@pytest.fixture(scope="module")
def ca_subject() -> x509.Name:
    return Subject(
        common_name="www.mosip.io (ROOT)",
        organizational_unit="MOSIP-TECH-CENTER",
        organization="IITB",
        location="BANGALORE",
        state="KA",
        country="IN",
    ).to_name()


@pytest.fixture(scope="module")
def ca_cert(ca_key, ca_subject) -> x509.Certificate:
    return issue_certificate(
        public_key=ca_key.public_key(),
        subject=ca_subject,
        issuer=ca_subject,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
        certificate_authority=True,
        path_length=2,
        signer=signer_for(ca_key),
    )


@pytest.fixture(scope="module")
def leaf_subject() -> x509.Name:
    return Subject(
        common_name="REGISTRATION-ref",
        organizational_unit="OU",
        organization="ORG",
        location="LOC",
        state="ST",
        country="IN",
    ).to_name()


@pytest.fixture(scope="module")
def leaf_cert(ca_key, ca_cert, leaf_key, leaf_subject) -> x509.Certificate:
    return issue_certificate(
        public_key=leaf_key.public_key(),
        subject=leaf_subject,
        issuer=ca_cert.subject,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
        certificate_authority=False,
        path_length=3,  # ignored for end entities
        signer=signer_for(ca_key),
    )


# -- subject names ---------------------------------------------------------------------------


def test_reference_certificate_layout_is_what_we_assume(reference_cert):
    # Sanity check of the published artifact the assertions below are modelled on.
    assert rdn_oids(reference_cert.subject) == SPEC_RDN_ORDER
    tags = dict(name_value_tags(reference_cert.subject))
    assert tags[NameOID.COUNTRY_NAME.dotted_string] == PRINTABLE_STRING


def test_subject_rdn_order(ca_cert, leaf_cert):
    assert rdn_oids(ca_cert.subject) == SPEC_RDN_ORDER
    assert rdn_oids(leaf_cert.subject) == SPEC_RDN_ORDER


def test_subject_string_types_match_reference(ca_cert, reference_cert):
    ours = name_value_tags(ca_cert.subject)
    assert [tag for _, tag in ours] == [tag for _, tag in name_value_tags(reference_cert.subject)]
    tags = dict(ours)
    assert tags[NameOID.COUNTRY_NAME.dotted_string] == PRINTABLE_STRING
    for oid in SPEC_RDN_ORDER[1:]:
        assert tags[oid.dotted_string] == UTF8_STRING


def test_subject_with_reference_values_is_der_equal(reference_cert):
    name = Subject.from_name(reference_cert.subject).to_name()
    assert name.public_bytes() == reference_cert.subject.public_bytes()


def test_subject_skips_empty_values():
    name = Subject(common_name="cn", country="IN").to_name()
    assert rdn_oids(name) == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    assert Subject().to_name() == x509.Name([])


def test_subject_from_name_round_trip():
    subject = Subject("cn", "ou", "o", "l", "st", "IN")
    assert Subject.from_name(subject.to_name()) == subject


def test_issuer_is_der_equal_to_signer_subject(ca_cert, leaf_cert):
    assert leaf_cert.issuer.public_bytes() == ca_cert.subject.public_bytes()
    assert ca_cert.issuer.public_bytes() == ca_cert.subject.public_bytes()


# -- certificate body ------------------------------------------------------------------------


def test_version_and_signature_algorithm(ca_cert, leaf_cert):
    for cert in (ca_cert, leaf_cert):
        assert cert.version is x509.Version.v3
        assert cert.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256


def test_serial_is_positive(ca_cert, leaf_cert):
    assert ca_cert.serial_number > 0
    assert leaf_cert.serial_number > 0
    assert ca_cert.serial_number != leaf_cert.serial_number


def test_positive_serial_range():
    serials = {positive_serial() for _ in range(2000)}
    assert all(0 < s < 2**63 for s in serials)
    assert len(serials) > 1990  # random, not a counter or a constant


def test_validity_truncated_to_seconds(ca_cert, leaf_cert):
    for cert in (ca_cert, leaf_cert):
        assert cert.not_valid_before_utc == NOT_BEFORE.replace(microsecond=0)
        assert cert.not_valid_after_utc == NOT_AFTER.replace(microsecond=0)


def test_extension_order_and_criticality_match_reference(ca_cert, reference_cert):
    expected = [ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.KEY_USAGE]
    assert [e.oid for e in reference_cert.extensions] == expected
    assert [e.oid for e in ca_cert.extensions] == expected
    assert [e.critical for e in ca_cert.extensions] == [e.critical for e in reference_cert.extensions]
    assert [e.critical for e in ca_cert.extensions] == [True, False, True]


def test_ca_basic_constraints(ca_cert):
    extension = ca_cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert extension.critical is True
    assert extension.value.ca is True
    assert extension.value.path_length == 2


def test_ca_with_path_length_one(ca_key, ca_cert, leaf_key):
    sub_ca = issue_certificate(
        public_key=leaf_key.public_key(),
        subject=Subject(common_name="www.mosip.io (REGISTRATION)", country="IN").to_name(),
        issuer=ca_cert.subject,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
        certificate_authority=True,
        path_length=1,
        signer=signer_for(ca_key),
    )
    value = sub_ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert (value.ca, value.path_length) == (True, 1)
    sub_ca.verify_directly_issued_by(ca_cert)


def test_end_entity_basic_constraints(leaf_cert):
    extension = leaf_cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert extension.critical is True
    assert extension.value.ca is False
    assert extension.value.path_length is None


def test_subject_key_identifier(ca_cert, leaf_cert, ca_key, leaf_key):
    for cert, key in ((ca_cert, ca_key), (leaf_cert, leaf_key)):
        extension = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        assert extension.critical is False
        assert extension.value == x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def test_ski_matches_reference_method(reference_cert, ca_key):
    # The reference certificate is for the same key: same SKI (RFC 5280 method 1).
    ours = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    assert reference_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value == ours


def usage_flags(cert: x509.Certificate) -> set[str]:
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    flags = {
        name: getattr(usage, name)
        for name in (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
        )
    }
    return {name for name, on in flags.items() if on}


def test_ca_key_usage(ca_cert, reference_cert):
    assert ca_cert.extensions.get_extension_for_class(x509.KeyUsage).critical is True
    assert usage_flags(ca_cert) == {"digital_signature", "key_cert_sign"}
    assert usage_flags(ca_cert) == usage_flags(reference_cert)


def test_end_entity_key_usage(leaf_cert):
    assert leaf_cert.extensions.get_extension_for_class(x509.KeyUsage).critical is True
    assert usage_flags(leaf_cert) == {"key_encipherment"}


def test_no_authority_key_identifier(ca_cert, leaf_cert):
    for cert in (ca_cert, leaf_cert):
        with pytest.raises(x509.ExtensionNotFound):
            cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)


def test_public_key_is_the_given_one(ca_cert, leaf_cert, ca_key, leaf_key):
    assert ca_cert.public_key().public_numbers() == ca_key.public_key().public_numbers()
    assert leaf_cert.public_key().public_numbers() == leaf_key.public_key().public_numbers()


def test_signatures_verify_with_issuer_key(ca_cert, leaf_cert):
    ca_cert.verify_directly_issued_by(ca_cert)
    leaf_cert.verify_directly_issued_by(ca_cert)


def test_signature_by_wrong_key_does_not_verify(ca_cert, leaf_key, leaf_subject):
    forged = issue_certificate(
        public_key=leaf_key.public_key(),
        subject=leaf_subject,
        issuer=ca_cert.subject,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
        certificate_authority=False,
        path_length=None,
        signer=signer_for(leaf_key),
    )
    with pytest.raises(InvalidSignature):
        forged.verify_directly_issued_by(ca_cert)


def test_certificate_der_round_trip(leaf_cert):
    der = certificate_der(leaf_cert)
    assert x509.load_der_x509_certificate(der) == leaf_cert


def test_certificate_pem_format(leaf_cert):
    # §0: BEGIN line, base64 in 64-character lines, END line, trailing newline.
    pem = certificate_pem(leaf_cert)
    lines = pem.split("\n")
    assert lines[0] == "-----BEGIN CERTIFICATE-----"
    assert pem.endswith("-----END CERTIFICATE-----\n")
    body = lines[1:-2]
    assert all(len(line) == 64 for line in body[:-1]) and 0 < len(body[-1]) <= 64
    assert base64.b64decode("".join(body)) == certificate_der(leaf_cert)


# -- CSR -------------------------------------------------------------------------------------


def test_build_csr(leaf_key, leaf_subject):
    csr = build_csr(public_key=leaf_key.public_key(), subject=leaf_subject, signer=signer_for(leaf_key))
    assert csr.is_signature_valid
    assert csr.subject == leaf_subject
    assert csr.subject.public_bytes() == leaf_subject.public_bytes()
    assert csr.public_key().public_numbers() == leaf_key.public_key().public_numbers()
    assert csr.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256
    assert len(list(csr.extensions)) == 0
    assert len(list(csr.attributes)) == 0
    pem = csr_pem(csr)
    assert pem.startswith("-----BEGIN CERTIFICATE REQUEST-----\n")
    assert x509.load_pem_x509_csr(pem.encode()) == csr


def test_build_csr_signed_by_other_key_is_invalid(ca_key, leaf_key, leaf_subject):
    csr = build_csr(public_key=leaf_key.public_key(), subject=leaf_subject, signer=signer_for(ca_key))
    assert not csr.is_signature_valid


# -- PEM parsing -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_pem() -> str:
    return (VECTORS_DIR / "test_cert.pem").read_text()


def pem_block(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def assert_parse_error(text: str) -> None:
    with pytest.raises(KeyManagerError) as excinfo:
        parse_pem_certificate(text)
    assert excinfo.value.error is Errors.CERTIFICATE_PARSING
    assert excinfo.value.code == "KER-KMS-013"


def test_parse_reference_pem(reference_pem, reference_cert):
    assert parse_pem_certificate(reference_pem) == reference_cert


@pytest.mark.parametrize("label", ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE", "FOO"])
def test_parse_any_label(label, reference_cert):
    text = pem_block(label, certificate_der(reference_cert))
    assert parse_pem_certificate(text) == reference_cert


def test_parse_takes_first_block(reference_cert, leaf_cert):
    text = pem_block("CERTIFICATE", certificate_der(leaf_cert)) + pem_block(
        "CERTIFICATE", certificate_der(reference_cert)
    )
    assert parse_pem_certificate(text) == leaf_cert
    text = "some leading text\n" + pem_block("CERTIFICATE", certificate_der(reference_cert)) + "trailer"
    assert parse_pem_certificate(text) == reference_cert


def test_parse_tolerates_crlf_line_endings(reference_pem, reference_cert):
    assert parse_pem_certificate(reference_pem.replace("\n", "\r\n")) == reference_cert


def test_first_block_not_a_certificate_is_refused(ca_key, reference_cert):
    private_der = ca_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert_parse_error(pem_block("PRIVATE KEY", private_der) + pem_block("CERTIFICATE", certificate_der(reference_cert)))


def test_raw_base64_without_armour_is_refused(reference_cert):
    assert_parse_error(base64.b64encode(certificate_der(reference_cert)).decode())


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("garbage", id="garbage"),
        pytest.param("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", id="bad-base64"),
        pytest.param("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", id="not-der"),
        pytest.param("-----BEGIN CERTIFICATE-----\nMIIB\n", id="no-end-line"),
    ],
)
def test_garbage_is_refused(text):
    assert_parse_error(text)


def test_truncated_certificate_is_refused(reference_pem):
    lines = reference_pem.splitlines()
    truncated = "\n".join(lines[:5] + lines[-1:])
    assert_parse_error(truncated)


def test_certificate_with_an_unsupported_version_is_a_parsing_error():
    """Found by fuzzing: cryptography raises InvalidVersion (not a ValueError) for X.509 v2."""
    der = bytearray((VECTORS_DIR / "test_cert.der").read_bytes())
    marker = der.index(bytes.fromhex("a003020102"))  # [0] EXPLICIT INTEGER 2 (v3)
    der[marker + 4] = 0x01  # v2: rejected by cryptography
    pem = "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(bytes(der)).decode() + "\n-----END CERTIFICATE-----\n"
    with pytest.raises(KeyManagerError) as excinfo:
        parse_pem_certificate(pem)
    assert excinfo.value.code == "KER-KMS-013"
