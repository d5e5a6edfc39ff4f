"""KeymanagerController: key generation, certificates, revocation, other-domain uploads."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Response

from application.use_cases.keymanager.certificates import CertificateResult
from application.use_cases.keymanager.generate_csr import GenerateCsr, GenerateCsrCommand
from application.use_cases.keymanager.generate_ec_sign_key import GenerateEcSignKey, GenerateEcSignKeyCommand
from application.use_cases.keymanager.generate_master_key import GenerateMasterKey, GenerateMasterKeyCommand
from application.use_cases.keymanager.generate_symmetric_key import GenerateSymmetricKey, GenerateSymmetricKeyCommand
from application.use_cases.keymanager.get_all_certificates import GetAllCertificates, GetAllCertificatesCommand
from application.use_cases.keymanager.get_certificate import GetCertificate, GetCertificateCommand
from application.use_cases.keymanager.get_certificate_chain import GetCertificateChain, GetCertificateChainCommand
from application.use_cases.keymanager.revoke_key import RevokeKey, RevokeKeyCommand
from application.use_cases.keymanager.upload_certificate import UploadCertificate, UploadCertificateCommand
from application.use_cases.keymanager.upload_other_domain_certificate import (
    UploadOtherDomainCertificate,
    UploadOtherDomainCertificateCommand,
)

from . import responses
from .audit import note_key, pem_thumbprint
from .envelope import format_instant, format_local, success
from .routes import Controller
from .schemas import (
    CsrGenerateRequest,
    EcSignKeyGenerateRequest,
    KeyPairGenerateRequest,
    KeyQuery,
    RevokeKeyRequest,
    SymmetricKeyRequest,
    UploadCertificateRequest,
)

api = Controller("keymanager", tag="keymanager-controller")
blueprint = api.blueprint


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


def _status(result: Any) -> Response:
    return success({"status": result.status, "timestamp": format_local(result.timestamp)})


def _key_tuple(query: dict[str, str]) -> tuple[str, str]:
    return query["applicationId"], query["referenceId"].strip()


@api.post("/generateMasterKey/<objectType>", summary="Generate the key of (applicationId, referenceId) in the keystore "
          "(ROOT, a module key or a reference key); objectType CERTIFICATE or CSR",
          role="postgeneratemasterkeyobjecttype", audit="generateMasterKey", request=KeyPairGenerateRequest,
          response=responses.CertificateResponse, use_case="generate_master_key")
def generate_master_key(objectType: str, dto: GenerateMasterKeyCommand, use_case: GenerateMasterKey) -> Response:
    return _certificate_response(use_case.execute(replace(dto, object_type=objectType)))


@api.get("/getCertificate", summary="The current certificate of (applicationId, referenceId); a base key is made "
         "on first use", role="getgetcertificate", query=KeyQuery, response=responses.CertificateResponse,
         use_case="get_certificate")
def get_certificate(query: dict[str, str], use_case: GetCertificate) -> Response:
    return _certificate_response(use_case.execute(GetCertificateCommand(*_key_tuple(query))))


@api.get("/getAllCertificates", summary="Every certificate of (applicationId, referenceId), current and past",
         role="getgetcertificate", query=KeyQuery, response=responses.AllCertificatesResponse,
         use_case="get_all_certificates")
def get_all_certificates(query: dict[str, str], use_case: GetAllCertificates) -> Response:
    result = use_case.execute(GetAllCertificatesCommand(*_key_tuple(query)))
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


@api.put("/revokeKey", summary="Revoke the current key of (applicationId, referenceId)", role="putrevokekey",
         audit="revokeKey", request=RevokeKeyRequest, response=responses.StatusResponse, use_case="revoke_key")
def revoke_key(dto: RevokeKeyCommand, use_case: RevokeKey) -> Response:
    return _status(use_case.execute(dto))


@api.post("/uploadOtherDomainCertificate", summary="Store another domain's certificate (e.g. IDA's) for "
          "(applicationId, referenceId)", role="postuploadotherdomaincertificate",
          audit="uploadOtherDomainCertificate", request=UploadCertificateRequest, response=responses.StatusResponse,
          use_case="upload_other_domain_certificate")
def upload_other_domain_certificate(dto: dict[str, Any], use_case: UploadOtherDomainCertificate) -> Response:
    note_key(thumbprint_hex=pem_thumbprint(dto["certificateData"]))  # a public certificate: its hash is no secret
    return _status(use_case.execute(
        UploadOtherDomainCertificateCommand(dto["applicationId"], dto["referenceId"] or "", dto["certificateData"])
    ))


@api.post("/generateECSignKey/<objectType>", summary="Generate an EC (P-256, secp256k1) or Ed25519 signing key for "
          "(applicationId, referenceId)", role="getgetcertificate",  # the reference's key: see roles.py
          audit="generateECSignKey", request=EcSignKeyGenerateRequest, response=responses.CertificateResponse,
          use_case="generate_ec_sign_key")
def generate_ec_sign_key(objectType: str, dto: GenerateEcSignKeyCommand, use_case: GenerateEcSignKey) -> Response:
    return _certificate_response(use_case.execute(replace(dto, object_type=objectType)))


@api.post("/generateCSR", summary="A certificate signing request for the key of (applicationId, referenceId)",
          role="postgeneratecsr", request=CsrGenerateRequest, response=responses.CertificateResponse,
          use_case="generate_csr")
def generate_csr(dto: GenerateCsrCommand, use_case: GenerateCsr) -> Response:
    return _certificate_response(use_case.execute(dto))


@api.post("/uploadCertificate", summary="Replace the certificate of a keystore key with one a CA signed",
          role="postuploadcertificate", audit="uploadCertificate", request=UploadCertificateRequest,
          response=responses.StatusResponse, use_case="upload_certificate")
def upload_certificate(dto: dict[str, Any], use_case: UploadCertificate) -> Response:
    note_key(thumbprint_hex=pem_thumbprint(dto["certificateData"]))  # a public certificate: its hash is no secret
    return _status(use_case.execute(
        UploadCertificateCommand(dto["applicationId"], dto["referenceId"] or "", dto["certificateData"])
    ))


@api.get("/getCertificateChain", summary="The certificate of (applicationId, referenceId) and its issuers, PEM",
         role="getcertificatechain", query=KeyQuery, response=responses.CertificateChainResponse,
         use_case="get_certificate_chain")
def get_certificate_chain(query: dict[str, str], use_case: GetCertificateChain) -> Response:
    result = use_case.execute(GetCertificateChainCommand(*_key_tuple(query)))
    return success(
        {"certificatesTrustPath": result.certificates_trust_path, "timestamp": format_local(result.timestamp)}
    )


@api.post("/generateSymmetricKey", summary="Generate an AES-256 key for (applicationId, referenceId) in the keystore",
          role="postgeneratesymmetrickey", audit="generateSymmetricKey", request=SymmetricKeyRequest,
          response=responses.StatusResponse, use_case="generate_symmetric_key")
def generate_symmetric_key(dto: GenerateSymmetricKeyCommand, use_case: GenerateSymmetricKey) -> Response:
    return _status(use_case.execute(dto))
