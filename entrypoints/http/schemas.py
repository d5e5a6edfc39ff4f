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
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from marshmallow import EXCLUDE, Schema, fields, post_load, validate
from marshmallow import ValidationError as SchemaError

from application.crypto.client_crypto import ClientType
from application.crypto.x509 import Subject
from application.use_cases.client_crypto.client_public_keys import ClientEncryptCommand, ClientVerifyCommand
from application.use_cases.client_crypto.service_keys import ClientDecryptCommand, ClientSignCommand
from application.use_cases.cose.cose_sign import CoseSignCommand, CwtSignCommand
from application.use_cases.cose.cose_verify import CoseVerifyCommand
from application.use_cases.cryptomanager.decrypt_data import DecryptCommand
from application.use_cases.cryptomanager.encrypt_data import EncryptCommand
from application.use_cases.cryptomanager.jwt_encryption import JwtDecryptCommand, JwtEncryptCommand
from application.use_cases.cryptomanager.rewrap import RewrapCommand  # -- post-quantum hybrid (issue 18) --
from application.use_cases.key_migration.migrate_base_key import MigrateBaseKeyCommand
from application.use_cases.key_migration.migrate_zk_keys import MigrateZkKeysCommand, ZkKeyData
from application.use_cases.keymanager.generate_csr import GenerateCsrCommand
from application.use_cases.keymanager.generate_ec_sign_key import GenerateEcSignKeyCommand
from application.use_cases.keymanager.generate_master_key import GenerateMasterKeyCommand
from application.use_cases.keymanager.generate_symmetric_key import GenerateSymmetricKeyCommand
from application.use_cases.keymanager.revoke_key import RevokeKeyCommand
from application.use_cases.license_keys.generate_license_key import GenerateLicenseKeyCommand
from application.use_cases.license_keys.map_license_permissions import MapLicensePermissionsCommand
from application.use_cases.partner.get_ca_certificates import GetCaCertificatesCommand
from application.use_cases.partner.upload_ca_certificate import UploadCaCertificateCommand
from application.use_cases.partner.upload_partner_certificate import UploadPartnerCertificateCommand
from application.use_cases.partner.verify_certificate_trust import VerifyCertificateTrustCommand
from application.use_cases.signature.jwt_headers import JwtSignCommand
from application.use_cases.signature.legacy_signature import LegacySignCommand, LegacyValidateCommand
from application.use_cases.signature.sign_jws import JwsSignCommand
from application.use_cases.signature.sign_pdf import PdfSignCommand
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
    # -- post-quantum hybrid (issue 18) --
    pqHybrid = optional_flag()  # ours: the hybrid post-quantum envelope VER_Q1 (ADR 0023)

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**super().command_fields(data), "pq_hybrid": bool(data["pqHybrid"])}


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


# -- PDF signing (ADR 0020) --------------------------------------------------------------------

#: base64url of a one-page blank PDF (310 bytes, written by hand), the API document's example.
PDF_EXAMPLE = (
    "JVBERi0xLjQKMSAwIG9iago8PC9UeXBlL0NhdGFsb2cvUGFnZXMgMiAwIFI-PgplbmRvYmoKMiAwIG9iago8PC9UeXBlL1BhZ2VzL0tp"
    "ZHNbMyAwIFJdL0NvdW50IDE-PgplbmRvYmoKMyAwIG9iago8PC9UeXBlL1BhZ2UvUGFyZW50IDIgMCBSL01lZGlhQm94WzAgMCAzMDAg"
    "MjAwXT4-CmVuZG9iagp4cmVmCjAgNAowMDAwMDAwMDAwIDY1NTM1IGYgCjAwMDAwMDAwMDkgMDAwMDAgbiAKMDAwMDAwMDA1NCAwMDAw"
    "MCBuIAowMDAwMDAwMTA1IDAwMDAwIG4gCnRyYWlsZXIKPDwvU2l6ZSA0L1Jvb3QgMSAwIFI-PgpzdGFydHhyZWYKMTcwCiUlRU9GCg"
)


