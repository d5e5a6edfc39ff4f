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


# -- admin console (issue 17) --


class AdminKey(Schema):
    alias = text()
    applicationId = text()
    referenceId = text(description='"" for a module key')
    kind = text(description="root, module, base, signing, symmetric, zk-master or other-domain")
    algorithm = text(example="RSA_2048", description="RSA_2048, EC_P256, EC_SECP256K1, ED25519 or AES_256")
    status = text(description="current, due (in its pre-expiry window), expired or revoked")
    issued = instant()
    expires = instant()
    preExpiryStart = instant()
    location = text(description="token (PKCS#11), file (PKCS#12), memory, or database (wrapped in key_store)")
    thumbprint = text(nullable=True, description="SHA-256 of the certificate DER, upper-case hex")
    subject = text(nullable=True)
    issuer = text(nullable=True)
    keyId = text(nullable=True)
    superseded = fields.Boolean(required=True, metadata={"description": "a newer key of the same tuple exists"})


class AdminKeysResponse(Schema):
    keys = fields.List(fields.Nested(AdminKey), required=True)
    timestamp = instant()


class AdminCertificateDetails(Schema):
    subject = text()
    issuer = text()
    serial = text(description="hex")
    notBefore = instant()
    notAfter = instant()
    keyUsage = fields.List(fields.String(), required=True)
    basicConstraints = text(nullable=True)
    signatureAlgorithm = text()
    publicKey = text()
    thumbprint = text()


class AdminCertificateResponse(Schema):
    alias = text()
    applicationId = text()
    referenceId = text()
    certificate = text(description="PEM")
    details = fields.Nested(AdminCertificateDetails, required=True)


class AdminPolicy(Schema):
    applicationId = text()
    validityDays = fields.Integer(required=True)
    preExpireDays = fields.Integer(required=True)
    accessAllowed = fields.List(fields.String(), required=True,
                                metadata={"description": '["NA"]: every caller; [] (an empty column): nobody'})
    active = fields.Boolean(required=True)


class AdminPoliciesResponse(Schema):
    policies = fields.List(fields.Nested(AdminPolicy), required=True)


class AdminPolicyResponse(AdminPolicy):
    created = fields.Boolean(required=True, metadata={"description": "the application had no policy before"})


class AdminAuditRecord(Schema):
    sequence = fields.Integer(required=True)
    timestamp = text()
    subject = text(nullable=True)
    operation = text()
    applicationId = text(nullable=True)
    referenceId = text(nullable=True)
    keyAlias = text(nullable=True)
    thumbprint = text(nullable=True)
    outcome = text()
    hash = text()


class AdminAuditResponse(Schema):
    records = fields.List(fields.Nested(AdminAuditRecord), required=True)


class AdminAuditVerifyResponse(Schema):
    intact = fields.Boolean(required=True)
    records = fields.Integer(required=True)
    headSequence = fields.Integer(required=True, metadata={"description": "the last record verified intact"})
    headHash = text()
    firstBroken = fields.Integer(required=True, allow_none=True)
    reason = text(nullable=True)


class AdminSessionResponse(Schema):
    user = text(nullable=True)
    roles = fields.List(fields.String(), required=True)
    csrfToken = text(nullable=True, description="send it as X-CSRF-Token with every non-GET request")
    authMode = text(description="dev or oidc")
    expiresAt = text(nullable=True, description="when the console session's token expires")


# -- post-quantum hybrid (issue 18) --


class PqPublicKeyResponse(Schema):
    applicationId = text()
    referenceId = text()
    algorithm = text(description="ML-KEM-768")
    publicKey = text(description="the ML-KEM-768 encapsulation key (1184 bytes), base64url")
    keyId = text(description="SHA-256 of the public key, upper-case hex; named in every VER_Q1 envelope")
    rsaCertificateThumbprint = text(description="SHA-256 of the twin RSA certificate's DER, upper-case hex")
    issuedAt = text(description="the RSA twin's validity: the ML-KEM key rotates with it")
    expiresAt = text()
    signature = text(description="compact JWS (RS256, x5c: the module key's certificate) whose payload is "
                     "exactly the fields above")


class RewrapResponse(Schema):
    data = text(description="the new envelope, base64url")
    pqHybrid = fields.Boolean(required=True, metadata={"description": "whether it is VER_Q1"})


# -- ML-DSA and batch (issue 18) --


def batch_response(item: type[Schema]) -> type[Schema]:
    """``{"items": [{index, response | errors}]}``, one per request item, in order."""
    entry = type(f"{item.__name__.removesuffix('Response')}BatchItem", (Schema,), {
        "index": fields.Integer(required=True, metadata={"description": "the item's position in the request, from 0"}),
        "response": fields.Nested(item, required=True, allow_none=True),
        "errors": fields.List(fields.Nested(ServiceError), required=True, allow_none=True),
    })
    return type(f"{item.__name__.removesuffix('Response')}BatchResponse", (Schema,), {
        "items": fields.List(fields.Nested(entry), required=True),
    })


DataBatchResponse = batch_response(DataResponse)
JwtSignBatchResponse = batch_response(JwtSignResponse)
