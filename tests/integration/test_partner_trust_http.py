"""The partner trust store through HTTP (mosip-api.md §5, mosip-crypto.md §6): uploadCACertificate,
uploadPartnerCertificate, verifyCertificateTrust, getPartnerCertificate, getPartnerSignedCertificate,
getCaCertificates, getCACertificateTrustPath, and jwtVerify's validateTrust.

Test PKIs come from tests/support/pki.py, dated from the ManualClock (``now = clock.now()``) so the
service and the certificates agree on "now". Every p7b the service answers is read back with an
independent parser (asn1crypto's CMS), every certificate with ``cryptography``.

Where our implementation deliberately differs from the reference's order, the tests pin ours:
uploadPartnerCertificate checks the certificate itself (dates, validity, self-signed, version,
organisation, key size, signature algorithm) before looking for its trust path.
"""
from __future__ import annotations

import base64
import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.x509.oid import NameOID

from domain.keys import KeyTuple
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.http_api import API, error, ok, post
from tests.support.pki import Issued, b64url, cached_key, make_certificate, make_hierarchy, to_p7b_der
from tests.support.repo import START

ORG = "Partner Org"
UPLOAD_SUCCESS = "Upload Success."
PARTIAL_UPLOAD_SUCCESS = "Partial Upload Success."
UPLOAD_FAILED = "Upload Failed."
ROW_KEYS = {
    "caCertificateType", "partnerDomain", "certId", "issuedTo", "issuedBy", "certThumbprint",
    "validFromDate", "validTillDate", "uploadTime", "status",
}
URL_SAFE_NO_PADDING = re.compile(r"[A-Za-z0-9_-]+")


# -- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def client(app, container):
    """The conftest client, plus the PMS master key (the reference's key ceremony makes it; the
    conftest container only makes ROOT, REGISTRATION and KERNEL/SIGN)."""
    init_master_keys(container, ("PMS",))
    return app.test_client()


def upload_ca(client, data: str, domain: str = "AUTH"):
    return post(client, "/uploadCACertificate", {"certificateData": data, "partnerDomain": domain})


def upload_ca_status(client, data: str, domain: str = "AUTH") -> str:
    return ok(upload_ca(client, data, domain))["status"]


def upload_partner(client, pem: str, organization: str = ORG, domain: str = "AUTH"):
    return post(client, "/uploadPartnerCertificate",
                {"certificateData": pem, "organizationName": organization, "partnerDomain": domain})


def verify_trust(client, pem: str, domain: str = "AUTH") -> bool:
    status = ok(post(client, "/verifyCertificateTrust", {"certificateData": pem, "partnerDomain": domain}))["status"]
    assert isinstance(status, bool)
    return status


def list_cas(client, **request: Any) -> dict[str, Any]:
    return ok(post(client, "/getCaCertificates", request))


def rows(client, **request: Any) -> list[dict[str, Any]]:
    listed = list_cas(client, **request)
    for row in listed["allPartnerCertificates"]:
        assert set(row) == ROW_KEYS
    return listed["allPartnerCertificates"]


def subjects(client, **request: Any) -> list[str]:
    return [row["issuedTo"] for row in rows(client, **request)]


def bundle(*certificates: Issued, ber: bool = False) -> str:
    return b64url(to_p7b_der([c.certificate for c in certificates], indefinite_length=ber))


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def p7b_certificates(der: bytes) -> list[x509.Certificate]:
    """The certificates of a degenerate PKCS#7 SignedData, in order, read with asn1crypto."""
    info = cms.ContentInfo.load(der)
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    assert len(signed["signer_infos"]) == 0
    if isinstance(signed["certificates"], core.Void):  # the field is absent: no certificates
        return []
    return [x509.load_der_x509_certificate(choice.chosen.dump()) for choice in signed["certificates"]]


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def spki(certificate: x509.Certificate) -> bytes:
    return certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def sha1_hex(certificate: x509.Certificate) -> str:
    return hashlib.sha1(der(certificate)).hexdigest()