def pdf_number(example: int) -> fields.Integer:
    """The reference's ``@Min(0) @Max(Integer.MAX_VALUE) int``: absent or null is 0."""
    return fields.Integer(
        load_default=0,
        allow_none=True,
        strict=True,
        validate=[
            validate.Range(min=0, error="must be greater than or equal to 0"),
            validate.Range(max=JAVA_INT[1], error="must be less than or equal to {max}"),
        ],
        error_messages={"invalid": "must be an integer"},
        metadata={"example": example},
    )


class PdfSignRequest(_Dto):
    """Deliberate differences: a null referenceId is "" (the application's master key) instead of
    HTTP 500, and timeStamp, ignored by the reference, is not required."""

    applicationId = required_text("KERNEL")
    referenceId = optional_text("SIGN")
    timeStamp = optional_text(TIME_EXAMPLE)
    data = required_text(PDF_EXAMPLE)
    lowerLeftX = pdf_number(100)
    lowerLeftY = pdf_number(100)
    upperRightX = pdf_number(200)  # the box's width, as the reference uses it
    upperRightY = pdf_number(60)  # the box's height
    reason = required_text("signing")
    pageNumber = pdf_number(0)
    password = optional_text()
    command = PdfSignCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        def number(name: str) -> int:
            return data[name] or 0

        return {
            "app_id": data["applicationId"],
            "ref_id": (data["referenceId"] or "").strip(),
            "pdf": b64_decode_lenient(data["data"]),
            "reason": data["reason"],
            "page_number": number("pageNumber"),
            "lower_left_x": number("lowerLeftX"),
            "lower_left_y": number("lowerLeftY"),
            "upper_right_x": number("upperRightX"),
            "upper_right_y": number("upperRightY"),
            "password": data["password"],
        }


# -- COSE and CWT (ADR 0020) --------------------------------------------------------------------

#: Verifiable on any server until 2035: signed with the RFC 8032 test key, its certificate in the message.
COSE_SIGN1_EXAMPLE = (  # mosip-cose-pdf.md A.11 V2
    "d2845894a701270282636b696463616c6703706170706c69636174696f6e2f63626f72182258208a15869675276199f9a993"
    "73673e3cbfdd8d1d294905c4d84c80fbdd3e25a5c818237568747470733a2f2f746573742e636f6d2f636572746763757374"
    "6f6d3162763104582b666e544f646258792d4a4a41737a725f386b486943666d5065346b67727874584b5666497344424444"
    "586fa2182158ed3081ea30819da003020102020101300506032b6570301f311d301b06035504030c1449445f5245504f2d45"
    "4432353531395f5349474e301e170d3235303130313030303030305a170d3335303130313030303030305a301f311d301b06"
    "035504030c1449445f5245504f2d454432353531395f5349474e302a300506032b6570032100d75a980182b10ab7d54bfed3"
    "c964073a0ee172f3daa62325af021a68f707511a300506032b6570034100cf4c8c33cb6f700e60bbc8b2002e695c4352a9f8"
    "9f6c2090100d90f386068b21b83c22ca40aca066e53853f940561b39972462e2f33196fe7c7b1d3d10dfc901064361626358"
    "327b20226d6f64756c65223a20226b65796d616e61676572222c2022707572706f7365223a20227465737420636173652220"
    "7d5840cca30aebd84fe01fd306fed045d3ca33b611a6b373961f2da9837e48c0afcd07b2cc5608a070665111eca4de161dec"
    "8094218b7213f053b414fdeac014183800"
)
CWT_EXAMPLE = (  # x5chain unprotected; nbf 2026-01-01, exp 2035-01-01
    "d83dd28443a10127a1182158ed3081ea30819da003020102020101300506032b6570301f311d301b06035504030c1449445f"
    "5245504f2d454432353531395f5349474e301e170d3235303130313030303030305a170d3335303130313030303030305a30"
    "1f311d301b06035504030c1449445f5245504f2d454432353531395f5349474e302a300506032b6570032100d75a980182b1"
    "0ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a300506032b6570034100cf4c8c33cb6f700e60bbc8b2002e"
    "695c4352a9f89f6c2090100d90f386068b21b83c22ca40aca066e53853f940561b39972462e2f33196fe7c7b1d3d10dfc901"
    "5834a601686d6f7369702e696f0269746573742063617365041a7a432b80051a6955b900061a6955b9006568656c6c6f6577"
    "6f726c6458401fb6716aac63843f0ca7b9823c6eb960768652264db8420e65a81787962c574d479f347d0a5873d6c06e4259"
    "be896e61f6b262502ca38c113cef7ec8ff3eb909"
)


