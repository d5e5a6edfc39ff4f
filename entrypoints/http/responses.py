"""The ``response`` objects of the MOSIP response envelope, one schema per shape (mosip-api.md).

They describe what the views answer, for the OpenAPI document; the views build plain dictionaries
(dumping through marshmallow would cost more than the cryptography on the hot paths). schemathesis
checks in the test suite that every answer matches its schema.
"""
from __future__ import annotations

from marshmallow import Schema, fields

#: The reference's annotated instants, yyyy-MM-dd'T'HH:mm:ss.SSS'Z'.
INSTANT = {"example": "2026-12-07T14:01:09.123Z"}
#: Unannotated LocalDateTime fields as Jackson writes them (UTC, no zone).
LOCAL = {"example": "2026-12-07T14:01:09.123"}


def text(*, nullable: bool = False, **metadata: str) -> fields.String:
    return fields.String(required=True, allow_none=nullable, metadata=metadata)


def instant() -> fields.String:
    return fields.String(required=True, metadata=INSTANT)


def local() -> fields.String:
    return fields.String(required=True, metadata=LOCAL)


class ServiceError(Schema):
    errorCode = text(example="KER-KMS-005")
    message = text()


class CertificateResponse(Schema):
    certificate = text(nullable=True, description="PEM; null for a CSR-only key")
    certSignRequest = text(nullable=True, description="PEM certificate signing request, where one was asked for")
    issuedAt = instant()
    expiryAt = instant()
    timestamp = instant()


class CertificateEntry(Schema):
    certificateData = text()
    issuedAt = instant()
    expiryAt = instant()
    keyId = text(nullable=True)


class AllCertificatesResponse(Schema):
    allCertificates = fields.List(fields.Nested(CertificateEntry), required=True)


class StatusResponse(Schema):
    status = text()
    timestamp = local()


class CertificateChainResponse(Schema):
    certificatesTrustPath = text(description="PEM certificates, the key's own first")
    timestamp = local()


class DataResponse(Schema):
    data = text(description="base64 (URL-safe for encrypt/decrypt)")


class JwtCipherResponse(Schema):
    data = text()
    timestamp = local()


class Argon2HashResponse(Schema):
    hashValue = text()
    salt = text()


class JwtSignResponse(Schema):
    jwtSignedData = text()
    timestamp = local()


class JwtVerifyResponse(Schema):
    signatureValid = fields.Boolean(required=True)
    message = text()
    trustValid = text(example="TRUST_NOT_VERIFIED")


class SignatureResponse(Schema):
    signature = text()
    timestamp = instant()


class SignRawDataResponse(Schema):
    signedData = text()
    keyId = text(nullable=True)
    certificate = text()
    signatureAlgorithm = text()
    timestamp = instant()


class LegacyValidateResponse(Schema):
    status = text()
    message = text()


class PartnerCertificateUploadResponse(Schema):
    signedCertificateData = text()
    certificateId = text()
    timestamp = local()


class PartnerCertificateResponse(Schema):
    certificateData = text()
    timestamp = local()


class PartnerSignedCertificateResponse(Schema):
    caSignedCertificateData = text()
    mosipSignedCertificateData = text()
    timestamp = local()


class TrustStatusResponse(Schema):
    status = fields.Boolean(required=True)


class CaCertificateEntry(Schema):
    caCertificateType = text(nullable=True)
    partnerDomain = text()
    certId = text()
    issuedTo = text()
    issuedBy = text()
    certThumbprint = text()
    validFromDate = instant()
    validTillDate = instant()
    uploadTime = fields.String(required=True, allow_none=True, metadata=INSTANT)
    status = fields.Boolean(required=True, metadata={"description": "valid now"})


class CaCertificateListResponse(Schema):
    pageNumber = fields.Integer(required=True)
    pageSize = fields.Integer(required=True)
    totalRecords = fields.Integer(required=True)
    totalPages = fields.Integer(required=True)
    allPartnerCertificates = fields.List(fields.Nested(CaCertificateEntry), required=True)


class TrustPathResponse(Schema):
    p7bFile = text()
    timestamp = local()


class ZkAttributeValue(Schema):
    identifier = text(nullable=True)
    value = text()


class ZkCryptoResponse(Schema):
    zkDataAttributes = fields.List(fields.Nested(ZkAttributeValue), required=True)
    encryptedRandomKey = text(nullable=True, description="zkEncrypt only")
    rankomKeyIndex = text(nullable=True, description="zkEncrypt only (sic: the reference's name)")


class EncryptedKeyResponse(Schema):
    encryptedKey = text()


class TokenIdResponse(Schema):
    tokenID = text()


# -- PDF signing (ADR 0020) --------------------------------------------------------------------


class PdfSignResponse(Schema):
    data = text(description="the signed PDF, base64url without padding")


# -- COSE and CWT (ADR 0020) --------------------------------------------------------------------


class CoseSignResponse(Schema):
    signedData = text(description="lower-case hex of the tagged COSE_Sign1 (tag 18; cwtSign: 61 around 18)")
    timestamp = local()


class CoseVerifyResponse(Schema):
    signatureValid = fields.Boolean(required=True)
    message = text(example="Validation Successful")
    trustValid = text(example="TRUST_NOT_VERIFIED")


# -- client crypto (ADR 0020) -------------------------------------------------------------------


class TpmSignResponse(Schema):
    data = text(description="base64url SHA256withRSA signature")


class TpmSignVerifyResponse(Schema):
    verified = fields.Boolean(required=True)


class TpmCryptoResponse(Schema):
    value = text(description="base64url: the encrypted layout (tpmencrypt) or the plaintext (tpmdecrypt)")


class ClientPublicKeyResponse(Schema):
    publicKey = text(description="base64url SubjectPublicKeyInfo (DER) of the service's client key")


# -- key migration (issue 16) --------------------------------------------------------------------


class ZkTempCertificateResponse(Schema):
    certificate = text(description="PEM: the temporary key's self-signed certificate (RSA-2048, one day)")
    timestamp = instant()


class ZkKeyStatus(Schema):
    keyIndex = fields.Integer(required=True)
    statusMessage = text(example="Migration Success",
                         description='"Migration Success", "Error in Migration" or "Migration Not Allowed. Valid Key '
                                     'Exists."')


class ZkKeyMigrateResponse(Schema):
    zkEncryptedDataList = fields.List(fields.Nested(ZkKeyStatus), required=True)

# -- licence keys (issue 16) ---------------------------------------------------------------------


class LicenseKeyGenerationResponse(Schema):
    licenseKey = text(description="the new licence key: random letters and digits", example="Lk6xVq2PzR8mNc4T")


class LicenseKeyMappingResponse(Schema):
    status = text(example="Mapped License with the permissions")


class LicenseKeyFetchResponse(Schema):
    permissions = fields.List(
        fields.String(), required=True, metadata={"description": "the stored permissions, split on ','"}
    )
