"""SignatureController: JWT/JWS signing and verification, raw signatures, PDF signing, legacy sign/validate."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask import Response

from application.use_cases.signature.jwt_headers import JwtSignCommand
from application.use_cases.signature.legacy_signature import (
    LegacySign,
    LegacySignCommand,
    LegacyValidate,
    LegacyValidateCommand,
)
from application.use_cases.signature.sign_jws import JwsSign, JwsSignCommand
from application.use_cases.signature.sign_jwt import JwtSign
from application.use_cases.signature.sign_pdf import PdfSignCommand, SignPdf
from application.use_cases.signature.sign_raw import RawSignCommand, SignRawData
from application.use_cases.signature.verify_jwt import JwtVerify, JwtVerifyCommand
from domain.codec import b64url_encode

from . import responses
from .auth import current_username
from .envelope import format_instant, format_local, success
from .routes import Controller
from .schemas import (
    JwsSignRequest,
    JwsSignV2Request,
    JwtSignRequest,
    JwtSignV2Request,
    JwtVerifyRequest,
    LegacySignRequest,
    LegacyValidateRequest,
    PdfSignRequest,
    SignRawRequest,
)

api = Controller("signature", tag="signature-controller")
blueprint = api.blueprint


def _signed(token: str, timestamp: datetime) -> Response:
    return success({"jwtSignedData": token, "timestamp": format_local(timestamp)})


def _sign_jwt(dto: JwtSignCommand, use_case: JwtSign) -> Response:
    result = use_case.execute(replace(dto, caller=current_username()))
    return _signed(result.jwt_signed_data, result.timestamp)


def _sign_jws(dto: JwsSignCommand, use_case: JwsSign) -> Response:
    result = use_case.execute(replace(dto, caller=current_username()))
    return _signed(result.jwt_signed_data, result.timestamp)


@api.post("/jwtSign", summary="Sign a JSON document as a JWS (RS256) with the key of (applicationId, referenceId)",
          role="postjwtsign", audit="jwtSign", request=JwtSignRequest, response=responses.JwtSignResponse,
          use_case="jwt_sign")
def jwt_sign(dto: JwtSignCommand, use_case: JwtSign) -> Response:
    return _sign_jwt(dto, use_case)


@api.post("/jwtSign/v2", summary="jwtSign with additional headers and the certificate chain", role="postjwtsign",
          audit="jwtSign/v2", request=JwtSignV2Request, response=responses.JwtSignResponse, use_case="jwt_sign")
def jwt_sign_v2(dto: JwtSignCommand, use_case: JwtSign) -> Response:
    return _sign_jwt(dto, use_case)


@api.post("/jwsSign", summary="Sign data as a JWS with the key's algorithm (RSA, EC, Ed25519), optionally detached",
          role="postjwssign", audit="jwsSign", request=JwsSignRequest, response=responses.JwtSignResponse,
          use_case="jws_sign")
def jws_sign(dto: JwsSignCommand, use_case: JwsSign) -> Response:
    return _sign_jws(dto, use_case)


@api.post("/jwsSign/v2", summary="jwsSign with additional headers and the certificate chain", role="postjwssign",
          audit="jwsSign/v2", request=JwsSignV2Request, response=responses.JwtSignResponse, use_case="jws_sign")
def jws_sign_v2(dto: JwsSignCommand, use_case: JwsSign) -> Response:
    return _sign_jws(dto, use_case)


def _verify(dto: JwtVerifyCommand, use_case: JwtVerify) -> Response:
    result = use_case.execute(dto)
    return success(
        {"signatureValid": result.signature_valid, "message": result.message, "trustValid": result.trust_valid}
    )


@api.post("/jwtVerify", summary="Verify a JWS against the key of (applicationId, referenceId) or a certificate",
          role="postjwtverify", audit="jwtVerify", request=JwtVerifyRequest, response=responses.JwtVerifyResponse,
          use_case="jwt_verify")
def jwt_verify(dto: JwtVerifyCommand, use_case: JwtVerify) -> Response:
    return _verify(dto, use_case)


@api.post("/jwtVerify/v2", summary="jwtVerify that also checks the header's certificate chain", role="postjwtverify",
          audit="jwtVerify/v2", request=JwtVerifyRequest, response=responses.JwtVerifyResponse, use_case="jwt_verify")
def jwt_verify_v2(dto: JwtVerifyCommand, use_case: JwtVerify) -> Response:
    return _verify(replace(dto, trust_header_chain=True), use_case)


def _sign_raw(dto: RawSignCommand, use_case: SignRawData):
    return use_case.execute(replace(dto, caller=current_username()))


@api.post("/signV2", summary="A raw signature of the data with the key of (applicationId, referenceId)",
          role="postsignv2", audit="signV2", request=SignRawRequest, response=responses.SignatureResponse,
          use_case="sign_raw_data")
def sign_v2(dto: RawSignCommand, use_case: SignRawData) -> Response:
    result = _sign_raw(dto, use_case)
    return success({"signature": result.signature, "timestamp": format_instant(result.timestamp)})


@api.post("/signRawData", summary="A raw signature with the key id, certificate and algorithm used",
          role="postsignrawdata", audit="signRawData", request=SignRawRequest,
          response=responses.SignRawDataResponse, use_case="sign_raw_data")
def sign_raw_data(dto: RawSignCommand, use_case: SignRawData) -> Response:
    result = _sign_raw(dto, use_case)
    return success(
        {
            "signedData": result.signature,
            "keyId": result.key_id,
            "certificate": result.certificate_pem,
            "signatureAlgorithm": result.algorithm,
            "timestamp": format_instant(result.timestamp),
        }
    )


@api.post("/sign", summary="Legacy: sign data with the KERNEL/SIGN key", role="postsign", audit="sign",
          request=LegacySignRequest, response=responses.SignatureResponse, use_case="legacy_sign")
def legacy_sign(dto: LegacySignCommand, use_case: LegacySign) -> Response:
    result = use_case.execute(dto)
    return success({"signature": result.signature, "timestamp": format_instant(result.timestamp)})


@api.post("/validate", summary="Legacy: validate a signature made by /sign", role="postvalidate", audit="validate",
          request=LegacyValidateRequest, response=responses.LegacyValidateResponse, use_case="legacy_validate")
def legacy_validate(dto: LegacyValidateCommand, use_case: LegacyValidate) -> Response:
    result = use_case.execute(dto)
    return success({"status": result.status, "message": result.message})


@api.post("/pdf/sign", summary="Add a visible signature (adbe.pkcs7.detached) by the key of (applicationId, "
          "referenceId) to a PDF, optionally protecting it with a password", role="postpdfsign", audit="pdf/sign",
          request=PdfSignRequest, response=responses.PdfSignResponse, use_case="sign_pdf", blocking=True)
def sign_pdf(dto: PdfSignCommand, use_case: SignPdf) -> Response:
    return success({"data": b64url_encode(use_case.execute(dto).signed_pdf)})