def _must_not_be_blank(value: str) -> None:
    if not value.strip():
        raise SchemaError("must not be blank")


def not_blank_text(example: str) -> fields.String:
    """A @NotBlank field of the COSE DTOs, with bean validation's own message."""
    return fields.String(
        required=True, allow_none=False, validate=_must_not_be_blank, metadata=_example(example),
        error_messages={"required": "must not be blank", "null": "must not be blank", "invalid": "must be a string"},
    )


def header_directives(example: dict[str, Any] | None = None) -> fields.Dict:
    """protectedHeader / unprotectedHeader: directives (includeCertificate, kid, crit, ...) and custom headers."""
    return fields.Dict(
        keys=fields.String(), values=fields.Raw(allow_none=True), load_default=None, allow_none=True,
        error_messages={"invalid": "must be an object"}, metadata={} if example is None else {"example": example},
    )


class _CoseSignFields(_Dto):
    applicationId = optional_text(APP_EXAMPLE)
    referenceId = optional_text("")
    protectedHeader = header_directives({"kid": True, "includeCertificateHash": True})
    unprotectedHeader = header_directives({"includeCertificate": True})
    algorithm = optional_text(metadata={"description": "RS256, PS256, ES256, ES256K or EdDSA; default by the key"})

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "app_id": data["applicationId"],
            "ref_id": data["referenceId"],
            "protected_header": data["protectedHeader"],
            "unprotected_header": data["unprotectedHeader"],
            "algorithm": data["algorithm"],
        }


class CoseSignRequest(_CoseSignFields):
    payload = not_blank_text(DATA_EXAMPLE)
    command = CoseSignCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**super().command_fields(data), "payload": data["payload"]}


class CwtSignRequest(_CoseSignFields):
    payload = optional_text(DATA_EXAMPLE)
    claim169Payload = optional_text("a1016161")
    issuer = optional_text("mosip.io")
    subject = optional_text()
    audience = optional_text()
    expireDays = optional_number()
    notBeforeDays = optional_number()
    cwtid = optional_text("UUID")  # the reference's CWTId, as Jackson names it
    command = CwtSignCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            **super().command_fields(data),
            "payload": data["payload"],
            "claim169_payload": data["claim169Payload"],
            "issuer": data["issuer"],
            "subject": data["subject"],
            "audience": data["audience"],
            "expire_days": data["expireDays"],
            "not_before_days": data["notBeforeDays"],
            "cwt_id": data["cwtid"],
        }


class CoseVerifyRequest(_Dto):
    coseSignedData = not_blank_text(COSE_SIGN1_EXAMPLE)
    applicationId = optional_text()
    referenceId = optional_text()
    certificateData = optional_text()
    validateTrust = optional_flag()
    domain = optional_text()
    command = CoseVerifyCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "cose_signed_data": data["coseSignedData"],
            "app_id": data["applicationId"],
            "ref_id": data["referenceId"],
            "certificate_data": data["certificateData"],
            "validate_trust": bool(data["validateTrust"]),
            "domain": data["domain"],
        }


class CwtVerifyRequest(CoseVerifyRequest):
    coseSignedData = not_blank_text(CWT_EXAMPLE)
    issuer = optional_text()
    subject = optional_text()

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**super().command_fields(data), "issuer": data["issuer"], "subject": data["subject"]}


# -- client crypto (ADR 0020) -------------------------------------------------------------------

