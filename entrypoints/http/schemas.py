"""Marshmallow schemas of the request envelope and the reference's request DTOs.

Messages follow the reference's bean-validation texts ("should not be null or
empty", "must not be null") so clients see the errors they already handle.
Deliberate fixes: a null optional field takes its documented default instead of
crashing, and ``timeStamp`` is checked when present but not required.

A request schema that names a use-case ``command`` builds it when loading (``post_load``): the view
gets the command, not a dictionary to copy field by field.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from marshmallow import EXCLUDE, Schema, fields, post_load, validate
from marshmallow import ValidationError as SchemaError

from application.crypto.x509 import Subject
from application.use_cases.cryptomanager.decrypt_data import DecryptCommand
from application.use_cases.cryptomanager.encrypt_data import EncryptCommand
from application.use_cases.cryptomanager.jwt_encryption import JwtDecryptCommand, JwtEncryptCommand
from application.use_cases.keymanager.generate_csr import GenerateCsrCommand
from application.use_cases.keymanager.generate_ec_sign_key import GenerateEcSignKeyCommand
from application.use_cases.keymanager.generate_master_key import GenerateMasterKeyCommand
from application.use_cases.keymanager.generate_symmetric_key import GenerateSymmetricKeyCommand
from application.use_cases.keymanager.revoke_key import RevokeKeyCommand
from application.use_cases.partner.get_ca_certificates import GetCaCertificatesCommand
from application.use_cases.partner.upload_ca_certificate import UploadCaCertificateCommand
from application.use_cases.partner.upload_partner_certificate import UploadPartnerCertificateCommand
from application.use_cases.partner.verify_certificate_trust import VerifyCertificateTrustCommand
from application.use_cases.signature.jwt_headers import JwtSignCommand
from application.use_cases.signature.legacy_signature import LegacySignCommand, LegacyValidateCommand
from application.use_cases.signature.sign_jws import JwsSignCommand
from application.use_cases.signature.sign_raw import RawSignCommand
from application.use_cases.signature.verify_jwt import JwtVerifyCommand
from application.use_cases.zk.attributes import ZkAttribute
from domain.codec import b64_decode_lenient
from domain.errors import Errors, ValidationError

NOT_BLANK = "should not be null or empty"
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z?\Z")
_SALT_PATTERN = re.compile(r".+\S.*\Z")
_SALT_DOC = {"pattern": r"^.+\S.*$"}  # the same rule in the document's (ECMA) regex dialect


def _salt_like(value: str) -> None:
    if not _SALT_PATTERN.match(value):
        raise SchemaError("should not be empty")


def _not_blank(value: str) -> None:
    if not value.strip():
        raise SchemaError(NOT_BLANK)


def required_text(example: str | None = None) -> fields.String:
    return fields.String(
        required=True,
        allow_none=False,
        validate=_not_blank,
        error_messages={"required": NOT_BLANK, "null": NOT_BLANK, "invalid": "must be a string"},
        metadata=_example(example),
    )


def optional_text(example: str | None = None, **kwargs: Any) -> fields.String:
    return fields.String(load_default=None, allow_none=True, error_messages={"invalid": "must be a string"},
                         **{"metadata": _example(example), **kwargs})


def _example(example: str | None) -> dict[str, str]:
    """An example for the API document (Swagger UI's "Try it out" starts from it)."""
    return {} if example is None else {"example": example}


#: Examples that work against a fresh `make run`: base keys of (REGISTRATION, 10001_110011) are made on first use.
APP_EXAMPLE, REF_EXAMPLE = "REGISTRATION", "10001_110011"
DATA_EXAMPLE = "eyJoZWxsbyI6IndvcmxkIn0"  # base64url of {"hello":"world"}
TIME_EXAMPLE = "2026-12-07T14:01:09.123Z"


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

    #: The use-case command a loaded request becomes; None: the view gets the loaded dictionary.
    command: ClassVar[Any] = None  # a command class (each request schema its own)

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        """The command's keyword arguments from the loaded fields."""
        return data

    @post_load
    def _to_command(self, data: dict[str, Any], **_: Any) -> Any:
        return data if self.command is None else self.command(**self.command_fields(data))


def _blank_to_none(value: str | None) -> str | None:
    return value if value and value.strip() else None


def _optional_bytes(value: str | None) -> bytes | None:
    """Blank optional inputs count as absent, as in the reference."""
    present = _blank_to_none(value)
    return b64_decode_lenient(present) if present is not None else None


class CryptomanagerRequest(_Dto):
    applicationId = required_text(APP_EXAMPLE)
    referenceId = optional_text(REF_EXAMPLE)
    timeStamp = optional_text(TIME_EXAMPLE, validate=_timestamp)
    data = required_text(DATA_EXAMPLE)
    salt = optional_text(validate=_salt_like, metadata=_SALT_DOC)
    aad = optional_text(validate=_salt_like, metadata=_SALT_DOC)
    prependThumbprint = optional_flag()  # deprecated and ignored: a thumbprint is always prepended

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "app_id": data["applicationId"],
            "ref_id": (data["referenceId"] or "").strip(),
            "data": b64_decode_lenient(data["data"]),
            "salt": _optional_bytes(data["salt"]),
            "aad": _optional_bytes(data["aad"]),
        }


