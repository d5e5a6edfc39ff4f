"""POST /pdf/sign through Flask's test client (mosip-api.md §4, §4.3; mosip-cose-pdf.md part B).

Every signed document is checked by validators other than the library that signs it: poppler's
pdfsig, and the CMS taken apart from the raw bytes with asn1crypto and verified with
`cryptography` against the certificate /getCertificate returns. pyHanko's own validator, used
apart from the signing code, is a further check. The structure (/Rect, /Reason, /P ...) is read
with pyHanko's PDF reader.
"""
from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.crypt import AuthStatus
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter, copy_into_new_writer
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from domain.keys import KeyPolicy, KeyTuple
from entrypoints.http.app import create_app
from entrypoints.http.schemas import PDF_EXAMPLE
from tests.support.containers import init_master_keys
from tests.support.http_api import (
    API,
    APP,
    ED,
    K1,
    P256,
    b64url,
    b64url_decode,
    error,
    generate_sign_key,
    ok,
    post,
)
from tests.support.pdf import last_signature, minimal_pdf, pdfsig, require_pdfsig
from tests.support.pkcs11 import PROTECTED, aliases_of, token_private_key_attributes

KERNEL_CN = "www.mosip.io (KERNEL-SIGN)"
PDG = "KER-PDG-001"


# -- helpers -------------------------------------------------------------------------------------


def pdf_request(pdf: bytes | str, app: str | None = "KERNEL", ref: str | None = "SIGN", **extra: Any) -> dict:
    request = {
        "applicationId": app,
        "referenceId": ref,
        "timeStamp": "2026-01-05T10:00:00.000Z",
        "data": pdf if isinstance(pdf, str) else b64url(pdf),
        "lowerLeftX": 100,
        "lowerLeftY": 100,
        "upperRightX": 200,
        "upperRightY": 60,
        "reason": "signing",
        "pageNumber": 0,
    }
    request.update(extra)
    return request


def sign(client, pdf: bytes | str, **kwargs: Any) -> bytes:
    data = ok(post(client, "/pdf/sign", pdf_request(pdf, **kwargs)))["data"]
    assert "=" not in data and "+" not in data and "/" not in data  # unpadded base64url
    return b64url_decode(data)


def sign_error(client, pdf: bytes | str, code: str, message: str | None = None, **kwargs: Any) -> None:
    error(post(client, "/pdf/sign", pdf_request(pdf, **kwargs)), code, message=message)


def certificate_of(client, app: str, ref: str) -> x509.Certificate:
    query = {"applicationId": app, "referenceId": ref}
    pem = ok(client.get(f"{API}/getCertificate", query_string=query))["certificate"]
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def chain_of(client, app: str, ref: str) -> list[x509.Certificate]:
    query = {"applicationId": app, "referenceId": ref}
    bundle = ok(client.get(f"{API}/getCertificateChain", query_string=query))["certificatesTrustPath"]
    body = "".join(line for line in bundle.splitlines() if line and not line.startswith("-----"))
    signed_data = cms.ContentInfo.load(base64.b64decode(body))["content"]
    return [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed_data["certificates"]]


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def pdfsig_valid(tmp_path: Path, document: bytes, common_name: str, password: str | None = None) -> str:
    """pdfsig says the last signature is valid, by ``common_name``, adbe.pkcs7.detached."""
    require_pdfsig()
    path = tmp_path / f"signed-{hashlib.sha256(document).hexdigest()[:12]}.pdf"
    path.write_bytes(document)
    report = pdfsig(path, *(["-upw", password] if password else []))
    last = report.split("Signature #")[-1]
    assert "Signature Validation: Signature is Valid." in last, report
    assert f"Signer Certificate Common Name: {common_name}" in last, report
    assert "Signature Type: adbe.pkcs7.detached" in last, report
    assert "Signing Hash Algorithm: SHA-256" in last, report
    return report