#: An RSA-2048 public key (SPKI; its private half was discarded) and its SHA256withRSA signature over
#: DATA_EXAMPLE: on a fresh server /csverifysign answers true and /tpmencrypt encrypts to it.
CLIENT_KEY_EXAMPLE = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqsJES4eG1CCKrswEpfE1n5XmF29klH8C753RScdQgT5cB1T23kL8aqs8bgxSSr6yM"
    "WtIqg6gwXG-8VBJWRWVdvdhH0EKjjNS-eAF4GBNr3tgkKTmeLpUctVJ1CUKPuncjL3tvMX1jf4EAFS5aqE-8HG82-hEKS890a8WpOxbVFuqwl"
    "pc44JmOcyKmWlm1Xriwp4Mov9dK6FlsmqOW7i7XlIA6Nv0s--Kk3oF_j1LmPxDYCWyjii93DeKQQGwR7y-XAj1S2sUsQLXZaA5EI9WtHZueAt4"
    "2o1wmXqqWTKpHxav6hOyCH-L_scYmhniG5dhHzV8j7xeCxaCZ5CVhwyJHwIDAQAB"
)
CLIENT_SIGNATURE_EXAMPLE = (
    "dIQtHMHHJuwKAxf6PKOz1W62v_oIasTbDuyLA6BiT24uodaeGqY_NpTgOrKn5SnjWeWoXiUO809Hf-oj08Yv6jxZOmfip-Hgqsn03Ko7120I_1"
    "RPgbtdH28Ul8AWLxUUTEivBaRdz8lXn5xFuJPDn4ZaIwagFAtNoFC0Mz1deSOuMZZ3b-P5WTTIR-Nwq9vVmVmGMol8E-pubSpI8rj0VM0cDyE1"
    "rVEygvHetZue_Vt5IpdTsGIBNx_wO9uNMvITXT4z-BkZdAI0WgRA7-wBMC4f6FXnCXLCbgj1a2O7422JCCfNiYSTkZUkDH1Bnt_JX6_CGokik7n"
    "i508ucnffXg"
)


def client_type_field() -> fields.String:
    """TPM, ANDROID or LOCAL, spelt as the reference's enum; absent or null: LOCAL."""
    return fields.String(
        load_default=None, allow_none=True, error_messages={"invalid": "must be a string"},
        validate=validate.OneOf([kind.value for kind in ClientType], error="must be one of: {choices}"),
    )


def _client_type(data: dict[str, Any]) -> ClientType | None:
    return ClientType(data["clientType"]) if data["clientType"] else None


class TpmSignRequest(_Dto):
    data = required_text(DATA_EXAMPLE)
    command = ClientSignCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"data": b64_decode_lenient(data["data"])}


class TpmSignVerifyRequest(_Dto):
    data = required_text(DATA_EXAMPLE)
    signature = required_text(CLIENT_SIGNATURE_EXAMPLE)
    publicKey = required_text(CLIENT_KEY_EXAMPLE)
    tpm = optional_flag()  # the deprecated isTpm (JSON name from Lombok's accessor); ignored, as in the reference
    clientType = client_type_field()
    command = ClientVerifyCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "data": b64_decode_lenient(data["data"]),
            "signature": b64_decode_lenient(data["signature"]),
            "public_key": b64_decode_lenient(data["publicKey"]),
            "client_type": _client_type(data),
        }


class TpmEncryptRequest(_Dto):
    value = required_text(DATA_EXAMPLE)
    publicKey = required_text(CLIENT_KEY_EXAMPLE)
    tpm = optional_flag()  # deprecated and ignored, see TpmSignVerifyRequest
    clientType = client_type_field()
    command = ClientEncryptCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "value": b64_decode_lenient(data["value"]),
            "public_key": b64_decode_lenient(data["publicKey"]),
            "client_type": _client_type(data),
        }


class TpmDecryptRequest(_Dto):
    """The reference's TpmCryptoRequestDto; only ``value`` is used. Deliberately, ``publicKey`` is
    optional here: the reference requires it but never reads it."""

    value = required_text(DATA_EXAMPLE)
    publicKey = optional_text()
    tpm = optional_flag()
    clientType = client_type_field()
    command = ClientDecryptCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"value": b64_decode_lenient(data["value"])}


class ClientPublicKeyRequest(_Dto):
    serverProfile = required_text("Dev")  # required, and ignored, as in the reference


# -- key migration (issue 16) --------------------------------------------------------------------

