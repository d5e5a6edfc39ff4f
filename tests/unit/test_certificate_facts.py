"""application/partner_trust/certificate_facts.py: what the partner trust store reads off a certificate
(DN strings, thumbprints, self-signedness, signature and key checks, the upload input)."""
from __future__ import annotations

import base64
import hashlib
import re
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.x509.oid import NameOID

from application.partner_trust.certificate_facts import (
    dn_string,
    is_self_signed,
    parse_partner_certificate,
    parse_upload,
    rsa_key_too_small,
    sha1_thumbprint,
    sha2_signature,
)
from domain.errors import KeyManagerError
from tests.support.pki import b64url, cached_key, make_certificate, make_hierarchy, to_p7b_der

NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def hierarchy():
    return make_hierarchy(NOW, prefix="Facts")


def name(**parts: str) -> x509.Name:
    """A name in the reference's DER order (C, ST, L, O, OU, CN); keyword order is ignored."""
    oids = [("C", NameOID.COUNTRY_NAME), ("ST", NameOID.STATE_OR_PROVINCE_NAME), ("L", NameOID.LOCALITY_NAME),
            ("O", NameOID.ORGANIZATION_NAME), ("OU", NameOID.ORGANIZATIONAL_UNIT_NAME),
            ("CN", NameOID.COMMON_NAME)]
    return x509.Name([x509.NameAttribute(oid, parts[label]) for label, oid in oids if label in parts])


def cn(value: str) -> str:
    return dn_string(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value)]))


def assert_code(error: pytest.ExceptionInfo[KeyManagerError], code: str) -> None:
    assert error.value.code == code, error.value


# -- dn_string -----------------------------------------------------------------------------------


def test_dn_string_orders_cn_ou_o_l_st_c_without_spaces() -> None:
    full = name(C="IN", ST="Karnataka", L="Bengaluru", O="MOSIP", OU="Kernel", CN="Root CA")
    assert dn_string(full) == "CN=Root CA,OU=Kernel,O=MOSIP,L=Bengaluru,ST=Karnataka,C=IN"
    # whatever order the certificate holds them in
    reversed_name = x509.Name(list(reversed(list(full))))
    assert dn_string(reversed_name) == "CN=Root CA,OU=Kernel,O=MOSIP,L=Bengaluru,ST=Karnataka,C=IN"


@pytest.mark.parametrize(
    "parts, expected",
    [
        ({"CN": "Only"}, "CN=Only"),
        ({"O": "Org", "C": "IN"}, "O=Org,C=IN"),
        ({"CN": "Leaf", "C": "FR"}, "CN=Leaf,C=FR"),
        ({"L": "Paris", "ST": "IDF"}, "L=Paris,ST=IDF"),
        ({"OU": "Unit", "CN": "Name"}, "CN=Name,OU=Unit"),
    ],
)
def test_dn_string_lists_only_present_rdns(parts: dict[str, str], expected: str) -> None:
    assert dn_string(name(**parts)) == expected


def test_dn_string_ignores_other_attributes_and_takes_the_first_value() -> None:
    mixed = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "IN"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "first"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "second"),
        x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ca@example.org"),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, "42"),
        x509.NameAttribute(NameOID.COMMON_NAME, "CA"),
    ])
    assert dn_string(mixed) == "CN=CA,OU=first,C=IN"
    assert dn_string(x509.Name([])) == ""


@pytest.mark.parametrize(
    "value, expected",
    [
        (",", "\\,"),
        ("+", "\\+"),
        ('"', '\\"'),
        ("\\", "\\\\"),
        ("<", "\\<"),
        (">", "\\>"),
        (";", "\\;"),
        ("=", "\\="),
        ('a,b+c"d\\e<f>g;h=i', 'a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\=i'),
        ("Doe, John", "Doe\\, John"),
        ("#hash", "\\#hash"),
        ("not#leading", "not#leading"),
        (" leading", "\\ leading"),
        ("trailing ", "trailing\\ "),
        (" both ", "\\ both\\ "),
        ("inner space", "inner space"),
        ("#,", "\\#\\,"),
        ("a, ", "a\\,\\ "),
        ("École-Ωμέγα", "École-Ωμέγα"),
        ("a*b(c)/d:e", "a*b(c)/d:e"),
    ],
)
def test_dn_string_escapes_values_as_rfc4514(value: str, expected: str) -> None:
    assert cn(value) == "CN=" + expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("  two leading", "\\ \\ two leading"),
        ("two trailing  ", "two trailing\\ \\ "),
        ("a\\ ", "a\\\\\\ "),  # a, backslash, space -> a\\\<space>
    ],
)
def test_dn_string_escapes_every_leading_and_trailing_space(value: str, expected: str) -> None:
    assert cn(value) == "CN=" + expected