def pem_cert(text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(text.encode("ascii"))


def get_certificate(client, app: str) -> x509.Certificate:
    response = client.get(f"{API}/getCertificate", query_string={"applicationId": app, "referenceId": ""})
    return pem_cert(ok(response)["certificate"])


def dn(name: x509.Name) -> str:
    """The reference's stored DN string, rebuilt independently: CN,OU,O,L,ST,C present ones only."""
    order = [("CN", NameOID.COMMON_NAME), ("OU", NameOID.ORGANIZATIONAL_UNIT_NAME),
             ("O", NameOID.ORGANIZATION_NAME), ("L", NameOID.LOCALITY_NAME),
             ("ST", NameOID.STATE_OR_PROVINCE_NAME), ("C", NameOID.COUNTRY_NAME)]
    return ",".join(f"{label}={name.get_attributes_for_oid(oid)[0].value}"
                    for label, oid in order if name.get_attributes_for_oid(oid))


def stored_ca(container, cert_id: str):
    with container.uow_factory()() as uow:
        record = uow.trust.ca_certificate(cert_id)
    assert record is not None
    return record


def instant(moment: datetime) -> str:
    """yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def upload_hierarchy(client, hierarchy, domain: str = "AUTH") -> None:
    assert upload_ca_status(client, hierarchy.root.pem, domain) == UPLOAD_SUCCESS
    assert upload_ca_status(client, hierarchy.intermediate.pem, domain) == UPLOAD_SUCCESS


def leaf(common_name: str, issuer: Issued, now: datetime, **options: Any) -> Issued:
    options.setdefault("organization", ORG)
    return make_certificate(common_name, issuer=issuer, now=now, ca=False, **options)


def partner_cert_built(
    common_name: str, issuer_name: x509.Name, signing_key, now: datetime, *, algorithm=None, rsa_padding=None,
) -> Issued:
    """A partner leaf signed by hand, for signature schemes pki.make_certificate does not make
    (RSASSA-PSS, Ed25519)."""
    key = cached_key(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
                                 x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if rsa_padding is not None:
        certificate = builder.sign(signing_key, algorithm, rsa_padding=rsa_padding)
    else:
        certificate = builder.sign(signing_key, algorithm)
    return Issued(certificate, key)


def ed25519_ca(now: datetime) -> Issued:
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ed25519 CA")])
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None)
    )
    return Issued(certificate, key)


# == 1. uploadCACertificate ======================================================================


def test_ca_upload_root_then_intermediate_types_and_issuer_id(client, clock, container) -> None:
    now = clock.now()
    h = make_hierarchy(now)
    assert upload_ca_status(client, h.root.pem, "auth") == UPLOAD_SUCCESS  # lower-case domain accepted
    clock.advance(timedelta(seconds=1))  # distinct upload times: the default order is the upload time
    assert upload_ca_status(client, h.intermediate.pem, "Auth") == UPLOAD_SUCCESS

    listed = rows(client, partnerDomain="AUTH")
    assert [(r["caCertificateType"], r["partnerDomain"], r["issuedTo"], r["issuedBy"]) for r in listed] == [
        ("ROOT", "AUTH", "CN=Test Root CA", "CN=Test Root CA"),
        ("INTERMEDIATE", "AUTH", "CN=Test Intermediate CA", "CN=Test Root CA"),
    ]
    root_id, intermediate_id = listed[0]["certId"], listed[1]["certId"]
    assert uuid.UUID(root_id) and uuid.UUID(intermediate_id) and root_id != intermediate_id
    assert [r["certThumbprint"] for r in listed] == [h.root.sha1_hex, h.intermediate.sha1_hex]
    # The stored rows: the domain upper-case, a root its own issuer, the intermediate's issuer the root's id.
    root_row, intermediate_row = stored_ca(container, root_id), stored_ca(container, intermediate_id)
    assert root_row.domain == intermediate_row.domain == "AUTH"
    assert root_row.ca_type == "ROOT" and root_row.issuer_id == root_id
    assert intermediate_row.ca_type == "INTERMEDIATE" and intermediate_row.issuer_id == root_id
    assert pem_cert(intermediate_row.certificate_pem) == h.intermediate.certificate
    # The lower-case filter finds the same rows; the domain is a filter value like any other.
    assert [r["certId"] for r in rows(client, partnerDomain="auth")] == [root_id, intermediate_id]


def test_ca_upload_second_level_intermediate_points_at_its_issuer(client, clock, container) -> None:
    now = clock.now()
    h = make_hierarchy(now)
    sub = make_certificate("Test Sub Intermediate CA", issuer=h.intermediate, now=now)
    upload_hierarchy(client, h)
    assert upload_ca_status(client, sub.pem) == UPLOAD_SUCCESS
    by_subject = {r["issuedTo"]: r for r in rows(client, partnerDomain="AUTH")}
    sub_row = stored_ca(container, by_subject["CN=Test Sub Intermediate CA"]["certId"])
    assert sub_row.ca_type == "INTERMEDIATE"
    assert sub_row.issuer_id == by_subject["CN=Test Intermediate CA"]["certId"]


def test_ca_and_partner_dn_strings_are_escaped(client, clock) -> None:
    """Stored DN strings escape as BouncyCastle's IETFUtils does; the organisation still matches raw."""
    now = clock.now()
    h = make_hierarchy(now)
    odd = make_certificate('Sub, "Quoted" CA', issuer=h.root, now=now, organization="Acme, Inc.", country="IN")
    upload_hierarchy(client, h)
    assert upload_ca_status(client, odd.pem) == UPLOAD_SUCCESS
    partner = leaf("P+1", odd, now, organization="Acme, Inc.")
    assert ok(upload_partner(client, partner.pem, organization="Acme, Inc."))["certificateId"]
    listed = subjects(client, partnerDomain="AUTH")
    assert 'CN=Sub\\, \\"Quoted\\" CA,O=Acme\\, Inc.,C=IN' in listed
    assert "CN=P\\+1,O=Acme\\, Inc." in listed  # the re-signed partner, fed back into the domain


@pytest.mark.parametrize("data", ["not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                                  b64url(b"\x30\x03\x02\x01\x01")])
def test_ca_upload_unparsable_is_pcm_001(client, data) -> None:
    error(upload_ca(client, data), "KER-PCM-001", message="Invalid Certificate uploaded.")


@pytest.mark.parametrize("field", ["certificateData", "partnerDomain"])
@pytest.mark.parametrize("value", ["", "   ", None])
def test_ca_upload_blank_field_is_request_validation(client, clock, field, value) -> None:
    request = {"certificateData": make_hierarchy(clock.now()).root.pem, "partnerDomain": "AUTH", field: value}
    error(post(client, "/uploadCACertificate", request), "KER-KMS-005")


def test_ca_upload_unknown_domain_is_pcm_011(client, clock) -> None:
    error(upload_ca(client, make_hierarchy(clock.now()).root.pem, "BANK"), "KER-PCM-011",
          message="Invalid Partner Domain.")


def test_ca_upload_duplicate_in_domain_is_pcm_003_but_other_domain_is_fine(client, clock) -> None:
    root = make_hierarchy(clock.now()).root
    assert upload_ca_status(client, root.pem, "AUTH") == UPLOAD_SUCCESS
    error(upload_ca(client, root.pem, "AUTH"), "KER-PCM-003", message="Certificate already exists in store.")
    error(upload_ca(client, root.pem, "auth"), "KER-PCM-003")
    assert upload_ca_status(client, root.pem, "DEVICE") == UPLOAD_SUCCESS
    assert len(rows(client, partnerDomain="AUTH")) == 1


def test_ca_upload_future_dated_is_pms_020(client, clock) -> None:
    now = clock.now()
    future = make_certificate("Future Root CA", now=now, not_before=now + timedelta(days=2))
    error(upload_ca(client, future.pem), "KER-PMS-020", message="Future Dated Certificate not allowed to upload.")


def test_ca_upload_later_today_is_pcm_004_not_future_dated(client, clock) -> None:
    # Future-dated is judged by the date: starting later today is "dates not valid".
    now = clock.now()
    later = make_certificate("Later Root CA", now=now, not_before=now + timedelta(hours=1))
    error(upload_ca(client, later.pem), "KER-PCM-004", message="Certificate Dates are not valid.")


def test_ca_upload_expired_is_pcm_004(client, clock) -> None:
    now = clock.now()
    expired = make_certificate("Expired Root CA", now=now, not_after=now - timedelta(days=1))
    error(upload_ca(client, expired.pem), "KER-PCM-004", message="Certificate Dates are not valid.")


def test_ca_upload_less_than_twelve_months_is_pcm_017(client, clock) -> None:
    now = clock.now()  # 2025-01-15: twelve months later is 2026-01-15
    short = make_certificate("Short Root CA", now=now, not_after=datetime(2026, 1, 14, 23, 59, tzinfo=UTC))
    error(upload_ca(client, short.pem), "KER-PCM-017",
          message="The CA Certificate validity is less than required minimum validity.")
    error(upload_ca(client, make_certificate("Short Root CA", now=now, not_after=now + timedelta(days=300)).pem),
          "KER-PCM-017")
    # Exactly twelve months (by date) is enough.
    enough = make_certificate("Short Root CA", now=now, not_after=datetime(2026, 1, 15, 0, 1, tzinfo=UTC))
    assert upload_ca_status(client, enough.pem) == UPLOAD_SUCCESS


def test_ca_upload_version_1_is_pcm_007(client, clock) -> None:
    v1 = make_certificate("V1 Root CA", now=clock.now(), version=1)
    assert v1.certificate.version == x509.Version.v1
    error(upload_ca(client, v1.pem), "KER-PCM-007", message="Certificate version not supported.")


def test_ca_upload_check_order_dates_before_version(client, clock) -> None:
    now = clock.now()
    expired_v1 = make_certificate("V1 Root CA", now=now, version=1, not_after=now - timedelta(days=1))
    error(upload_ca(client, expired_v1.pem), "KER-PCM-004")
    short_v1 = make_certificate("V1 Root CA", now=now, version=1, not_after=now + timedelta(days=100))
    error(upload_ca(client, short_v1.pem), "KER-PCM-017")


def test_ca_upload_intermediate_without_root_is_pcm_005(client, clock) -> None:
    h = make_hierarchy(clock.now())
    error(upload_ca(client, h.intermediate.pem), "KER-PCM-005", message="Root CA Certificate not found.")
    assert rows(client) == []


def test_ca_upload_root_in_auth_is_unknown_to_device(client, clock) -> None:
    h = make_hierarchy(clock.now())
    assert upload_ca_status(client, h.root.pem, "AUTH") == UPLOAD_SUCCESS
    error(upload_ca(client, h.intermediate.pem, "DEVICE"), "KER-PCM-005")
    assert upload_ca_status(client, h.intermediate.pem, "AUTH") == UPLOAD_SUCCESS
    assert rows(client, partnerDomain="DEVICE") == []
    assert verify_trust(client, h.partner.pem, "AUTH") is True
    assert verify_trust(client, h.partner.pem, "DEVICE") is False


@pytest.mark.parametrize("order", ["leaf-first", "root-first"])
def test_ca_upload_p7b_bundle_in_either_order(client, clock, container, order) -> None:
    h = make_hierarchy(clock.now())
    certificates = [h.intermediate, h.root] if order == "leaf-first" else [h.root, h.intermediate]
    assert upload_ca_status(client, bundle(*certificates), "DEVICE") == UPLOAD_SUCCESS
    listed = {r["issuedTo"]: r for r in rows(client, partnerDomain="DEVICE")}
    assert set(listed) == {"CN=Test Root CA", "CN=Test Intermediate CA"}
    assert listed["CN=Test Root CA"]["caCertificateType"] == "ROOT"
    assert listed["CN=Test Intermediate CA"]["caCertificateType"] == "INTERMEDIATE"
    assert stored_ca(container, listed["CN=Test Intermediate CA"]["certId"]).issuer_id == \
        listed["CN=Test Root CA"]["certId"]
    assert verify_trust(client, h.partner.pem, "DEVICE") is True


def test_ca_upload_three_level_bundle_in_scrambled_order(client, clock) -> None:
    now = clock.now()
    h = make_hierarchy(now)
    sub = make_certificate("Test Sub Intermediate CA", issuer=h.intermediate, now=now)
    assert upload_ca_status(client, bundle(h.intermediate, sub, h.root)) == UPLOAD_SUCCESS
    assert sorted(subjects(client)) == ["CN=Test Intermediate CA", "CN=Test Root CA", "CN=Test Sub Intermediate CA"]


def test_ca_upload_ber_bundle(client, clock) -> None:
    h = make_hierarchy(clock.now())
    data = bundle(h.intermediate, h.root, ber=True)
    assert b64url_decode(data)[:2] == b"\x30\x80"  # indefinite length, as BouncyCastle writes it
    assert upload_ca_status(client, data) == UPLOAD_SUCCESS
    assert sorted(subjects(client)) == ["CN=Test Intermediate CA", "CN=Test Root CA"]


def test_ca_upload_bundle_good_and_expired_is_partial(client, clock) -> None:
    now = clock.now()
    h = make_hierarchy(now)
    expired = make_certificate("Expired Root CA", now=now, not_after=now - timedelta(days=1))
    assert upload_ca_status(client, bundle(h.root, expired)) == PARTIAL_UPLOAD_SUCCESS
    assert subjects(client) == ["CN=Test Root CA"]


def test_ca_upload_bundle_with_duplicate_is_partial(client, clock) -> None:
    h = make_hierarchy(clock.now())
    assert upload_ca_status(client, h.root.pem) == UPLOAD_SUCCESS
    assert upload_ca_status(client, bundle(h.intermediate, h.root)) == PARTIAL_UPLOAD_SUCCESS
    assert sorted(subjects(client)) == ["CN=Test Intermediate CA", "CN=Test Root CA"]


def test_ca_upload_bundle_all_failing_is_upload_failed(client, clock) -> None:
    now = clock.now()
    h = make_hierarchy(now)
    expired = make_certificate("Expired Root CA", now=now, not_after=now - timedelta(days=1))
    v1 = make_certificate("V1 Root CA", now=now, version=1)
    assert upload_ca_status(client, bundle(expired, v1)) == UPLOAD_FAILED
    # An intermediate whose root is neither in the bundle nor in the store fails too.
    assert upload_ca_status(client, bundle(h.intermediate, expired)) == UPLOAD_FAILED
    assert rows(client) == []


# == 2. uploadPartnerCertificate: the rules =======================================================


@pytest.fixture
def auth_pki(client, clock):
    """Root + intermediate uploaded to AUTH (``client`` has the PMS key)."""
    h = make_hierarchy(clock.now())
    upload_hierarchy(client, h)
    return h


def test_partner_future_dated_is_pms_020(client, clock, auth_pki) -> None:
    now = clock.now()
    future = leaf("Future Partner", auth_pki.intermediate, now, not_before=now + timedelta(days=2))
    error(upload_partner(client, future.pem), "KER-PMS-020", message="Future Dated Certificate not allowed to upload.")


def test_partner_not_valid_now_is_pcm_004(client, clock, auth_pki) -> None:
    now = clock.now()
    expired = leaf("Expired Partner", auth_pki.intermediate, now, not_after=now - timedelta(days=1))
    error(upload_partner(client, expired.pem), "KER-PCM-004", message="Certificate Dates are not valid.")
    later_today = leaf("Later Partner", auth_pki.intermediate, now, not_before=now + timedelta(hours=1))
    error(upload_partner(client, later_today.pem), "KER-PCM-004")


def test_partner_remaining_validity_below_335_days_is_kms_021(client, clock, auth_pki) -> None:
    now = clock.now()
    short = leaf("Short Partner", auth_pki.intermediate, now, not_after=now + timedelta(days=300))
    error(upload_partner(client, short.pem), "KER-KMS-021",
          message="The PARTNER Certificate validity is less than required minimum validity")
    almost = leaf("Short Partner", auth_pki.intermediate, now, not_after=now + timedelta(days=335, seconds=-1))
    error(upload_partner(client, almost.pem), "KER-KMS-021")
    # 335 whole days left is enough.
    enough = leaf("Short Partner", auth_pki.intermediate, now, not_after=now + timedelta(days=335))
    assert ok(upload_partner(client, enough.pem))["certificateId"]


def test_partner_self_signed_is_pcm_015(client, clock, auth_pki) -> None:
    self_signed = make_certificate("Self Partner", now=clock.now(), ca=False, organization=ORG)
    error(upload_partner(client, self_signed.pem), "KER-PCM-015",
          message="Self Signed Certificate not allowed as partner.")


def test_partner_version_1_is_pcm_007(client, clock, auth_pki) -> None:
    v1 = leaf("V1 Partner", auth_pki.intermediate, clock.now(), version=1)
    assert v1.certificate.version == x509.Version.v1
    error(upload_partner(client, v1.pem), "KER-PCM-007", message="Certificate version not supported.")


@pytest.mark.parametrize("organization", [None, "Other Org", "partner org", "Partner Org "])
def test_partner_organization_missing_or_different_is_pcm_008(client, clock, auth_pki, organization) -> None:
    certificate = make_certificate("Org Partner", issuer=auth_pki.intermediate, now=clock.now(), ca=False,
                                   organization=organization)
    error(upload_partner(client, certificate.pem, ORG), "KER-PCM-008", message="Partner Organization Name not Matched.")


def test_partner_rsa_1024_is_pcm_013(client, clock, auth_pki) -> None:
    weak = leaf("Weak Partner", auth_pki.intermediate, clock.now(), key_size=1024)
    assert weak.certificate.public_key().key_size == 1024
    error(upload_partner(client, weak.pem), "KER-PCM-013",
          message="Partner Certificate Key Size is less than allowed size.")


def test_partner_sha1_signature_is_pcm_014(client, clock, auth_pki) -> None:
    sha1 = leaf("SHA1 Partner", auth_pki.intermediate, clock.now(), hash_name="sha1")
    assert isinstance(sha1.certificate.signature_hash_algorithm, hashes.SHA1)
    error(upload_partner(client, sha1.pem), "KER-PCM-014",
          message="Partner Certificate Signature algorithm not supported.")


def test_partner_rsassa_pss_signature_is_pcm_014(client, clock, auth_pki) -> None:
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    partner = partner_cert_built("PSS Partner", auth_pki.intermediate.certificate.subject,
                                 auth_pki.intermediate.private_key, clock.now(), algorithm=hashes.SHA256(),
                                 rsa_padding=pss)
    assert isinstance(partner.certificate.signature_algorithm_parameters, padding.PSS)
    partner.certificate.verify_directly_issued_by(auth_pki.intermediate.certificate)
    error(upload_partner(client, partner.pem), "KER-PCM-014")


def test_partner_ed25519_signature_is_pcm_014(client, clock, auth_pki) -> None:
    now = clock.now()
    issuer = ed25519_ca(now)
    partner = partner_cert_built("Ed25519 Signed Partner", issuer.certificate.subject, issuer.private_key, now)
    assert partner.certificate.signature_hash_algorithm is None
    error(upload_partner(client, partner.pem), "KER-PCM-014")


def test_partner_without_trust_path_is_pcm_006(client, clock, auth_pki) -> None:
    stranger = make_hierarchy(clock.now(), prefix="Stranger")  # its root was never uploaded
    error(upload_partner(client, stranger.partner.pem), "KER-PCM-006",
          message="Root CA/Intermediate CA Certificates not found.")
    under_root = leaf("Stranger Direct Partner", stranger.root, clock.now())
    error(upload_partner(client, under_root.pem), "KER-PCM-006")
    # Trusted in AUTH, not in DEVICE (nothing uploaded there).
    error(upload_partner(client, auth_pki.partner.pem, domain="DEVICE"), "KER-PCM-006")


def test_partner_check_order_certificate_rules_before_path(client, clock, auth_pki) -> None:
    """Our deliberate order: the certificate's own rules, in the documented order, then the path."""
    now = clock.now()
    stranger = make_hierarchy(now, prefix="Stranger")
    inter, other = auth_pki.intermediate, stranger.intermediate
    cases = [
        # expired beats self-signed and v1
        (make_certificate("Self Partner", now=now, ca=False, organization=ORG, version=1,
                          not_after=now - timedelta(days=1)), "KER-PCM-004"),
        # too short beats self-signed
        (make_certificate("Self Partner", now=now, ca=False, organization=ORG,
                          not_after=now + timedelta(days=100)), "KER-KMS-021"),
        # self-signed beats v1 and a missing organisation
        (make_certificate("Self Partner", now=now, ca=False, version=1), "KER-PCM-015"),
        # v1 beats the organisation, the key size and SHA-1
        (leaf("Mixed Partner", inter, now, version=1, organization="Other Org", key_size=1024, hash_name="sha1"),
         "KER-PCM-007"),
        # the organisation beats the key size
        (leaf("Mixed Partner", inter, now, organization="Other Org", key_size=1024), "KER-PCM-008"),
        # the key size beats SHA-1
        (leaf("Mixed Partner", inter, now, key_size=1024, hash_name="sha1"), "KER-PCM-013"),
        # no trust path, yet each certificate rule answers first
        (leaf("Mixed Partner", other, now, key_size=1024), "KER-PCM-013"),
        (leaf("Mixed Partner", other, now, hash_name="sha1"), "KER-PCM-014"),
        (leaf("Mixed Partner", other, now, version=1), "KER-PCM-007"),
        (leaf("Mixed Partner", other, now, organization="Other Org"), "KER-PCM-008"),
        (leaf("Mixed Partner", other, now, not_after=now + timedelta(days=100)), "KER-KMS-021"),
    ]
    for certificate, code in cases:
        error(upload_partner(client, certificate.pem), code)


def test_partner_unknown_domain_is_pcm_011(client, clock, auth_pki) -> None:
    error(upload_partner(client, auth_pki.partner.pem, domain="BANK"), "KER-PCM-011", message="Invalid Partner Domain.")
    # The domain is checked before the certificate's rules.
    now = clock.now()
    expired = leaf("Expired Partner", auth_pki.intermediate, now, not_after=now - timedelta(days=1))
    error(upload_partner(client, expired.pem, domain="BANK"), "KER-PCM-011")


@pytest.mark.parametrize("data", ["not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"])
def test_partner_unparsable_pem_is_kms_013(client, auth_pki, data) -> None:
    error(upload_partner(client, data), "KER-KMS-013")


@pytest.mark.parametrize("field", ["certificateData", "organizationName", "partnerDomain"])
@pytest.mark.parametrize("value", ["", "  ", None])
def test_partner_blank_field_is_request_validation(client, auth_pki, field, value) -> None:
    request = {"certificateData": auth_pki.partner.pem, "organizationName": ORG, "partnerDomain": "AUTH", field: value}
    body = error(post(client, "/uploadPartnerCertificate", request), "KER-KMS-005")
    assert field in body["errors"][0]["message"]


def test_partner_upload_needs_the_pms_key(app, clock) -> None:
    """Without the PMS master key (no key ceremony for it) the re-signing cannot happen."""
    bare = app.test_client()
    h = make_hierarchy(clock.now())
    upload_hierarchy(bare, h)
    error(upload_partner(bare, h.partner.pem), "KER-KMS-012")


# == 3. uploadPartnerCertificate: the happy path ==================================================


def check_resigned(resigned: x509.Certificate, partner: x509.Certificate, pms: x509.Certificate,
                   now: datetime, *, key_encipherment: bool) -> None:
    assert resigned.subject == partner.subject
    assert spki(resigned) == spki(partner)
    assert resigned.issuer == pms.subject
    resigned.verify_directly_issued_by(pms)
    assert isinstance(resigned.signature_hash_algorithm, hashes.SHA256)
    assert isinstance(resigned.signature_algorithm_parameters, padding.PKCS1v15)
    assert resigned.version == x509.Version.v3
    assert resigned.not_valid_before_utc == now
    assert resigned.not_valid_after_utc - resigned.not_valid_before_utc == timedelta(days=365)
    usage = resigned.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical is True
    assert usage.value.digital_signature is True
    assert usage.value.key_cert_sign is True
    assert usage.value.key_encipherment is key_encipherment
    constraints = resigned.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical is True
    assert constraints.value.ca is True and constraints.value.path_length is None
    ski = resigned.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ski.value == x509.SubjectKeyIdentifier.from_public_key(partner.public_key())


def test_partner_upload_happy_path_auth(client, clock) -> None:
    now = clock.now()
    h = make_hierarchy(now)
    partner = make_certificate("Full Partner", issuer=h.intermediate, now=now, ca=False, organization=ORG,
                               organizational_unit="Partner Unit", locality="Pune", state="MH", country="IN")
    upload_hierarchy(client, h)

    response = ok(upload_partner(client, partner.pem))
    assert set(response) == {"signedCertificateData", "certificateId", "timestamp"}
    assert response["timestamp"] == "2025-01-15T09:30:00"
    certificate_id = response["certificateId"]
    assert str(uuid.UUID(certificate_id)) == certificate_id
    signed_data = response["signedCertificateData"]
    assert URL_SAFE_NO_PADDING.fullmatch(signed_data), "unpadded URL-safe base64 expected"

    chain = p7b_certificates(b64url_decode(signed_data))
    assert len(chain) == 3
    resigned, pms, root = chain
    assert pms == get_certificate(client, "PMS")
    assert root == get_certificate(client, "ROOT")
    check_resigned(resigned, partner.certificate, pms, now, key_encipherment=True)
    pms.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)

    # getPartnerCertificate: the re-signed certificate; getPartnerSignedCertificate: both.
    downloaded = ok(client.get(f"{API}/getPartnerCertificate/{certificate_id}"))
    assert set(downloaded) == {"certificateData", "timestamp"}
    assert pem_cert(downloaded["certificateData"]) == resigned
    both = ok(client.get(f"{API}/getPartnerSignedCertificate/{certificate_id}"))
    assert set(both) == {"caSignedCertificateData", "mosipSignedCertificateData", "timestamp"}
    assert both["caSignedCertificateData"] == partner.pem
    assert pem_cert(both["mosipSignedCertificateData"]) == resigned
    assert both["mosipSignedCertificateData"] == downloaded["certificateData"]

    # The answered chain joined the domain's trust store.
    listed = {r["certThumbprint"]: r for r in rows(client, partnerDomain="AUTH")}
    assert set(listed) == {h.root.sha1_hex, h.intermediate.sha1_hex, sha1_hex(root), sha1_hex(pms),
                           sha1_hex(resigned)}
    assert listed[sha1_hex(root)]["caCertificateType"] == "ROOT"
    assert listed[sha1_hex(root)]["issuedTo"] == dn(root.subject)
    assert listed[sha1_hex(pms)]["caCertificateType"] == "INTERMEDIATE"
    assert listed[sha1_hex(pms)]["issuedBy"] == dn(root.subject)
    assert listed[sha1_hex(resigned)]["caCertificateType"] == "INTERMEDIATE"
    assert listed[sha1_hex(resigned)]["issuedTo"] == \
        "CN=Full Partner,OU=Partner Unit,O=Partner Org,L=Pune,ST=MH,C=IN"
    assert listed[sha1_hex(resigned)]["issuedBy"] == dn(pms.subject)
    excluded = {r["certThumbprint"] for r in rows(client, partnerDomain="AUTH", excludeMosipCA=True)}
    assert excluded == {h.root.sha1_hex, h.intermediate.sha1_hex, sha1_hex(resigned)}
    # Nothing reached the other domains.
    assert rows(client, partnerDomain="DEVICE") == []


def test_partner_unknown_or_blank_id(client, auth_pki) -> None:
    ok(upload_partner(client, auth_pki.partner.pem))
    unknown = str(uuid.uuid4())
    for path in ("getPartnerCertificate", "getPartnerSignedCertificate"):
        error(client.get(f"{API}/{path}/{unknown}"), "KER-PCM-012",
              message="Partner Certificate not found for the given ID.")
        error(client.get(f"{API}/{path}/%20"), "KER-PCM-010", message="Invalid Partner Certificate ID.")


def test_partner_upload_device_domain_has_no_key_encipherment(client, clock) -> None:
    now = clock.now()
    h = make_hierarchy(now)
    upload_hierarchy(client, h, "DEVICE")
    response = ok(upload_partner(client, h.partner.pem, domain="device"))
    resigned, pms, root = p7b_certificates(b64url_decode(response["signedCertificateData"]))
    check_resigned(resigned, h.partner.certificate, pms, now, key_encipherment=False)
    assert root == get_certificate(client, "ROOT")
    stored = ok(client.get(f"{API}/getPartnerCertificate/{response['certificateId']}"))["certificateData"]
    assert pem_cert(stored) == resigned


def test_partner_renewal_same_certificate_twice(client, clock, auth_pki) -> None:
    first = ok(upload_partner(client, auth_pki.partner.pem))
    clock.advance(timedelta(minutes=5))
    second = ok(upload_partner(client, auth_pki.partner.pem))
    assert first["certificateId"] != second["certificateId"]
    resigned = []
    for response in (first, second):
        both = ok(client.get(f"{API}/getPartnerSignedCertificate/{response['certificateId']}"))
        assert both["caSignedCertificateData"] == auth_pki.partner.pem
        resigned.append(pem_cert(both["mosipSignedCertificateData"]))
        assert p7b_certificates(b64url_decode(response["signedCertificateData"]))[0] == resigned[-1]
    assert resigned[0] != resigned[1] and resigned[0].serial_number != resigned[1].serial_number
    assert spki(resigned[0]) == spki(resigned[1]) == spki(auth_pki.partner.certificate)
    # ROOT and PMS were added once; each re-signed certificate once.
    listed = [r["certThumbprint"] for r in rows(client, partnerDomain="AUTH")]
    assert len(listed) == len(set(listed)) == 6
    assert {sha1_hex(c) for c in resigned} <= set(listed)


def test_partner_upload_ftm_answers_the_partner_trust_path(client, clock) -> None:
    now = clock.now()
    h = make_hierarchy(now)
    upload_hierarchy(client, h, "FTM")
    response = ok(upload_partner(client, h.partner.pem, domain="FTM"))
    chain = p7b_certificates(b64url_decode(response["signedCertificateData"]))
    assert [der(c) for c in chain] == [h.partner.der, h.intermediate.der, h.root.der]
    # The partner is still re-signed and kept.
    resigned = pem_cert(ok(client.get(f"{API}/getPartnerCertificate/{response['certificateId']}"))["certificateData"])
    check_resigned(resigned, h.partner.certificate, get_certificate(client, "PMS"), now, key_encipherment=False)
    # The answered path (not our chain) is what joined the FTM store: the partner itself is now an entry.
    listed = {r["certThumbprint"]: r["caCertificateType"] for r in rows(client, partnerDomain="FTM")}
    assert listed == {h.root.sha1_hex: "ROOT", h.intermediate.sha1_hex: "INTERMEDIATE",
                      h.partner.sha1_hex: "INTERMEDIATE"}
    assert sha1_hex(get_certificate(client, "PMS")) not in listed


def test_partner_ca_devices_chain_through_the_resigned_certificate(client, clock) -> None:
    """The re-signed certificate is a CA in the domain: certificates the partner issues chain to
    our ROOT through it and PMS (getCACertificateTrustPath shows that path)."""
    now = clock.now()
    h = make_hierarchy(now, prefix="Vendor", partner_ca=True)
    device = leaf("Vendor Device", h.partner, now)
    upload_hierarchy(client, h, "DEVICE")
    response = ok(upload_partner(client, h.partner.pem, domain="DEVICE"))
    resigned, pms, root = p7b_certificates(b64url_decode(response["signedCertificateData"]))
    assert verify_trust(client, device.pem, "DEVICE") is True
    resigned_id = next(r["certId"] for r in rows(client, partnerDomain="DEVICE")
                       if r["certThumbprint"] == sha1_hex(resigned))
    assert trust_path(client, resigned_id) == [resigned, pms, root]


def test_partner_with_ec_key_and_sha384_ecdsa_chain_is_accepted(client, clock) -> None:
    """SHA384withECDSA passes the signature rule; the key-size rule is for RSA keys only."""
    now = clock.now()
    root = make_certificate("EC Root CA", now=now, ec_curve=ec.SECP384R1(), hash_name="sha384")
    intermediate = make_certificate("EC Intermediate CA", issuer=root, now=now, ec_curve=ec.SECP384R1(),
                                    hash_name="sha384")
    partner = leaf("EC Partner", intermediate, now, ec_curve=ec.SECP256R1(), hash_name="sha384")
    assert upload_ca_status(client, bundle(intermediate, root)) == UPLOAD_SUCCESS
    response = ok(upload_partner(client, partner.pem))
    resigned, pms, _ = p7b_certificates(b64url_decode(response["signedCertificateData"]))
    assert isinstance(resigned.public_key(), ec.EllipticCurvePublicKey)
    check_resigned(resigned, partner.certificate, pms, now, key_encipherment=True)


# == 4. verifyCertificateTrust ====================================================================


def test_verify_trust_under_uploaded_root_and_intermediate(client, clock) -> None:
    h = make_hierarchy(clock.now())
    assert verify_trust(client, h.partner.pem) is False  # nothing uploaded yet
    assert upload_ca_status(client, h.root.pem) == UPLOAD_SUCCESS
    assert verify_trust(client, h.partner.pem) is False  # the intermediate is missing
    assert verify_trust(client, h.intermediate.pem) is True
    assert upload_ca_status(client, h.intermediate.pem) == UPLOAD_SUCCESS
    assert verify_trust(client, h.partner.pem) is True
    assert verify_trust(client, h.partner.pem, "auth") is True
    assert verify_trust(client, h.partner.pem, "DEVICE") is False


def test_verify_trust_false_under_unknown_root(client, clock, auth_pki) -> None:
    stranger = make_hierarchy(clock.now(), prefix="Stranger")
    assert verify_trust(client, stranger.partner.pem) is False
    assert verify_trust(client, stranger.intermediate.pem) is False
    assert verify_trust(client, auth_pki.partner.pem) is True


def test_verify_trust_false_after_the_intermediate_expired(client, clock) -> None:
    now = clock.now()
    root = make_certificate("Expiry Root CA", now=now)  # three years
    intermediate = make_certificate("Expiry Intermediate CA", issuer=root, now=now,
                                    not_after=now + timedelta(days=375))  # a bit more than twelve months
    partner = leaf("Expiry Partner", intermediate, now, not_after=now + timedelta(days=2 * 365))
    direct = leaf("Expiry Direct Partner", root, now, not_after=now + timedelta(days=2 * 365))
    assert upload_ca_status(client, bundle(intermediate, root)) == UPLOAD_SUCCESS
    assert verify_trust(client, partner.pem) is True
    assert verify_trust(client, direct.pem) is True

    clock.set(intermediate.certificate.not_valid_after_utc + timedelta(days=1))
    assert verify_trust(client, partner.pem) is False
    assert verify_trust(client, direct.pem) is True  # the root still anchors
    by_subject = {r["issuedTo"]: r["status"] for r in rows(client, partnerDomain="AUTH")}
    assert by_subject == {"CN=Expiry Root CA": True, "CN=Expiry Intermediate CA": False}


def test_verify_trust_errors(client, clock, auth_pki) -> None:
    error(post(client, "/verifyCertificateTrust", {"certificateData": auth_pki.partner.pem, "partnerDomain": "BANK"}),
          "KER-PCM-011", message="Invalid Partner Domain.")
    error(post(client, "/verifyCertificateTrust", {"certificateData": "garbage", "partnerDomain": "AUTH"}),
          "KER-KMS-013")
    for request in ({"certificateData": "", "partnerDomain": "AUTH"},
                    {"certificateData": auth_pki.partner.pem, "partnerDomain": " "},
                    {"partnerDomain": "AUTH"}):
        error(post(client, "/verifyCertificateTrust", request), "KER-KMS-005")


# == 5. getCaCertificates =========================================================================

#: (name, domain, common name, not_before offset, not_after offset, upload day offset from START)
LISTING = [
    ("RA", "AUTH", "List Root A", -30, 5 * 365, 0),
    ("A1", "AUTH", "List Sub A1", -20, 4 * 365, 1),
    ("RD", "DEVICE", "List Root D", -10, 3 * 365, 2),
    ("A2", "AUTH", "List Sub A2", -2, 400, 3),
    ("D1", "DEVICE", "List Sub D1", -1, 500, 4),
]


@pytest.fixture
def listing(client, clock) -> dict[str, dict[str, Any]]:
    """Five CA certificates in two domains, uploaded one day apart; name -> expected row."""
    assert clock.now() == START
    made: dict[str, Issued] = {}
    issuers = {"A1": "RA", "A2": "RA", "D1": "RD"}
    expected: dict[str, dict[str, Any]] = {}
    for name, domain, common_name, before, after, upload_day in LISTING:
        options: dict[str, Any] = {}
        if name == "A1":
            options = dict(organization="Alpha Org", organizational_unit="Unit One", country="IN")
        issued = make_certificate(common_name, issuer=made.get(issuers.get(name, "")), now=START,
                                  not_before=START + timedelta(days=before), not_after=START + timedelta(days=after),
                                  **options)
        made[name] = issued
        clock.set(START + timedelta(days=upload_day))
        assert upload_ca_status(client, issued.pem, domain) == UPLOAD_SUCCESS
        expected[name] = {
            "caCertificateType": "INTERMEDIATE" if name in issuers else "ROOT",
            "partnerDomain": domain,
            "issuedTo": dn(issued.certificate.subject),
            "issuedBy": dn(issued.certificate.issuer),
            "certThumbprint": issued.sha1_hex,
            "validFromDate": instant(START + timedelta(days=before)),
            "validTillDate": instant(START + timedelta(days=after)),
            "uploadTime": instant(START + timedelta(days=upload_day)),
            "status": True,
        }
    everything = rows(client, pageSize=50)
    ids = {row["issuedTo"]: row["certId"] for row in everything}
    for row in expected.values():
        row["certId"] = ids[row["issuedTo"]]
    return expected


def names(client, listing, **request: Any) -> list[str]:
    by_id = {row["certId"]: name for name, row in listing.items()}
    return [by_id[row["certId"]] for row in rows(client, **request)]


def test_list_rows_carry_every_field(client, listing) -> None:
    assert rows(client) == [listing[name] for name in ("RA", "A1", "RD", "A2", "D1")]
    a1 = listing["A1"]
    assert a1["issuedTo"] == "CN=List Sub A1,OU=Unit One,O=Alpha Org,C=IN"
    assert a1["issuedBy"] == "CN=List Root A"
    assert re.fullmatch(r"[0-9a-f]{40}", a1["certThumbprint"])
    assert a1["validFromDate"] == "2024-12-26T09:30:00.000Z"
    assert a1["uploadTime"] == "2025-01-16T09:30:00.000Z"
    assert str(uuid.UUID(a1["certId"])) == a1["certId"]


def test_list_paging(client, listing) -> None:
    page = list_cas(client, pageSize=2, pageNumber=2)
    assert (page["pageNumber"], page["pageSize"], page["totalRecords"], page["totalPages"]) == (2, 2, 5, 3)
    assert names(client, listing, pageSize=2, pageNumber=2) == ["RD", "A2"]
    assert names(client, listing, pageSize=2, pageNumber=3) == ["D1"]
    assert names(client, listing, pageSize=2, pageNumber=4) == []
    assert list_cas(client, pageSize=2, pageNumber=4)["totalRecords"] == 5
    # Defaults and out-of-range values.
    page = list_cas(client)
    assert (page["pageNumber"], page["pageSize"], page["totalRecords"], page["totalPages"]) == (1, 10, 5, 1)
    zero = list_cas(client, pageSize=2, pageNumber=0)
    assert (zero["pageNumber"], zero["pageSize"]) == (1, 2)
    assert names(client, listing, pageSize=2, pageNumber=0) == ["RA", "A1"]
    assert names(client, listing, pageSize=2, pageNumber=-3) == ["RA", "A1"]
    for size in (0, -1):
        default = list_cas(client, pageSize=size)
        assert (default["pageSize"], default["totalPages"]) == (10, 1)
        assert len(default["allPartnerCertificates"]) == 5


def test_list_sorting(client, listing) -> None:
    assert names(client, listing) == ["RA", "A1", "RD", "A2", "D1"]  # upload time, ascending
    assert names(client, listing, sortOrder="DESC") == ["D1", "A2", "RD", "A1", "RA"]
    assert names(client, listing, sortOrder="desc") == ["D1", "A2", "RD", "A1", "RA"]
    assert names(client, listing, sortOrder="ASC") == ["RA", "A1", "RD", "A2", "D1"]
    assert names(client, listing, sortByFieldName="certSubject") == ["RA", "RD", "A1", "A2", "D1"]
    assert names(client, listing, sortByFieldName="certSubject", sortOrder="DESC") == ["D1", "A2", "A1", "RD", "RA"]
    assert names(client, listing, sortByFieldName="certNotAfter", sortOrder="DESC") == ["RA", "A1", "RD", "D1", "A2"]
    assert names(client, listing, sortByFieldName="certSubject", pageSize=2, pageNumber=2) == ["A1", "A2"]
    body = error(post(client, "/getCaCertificates", {"sortByFieldName": "password"}), "KER-KMS-005")
    assert "sortByFieldName" in body["errors"][0]["message"]


def test_list_type_and_domain_filters(client, listing) -> None:
    assert names(client, listing, caCertificateType="ROOT") == ["RA", "RD"]
    assert names(client, listing, caCertificateType="intermediate") == ["A1", "A2", "D1"]
    assert names(client, listing, partnerDomain="AUTH") == ["RA", "A1", "A2"]
    assert names(client, listing, partnerDomain="device") == ["RD", "D1"]
    assert names(client, listing, partnerDomain="DEVICE", caCertificateType="ROOT") == ["RD"]
    assert names(client, listing, partnerDomain="FTM") == []
    page = list_cas(client, partnerDomain="AUTH", pageSize=2)
    assert (page["totalRecords"], page["totalPages"]) == (3, 2)
    error(post(client, "/getCaCertificates", {"caCertificateType": "LEAF"}), "KER-PCM-018",
          message="Invalid Certificate Type")
    error(post(client, "/getCaCertificates", {"partnerDomain": "BANK"}), "KER-PCM-011")


def test_list_text_filters_are_case_insensitive_substrings(client, listing) -> None:
    ra_id = listing["RA"]["certId"]
    assert names(client, listing, certId=ra_id) == ["RA"]
    assert names(client, listing, certId=ra_id[4:20].upper()) == ["RA"]
    assert names(client, listing, issuedTo="sub a") == ["A1", "A2"]
    assert names(client, listing, issuedTo="ALPHA org") == ["A1"]
    assert names(client, listing, issuedBy="list root a") == ["RA", "A1", "A2"]
    assert names(client, listing, issuedBy="ROOT D") == ["RD", "D1"]
    assert names(client, listing, issuedTo="list", issuedBy="root d", caCertificateType="INTERMEDIATE") == ["D1"]
    assert names(client, listing, issuedTo="nobody") == []


def test_list_date_filters(client, listing, clock) -> None:
    assert clock.now() == START + timedelta(days=4)  # 2025-01-19
    assert names(client, listing, validFromDate="2024-12-26T00:00:00.000Z") == ["A1"]
    assert names(client, listing, validFromDate="2024-12-26T23:59:59.999Z") == ["A1"]  # the date part matches
    assert names(client, listing, validTillDate="2026-02-19T00:00:00.000Z") == ["A2"]  # START + 400 days
    assert names(client, listing, uploadTime="2025-01-17T00:00:00.000Z") == ["RD"]
    assert names(client, listing, uploadTime="2025-01-20T00:00:00.000Z") == []
    assert names(client, listing, expiringWithinDate="2026-03-01T00:00:00.000Z") == ["A2"]
    assert names(client, listing, expiringWithinDate="2026-06-01T00:00:00.000Z") == ["A2", "D1"]
    assert names(client, listing, expiringWithinDate="2025-01-18T00:00:00.000Z") == []
    for field in ("validFromDate", "validTillDate", "uploadTime", "expiringWithinDate"):
        for bad in ("2025-01-17", "2025-01-17T00:00:00Z", "2025-13-45T00:00:00.000Z", "yesterday"):
            body = error(post(client, "/getCaCertificates", {field: bad}), "KER-KMS-005")
            assert field in body["errors"][0]["message"]


def test_list_status_follows_the_clock(client, listing, clock) -> None:
    clock.set(START + timedelta(days=401))  # A2 expired (START + 400 days)
    status = {name: row["status"] for name, row in zip(names(client, listing), rows(client))}
    assert status == {"RA": True, "A1": True, "RD": True, "A2": False, "D1": True}


# == 6. getCACertificateTrustPath ==================================================================


def trust_path(client, cert_id: str) -> list[x509.Certificate]:
    response = ok(client.get(f"{API}/getCACertificateTrustPath/{cert_id}"))
    assert set(response) == {"p7bFile", "timestamp"}
    p7b = response["p7bFile"]
    assert p7b.startswith("-----BEGIN PKCS7-----\n")
    assert p7b.endswith("\n-----END PKCS7-----")
    lines = p7b.split("\n")[1:-1]
    assert lines and all(len(line) == 64 for line in lines[:-1]) and 0 < len(lines[-1]) <= 64
    return p7b_certificates(base64.b64decode("".join(lines), validate=True))


def test_trust_path_of_intermediate_root_and_unknown(client, clock) -> None:
    now = clock.now()
    root = make_certificate("Test Root CA", now=now, not_after=now + timedelta(days=400))
    intermediate = make_certificate("Test Intermediate CA", issuer=root, now=now)  # outlives its root
    sub = make_certificate("Test Sub Intermediate CA", issuer=intermediate, now=now)
    assert upload_ca_status(client, bundle(sub, intermediate, root)) == UPLOAD_SUCCESS
    ids = {row["issuedTo"]: row["certId"] for row in rows(client)}

    assert trust_path(client, ids["CN=Test Intermediate CA"]) == [intermediate.certificate, root.certificate]
    assert trust_path(client, ids["CN=Test Sub Intermediate CA"]) == [
        sub.certificate, intermediate.certificate, root.certificate]
    assert trust_path(client, ids["CN=Test Root CA"]) == [root.certificate]

    # Once the root has expired, the intermediate has no path: an empty p7b (still PEM-armoured).
    clock.set(root.certificate.not_valid_after_utc + timedelta(days=1))
    assert trust_path(client, ids["CN=Test Intermediate CA"]) == []

    error(client.get(f"{API}/getCACertificateTrustPath/{uuid.uuid4()}"), "KER-PMS-019",
          message="CA Certificate not found for the given ID.")
    error(client.get(f"{API}/getCACertificateTrustPath/%20"), "KER-PCM-010")


# == 7. jwtVerify with validateTrust ===============================================================


def signed_jwt(signer: Issued, *chain: Issued) -> str:
    x5c = [base64.b64encode(c.der).decode("ascii") for c in (signer, *chain)]
    return jwt.encode({"sub": "partner", "n": 7}, signer.private_key, algorithm="RS256", headers={"x5c": x5c})


def jwt_verify(client, token: str, domain: str | None = "AUTH", path: str = "/jwtVerify",
               validate_trust: bool = True) -> dict[str, Any]:
    result = ok(post(client, path, {"jwtSignatureData": token, "validateTrust": validate_trust, "domain": domain}))
    assert result["signatureValid"] is True and result["message"] == "Validation Successful"
    return result


def test_jwt_verify_trust_of_the_x5c_partner(client, clock) -> None:
    h = make_hierarchy(clock.now())
    token = signed_jwt(h.partner)
    assert jwt_verify(client, token)["trustValid"] == "TRUST_CERT_PATH_NOT_VALID"
    upload_hierarchy(client, h)
    for path in ("/jwtVerify", "/jwtVerify/v2"):
        assert jwt_verify(client, token, path=path)["trustValid"] == "TRUST_CERT_PATH_VALID"
        assert jwt_verify(client, token, "DEVICE", path=path)["trustValid"] == "TRUST_CERT_PATH_NOT_VALID"
    assert jwt_verify(client, token, None)["trustValid"] == "TRUST_NOT_VERIFIED_NO_DOMAIN"
    assert jwt_verify(client, token, validate_trust=False)["trustValid"] == "TRUST_NOT_VERIFIED"
    stranger = make_hierarchy(clock.now(), prefix="Stranger")
    assert jwt_verify(client, signed_jwt(stranger.partner))["trustValid"] == "TRUST_CERT_PATH_NOT_VALID"


def test_jwt_verify_v2_takes_intermediates_from_the_header(client, clock) -> None:
    now = clock.now()
    h = make_hierarchy(now)
    assert upload_ca_status(client, h.root.pem) == UPLOAD_SUCCESS  # the root only
    token = signed_jwt(h.partner, h.intermediate, h.root)
    assert jwt_verify(client, token, path="/jwtVerify/v2")["trustValid"] == "TRUST_CERT_PATH_VALID"
    # v1 uses the domain's store only, where the intermediate is missing.
    assert jwt_verify(client, token, path="/jwtVerify")["trustValid"] == "TRUST_CERT_PATH_NOT_VALID"

    stranger = make_hierarchy(now, prefix="Stranger")  # never uploaded
    token = signed_jwt(stranger.partner, stranger.intermediate, stranger.root)
    assert jwt_verify(client, token, path="/jwtVerify/v2")["trustValid"] == "TRUST_CERT_PATH_NOT_VALID"
    # The sender's last x5c entry is never trusted on its word, even when it is an uploaded root.
    token = signed_jwt(stranger.partner, stranger.intermediate, h.root)
    assert jwt_verify(client, token, path="/jwtVerify/v2")["trustValid"] == "TRUST_CERT_PATH_NOT_VALID"


# == Divergences from the reference's PKIX path building (known bugs) ==============================


def with_serial(issued: Issued, signer: Issued, serial: int) -> Issued:
    """The certificate re-issued with another serial (asn1crypto rewrites the TBS), as BouncyCastle's
    signed random longs give MOSIP certificates negative serials half of the time."""
    certificate = asn1_x509.Certificate.load(issued.der)
    certificate["tbs_certificate"]["serial_number"] = serial
    tbs = certificate["tbs_certificate"].dump(force=True)
    certificate["signature_value"] = signer.private_key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return Issued(x509.load_der_x509_certificate(certificate.dump(force=True)), issued.private_key)


@pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")
def test_negative_serial_numbers_are_refused_with_a_clear_error(client, clock) -> None:
    """cryptography's verifier refuses non-positive serials (RFC 5280), so such a certificate could
    never be part of a path: uploads refuse it at once with KER-PCM-001 and say why (ADR 0012)."""
    now = clock.now()
    h = make_hierarchy(now)
    positive = with_serial(h.root, h.root, 0x71234567890ABCDE)  # the control: same rewrite, positive serial
    negative = with_serial(h.root, h.root, -0x0EDCBA9876543210)
    assert negative.certificate.serial_number < 0
    assert upload_ca_status(client, positive.pem, "AUTH") == UPLOAD_SUCCESS
    assert upload_ca_status(client, h.intermediate.pem, "AUTH") == UPLOAD_SUCCESS
    assert verify_trust(client, h.partner.pem, "AUTH") is True
    negative_partner = with_serial(h.partner, h.intermediate, -0x0EDCBA9876543211)
    assert verify_trust(client, negative_partner.pem, "AUTH") is False
    refusal = "Invalid Certificate uploaded. Its serial number is not positive (RFC 5280)."
    error(upload_partner(client, negative_partner.pem), "KER-PCM-001", message=refusal)
    error(upload_ca(client, negative.pem, "DEVICE"), "KER-PCM-001", message=refusal)


def test_root_without_basic_constraints_is_refused_with_a_clear_error(client, clock) -> None:
    """A self-signed certificate without basicConstraints cA could never anchor a path with our
    verifier (the JDK does not check anchors' extensions): refused at upload, saying why."""
    root = make_certificate("No BC Root", now=clock.now(), extensions=False)
    error(upload_ca(client, root.pem, "AUTH"), "KER-PCM-001",
          message="Invalid Certificate uploaded. A CA certificate needs basicConstraints with cA true.")
    assert rows(client, partnerDomain="AUTH") == []


def ca_with_extended_key_usage(common_name: str, issuer: Issued, now: datetime, usages) -> Issued:
    key = cached_key(common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .sign(issuer.private_key, hashes.SHA256())
    )
    return Issued(certificate, key)


def test_ca_extended_key_usage_does_not_stop_the_path(client, clock) -> None:
    now = clock.now()
    h = make_hierarchy(now)
    assert upload_ca_status(client, h.root.pem, "AUTH") == UPLOAD_SUCCESS
    # The control: clientAuth in the CA's EKU is accepted.
    client_auth = ca_with_extended_key_usage("EKU Client CA", h.root, now, [x509.ExtendedKeyUsageOID.CLIENT_AUTH])
    assert upload_ca_status(client, client_auth.pem, "AUTH") == UPLOAD_SUCCESS
    assert verify_trust(client, leaf("EKU Client Partner", client_auth, now).pem, "AUTH") is True

    server_auth = ca_with_extended_key_usage("EKU Server CA", h.root, now, [x509.ExtendedKeyUsageOID.SERVER_AUTH])
    assert upload_ca_status(client, server_auth.pem, "AUTH") == UPLOAD_SUCCESS
    partner = leaf("EKU Server Partner", server_auth, now)
    assert verify_trust(client, partner.pem, "AUTH") is True
    assert ok(upload_partner(client, partner.pem))["certificateId"]


# == 8. Real stores: SQLite + PKCS#12, SQLite + SoftHSM2 =========================================


def happy_path_and_restart(
    make_container, settings: Settings, clock, *, prefix: str
) -> tuple[Any, x509.Certificate, str]:
    container = make_container(settings, clock)
    init_master_keys(container, ("ROOT", "KERNEL:SIGN", "PMS"))
    client = create_app(settings, container).test_client()
    now = clock.now()
    h = make_hierarchy(now, prefix=prefix)
    upload_hierarchy(client, h)
    assert verify_trust(client, h.partner.pem) is True
    response = ok(upload_partner(client, h.partner.pem))
    resigned, pms, root = p7b_certificates(b64url_decode(response["signedCertificateData"]))
    assert pms == get_certificate(client, "PMS") and root == get_certificate(client, "ROOT")
    check_resigned(resigned, h.partner.certificate, pms, now, key_encipherment=True)
    pms.verify_directly_issued_by(root)
    listed = sorted(r["certThumbprint"] for r in rows(client, partnerDomain="AUTH"))
    assert len(listed) == 5

    # A restart: a new container and app on the same data directory (and token).
    restarted = make_container(settings, clock)
    init_master_keys(restarted, ("ROOT", "KERNEL:SIGN", "PMS"))  # the ceremony again: nothing new
    again = create_app(settings, restarted).test_client()
    assert verify_trust(again, h.partner.pem) is True
    assert verify_trust(again, make_hierarchy(now, prefix="Stranger").partner.pem) is False
    assert sorted(r["certThumbprint"] for r in rows(again, partnerDomain="AUTH")) == listed
    both = ok(again.get(f"{API}/getPartnerSignedCertificate/{response['certificateId']}"))
    assert both["caSignedCertificateData"] == h.partner.pem
    assert pem_cert(both["mosipSignedCertificateData"]) == resigned
    assert get_certificate(again, "PMS") == pms
    # The restarted service re-signs with the same PMS key.
    renewed = ok(upload_partner(again, h.partner.pem))
    assert renewed["certificateId"] != response["certificateId"]
    resigned_again = p7b_certificates(b64url_decode(renewed["signedCertificateData"]))[0]
    resigned_again.verify_directly_issued_by(pms)
    return restarted, pms, response["certificateId"]


def test_sqlite_pkcs12_happy_path_and_restart(make_container, sqlite_settings: Settings, clock) -> None:
    happy_path_and_restart(make_container, sqlite_settings, clock, prefix="SQLite")


@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. 'pkcs11._pkcs11.OperationContext.__del__':pytest.PytestUnraisableExceptionWarning")
def test_softhsm_happy_path_and_restart(make_container, pkcs11_settings: Settings, softhsm_token, clock) -> None:
    from tests.support.pkcs11 import PROTECTED, aliases_of, token_private_key_attributes

    container, pms, _ = happy_path_and_restart(make_container, pkcs11_settings, clock, prefix="HSM")
    (pms_alias,) = aliases_of(container, KeyTuple("PMS"))
    attributes = token_private_key_attributes(softhsm_token, pms_alias)
    assert attributes is not None, "the PMS private key must be in the token"
    modulus = attributes.pop("modulus")
    assert attributes == PROTECTED
    assert modulus == pms.public_key().public_numbers().n