#: A partner's certificate only (PARTNER, privateKey "NA"): on a fresh server the example migrates it, then
#: answers "Migration Not Allowed. Valid Key Exists." (a self-signed RSA-2048 certificate, 2025-2035).
MIGRATION_CERTIFICATE_EXAMPLE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDMjCCAhqgAwIBAgIUYZknysYOKWj2wJjKCu62hU2EMB8wDQYJKoZIhvcNAQEL\n"
    "BQAwSjELMAkGA1UEBhMCSU4xGDAWBgNVBAoMD0V4YW1wbGUgUGFydG5lcjEhMB8G\n"
    "A1UEAwwYZXhhbXBsZS1wYXJ0bmVyLW1pZ3JhdGVkMB4XDTI1MDEwMTAwMDAwMFoX\n"
    "DTM1MDEwMTAwMDAwMFowSjELMAkGA1UEBhMCSU4xGDAWBgNVBAoMD0V4YW1wbGUg\n"
    "UGFydG5lcjEhMB8GA1UEAwwYZXhhbXBsZS1wYXJ0bmVyLW1pZ3JhdGVkMIIBIjAN\n"
    "BgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAs7Px1yRTnqRuziXgrfI4KhR5Il88\n"
    "jDmh6cwQfor9rH9FG/5WozfqIlXd5uWDYCRzbK23pQ88IWkYhzSOBlGAT8O8f5fK\n"
    "hLoGROpJSRWw54HYvkmGBzz4+prQi4+Xxd4XmaIaxbrFoaDCjoKCOK0Jm3IQjmET\n"
    "OzX8X5oo4djZsC0jERi5kQmT/dt+A0dEgV1PAo0ZvvnsKvtvKtpUgpbvBtAW4rCC\n"
    "GRedQ5Fzks2C/OR003eKXcyKI3jy7V8KypHcCB4ykzD6uJVuRLFEKMOeYImBrxGb\n"
    "V/jL779pzgSUWx6C9INQpgi3/n7ShBXZNzonZecs8b6Kx6k+QVHek0rOywIDAQAB\n"
    "oxAwDjAMBgNVHRMBAf8EAjAAMA0GCSqGSIb3DQEBCwUAA4IBAQBlKeD2LJCLeSVd\n"
    "mcrQdbgv+OefH7vYcaigNaIn3NCNuidS1yXKWJ3RUpjc+f/OmmNcN4E7UFUxPsBO\n"
    "Az50gyQkAf0NxfrGS+IVefMXJ3qGDV9vhTYswHdTexr9iFqtbLi4MH7BMUpw9H2o\n"
    "WrY9bg/S0tqXADUl/MtBfZCzjgUdCJstXuRLCYMkDSLy7afOtW9N7QPwMtlEfzdC\n"
    "qxplPTRBtrHJ0r/OH4vZeEM4P+/QC6wqiDTr5Ws/owooEtgGZknYGCsCgdwsNqBS\n"
    "EVgMZJxEHOAk/2nh7FQrTgS9BvXA4EwdjO5mkgvon12TRMrs3nN/D1MwwvKxMh7l\n"
    "7aYPNwGA\n"
    "-----END CERTIFICATE-----\n"
)
MIGRATED_KEY_MIN_YEAR = 1950  # X.509's UTCTime starts there; older instants are not key lifetimes


def _migration_instant(value: str) -> None:
    _annotated_instant(value)
    if int(value[:4]) < MIGRATED_KEY_MIN_YEAR:
        raise SchemaError(f"must not be before {MIGRATED_KEY_MIN_YEAR}-01-01")


def migration_instant(example: str) -> fields.String:
    """notBefore / notAfter: the reference's yyyy-MM-dd'T'HH:mm:ss.SSS'Z' (UTC). Deliberately required:
    the reference answers a null one with HTTP 500."""
    return fields.String(
        required=True, allow_none=False, validate=_migration_instant,
        metadata={"example": example, "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"},
        error_messages={"required": "must not be null", "null": "must not be null", "invalid": "must be a string"},
    )


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value[:23] + "+00:00")  # the form _annotated_instant checked


def bounded_text(example: str, most: int) -> fields.String:
    """A required key id that fits the reference's column (key_alias.app_id 36, ref_id 128 characters)."""
    field = required_text(example)
    # (a NUL, which PostgreSQL text cannot hold, is refused for every body by envelope.request_body)
    field.validators += [validate.Length(max=most, error=f"size must be between 1 and {most}")]
    return field