def assert_cms(document: bytes, signer: x509.Certificate, chain: list[x509.Certificate]) -> None:
    """The detached CMS: SHA-256, the whole chain, a message digest of the ByteRange, and a
    signature over the signed attributes that ``signer``'s public key verifies."""
    parts = last_signature(document)
    assert parts.cms["content_type"].native == "signed_data"
    signed_data = parts.cms["content"]
    assert signed_data["encap_content_info"]["content"].native is None  # detached
    assert [a["algorithm"].native for a in signed_data["digest_algorithms"]] == ["sha256"]
    assert {c.chosen.dump() for c in signed_data["certificates"]} == {der(c) for c in chain}
    (signer_info,) = signed_data["signer_infos"]
    assert signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    serial = signer_info["sid"].chosen
    assert serial["serial_number"].native == signer.serial_number
    assert serial["issuer"].dump() == asn1_x509.Certificate.load(der(signer)).issuer.dump()
    attributes = {a["type"].native: a["values"][0].native for a in signer_info["signed_attrs"]}
    assert attributes["content_type"] == "data"
    assert attributes["message_digest"] == hashlib.sha256(parts.signed_bytes).digest()
    signed_attributes = b"\x31" + signer_info["signed_attrs"].dump()[1:]  # signed as a SET (RFC 5652 §5.4)
    algorithm = signer_info["signature_algorithm"]["algorithm"].native
    signature = signer_info["signature"].native
    public_key = signer.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        assert algorithm in ("sha256_rsa", "rsassa_pkcs1v15")  # SHA256withRSA
        public_key.verify(signature, signed_attributes, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        assert algorithm == "sha256_ecdsa"  # SHA256withECDSA
        public_key.verify(signature, signed_attributes, ec.ECDSA(hashes.SHA256()))


def pyhanko_valid(document: bytes, root: x509.Certificate, password: str | None = None) -> None:
    reader = PdfFileReader(io.BytesIO(document))
    if password:
        reader.decrypt(password)
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der(root))], allow_fetching=False)
    # our certificates carry no key usage extension: require none
    status = validate_pdf_signature(
        reader.embedded_signatures[-1], context, key_usage_settings=KeyUsageConstraints(key_usage=set())
    )
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()


def signature_field(document: bytes, password: str | None = None) -> tuple[PdfFileReader, Any]:
    reader = PdfFileReader(io.BytesIO(document))
    if password:
        assert reader.decrypt(password).status != AuthStatus.FAILED
    return reader, reader.embedded_signatures[-1].sig_field


def page_of(reader: PdfFileReader, field: Any) -> int:
    """The index of the page that shows the widget (its /P, and the page's /Annots holds it)."""
    kids = reader.root["/Pages"]["/Kids"]
    (index,) = [
        i for i, page in enumerate(kids)
        if any(a.get_object().get("/T") == field["/T"] for a in page.get_object().get("/Annots", []))
    ]
    assert field["/P"] == kids[index]
    return index


# -- signing with each kind of key ---------------------------------------------------------------


def test_kernel_sign_signs_a_pdf(client, tmp_path) -> None:
    original = minimal_pdf(1)
    signed = sign(client, original)

    assert signed.startswith(original)  # an incremental update: the input bytes are kept
    signer = certificate_of(client, "KERNEL", "SIGN")
    chain = chain_of(client, "KERNEL", "SIGN")
    assert len(chain) == 2 and der(chain[0]) == der(signer)  # KERNEL/SIGN and ROOT
    pdfsig_valid(tmp_path, signed, KERNEL_CN)
    assert_cms(signed, signer, chain)
    pyhanko_valid(signed, chain[-1])

    reader, field = signature_field(signed)
    value = field["/V"]
    assert value["/Type"] == "/Sig"
    assert value["/Filter"] == "/Adobe.PPKLite"
    assert value["/SubFilter"] == "/adbe.pkcs7.detached"
    assert value["/Name"] == KERNEL_CN
    assert value["/Reason"] == "signing"
    assert str(value["/M"]).startswith("D:20")
    assert reader.root["/AcroForm"]["/SigFlags"] == 3
    assert reader.encrypt_dict is None


@pytest.mark.parametrize(
    ("app_id", "ref_id"),
    [pytest.param(APP, "", id="app-master-key"), pytest.param(APP, P256, id="ec-p256"),
     pytest.param(APP, None, id="null-reference-is-master-key")],
)
def test_other_signing_keys(client, tmp_path, app_id, ref_id) -> None:
    if ref_id == P256:
        generate_sign_key(client, APP, P256)
    signed = sign(client, minimal_pdf(2), app=app_id, ref=ref_id)

    signer = certificate_of(client, app_id, ref_id or "")
    chain = chain_of(client, app_id, ref_id or "")
    common_name = signer.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    pdfsig_valid(tmp_path, signed, common_name)
    assert_cms(signed, signer, chain)
    pyhanko_valid(signed, chain[-1])
    assert signature_field(signed)[1]["/V"]["/Name"] == common_name