def test_dn_string_of_built_certificates(hierarchy) -> None:
    partner = make_certificate("Facts Partner, Inc.", issuer=hierarchy.intermediate, now=NOW, ca=False,
                               organization="Partner+Org", organizational_unit="Unit",
                               locality="Bengaluru", state="KA", country="IN")
    assert dn_string(partner.certificate.subject) == (
        "CN=Facts Partner\\, Inc.,OU=Unit,O=Partner\\+Org,L=Bengaluru,ST=KA,C=IN")
    assert dn_string(partner.certificate.issuer) == "CN=Facts Intermediate CA"


# -- sha1_thumbprint -----------------------------------------------------------------------------


def test_sha1_thumbprint_is_lower_case_hex_of_the_der(hierarchy) -> None:
    for issued in (hierarchy.root, hierarchy.intermediate, hierarchy.partner):
        thumbprint = sha1_thumbprint(issued.certificate)
        assert re.fullmatch(r"[0-9a-f]{40}", thumbprint)
        assert thumbprint == hashlib.sha1(issued.der).hexdigest() == issued.sha1_hex
    assert len({sha1_thumbprint(i.certificate) for i in (hierarchy.root, hierarchy.intermediate)}) == 2


# -- is_self_signed ------------------------------------------------------------------------------


def test_a_root_is_self_signed(hierarchy) -> None:
    assert is_self_signed(hierarchy.root.certificate)
    ec_root = make_certificate("Facts EC Root", now=NOW, ec_curve=ec.SECP384R1(), hash_name="sha384")
    assert is_self_signed(ec_root.certificate)


def test_an_issued_certificate_is_not_self_signed(hierarchy) -> None:
    assert not is_self_signed(hierarchy.intermediate.certificate)
    assert not is_self_signed(hierarchy.partner.certificate)


def test_the_same_name_with_another_key_is_not_self_signed() -> None:
    subject_key, signing_key = cached_key("Facts Twin A"), cached_key("Facts Twin B")
    twin = name(CN="Facts Twin", C="IN")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(twin).issuer_name(twin)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(signing_key, hashes.SHA256())
    )
    assert certificate.issuer == certificate.subject
    assert not is_self_signed(certificate)


# -- sha2_signature / rsa_key_too_small ----------------------------------------------------------


def _builder(common_name: str, public_key) -> x509.CertificateBuilder:
    subject = name(CN=common_name)
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=365))
    )


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: make_certificate("Facts SHA256 RSA", now=NOW).certificate, True),
        (lambda: make_certificate("Facts SHA384 RSA", now=NOW, hash_name="sha384").certificate, True),
        (lambda: make_certificate("Facts ECDSA384", now=NOW, ec_curve=ec.SECP384R1(),
                                  hash_name="sha384").certificate, True),
        (lambda: make_certificate("Facts ECDSA256", now=NOW, ec_curve=ec.SECP256R1()).certificate, True),
        (lambda: make_certificate("Facts SHA1 RSA", now=NOW, hash_name="sha1").certificate, False),
        (lambda: _builder("Facts PSS", cached_key("Facts PSS").public_key()).sign(
            cached_key("Facts PSS"), hashes.SHA256(),
            rsa_padding=padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)),
         False),
        (lambda: (lambda key: _builder("Facts Ed25519", key.public_key()).sign(key, None))(
            ed25519.Ed25519PrivateKey.generate()), False),
    ],
    ids=["sha256-rsa", "sha384-rsa", "ecdsa-sha384", "ecdsa-sha256", "sha1-rsa", "rsassa-pss", "ed25519"],
)
def test_sha2_signature(make, expected: bool) -> None:
    assert sha2_signature(make()) is expected


def test_rsa_key_too_small() -> None:
    assert rsa_key_too_small(make_certificate("Facts Weak", now=NOW, key_size=1024).certificate)
    assert not rsa_key_too_small(make_certificate("Facts Strong", now=NOW, key_size=2048).certificate)
    assert not rsa_key_too_small(make_certificate("Facts EC Small", now=NOW, ec_curve=ec.SECP256R1()).certificate)


# -- parse_upload --------------------------------------------------------------------------------


def leaf_first(hierarchy) -> list[x509.Certificate]:
    return [hierarchy.partner.certificate, hierarchy.intermediate.certificate, hierarchy.root.certificate]


def root_first(hierarchy) -> list[x509.Certificate]:
    return list(reversed(leaf_first(hierarchy)))


def test_parse_upload_reads_one_pem_certificate(hierarchy) -> None:
    assert parse_upload(hierarchy.root.pem) == [hierarchy.root.certificate]
    assert parse_upload("\r\n  " + hierarchy.intermediate.pem.replace("\n", "\r\n")) == [
        hierarchy.intermediate.certificate]


