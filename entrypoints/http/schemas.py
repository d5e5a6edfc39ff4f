"""Marshmallow schemas of the request envelope and the reference's request DTOs.

Messages follow the reference's bean-validation texts ("should not be null or
empty", "must not be null") so clients see the errors they already handle.
Deliberate fixes: a null optional field takes its documented default instead of
crashing, and ``timeStamp`` is checked when present but not required.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError as SchemaError, fields, validate

from domain.errors import Errors, ValidationError

NOT_BLANK = "should not be null or empty"
_SALT_PATTERN = re.compile(r".+\S.*\Z")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z?\Z")


def _not_blank(value: str) -> None:
    if not value.strip():
        raise SchemaError(NOT_BLANK)


def required_text() -> fields.String:
    return fields.String(
        required=True,
        allow_none=False,
        validate=_not_blank,
        error_messages={"required": NOT_BLANK, "null": NOT_BLANK, "invalid": "must be a string"},
    )


def optional_text(**kwargs: Any) -> fields.String:
    return fields.String(load_default=None, allow_none=True, error_messages={"invalid": "must be a string"}, **kwargs)


def optional_flag() -> fields.Boolean:
    return fields.Boolean(load_default=None, allow_none=True, error_messages={"invalid": "must be true or false"})


def _timestamp(value: str) -> None:
    if not _TIMESTAMP.match(value):
        raise SchemaError(Errors.INVALID_TIMESTAMP.value.message)
    try:
        datetime.fromisoformat(value.rstrip("Z")[:26])
    except ValueError:
        raise SchemaError(Errors.INVALID_TIMESTAMP.value.message) from None


class _Dto(Schema):
    class Meta:
        unknown = EXCLUDE


class CryptomanagerRequest(_Dto):
    applicationId = required_text()
    referenceId = optional_text()
    timeStamp = optional_text(validate=_timestamp)
    data = required_text()
    salt = optional_text(validate=validate.Regexp(_SALT_PATTERN, error="should not be empty"))
    aad = optional_text(validate=validate.Regexp(_SALT_PATTERN, error="should not be empty"))
    prependThumbprint = optional_flag()  # deprecated and ignored: a thumbprint is always prepended


class _SubjectFields(_Dto):
    """Certificate subject fields of a key or CSR request; blank ones take the defaults."""

    commonName = optional_text()
    organizationUnit = optional_text()
    organization = optional_text()
    location = optional_text()
    state = optional_text()
    country = optional_text()


class KeyPairGenerateRequest(_SubjectFields):
    applicationId = required_text()
    referenceId = optional_text()
    force = optional_flag()


class RevokeKeyRequest(_Dto):
    applicationId = required_text()
    referenceId = optional_text()
    disableAutoGen = optional_flag()


class UploadCertificateRequest(_Dto):
    applicationId = required_text()
    referenceId = optional_text()
    certificateData = required_text()


class CsrGenerateRequest(_SubjectFields):
    applicationId = required_text()
    referenceId = optional_text()


class JwtSignRequest(_Dto):
    dataToSign = required_text()
    applicationId = optional_text()
    referenceId = optional_text()
    includePayload = optional_flag()
    includeCertificate = optional_flag()
    includeCertHash = optional_flag()
    certificateUrl = optional_text()


class JwtSignV2Request(JwtSignRequest):
    additionalHeaders = fields.Dict(keys=fields.String(), load_default=None, allow_none=True)
    includeCertificateChain = optional_flag()


class JwsSignRequest(JwtSignRequest):
    validateJson = optional_flag()
    b64JWSHeaderParam = optional_flag()
    signAlgorithm = optional_text()


class JwsSignV2Request(JwsSignRequest):
    additionalHeaders = fields.Dict(keys=fields.String(), load_default=None, allow_none=True)
    includeCertificateChain = optional_flag()


class JwtVerifyRequest(_Dto):
    jwtSignatureData = required_text()
    actualData = optional_text()
    applicationId = optional_text()
    referenceId = optional_text()
    certificateData = optional_text()
    validateTrust = optional_flag()
    domain = optional_text()


class SignRawRequest(_Dto):
    dataToSign = required_text()
    applicationId = optional_text()
    referenceId = optional_text()
    responseEncodingFormat = optional_text()
    signAlgorithm = optional_text()


class LegacySignRequest(_Dto):
    data = required_text()


class LegacyValidateRequest(_Dto):
    signature = required_text()
    data = required_text()
    timestamp = optional_text(validate=_timestamp)


_ANNOTATED_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")
ANNOTATED_INSTANT_MESSAGE = "must match yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"


def _annotated_instant(value: str) -> None:
    if not _ANNOTATED_INSTANT.match(value):
        raise SchemaError(ANNOTATED_INSTANT_MESSAGE)
    try:
        datetime.fromisoformat(value[:23])
    except ValueError:
        raise SchemaError(ANNOTATED_INSTANT_MESSAGE) from None


class CaCertificateRequest(_Dto):
    certificateData = required_text()
    partnerDomain = required_text()


class PartnerCertificateRequest(CaCertificateRequest):
    organizationName = required_text()


class CertificateTrustRequest(CaCertificateRequest):
    pass


JAVA_INT = (-(2**31), 2**31 - 1)  # the reference's int fields: Jackson refuses anything beyond


def optional_number() -> fields.Integer:
    return fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(*JAVA_INT, error="must be an integer from {min} to {max}"),
        error_messages={"invalid": "must be an integer"},
    )


class CaCertificateListRequest(_Dto):
    caCertificateType = optional_text()
    partnerDomain = optional_text()
    excludeMosipCA = optional_flag()
    sortByFieldName = optional_text()
    sortOrder = optional_text()
    pageNumber = optional_number()
    pageSize = optional_number()
    certId = optional_text()
    issuedTo = optional_text()
    issuedBy = optional_text()
    validFromDate = optional_text(validate=_annotated_instant)
    validTillDate = optional_text(validate=_annotated_instant)
    uploadTime = optional_text(validate=_annotated_instant)
    expiringWithinDate = optional_text(validate=_annotated_instant)


class PinCryptoRequest(_Dto):
    data = required_text()
    userPin = required_text()


class JwtEncryptRequest(_Dto):
    applicationId = optional_text()
    referenceId = optional_text()
    data = required_text()
    enableDefCompression = optional_flag()
    includeCertificate = optional_flag()
    includeCertHash = optional_flag()
    jwkSetUrl = optional_text()
    x509Certificate = optional_text()


class JwtDecryptRequest(_Dto):
    applicationId = required_text()
    referenceId = required_text()
    encData = required_text()


class Argon2HashRequest(_Dto):
    inputData = required_text()
    salt = optional_text()


class SymmetricKeyRequest(_Dto):
    applicationId = required_text()
    referenceId = required_text()
    force = optional_flag()


class ZkDataAttribute(_Dto):
    identifier = optional_text()
    value = fields.String(
        required=True, allow_none=False, error_messages={"required": "must not be null", "null": "must not be null"}
    )


class ZkCryptoRequest(_Dto):
    id = required_text()
    zkDataAttributes = fields.List(
        fields.Nested(ZkDataAttribute),
        required=True,
        allow_none=False,
        error_messages={"required": "must not be null", "null": "must not be null"},
    )


def _envelope(dto: type[Schema]) -> Schema:
    class Envelope(_Dto):
        id = fields.Raw(load_default=None, allow_none=True)
        version = fields.Raw(load_default=None, allow_none=True)
        requesttime = fields.Raw(load_default=None, allow_none=True)
        metadata = fields.Raw(load_default=None, allow_none=True)
        request = fields.Nested(
            dto,
            required=True,
            allow_none=False,
            error_messages={"required": "must not be null", "null": "must not be null", "type": "must be an object"},
        )

    return Envelope()


_ENVELOPES: dict[type[Schema], Schema] = {}


def load_request(dto: type[Schema], body: dict[str, Any]) -> dict[str, Any]:
    """Validate the envelope and return its ``request`` object, or raise KER-KMS-005
    with one message per failing field ("request.applicationId should not be null or empty")."""
    schema = _ENVELOPES.get(dto)
    if schema is None:  # built once per request type: a schema class costs more than the crypto
        schema = _ENVELOPES.setdefault(dto, _envelope(dto))
    try:
        return schema.load(body)["request"]
    except SchemaError as error:
        raise ValidationError(sorted(_flatten(error.messages))) from None


def _flatten(messages: Any, path: str = "") -> list[str]:
    if isinstance(messages, dict):
        out: list[str] = []
        for key, value in messages.items():
            child = path if key == "_schema" else (f"{path}.{key}" if path else str(key))
            out.extend(_flatten(value, child))
        return out
    if isinstance(messages, list):
        return [item for message in messages for item in _flatten(message, path)]
    return [f"{path} {messages}".strip()]
