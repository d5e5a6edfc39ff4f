"""SignatureController: JWT/JWS signing and verification, raw signatures, legacy sign/validate."""
from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response

from application.use_cases.legacy_signature import (
    LegacySign,
    LegacySignCommand,
    LegacyValidate,
    LegacyValidateCommand,
)
from application.use_cases.sign_jws import JwsSign, JwsSignCommand
from application.use_cases.sign_jwt import JwtSign, JwtSignCommand
from application.use_cases.sign_raw import RawSignCommand, SignRawData
from application.use_cases.verify_jwt import JwtVerify, JwtVerifyCommand

from ..containers import Container
from .auth import current_username
from .envelope import format_instant, format_local, request_body, success
from .schemas import (
    JwsSignRequest,
    JwsSignV2Request,
    JwtSignRequest,
    JwtSignV2Request,
    JwtVerifyRequest,
    LegacySignRequest,
    LegacyValidateRequest,
    SignRawRequest,
    load_request,
)

blueprint = Blueprint("signature", __name__)


def _common(dto: dict[str, Any]) -> dict[str, Any]:
    return {
        "data_to_sign": dto["dataToSign"],
        "app_id": dto["applicationId"],
        "ref_id": dto["referenceId"],
        "include_payload": bool(dto["includePayload"]),
        "include_certificate": bool(dto["includeCertificate"]),
        "include_cert_hash": bool(dto["includeCertHash"]),
        "certificate_url": dto["certificateUrl"],
    }


def _v2(dto: dict[str, Any]) -> dict[str, Any]:
    return {
        "additional_headers": dict(dto.get("additionalHeaders") or {}),
        "include_certificate_chain": bool(dto.get("includeCertificateChain")),
    }


def _signed(token: str, timestamp) -> Response:
    return success({"jwtSignedData": token, "timestamp": format_local(timestamp)})


@blueprint.post("/jwtSign")
@inject
def jwt_sign(use_case: JwtSign = Provide[Container.jwt_sign]) -> Response:
    dto = load_request(JwtSignRequest, request_body())
    result = use_case.execute(JwtSignCommand(**_common(dto), caller=current_username()))
    return _signed(result.jwt_signed_data, result.timestamp)


@blueprint.post("/jwtSign/v2")
@inject
def jwt_sign_v2(use_case: JwtSign = Provide[Container.jwt_sign]) -> Response:
    dto = load_request(JwtSignV2Request, request_body())
    result = use_case.execute(JwtSignCommand(**_common(dto), **_v2(dto), caller=current_username()))
    return _signed(result.jwt_signed_data, result.timestamp)


def _jws_fields(dto: dict[str, Any]) -> dict[str, Any]:
    return {
        **_common(dto),
        "validate_json": bool(dto["validateJson"]),
        "b64_header": bool(dto["b64JWSHeaderParam"]),
        "sign_algorithm": dto["signAlgorithm"],
    }


@blueprint.post("/jwsSign")
@inject
def jws_sign(use_case: JwsSign = Provide[Container.jws_sign]) -> Response:
    dto = load_request(JwsSignRequest, request_body())
    result = use_case.execute(JwsSignCommand(**_jws_fields(dto), caller=current_username()))
    return _signed(result.jwt_signed_data, result.timestamp)


@blueprint.post("/jwsSign/v2")
@inject
def jws_sign_v2(use_case: JwsSign = Provide[Container.jws_sign]) -> Response:
    dto = load_request(JwsSignV2Request, request_body())
    result = use_case.execute(JwsSignCommand(**_jws_fields(dto), **_v2(dto), caller=current_username()))
    return _signed(result.jwt_signed_data, result.timestamp)


def _verify(dto: dict[str, Any], use_case: JwtVerify, *, v2: bool = False) -> Response:
    result = use_case.execute(
        JwtVerifyCommand(
            jwt_signature_data=dto["jwtSignatureData"],
            actual_data=dto["actualData"],
            app_id=dto["applicationId"],
            ref_id=dto["referenceId"],
            certificate_data=dto["certificateData"],
            validate_trust=bool(dto["validateTrust"]),
            domain=dto["domain"],
            trust_header_chain=v2,
        )
    )
    return success(
        {"signatureValid": result.signature_valid, "message": result.message, "trustValid": result.trust_valid}
    )


@blueprint.post("/jwtVerify")
@inject
def jwt_verify(use_case: JwtVerify = Provide[Container.jwt_verify]) -> Response:
    return _verify(load_request(JwtVerifyRequest, request_body()), use_case)


@blueprint.post("/jwtVerify/v2")
@inject
def jwt_verify_v2(use_case: JwtVerify = Provide[Container.jwt_verify]) -> Response:
    return _verify(load_request(JwtVerifyRequest, request_body()), use_case, v2=True)


def _raw(dto: dict[str, Any], use_case: SignRawData):
    return use_case.execute(
        RawSignCommand(
            data_to_sign=dto["dataToSign"],
            app_id=dto["applicationId"],
            ref_id=dto["referenceId"],
            response_encoding_format=dto["responseEncodingFormat"],
            sign_algorithm=dto["signAlgorithm"],
            caller=current_username(),
        )
    )


@blueprint.post("/signV2")
@inject
def sign_v2(use_case: SignRawData = Provide[Container.sign_raw_data]) -> Response:
    result = _raw(load_request(SignRawRequest, request_body()), use_case)
    return success({"signature": result.signature, "timestamp": format_instant(result.timestamp)})


@blueprint.post("/signRawData")
@inject
def sign_raw_data(use_case: SignRawData = Provide[Container.sign_raw_data]) -> Response:
    result = _raw(load_request(SignRawRequest, request_body()), use_case)
    return success(
        {
            "signedData": result.signature,
            "keyId": result.key_id,
            "certificate": result.certificate_pem,
            "signatureAlgorithm": result.algorithm,
            "timestamp": format_instant(result.timestamp),
        }
    )


@blueprint.post("/sign")
@inject
def legacy_sign(use_case: LegacySign = Provide[Container.legacy_sign]) -> Response:
    dto = load_request(LegacySignRequest, request_body())
    result = use_case.execute(LegacySignCommand(dto["data"]))
    return success({"signature": result.signature, "timestamp": format_instant(result.timestamp)})


@blueprint.post("/validate")
@inject
def legacy_validate(use_case: LegacyValidate = Provide[Container.legacy_validate]) -> Response:
    dto = load_request(LegacyValidateRequest, request_body())
    result = use_case.execute(LegacyValidateCommand(dto["signature"], dto["data"]))
    return success({"status": result.status, "message": result.message})