class EncryptRequest(CryptomanagerRequest):
    command = EncryptCommand


class DecryptRequest(CryptomanagerRequest):
    command = DecryptCommand


class _SubjectFields(_Dto):
    """Certificate subject fields of a key or CSR request; blank ones take the defaults."""

    commonName = optional_text()
    organizationUnit = optional_text()
    organization = optional_text()
    location = optional_text()
    state = optional_text()
    country = optional_text()

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        """Key tuple and subject; blank subject fields fall back to the configured defaults later."""
        subject = Subject(**{
            attribute: (data[field] or "").strip()
            for attribute, field in (
                ("common_name", "commonName"), ("organizational_unit", "organizationUnit"),
                ("organization", "organization"), ("location", "location"), ("state", "state"),
                ("country", "country"),
            )
        })
        fields_ = {"app_id": data["applicationId"], "ref_id": (data["referenceId"] or "").strip(), "subject": subject}
        if "force" in data:
            fields_["force"] = bool(data["force"])
        return fields_


class KeyPairGenerateRequest(_SubjectFields):
    applicationId = required_text()
    referenceId = optional_text()
    force = optional_flag()
    command: ClassVar[Any] = GenerateMasterKeyCommand  # the view sets object_type from the path


class EcSignKeyGenerateRequest(KeyPairGenerateRequest):
    command = GenerateEcSignKeyCommand


class RevokeKeyRequest(_Dto):
    applicationId = required_text()
    referenceId = optional_text()
    disableAutoGen = optional_flag()
    command = RevokeKeyCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"app_id": data["applicationId"], "ref_id": data["referenceId"] or "",
                "disable_auto_gen": bool(data["disableAutoGen"])}


class UploadCertificateRequest(_Dto):
    """uploadCertificate and uploadOtherDomainCertificate: the view picks the command."""

    applicationId = required_text()
    referenceId = optional_text()
    certificateData = required_text()


class CsrGenerateRequest(_SubjectFields):
    applicationId = required_text()
    referenceId = optional_text()
    command = GenerateCsrCommand


class JwtSignRequest(_Dto):
    dataToSign = required_text(DATA_EXAMPLE)
    applicationId = optional_text(APP_EXAMPLE)
    referenceId = optional_text("")
    includePayload = optional_flag()
    includeCertificate = optional_flag()
    includeCertHash = optional_flag()
    certificateUrl = optional_text()
    command = JwtSignCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        fields_ = {
            "data_to_sign": data["dataToSign"],
            "app_id": data["applicationId"],
            "ref_id": data["referenceId"],
            "include_payload": bool(data["includePayload"]),
            "include_certificate": bool(data["includeCertificate"]),
            "include_cert_hash": bool(data["includeCertHash"]),
            "certificate_url": data["certificateUrl"],
        }
        if "includeCertificateChain" in data:  # v2
            fields_["additional_headers"] = dict(data["additionalHeaders"] or {})
            fields_["include_certificate_chain"] = bool(data["includeCertificateChain"])
        return fields_


class JwtSignV2Request(JwtSignRequest):
    additionalHeaders = fields.Dict(keys=fields.String(), load_default=None, allow_none=True)
    includeCertificateChain = optional_flag()


class JwsSignRequest(JwtSignRequest):
    validateJson = optional_flag()
    b64JWSHeaderParam = optional_flag()
    signAlgorithm = optional_text()
    command = JwsSignCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            **super().command_fields(data),
            "validate_json": bool(data["validateJson"]),
            "b64_header": bool(data["b64JWSHeaderParam"]),
            "sign_algorithm": data["signAlgorithm"],
        }


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
    command = JwtVerifyCommand  # jwtVerify/v2 sets trust_header_chain

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "jwt_signature_data": data["jwtSignatureData"],
            "actual_data": data["actualData"],
            "app_id": data["applicationId"],
            "ref_id": data["referenceId"],
            "certificate_data": data["certificateData"],
            "validate_trust": bool(data["validateTrust"]),
            "domain": data["domain"],
        }


