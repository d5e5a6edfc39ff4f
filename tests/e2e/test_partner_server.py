"""The partner trust store over real HTTP (`python -m entrypoints.cli serve`: granian, 2 workers,
the embedded SQLite + PKCS#12 default, whose key ceremony makes ROOT and PMS): CA uploads, a
partner upload re-signed by PMS, trust checks answered by either worker, and a restart."""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.pki import b64url, make_certificate, make_hierarchy, to_p7b_der
from tests.support.server import Server, b64url_decode, server_factory

pytestmark = pytest.mark.slow


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[[str], Server]]:
    with server_factory(tmp_path) as make:
        yield make


def p7b_certificates(der: bytes) -> list[x509.Certificate]:
    signed = cms.ContentInfo.load(der)["content"]
    return [x509.load_der_x509_certificate(choice.chosen.dump()) for choice in signed["certificates"]]


def sha1_hex(certificate: x509.Certificate) -> str:
    return hashlib.sha1(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def twelve_months_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def trusted(server: Server, pem: str, domain: str = "AUTH") -> bool:
    return server.ok("POST", "/verifyCertificateTrust", {"certificateData": pem, "partnerDomain": domain})["status"]


def test_partner_trust_store_over_real_http(servers) -> None:
    server = servers("partner").start()
    now = datetime.now(UTC)  # the server runs on the system clock
    h = make_hierarchy(now, prefix="E2E")
    stranger = make_hierarchy(now, prefix="E2E Stranger")

    upload = {"certificateData": h.root.pem, "partnerDomain": "auth"}
    assert server.ok("POST", "/uploadCACertificate", upload)["status"] == "Upload Success."
    assert trusted(server, h.partner.pem) is False  # the intermediate is not there yet
    bundle = b64url(to_p7b_der([h.intermediate.certificate], indefinite_length=True))
    assert server.ok("POST", "/uploadCACertificate", {"certificateData": bundle, "partnerDomain": "AUTH"})[
        "status"] == "Upload Success."
    duplicate = server.call("POST", "/uploadCACertificate", {"certificateData": h.root.pem, "partnerDomain": "AUTH"})
    assert duplicate["response"] is None and duplicate["errors"][0]["errorCode"] == "KER-PCM-003"

    # Every request may land on either worker: each must see the uploads.
    for _ in range(6):
        assert trusted(server, h.partner.pem) is True
        assert trusted(server, stranger.partner.pem) is False
        assert trusted(server, h.partner.pem, "DEVICE") is False

    request = {"certificateData": h.partner.pem, "organizationName": "Partner Org", "partnerDomain": "AUTH"}
    response = server.ok("POST", "/uploadPartnerCertificate", request)
    resigned, pms, root = p7b_certificates(b64url_decode(response["signedCertificateData"]))
    assert root == x509.load_pem_x509_certificate(server.certificate("ROOT").encode())
    assert pms == x509.load_pem_x509_certificate(server.certificate("PMS").encode())
    assert resigned.subject == h.partner.certificate.subject and resigned.issuer == pms.subject
    resigned.verify_directly_issued_by(pms)
    pms.verify_directly_issued_by(root)
    weak = make_certificate("E2E Weak Partner", issuer=h.intermediate, now=now, ca=False,
                            organization="Partner Org", key_size=1024)
    refused = server.call("POST", "/uploadPartnerCertificate", {**request, "certificateData": weak.pem})
    assert refused["errors"][0]["errorCode"] == "KER-PCM-013"

    listed = server.ok("POST", "/getCaCertificates", {"partnerDomain": "AUTH", "sortByFieldName": "certSubject"})
    thumbprints = {row["certThumbprint"] for row in listed["allPartnerCertificates"]}
    assert {h.root.sha1_hex, h.intermediate.sha1_hex, sha1_hex(root), sha1_hex(pms)} <= thumbprints
    # The re-signed certificate (365 days) joins the domain too, unless a leap day makes 365 days
    # shorter than the CA rule's twelve months (the reference behaves the same).
    resigned_joins = resigned.not_valid_after_utc.date() >= twelve_months_after(now.date())
    assert (sha1_hex(resigned) in thumbprints) is resigned_joins
    assert listed["totalRecords"] == len(thumbprints) == (5 if resigned_joins else 4)

    server.stop()
    server.start()  # same data directory: the trust store and the partner row survive
    assert trusted(server, h.partner.pem) is True
    assert trusted(server, stranger.partner.pem) is False
    signed = server.ok("GET", f"/getPartnerSignedCertificate/{response['certificateId']}")
    assert signed["caSignedCertificateData"] == h.partner.pem
    assert x509.load_pem_x509_certificate(signed["mosipSignedCertificateData"].encode()) == resigned
    first = listed["allPartnerCertificates"][0]  # sorted by subject: "CN=E2E Intermediate CA" first
    assert first["issuedTo"] == "CN=E2E Intermediate CA"
    path = server.ok("GET", f"/getCACertificateTrustPath/{first['certId']}")["p7bFile"]
    body = "".join(path.split("\n")[1:-1])
    assert p7b_certificates(base64.b64decode(body, validate=True)) == [h.intermediate.certificate, h.root.certificate]
