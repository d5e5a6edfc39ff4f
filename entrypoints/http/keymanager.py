"""KeymanagerController: key generation, certificates, revocation, other-domain uploads."""
from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, request

from application.use_cases.generate_master_key import GenerateMasterKey, GenerateMasterKeyCommand
from application.use_cases.get_all_certificates import GetAllCertificates, GetAllCertificatesCommand
from application.use_cases.get_certificate import CertificateResult, GetCertificate, GetCertificateCommand
from application.use_cases.revoke_key import RevokeKey, RevokeKeyCommand
from application.use_cases.upload_other_domain_certificate import (
    UploadOtherDomainCertificate,
    UploadOtherDomainCertificateCommand,
)
from application.use_cases.generate_csr import GenerateCsr, GenerateCsrCommand
from application.use_cases.generate_ec_sign_key import GenerateEcSignKey, GenerateEcSignKeyCommand
from application.use_cases.get_certificate_chain import GetCertificateChain, GetCertificateChainCommand
from application.use_cases.upload_certificate import UploadCertificate, UploadCertificateCommand
from application.use_cases.generate_symmetric_key import GenerateSymmetricKey, GenerateSymmetricKeyCommand
from application.x509 import Subject
from domain.errors import ValidationError

from ..containers import Container
from .audit import note_key, pem_thumbprint
from .envelope import format_instant, format_local, request_body, success
from .schemas import (
    CsrGenerateRequest,
    KeyPairGenerateRequest,
    RevokeKeyRequest,
    SymmetricKeyRequest,
    UploadCertificateRequest,
    load_request,
)

blueprint = Blueprint("keymanager", __name__)


def _query(name: str, required: bool) -> str:
    value = request.args.get(name)
    if value is None and required:
        raise ValidationError([f"Required request parameter '{name}' for method parameter type String is not present"])
    return value or ""


def _subject(dto: dict) -> Subject:
    """Subject fields of a request; blank ones fall back to the configured defaults later."""
    return Subject(
        common_name=(dto["commonName"] or "").strip(),
        organizational_unit=(dto["organizationUnit"] or "").strip(),
        organization=(dto["organization"] or "").strip(),
        location=(dto["location"] or "").strip(),
        state=(dto["state"] or "").strip(),
        country=(dto["country"] or "").strip(),
    )


def _certificate_response(result: CertificateResult) -> Response:
    note_key(thumbprint_hex=pem_thumbprint(result.certificate_pem))
    return success(
        {
            "certificate": result.certificate_pem,
            "certSignRequest": result.csr_pem,
            "issuedAt": format_instant(result.issued_at),
            "expiryAt": format_instant(result.expiry_at),
            "timestamp": format_instant(result.timestamp),
        }
    )


@blueprint.post("/generateMasterKey/<object_type>")
@inject
def generate_master_key(
    object_type: str, use_case: GenerateMasterKey = Provide[Container.generate_master_key]
) -> Response:
    dto = load_request(KeyPairGenerateRequest, request_body())
    subject = _subject(dto)
    result = use_case.execute(
        GenerateMasterKeyCommand(
            app_id=dto["applicationId"],
            ref_id=(dto["referenceId"] or "").strip(),
            object_type=object_type,
            force=bool(dto["force"]),
            subject=subject,
        )
    )
    return _certificate_response(result)


@blueprint.get("/getCertificate")
@inject
def get_certificate(use_case: GetCertificate = Provide[Container.get_certificate]) -> Response:
    command = GetCertificateCommand(_query("applicationId", True), _query("referenceId", False).strip())
    return _certificate_response(use_case.execute(command))