def test_parse_upload_reads_a_url_safe_p7b_and_reverses_it(hierarchy) -> None:
    text = b64url(to_p7b_der(leaf_first(hierarchy)))
    assert parse_upload(text) == root_first(hierarchy)
    padded = base64.urlsafe_b64encode(to_p7b_der(leaf_first(hierarchy))).decode("ascii")
    assert parse_upload(padded) == root_first(hierarchy)


def test_parse_upload_keeps_the_bundles_order_reversed_whatever_it_is(hierarchy) -> None:
    odd = [hierarchy.intermediate.certificate, hierarchy.root.certificate, hierarchy.partner.certificate]
    assert parse_upload(b64url(to_p7b_der(odd))) == list(reversed(odd))
    assert parse_upload(b64url(to_p7b_der([hierarchy.root.certificate]))) == [hierarchy.root.certificate]


def test_parse_upload_reads_bouncy_castles_ber_indefinite_form(hierarchy) -> None:
    ber = to_p7b_der(leaf_first(hierarchy), indefinite_length=True)
    assert b"\x30\x80" in ber[:2]
    assert parse_upload(b64url(ber)) == root_first(hierarchy)


def test_parse_upload_accepts_the_standard_base64_alphabet(hierarchy) -> None:
    der = to_p7b_der(leaf_first(hierarchy))
    standard = base64.b64encode(der).decode("ascii")
    assert "+" in standard or "/" in standard  # otherwise this would only test the URL-safe path
    assert parse_upload(standard) == root_first(hierarchy)
    assert parse_upload(standard.rstrip("=")) == root_first(hierarchy)
    # line-wrapped (as a .p7b file's body)
    wrapped = "\n".join(standard[i:i + 64] for i in range(0, len(standard), 64))
    assert parse_upload(wrapped) == root_first(hierarchy)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not a certificate",
        "!!!!",
        b64url(b"\x30\x03\x02\x01\x01"),
        b64url(b"random bytes that are no PKCS#7 at all"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----",
    ],
    ids=["empty", "blank", "words", "symbols", "tiny-der", "random", "bad-pem-body", "bad-pem-base64"],
)
def test_parse_upload_refuses_garbage_with_pcm_001(text: str) -> None:
    with pytest.raises(KeyManagerError) as error:
        parse_upload(text)
    assert_code(error, "KER-PCM-001")


def test_parse_upload_refuses_an_empty_bundle_with_pcm_001() -> None:
    for der in (to_p7b_der([]), to_p7b_der([], indefinite_length=True)):
        with pytest.raises(KeyManagerError) as error:
            parse_upload(b64url(der))
        assert_code(error, "KER-PCM-001")


def test_parse_upload_refuses_a_truncated_bundle_with_pcm_001(hierarchy) -> None:
    der = to_p7b_der(leaf_first(hierarchy))
    with pytest.raises(KeyManagerError) as error:
        parse_upload(b64url(der[: len(der) // 2]))
    assert_code(error, "KER-PCM-001")


def test_parse_upload_leaks_no_warnings(hierarchy) -> None:
    inputs = [
        hierarchy.root.pem,
        b64url(to_p7b_der(leaf_first(hierarchy))),
        b64url(to_p7b_der(leaf_first(hierarchy), indefinite_length=True)),
        base64.b64encode(to_p7b_der(leaf_first(hierarchy), indefinite_length=True)).decode("ascii"),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for text in inputs:
            parse_upload(text)
        for text in ("garbage", b64url(to_p7b_der([], indefinite_length=True))):
            with pytest.raises(KeyManagerError):
                parse_upload(text)
    assert [str(w.message) for w in caught] == []


def test_parse_upload_restores_the_callers_warning_filters(hierarchy) -> None:
    ber = b64url(to_p7b_der(leaf_first(hierarchy), indefinite_length=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        parse_upload(ber)
        assert warnings.filters == before
        warnings.warn("PKCS#7 certificates could not be parsed as DER (the caller's own)", UserWarning)
    assert len(caught) == 1


# -- parse_partner_certificate -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_parse_partner_certificate_blank_is_pcm_001(text: str | None) -> None:
    with pytest.raises(KeyManagerError) as error:
        parse_partner_certificate(text)
    assert_code(error, "KER-PCM-001")


@pytest.mark.parametrize(
    "text",
    ["garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", b64url(b"\x30\x00")],
)
def test_parse_partner_certificate_garbage_is_kms_013(text: str) -> None:
    with pytest.raises(KeyManagerError) as error:
        parse_partner_certificate(text)
    assert_code(error, "KER-KMS-013")


def test_parse_partner_certificate_reads_a_pem(hierarchy) -> None:
    assert parse_partner_certificate(hierarchy.partner.pem) == hierarchy.partner.certificate
    # the first of several blocks
    assert parse_partner_certificate(hierarchy.partner.pem + hierarchy.root.pem) == hierarchy.partner.certificate