def test_secp256k1_key(client) -> None:
    """poppler's NSS has no secp256k1, so the CMS is checked directly."""
    generate_sign_key(client, APP, K1)
    signed = sign(client, minimal_pdf(1), app=APP, ref=K1)
    assert_cms(signed, certificate_of(client, APP, K1), chain_of(client, APP, K1))


def test_ed25519_key_cannot_sign_pdfs(client) -> None:
    generate_sign_key(client, APP, ED)
    sign_error(client, minimal_pdf(1), PDG, app=APP, ref=ED,
               message="Error while signing the PDF: the key type cannot sign PDF documents")


def test_signing_a_signed_document_keeps_both_signatures(client, tmp_path) -> None:
    once = sign(client, minimal_pdf(1), reason="first")
    twice = sign(client, once, reason="second", lowerLeftY=200)
    assert twice.startswith(once)
    report = pdfsig_valid(tmp_path, twice, KERNEL_CN)
    assert report.count("Signature is Valid.") == 2
    reader = PdfFileReader(io.BytesIO(twice))
    assert [s.sig_field["/V"]["/Reason"] for s in reader.embedded_signatures] == ["first", "second"]
    assert [s.field_name for s in reader.embedded_signatures] == ["Signature1", "Signature2"]


def test_the_openapi_example_signs(client, tmp_path) -> None:
    signed = sign(client, PDF_EXAMPLE)
    assert signed.startswith(b64url_decode(PDF_EXAMPLE))
    pdfsig_valid(tmp_path, signed, KERNEL_CN)


def test_no_access_allowed_check(make_container, memory_settings, clock) -> None:
    """As in the reference, pdf/sign does not consult the key policy's access_allowed."""
    built = make_container(memory_settings, clock)
    with built.uow_factory()() as uow:
        uow.keys.save_policy(KeyPolicy(APP, 1095, 60, access_allowed="someone-else"))
        uow.commit()
    init_master_keys(built)
    client = create_app(memory_settings, built).test_client()
    signed = sign(client, minimal_pdf(1), app=APP, ref="")
    assert_cms(signed, certificate_of(client, APP, ""), chain_of(client, APP, ""))


# -- the visible signature -------------------------------------------------------------------------


@pytest.mark.parametrize(("requested", "expected"), [(0, 0), (1, 1), (2, 2), (3, 2), (2**31 - 1, 2)])
def test_page_number_is_zero_based_and_clamped(client, requested, expected) -> None:
    reader, field = signature_field(sign(client, minimal_pdf(3), pageNumber=requested))
    assert page_of(reader, field) == expected


def test_widget_rect_and_appearance(client) -> None:
    """upperRightX/Y act as the width and height (B.3)."""
    signed = sign(client, minimal_pdf(1), lowerLeftX=50, lowerLeftY=70, upperRightX=300, upperRightY=80,
                  reason="identity (card) issued")
    _, field = signature_field(signed)
    assert [int(v) for v in field["/Rect"]] == [50, 70, 350, 150]
    appearance = field["/AP"]["/N"]
    x1, y1, x2, y2 = (int(v) for v in appearance["/BBox"])
    assert (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)) == (0, 0, 300, 80)
    assert appearance["/Resources"]["/Font"]["/F1"]["/BaseFont"] == "/Helvetica-Bold"
    text = appearance.data
    assert b"/F1 10 Tf 12 TL 5 63 Td" in text
    assert b"(Digitally signed www.mosip.io \\(KERNEL-SIGN\\)) Tj" in text
    assert b"(Date: 2025.01.15 09:30:00 UTC) Tj" in text  # the service's clock; day of month, not of year
    assert b"(Reason:identity \\(card\\) issued) Tj" in text


def test_lines_wrap_in_a_narrow_box(client) -> None:
    """Wrapped at blanks, '-' and '_' to the width less 10 points (about 6 points a character)."""
    signed = sign(client, minimal_pdf(1), upperRightX=140, upperRightY=120, reason="a-long_reason text")
    text = signature_field(signed)[1]["/AP"]["/N"].data
    assert (b"(Digitally signed) Tj T* (www.mosip.io \\(KERNEL-) Tj T* (SIGN\\)) Tj T* (Date: 2025.01.15) Tj "
            b"T* (09:30:00 UTC) Tj T* (Reason:a-long_reason) Tj T* (text) Tj ET") in text


