"""PartnerCertManagerController: the partner trust store (ADR 0012)."""
from __future__ import annotations

from dataclasses import replace

from flask import Response

from application.use_cases.partner.get_ca_certificate_trust_path import GetCaCertificateTrustPath
from application.use_cases.partner.get_ca_certificates import GetCaCertificates, GetCaCertificatesCommand
from application.use_cases.partner.get_partner_certificate import GetPartnerCertificate
from application.use_cases.partner.upload_ca_certificate import UploadCaCertificate, UploadCaCertificateCommand
from application.use_cases.partner.upload_partner_certificate import (
    UploadPartnerCertificate,
    UploadPartnerCertificateCommand,
)
from application.use_cases.partner.verify_certificate_trust import VerifyCertificateTrust, VerifyCertificateTrustCommand

from . import responses
from .auth import current_username
from .envelope import format_instant, format_local, success
from .routes import Controller
from .schemas import CaCertificateListRequest, CaCertificateRequest, CertificateTrustRequest, PartnerCertificateRequest

api = Controller("partner", tag="partner-cert-manager-controller")
blueprint = api.blueprint


@api.post("/uploadCACertificate", summary="Add a root or intermediate CA certificate to a partner domain's trust "
          "store", role="postuploadcacertificate", audit="uploadCACertificate", request=CaCertificateRequest,
          response=responses.StatusResponse, use_case="upload_ca_certificate")
def upload_ca_certificate(dto: UploadCaCertificateCommand, use_case: UploadCaCertificate) -> Response:
    result = use_case.execute(dto)
    return success({"status": result.status, "timestamp": format_local(result.timestamp)})


@api.post("/uploadPartnerCertificate", summary="Store a partner's certificate (trusted through its domain's CAs) "
          "and re-sign it with the PMS key", role="postuploadpartnercertificate", audit="uploadPartnerCertificate",
          request=PartnerCertificateRequest, response=responses.PartnerCertificateUploadResponse,
          use_case="upload_partner_certificate")
def upload_partner_certificate(dto: UploadPartnerCertificateCommand, use_case: UploadPartnerCertificate) -> Response:
    result = use_case.execute(replace(dto, caller=current_username()))
    return success(
        {
            "signedCertificateData": result.signed_certificate_data,
            "certificateId": result.certificate_id,
            "timestamp": format_local(result.timestamp),
        }
    )


@api.get("/getPartnerCertificate/<partnerCertId>", summary="A partner's certificate, as re-signed by the PMS key",
         role="getgetpartnercertificatepartnercertid", response=responses.PartnerCertificateResponse,
         use_case="get_partner_certificate")
def get_partner_certificate(partnerCertId: str, use_case: GetPartnerCertificate) -> Response:
    result = use_case.execute(partnerCertId)
    return success(
        {"certificateData": result.record.signed_certificate_pem, "timestamp": format_local(result.timestamp)}
    )


@api.get("/getPartnerSignedCertificate/<partnerCertId>", summary="A partner's certificate as its CA signed it and "
         "as the PMS key re-signed it", role="getgetpartnersignedcertificatepartnercertid",
         response=responses.PartnerSignedCertificateResponse, use_case="get_partner_certificate")
def get_partner_signed_certificate(partnerCertId: str, use_case: GetPartnerCertificate) -> Response:
    result = use_case.execute(partnerCertId)
    return success(
        {
            "caSignedCertificateData": result.record.certificate_pem,
            "mosipSignedCertificateData": result.record.signed_certificate_pem,
            "timestamp": format_local(result.timestamp),
        }
    )


@api.post("/verifyCertificateTrust", summary="Whether a certificate chains to a partner domain's trust store",
          role="postverifycertificatetrust", audit="verifyCertificateTrust", request=CertificateTrustRequest,
          response=responses.TrustStatusResponse, use_case="verify_certificate_trust")
def verify_certificate_trust(dto: VerifyCertificateTrustCommand, use_case: VerifyCertificateTrust) -> Response:
    return success({"status": use_case.execute(dto)})


@api.post("/getCaCertificates", summary="The trust store's CA certificates, filtered, sorted and paged",
          role="postgetcacertificates", request=CaCertificateListRequest,
          response=responses.CaCertificateListResponse, use_case="get_ca_certificates")
def get_ca_certificates(dto: GetCaCertificatesCommand, use_case: GetCaCertificates) -> Response:
    result = use_case.execute(dto)
    return success(
        {
            "pageNumber": result.page_number,
            "pageSize": result.page_size,
            "totalRecords": result.total_records,
            "totalPages": result.total_pages,
            "allPartnerCertificates": [
                {
                    "caCertificateType": record.ca_type,
                    "partnerDomain": record.domain,
                    "certId": record.cert_id,
                    "issuedTo": record.subject,
                    "issuedBy": record.issuer,
                    "certThumbprint": record.thumbprint,
                    "validFromDate": format_instant(record.not_before),
                    "validTillDate": format_instant(record.not_after),
                    "uploadTime": format_instant(record.created_at),
                    "status": record.valid_at(result.now),
                }
                for record in result.records
            ],
        }
    )


@api.get("/getCACertificateTrustPath/<caCertId>", summary="A CA certificate and its issuers as a PKCS#7 bundle (PEM)",
         role="getcacertificatetrustpath", response=responses.TrustPathResponse,
         use_case="get_ca_certificate_trust_path")
def get_ca_certificate_trust_path(caCertId: str, use_case: GetCaCertificateTrustPath) -> Response:
    result = use_case.execute(caCertId)
    return success({"p7bFile": result.p7b_pem, "timestamp": format_local(result.timestamp)})
