"""CoseSignController (the reference's development line): COSE_Sign1 and CWT signing and verification."""
from __future__ import annotations

from dataclasses import replace

from flask import Response

from application.use_cases.cose.cose_sign import CoseSign1, CoseSignCommand, CoseSignResult, CwtSign, CwtSignCommand
from application.use_cases.cose.cose_verify import CoseVerify1, CoseVerifyCommand, CoseVerifyResult, CwtVerify

from . import responses
from .auth import current_username
from .envelope import format_local, success
from .routes import Controller
from .schemas import CoseSignRequest, CoseVerifyRequest, CwtSignRequest, CwtVerifyRequest

api = Controller("cose", tag="cose-sign-controller")
blueprint = api.blueprint


def _signed(result: CoseSignResult) -> Response:
    return success({"signedData": result.signed_data, "timestamp": format_local(result.timestamp)})


def _verified(result: CoseVerifyResult) -> Response:
    return success(
        {"signatureValid": result.signature_valid, "message": result.message, "trustValid": result.trust_valid}
    )


@api.post("/coseSign1", summary="Sign a base64url payload as a tagged COSE_Sign1 (hex) with the key of "
          "(applicationId, referenceId)", role="postcosesign1", audit="coseSign1", request=CoseSignRequest,
          response=responses.CoseSignResponse, use_case="cose_sign1")
def cose_sign1(dto: CoseSignCommand, use_case: CoseSign1) -> Response:
    return _signed(use_case.execute(replace(dto, caller=current_username())))


@api.post("/coseVerify1", summary="Verify a COSE_Sign1 (hex) with its x5chain, certificateData or the key of "
          "(applicationId, referenceId)", role="postcoseverify1", audit="coseVerify1", request=CoseVerifyRequest,
          response=responses.CoseVerifyResponse, use_case="cose_verify1")
def cose_verify1(dto: CoseVerifyCommand, use_case: CoseVerify1) -> Response:
    return _verified(use_case.execute(dto))


@api.post("/cwtSign", summary="Sign a CWT (CBOR Web Token, hex) of the request's claims and the payload's JSON "
          "fields", role="postcwtsign", audit="cwtSign", request=CwtSignRequest,
          response=responses.CoseSignResponse, use_case="cwt_sign")
def cwt_sign(dto: CwtSignCommand, use_case: CwtSign) -> Response:
    return _signed(use_case.execute(replace(dto, caller=current_username())))


@api.post("/cwtVerify", summary="Check a CWT's nbf, exp (and iss, sub when configured), then its signature",
          role="postcwtverify", audit="cwtVerify", request=CwtVerifyRequest,
          response=responses.CoseVerifyResponse, use_case="cwt_verify")
def cwt_verify(dto: CoseVerifyCommand, use_case: CwtVerify) -> Response:
    return _verified(use_case.execute(dto))
