"""PartnerCertManagerController: the partner trust store (ADR 0012)."""
from __future__ import annotations

from datetime import date
from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response

from application.use_cases.get_ca_certificate_trust_path import GetCaCertificateTrustPath
from application.use_cases.get_ca_certificates import GetCaCertificates, GetCaCertificatesCommand
from application.use_cases.get_partner_certificate import GetPartnerCertificate
from application.use_cases.upload_ca_certificate import UploadCaCertificate, UploadCaCertificateCommand
from application.use_cases.upload_partner_certificate import (
    UploadPartnerCertificate,
    UploadPartnerCertificateCommand,
)
from application.use_cases.verify_certificate_trust import VerifyCertificateTrust, VerifyCertificateTrustCommand

from ..containers import Container
from .auth import current_username
from .envelope import format_instant, format_local, request_body, success
from .schemas import (
    CaCertificateListRequest,
    CaCertificateRequest,
    CertificateTrustRequest,
    PartnerCertificateRequest,
    load_request,
)

blueprint = Blueprint("partner", __name__)


def _date(value: str | None) -> date | None:
    """The date part of a validated yyyy-MM-dd'T'HH:mm:ss.SSS'Z' value."""
    return date.fromisoformat(value[:10]) if value else None


@blueprint.post("/uploadCACertificate")
@inject
def upload_ca_certificate(use_case: UploadCaCertificate = Provide[Container.upload_ca_certificate]) -> Response:
    dto = load_request(CaCertificateRequest, request_body())
    result = use_case.execute(UploadCaCertificateCommand(dto["certificateData"], dto["partnerDomain"]))
    return success({"status": result.status, "timestamp": format_local(result.timestamp)})


@blueprint.post("/uploadPartnerCertificate")
@inject
def upload_partner_certificate(
    use_case: UploadPartnerCertificate = Provide[Container.upload_partner_certificate],
) -> Response:
    dto = load_request(PartnerCertificateRequest, request_body())
    result = use_case.execute(
        UploadPartnerCertificateCommand(
            certificate_data=dto["certificateData"],
            organization_name=dto["organizationName"],
            partner_domain=dto["partnerDomain"],
            caller=current_username(),
        )
    )
    return success(
        {
            "signedCertificateData": result.signed_certificate_data,
            "certificateId": result.certificate_id,
            "timestamp": format_local(result.timestamp),
        }
    )


@blueprint.get("/getPartnerCertificate/<partner_cert_id>")
@inject
def get_partner_certificate(
    partner_cert_id: str, use_case: GetPartnerCertificate = Provide[Container.get_partner_certificate]
) -> Response:
    result = use_case.execute(partner_cert_id)
    return success(
        {"certificateData": result.record.signed_certificate_pem, "timestamp": format_local(result.timestamp)}
    )


@blueprint.get("/getPartnerSignedCertificate/<partner_cert_id>")
@inject
def get_partner_signed_certificate(
    partner_cert_id: str, use_case: GetPartnerCertificate = Provide[Container.get_partner_certificate]
) -> Response:
    result = use_case.execute(partner_cert_id)
    return success(
        {
            "caSignedCertificateData": result.record.certificate_pem,
            "mosipSignedCertificateData": result.record.signed_certificate_pem,
            "timestamp": format_local(result.timestamp),
        }
    )


@blueprint.post("/verifyCertificateTrust")
@inject
def verify_certificate_trust(
    use_case: VerifyCertificateTrust = Provide[Container.verify_certificate_trust],
) -> Response:
    dto = load_request(CertificateTrustRequest, request_body())
    trusted = use_case.execute(VerifyCertificateTrustCommand(dto["certificateData"], dto["partnerDomain"]))
    return success({"status": trusted})


@blueprint.post("/getCaCertificates")
@inject
def get_ca_certificates(use_case: GetCaCertificates = Provide[Container.get_ca_certificates]) -> Response:
    dto: dict[str, Any] = load_request(CaCertificateListRequest, request_body())
    result = use_case.execute(
        GetCaCertificatesCommand(
            ca_type=dto["caCertificateType"],
            partner_domain=dto["partnerDomain"],
            exclude_mosip_ca=bool(dto["excludeMosipCA"]),
            sort_by=dto["sortByFieldName"],
            sort_order=dto["sortOrder"],
            page_number=dto["pageNumber"],
            page_size=dto["pageSize"],
            cert_id=dto["certId"],
            issued_to=dto["issuedTo"],
            issued_by=dto["issuedBy"],
            valid_from=_date(dto["validFromDate"]),
            valid_till=_date(dto["validTillDate"]),
            uploaded=_date(dto["uploadTime"]),
            expiring_within=_date(dto["expiringWithinDate"]),
        )
    )
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


@blueprint.get("/getCACertificateTrustPath/<ca_cert_id>")
@inject
def get_ca_certificate_trust_path(
    ca_cert_id: str, use_case: GetCaCertificateTrustPath = Provide[Container.get_ca_certificate_trust_path]
) -> Response:
    result = use_case.execute(ca_cert_id)
    return success({"p7bFile": result.p7b_pem, "timestamp": format_local(result.timestamp)})