# -- password protection ---------------------------------------------------------------------------


def test_password_protects_with_rc4_128(client, tmp_path) -> None:
    original = minimal_pdf(1)
    signed = sign(client, original, password="user-secret")

    assert not signed.startswith(original)  # re-saved encrypted, then signed incrementally
    reader = PdfFileReader(io.BytesIO(signed))
    encryption = reader.encrypt_dict
    assert encryption["/Filter"] == "/Standard"
    assert (encryption["/V"], encryption["/R"], encryption.get("/Length", 40)) == (2, 3, 128)
    permissions = int(encryption["/P"]) & 0xFFFFFFFF
    assert permissions & 1024 == 0  # no assembling
    assert permissions & (4 | 8 | 16 | 32 | 256 | 512 | 2048) == 4 | 8 | 16 | 32 | 256 | 512 | 2048
    assert reader.decrypt("").status == AuthStatus.FAILED
    assert PdfFileReader(io.BytesIO(signed)).decrypt('""').status == AuthStatus.FAILED  # not the reference's
    assert PdfFileReader(io.BytesIO(signed)).decrypt("user-secret").status == AuthStatus.USER

    require_pdfsig()
    path = tmp_path / "protected.pdf"
    path.write_bytes(signed)
    assert "Signature is Valid." not in pdfsig(path)  # poppler cannot open it without the password
    pdfsig_valid(tmp_path, signed, KERNEL_CN, password="user-secret")
    signer = certificate_of(client, "KERNEL", "SIGN")
    assert_cms(signed, signer, chain_of(client, "KERNEL", "SIGN"))
    pyhanko_valid(signed, chain_of(client, "KERNEL", "SIGN")[-1], password="user-secret")
    _, field = signature_field(signed, "user-secret")
    assert field["/V"]["/Reason"] == "signing"


def test_owner_password_setting(memory_settings, container) -> None:
    settings = memory_settings.with_overrides(pdf_owner_password="owner-secret")
    container.config.from_dict({"pdf_owner_password": "owner-secret"})
    client = create_app(settings, container).test_client()
    signed = sign(client, minimal_pdf(1), password="user-secret")
    assert PdfFileReader(io.BytesIO(signed)).decrypt("owner-secret").status == AuthStatus.OWNER


def test_blank_password_does_not_protect(client) -> None:
    original = minimal_pdf(1)
    signed = sign(client, original, password="   ")
    assert signed.startswith(original)
    assert PdfFileReader(io.BytesIO(signed)).encrypt_dict is None


def owner_only_encrypted(pdf: bytes) -> bytes:
    """Encrypted with an owner password and an empty user password (opens without a password)."""
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    assert isinstance(writer, PdfFileWriter)
    writer.encrypt(owner_pass="owner", user_pass="")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_encrypted_input_that_opens_without_password_is_signed(client, tmp_path) -> None:
    encrypted = owner_only_encrypted(minimal_pdf(1))
    signed = sign(client, encrypted)
    assert signed.startswith(encrypted)
    pdfsig_valid(tmp_path, signed, KERNEL_CN)
    assert_cms(signed, certificate_of(client, "KERNEL", "SIGN"), chain_of(client, "KERNEL", "SIGN"))


@pytest.mark.parametrize(
    ("password", "reason"),
    [(None, "the document is encrypted and the password does not open it"),
     ("wrong", "the document is already encrypted"),
     ("user-secret", "the document is already encrypted")],
)
def test_encrypted_input_needing_a_password(client, password, reason) -> None:
    protected = sign(client, minimal_pdf(1), password="user-secret")
    sign_error(client, protected, PDG, f"Error while signing the PDF: {reason}", password=password)


# -- refusals --------------------------------------------------------------------------------------


def test_not_base64(client) -> None:
    sign_error(client, "%PDF-1.4 not base64!", "KER-CRY-003", " input data is not base64 encoded")