class MigrateBaseKeyRequest(_Dto):
    """The reference's KeyMigrateBaseKeyRequestDto: all four texts @NotBlank."""

    applicationId = bounded_text("PARTNER", 36)
    referenceId = bounded_text("MIGRATION_EXAMPLE", 128)
    encryptedKeyData = required_text("NA")
    certificateData = required_text(MIGRATION_CERTIFICATE_EXAMPLE)
    notBefore = migration_instant("2025-01-01T00:00:00.000Z")
    notAfter = migration_instant("2035-01-01T00:00:00.000Z")
    command = MigrateBaseKeyCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "app_id": data["applicationId"],
            "ref_id": data["referenceId"],
            "encrypted_key_data": data["encryptedKeyData"].strip(),
            "certificate_data": data["certificateData"],
            "not_before": _utc(data["notBefore"]),
            "not_after": _utc(data["notAfter"]),
        }


class ZkKeyDataItem(_Dto):
    """ZKKeyDataDto. Deliberately the index is required: the reference's int takes 0 for a missing one."""

    keyIndex = fields.Integer(
        required=True, allow_none=False, strict=True,
        validate=validate.Range(*JAVA_INT, error="must be an integer from {min} to {max}"),
        error_messages={"required": "must not be null", "null": "must not be null", "invalid": "must be an integer"},
        metadata={"example": 2147483647},
    )
    encryptedKeyData = optional_text("bm90LWEtd3JhcHBlZC1rZXk")  # opens to nothing: "Error in Migration"
    command = ZkKeyData

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"key_index": data["keyIndex"], "encrypted_key_data": data["encryptedKeyData"]}


class ZkKeyMigrateRequest(_Dto):
    """ZKKeyMigrateRequestDto; a null list is KER-KMS-005 (the reference: HTTP 500)."""

    zkEncryptedDataList = fields.List(
        fields.Nested(ZkKeyDataItem),
        required=True,
        allow_none=False,
        error_messages={"required": "must not be null", "null": "must not be null", "invalid": "must be a list"},
    )
    purgeTempKeyFlag = optional_flag()
    command = MigrateZkKeysCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"keys": list(data["zkEncryptedDataList"]), "purge_temp_key": bool(data["purgeTempKeyFlag"])}

# -- licence keys (issue 16) ---------------------------------------------------------------------

#: Examples for license/permission: the licence key is the one license/generate answered.
TSP_EXAMPLE, LICENSE_KEY_EXAMPLE = "mpartner-default-auth", "Lk6xVq2PzR8mNc4T"
_LICENSE_EXPIRY_DOC = {
    "example": "2099-12-31T23:59:59.999Z", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
}


class LicenseGenerateRequest(_Dto):
    """The reference's LicenseKeyGenerationDto. A blank tspId is the service's KER-LKM-001, not a
    field error; the expiry is required (the reference answers a null one with HTTP 500)."""

    tspId = optional_text(TSP_EXAMPLE)
    licenseExpiryTime = fields.String(
        required=True,
        allow_none=False,
        validate=_annotated_instant,
        error_messages={"required": "must not be null", "null": "must not be null", "invalid": "must be a string"},
        metadata=_LICENSE_EXPIRY_DOC,
    )
    command = GenerateLicenseKeyCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        # _annotated_instant checked the form: yyyy-MM-dd'T'HH:mm:ss.SSS'Z', a UTC instant
        expires_at = datetime.fromisoformat(data["licenseExpiryTime"][:23]).replace(tzinfo=UTC)
        return {"tsp_id": data["tspId"], "expires_at": expires_at}


class LicensePermissionRequest(_Dto):
    """The reference's LicenseKeyMappingDto. Blank fields and null, absent or empty permissions are
    the service's KER-LKM-001/006/007, reported together."""

    tspId = optional_text(TSP_EXAMPLE)
    licenseKey = optional_text(LICENSE_KEY_EXAMPLE)
    permissions = fields.List(
        fields.String(allow_none=True, error_messages={"invalid": "must be a string"}),
        load_default=None,
        allow_none=True,
        error_messages={"invalid": "must be a list of strings"},
        metadata={"example": ["OTP Authentication", "eKYC - limited"]},
    )
    command = MapLicensePermissionsCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"tsp_id": data["tspId"], "license_key": data["licenseKey"],
                "permissions": tuple(data["permissions"] or ())}