@blueprint.get("/getAllCertificates")
@inject
def get_all_certificates(use_case: GetAllCertificates = Provide[Container.get_all_certificates]) -> Response:
    command = GetAllCertificatesCommand(_query("applicationId", True), _query("referenceId", False).strip())
    result = use_case.execute(command)
    return success(
        {
            "allCertificates": [
                {
                    "certificateData": entry.certificate_pem,
                    "issuedAt": format_instant(entry.issued_at),
                    "expiryAt": format_instant(entry.expiry_at),
                    "keyId": entry.key_id,
                }
                for entry in result.certificates
            ]
        }
    )


@blueprint.put("/revokeKey")
@inject
def revoke_key(use_case: RevokeKey = Provide[Container.revoke_key]) -> Response:
    dto = load_request(RevokeKeyRequest, request_body())
    result = use_case.execute(
        RevokeKeyCommand(dto["applicationId"], dto["referenceId"] or "", bool(dto["disableAutoGen"]))
    )
    return success({"status": result.status, "timestamp": format_local(result.timestamp)})


@blueprint.post("/uploadOtherDomainCertificate")
@inject
def upload_other_domain_certificate(
    use_case: UploadOtherDomainCertificate = Provide[Container.upload_other_domain_certificate],
) -> Response:
    dto = load_request(UploadCertificateRequest, request_body())
    note_key(thumbprint_hex=pem_thumbprint(dto["certificateData"]))  # a public certificate: its hash is no secret
    result = use_case.execute(
        UploadOtherDomainCertificateCommand(dto["applicationId"], dto["referenceId"] or "", dto["certificateData"])
    )
    return success({"status": result.status, "timestamp": format_local(result.timestamp)})


@blueprint.post("/generateECSignKey/<object_type>")
@inject
def generate_ec_sign_key(
    object_type: str, use_case: GenerateEcSignKey = Provide[Container.generate_ec_sign_key]
) -> Response:
    dto = load_request(KeyPairGenerateRequest, request_body())
    result = use_case.execute(
        GenerateEcSignKeyCommand(
            app_id=dto["applicationId"],
            ref_id=(dto["referenceId"] or "").strip(),
            object_type=object_type,
            force=bool(dto["force"]),
            subject=_subject(dto),
        )
    )
    return _certificate_response(result)


@blueprint.post("/generateCSR")
@inject
def generate_csr(use_case: GenerateCsr = Provide[Container.generate_csr]) -> Response:
    dto = load_request(CsrGenerateRequest, request_body())
    result = use_case.execute(
        GenerateCsrCommand(dto["applicationId"], (dto["referenceId"] or "").strip(), _subject(dto))
    )
    return _certificate_response(result)


@blueprint.post("/uploadCertificate")
@inject
def upload_certificate(use_case: UploadCertificate = Provide[Container.upload_certificate]) -> Response:
    dto = load_request(UploadCertificateRequest, request_body())
    note_key(thumbprint_hex=pem_thumbprint(dto["certificateData"]))  # a public certificate: its hash is no secret
    result = use_case.execute(
        UploadCertificateCommand(dto["applicationId"], dto["referenceId"] or "", dto["certificateData"])
    )
    return success({"status": result.status, "timestamp": format_local(result.timestamp)})


@blueprint.get("/getCertificateChain")
@inject
def get_certificate_chain(use_case: GetCertificateChain = Provide[Container.get_certificate_chain]) -> Response:
    command = GetCertificateChainCommand(_query("applicationId", True), _query("referenceId", False).strip())
    result = use_case.execute(command)
    return success({"certificatesTrustPath": result.certificates_trust_path, "timestamp": format_local(result.timestamp)})


@blueprint.post("/generateSymmetricKey")
@inject
def generate_symmetric_key(use_case: GenerateSymmetricKey = Provide[Container.generate_symmetric_key]) -> Response:
    dto = load_request(SymmetricKeyRequest, request_body())
    result = use_case.execute(
        GenerateSymmetricKeyCommand(dto["applicationId"], dto["referenceId"], force=bool(dto["force"]))
    )
    return success({"status": result.status, "timestamp": format_local(result.timestamp)})