@pytest.mark.parametrize(
    "document",
    [pytest.param(b"plain text, not a PDF", id="not-a-pdf"),
     pytest.param(minimal_pdf(1)[:-60], id="truncated"),
     pytest.param(minimal_pdf(1).replace(b"/Root 1 0 R", b"/Root 9 0 R"), id="no-catalog"),
     pytest.param(b"%PDF-1.4\n" + bytes(range(256)) * 8, id="garbage-after-header"),
     pytest.param(minimal_pdf(0), id="no-pages")],
)
def test_documents_that_cannot_be_signed(client, document) -> None:
    response = post(client, "/pdf/sign", pdf_request(document))
    body = error(response, PDG)
    assert body["errors"][0]["message"].startswith("Error while signing the PDF: ")


def test_password_outside_pdf_doc_encoding(client) -> None:
    sign_error(client, minimal_pdf(1), PDG, password="пароль",
               message="Error while signing the PDF: the user password has characters a PDF password cannot hold")


@pytest.mark.parametrize(
    ("app_id", "ref_id", "code"),
    [("NO_SUCH_APP", "", "KER-KMS-002"), (APP, "SIGN", "KER-KMS-020"), ("NO_SUCH_APP", "SIGN", "KER-KMS-020"),
     (APP, "10001_110011", "KER-KMS-020"), ("KERNEL", "", "KER-KMS-012"), (APP, P256, "KER-KMS-012")],
)
def test_key_errors(client, app_id, ref_id, code) -> None:
    sign_error(client, minimal_pdf(1), code, app=app_id, ref=ref_id)


@pytest.mark.parametrize("field", ["lowerLeftX", "lowerLeftY", "upperRightX", "upperRightY", "pageNumber"])
def test_negative_numbers(client, field) -> None:
    sign_error(client, minimal_pdf(1), "KER-KMS-005", f"request.{field} must be greater than or equal to 0",
               **{field: -1})


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"reason": "  "}, "request.reason should not be null or empty"),
     ({"reason": None}, "request.reason should not be null or empty"),
     ({"applicationId": ""}, "request.applicationId should not be null or empty"),
     ({"data": ""}, "request.data should not be null or empty"),
     ({"lowerLeftX": 2**31}, "request.lowerLeftX must be less than or equal to 2147483647"),
     ({"pageNumber": "1"}, "request.pageNumber must be an integer")],
)
def test_invalid_requests(client, changes, message) -> None:
    sign_error(client, minimal_pdf(1), "KER-KMS-005", message, **changes)


def test_absent_numbers_are_zero(client) -> None:
    request = pdf_request(minimal_pdf(2))
    for name in ("lowerLeftX", "lowerLeftY", "upperRightX", "upperRightY", "pageNumber", "timeStamp"):
        del request[name]
    reader, field = signature_field(b64url_decode(ok(post(client, "/pdf/sign", request))["data"]))
    assert page_of(reader, field) == 0
    assert [int(v) for v in field["/Rect"]] == [0, 0, 0, 0]


def test_fifty_megabyte_body(client) -> None:
    big = pdf_request("A" * (50 * 1024 * 1024))
    error(post(client, "/pdf/sign", big), "KER-KMS-005", status=413)


# -- a key in a PKCS#11 token ------------------------------------------------------------------------


@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. 'pkcs11._pkcs11.OperationContext.__del__':pytest.PytestUnraisableExceptionWarning"
)
def test_key_in_a_pkcs11_token_signs(make_container, pkcs11_settings, softhsm_token, clock, tmp_path) -> None:
    """KERNEL/SIGN (RSA) and an EC P-256 key live in the SoftHSM2 token and sign there."""
    container = make_container(pkcs11_settings, clock)
    init_master_keys(container)
    client = create_app(pkcs11_settings, container).test_client()
    generate_sign_key(client, APP, P256)
    for app_id, ref_id in (("KERNEL", "SIGN"), (APP, P256)):
        (alias,) = aliases_of(container, KeyTuple(app_id, ref_id))
        assert alias in container.keystore().aliases()  # the private key is a token object
        if ref_id == "SIGN":
            assert token_private_key_attributes(softhsm_token, alias) == {
                **PROTECTED, "modulus": certificate_of(client, app_id, ref_id).public_key().public_numbers().n
            }
        signer = certificate_of(client, app_id, ref_id)
        common_name = signer.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        signed = sign(client, minimal_pdf(1), app=app_id, ref=ref_id)
        pdfsig_valid(tmp_path, signed, common_name)
        assert_cms(signed, signer, chain_of(client, app_id, ref_id))