class SignRawRequest(_Dto):
    dataToSign = required_text()
    applicationId = optional_text()
    referenceId = optional_text()
    responseEncodingFormat = optional_text()
    signAlgorithm = optional_text()
    command = RawSignCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "data_to_sign": data["dataToSign"],
            "app_id": data["applicationId"],
            "ref_id": data["referenceId"],
            "response_encoding_format": data["responseEncodingFormat"],
            "sign_algorithm": data["signAlgorithm"],
        }


class LegacySignRequest(_Dto):
    data = required_text()
    command = LegacySignCommand


class LegacyValidateRequest(_Dto):
    signature = required_text()
    data = required_text()
    timestamp = optional_text(validate=_timestamp)
    command = LegacyValidateCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"signature": data["signature"], "data": data["data"]}


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
    command: ClassVar[Any] = UploadCaCertificateCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"certificate_data": data["certificateData"], "partner_domain": data["partnerDomain"]}


class PartnerCertificateRequest(CaCertificateRequest):
    organizationName = required_text()
    command = UploadPartnerCertificateCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**super().command_fields(data), "organization_name": data["organizationName"]}


class CertificateTrustRequest(CaCertificateRequest):
    command = VerifyCertificateTrustCommand


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
    command = GetCaCertificatesCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        def day(value: str | None) -> date | None:  # the date part of a validated instant
            return date.fromisoformat(value[:10]) if value else None

        return {
            "ca_type": data["caCertificateType"],
            "partner_domain": data["partnerDomain"],
            "exclude_mosip_ca": bool(data["excludeMosipCA"]),
            "sort_by": data["sortByFieldName"],
            "sort_order": data["sortOrder"],
            "page_number": data["pageNumber"],
            "page_size": data["pageSize"],
            "cert_id": data["certId"],
            "issued_to": data["issuedTo"],
            "issued_by": data["issuedBy"],
            "valid_from": day(data["validFromDate"]),
            "valid_till": day(data["validTillDate"]),
            "uploaded": day(data["uploadTime"]),
            "expiring_within": day(data["expiringWithinDate"]),
        }


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
    command = JwtEncryptCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        compress = data["enableDefCompression"]
        return {
            "data": data["data"],
            "app_id": data["applicationId"],
            "ref_id": data["referenceId"],
            "x509_certificate": data["x509Certificate"],
            "compress": True if compress is None else bool(compress),
            "include_certificate": bool(data["includeCertificate"]),
            "include_cert_hash": bool(data["includeCertHash"]),
            "jwk_set_url": data["jwkSetUrl"],
        }


class JwtDecryptRequest(_Dto):
    applicationId = required_text()
    referenceId = required_text()
    encData = required_text()
    command = JwtDecryptCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"app_id": data["applicationId"], "ref_id": data["referenceId"], "enc_data": data["encData"]}


class Argon2HashRequest(_Dto):
    inputData = required_text()
    salt = optional_text()


class SymmetricKeyRequest(_Dto):
    applicationId = required_text()
    referenceId = required_text()
    force = optional_flag()
    command = GenerateSymmetricKeyCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"app_id": data["applicationId"], "ref_id": data["referenceId"], "force": bool(data["force"])}


class ZkDataAttribute(_Dto):
    identifier = optional_text()
    value = fields.String(
        required=True, allow_none=False, error_messages={"required": "must not be null", "null": "must not be null"}
    )
    command = ZkAttribute


class ZkCryptoRequest(_Dto):
    """zkEncrypt and zkDecrypt: the view builds its command from ``id`` and the attributes."""

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


# -- PDF signing (issue 15) ---------------------------------------------------------------------

# -- COSE / CWT (issue 15) -----------------------------------------------------------------------

# -- client crypto (issue 15) --------------------------------------------------------------------

# -- query parameters ---------------------------------------------------------------------------


def query_text(required: bool = False, example: str | None = None) -> fields.String:
    if required:
        return fields.String(required=True, metadata=_example(example))
    return fields.String(load_default="", metadata=_example(example))


class KeyQuery(_Dto):
    """getCertificate, getAllCertificates, getCertificateChain."""

    applicationId = query_text(required=True, example=APP_EXAMPLE)
    referenceId = query_text(example=REF_EXAMPLE)


class EncryptedKeyQuery(_Dto):
    """zkReEncryptRandomKey: a request parameter (query string or form field), not a JSON body."""

    encryptedKey = query_text(required=True)


def load_query(schema: type[Schema], values: Mapping[str, str]) -> dict[str, Any]:
    """The declared parameters of ``values``; a missing required one gets the reference's (Spring's) message."""
    for name, field in schema._declared_fields.items():
        if field.required and name not in values:
            raise ValidationError(
                [f"Required request parameter '{name}' for method parameter type String is not present"]
            )
    return {name: values.get(name, field.load_default) for name, field in schema._declared_fields.items()}