class LicensePermissionQuery(_Dto):
    """license/permission (GET): both parameters required (KER-KMS-005); blank ones are KER-LKM-001/006."""

    tspId = fields.String(required=True, metadata=_example(TSP_EXAMPLE))
    licenseKey = fields.String(required=True, metadata=_example(LICENSE_KEY_EXAMPLE))


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


# -- admin console (issue 17) --


def _whole_days(most: int) -> fields.Integer:
    return fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=most, error=f"must be between 1 and {most}"),
        error_messages={"required": "must not be null", "null": "must not be null", "invalid": "must be an integer"},
    )


class KeyPolicyRequest(_Dto):
    """PUT admin/api/policies/{applicationId}: the key policy of an application (created when absent).
    The rules across fields (pre-expiry shorter than validity, names) are the use case's."""

    validityDays = _whole_days(36500)
    preExpireDays = _whole_days(36500)
    accessAllowed = fields.List(
        fields.String(error_messages={"invalid": "must be a string"}),
        load_default=["NA"],
        error_messages={"invalid": "must be a list of strings"},
        metadata={"example": ["NA"], "description": 'user names that may use the keys; ["NA"]: every caller'},
    )


class AdminKeysQuery(_Dto):
    """GET admin/api/keys: every filter optional."""

    app = query_text(example=APP_EXAMPLE)
    ref = query_text()
    status = fields.String(load_default="", validate=validate.OneOf(["", "current", "due", "expired", "revoked"]))
    q = query_text()


class AdminAuditQuery(_Dto):
    """GET admin/api/audit."""

    limit = fields.String(load_default="100", metadata={"example": "100", "description": "1 to 1000"})
    operation = query_text(example="revokeKey")
    outcome = query_text(example="success")
    subject = query_text()


# -- post-quantum hybrid (issue 18) --


class RewrapRequest(_Dto):
    """POST /rewrap: a VER_R2 or VER_Q1 envelope of (applicationId, referenceId), re-encrypted to the
    tuple's current key; ``pqHybrid`` true: VER_Q1, false: VER_R2, absent: VER_Q1 when the input is."""

    applicationId = required_text(APP_EXAMPLE)
    referenceId = optional_text(REF_EXAMPLE)
    data = required_text()
    pqHybrid = optional_flag()
    command = RewrapCommand

    def command_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "app_id": data["applicationId"],
            "ref_id": (data["referenceId"] or "").strip(),
            "data": b64_decode_lenient(data["data"]),
            "pq_hybrid": data["pqHybrid"],
        }


# -- ML-DSA and batch (issue 18) --


class _BatchItem(fields.Nested):
    """One item of a batch: documented as the single endpoint's request object, but kept as sent;
    each item is loaded on its own (``load_item``) so that one bad item fails only itself."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
        partial: bool | Sequence[str] | AbstractSet[str] | None = None, **kwargs: Any,
    ) -> Any:
        return value


def batch_request(item: type[Schema], summary: str) -> type[Schema]:
    """``{"items": [<item's request object> ...]}``: a list of at least one item (the upper bound,
    KEYMANAGER_BATCH_MAX_ITEMS, is checked by the view: it is a setting)."""
    items = fields.List(
        _BatchItem(item), required=True, allow_none=False, validate=validate.Length(min=1, error="should not be empty"),
        error_messages={"required": NOT_BLANK, "null": NOT_BLANK, "invalid": "must be a list"},
        metadata={"description": summary},
    )
    return type(f"{item.__name__.removesuffix('Request')}BatchRequest", (_Dto,), {"items": items})


EncryptBatchRequest = batch_request(EncryptRequest, "each item as the request object of /encrypt")
DecryptBatchRequest = batch_request(DecryptRequest, "each item as the request object of /decrypt")
JwtSignBatchRequest = batch_request(JwtSignRequest, "each item as the request object of /jwtSign")


def load_item(dto: type[Schema], item: Any) -> Any:
    """One batch item loaded with the single endpoint's request schema (its command); KER-KMS-005 with
    one message per failing field ("applicationId should not be null or empty") when it does not load."""
    if not isinstance(item, dict):
        raise ValidationError(["item must be an object"])
    try:
        return dto().load(item)
    except SchemaError as error:
        raise ValidationError(sorted(_flatten(error.messages))) from None
