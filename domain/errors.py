"""The reference's error catalogue, as exceptions.

Every business failure the service reports carries a MOSIP error code and the
reference's message. Messages never include key material, plaintext or the
text of an internal exception: ``detail`` is for a short, caller-safe addition.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class ErrorSpec:
    code: str
    message: str


class Errors(Enum):
    # Keymanager (KER-KMS-*)
    NO_KEY_POLICY = ErrorSpec("KER-KMS-002", "ApplicationId not found in Key Policy. Key/CSR generation not allowed.")
    NO_UNIQUE_ALIAS = ErrorSpec("KER-KMS-003", "No unique alias is found")
    INVALID_REQUEST = ErrorSpec("KER-KMS-005", "Invalid request")
    INVALID_TIMESTAMP = ErrorSpec("KER-KMS-006", "timestamp should be in ISO 8601 format yyyy-MM-ddTHH::mm:ss.SSSZ")
    CRYPTO_LIBRARY = ErrorSpec("KER-KMS-007", "Exception occured in cypto library: ")
    INVALID_OBJECT_TYPE = ErrorSpec("KER-KMS-009", "Invalid Response Object Type.")
    REFERENCE_ID_NOT_SUPPORTED = ErrorSpec("KER-KMS-010", "Reference Id Not Supported for the Application ID.")
    ROOT_KEY_NOT_FOUND = ErrorSpec("KER-KMS-011", "Root Key not available to sign.")
    KEY_GENERATION_NOT_DONE = ErrorSpec("KER-KMS-012", "Key Generation Process is not completed.")
    CERTIFICATE_PARSING = ErrorSpec("KER-KMS-013", "Certificate Parsing Error.")
    CERTIFICATE_KEY_MISMATCH = ErrorSpec("KER-KMS-014", "Certificate Key Not Matching with stored Key.")
    GENERATION_NOT_ALLOWED = ErrorSpec(
        "KER-KMS-016",
        "Not allowed to generate new key pair for other domains or not allowed to generate base key. ({})",
    )
    CERTIFICATE_NOT_IN_STORE = ErrorSpec("KER-KMS-017", "Certificate Not found in keystore table.")
    OTHER_DOMAIN_DECRYPTION = ErrorSpec("KER-KMS-018", "Not Allowed to perform decryption with other domain key.")
    SYMMETRIC_KEY_DECRYPTION = ErrorSpec("KER-KMS-019", "Not able to decrypt Symmetric Key using the Private Key.")
    SIGNING_NOT_ALLOWED = ErrorSpec(
        "KER-KMS-020", "Signing operation not allowed for the provided application id & reference id."
    )
    REVOKE_NOT_ALLOWED = ErrorSpec("KER-KMS-021", "Key Revocation not allowed.")
    CSR_NOT_ALLOWED = ErrorSpec("KER-KMS-022", "CSR Generation not allowed for the provided App Id & Ref Id.")
    MULTIPLE_THUMBPRINT_ALIASES = ErrorSpec("KER-KMS-023", "More than one key alias found for the provided thumbprint.")
    THUMBPRINT_APP_MISMATCH = ErrorSpec(
        "KER-KMS-024", "Application Id & Reference Id not matching with the input thumbprint."
    )
    THUMBPRINT_KEY_NOT_FOUND = ErrorSpec("KER-KMS-025", "Key Not found for the thumbprint prepended in encrypted data.")
    EC_REFERENCE_NOT_SUPPORTED = ErrorSpec("KER-KMS-030", "EC Sign Reference Id Not Supported for the Application ID.")
    KERNEL_SIGN_UPLOAD = ErrorSpec(
        "KER-KMS-031",
        "Application Id with KERNEL & Reference Id with Sign not allowed to upload Partner certificate.",
    )
    VALID_KEY_EXISTS = ErrorSpec("KER-KMS-032", "Valid Key already Exist, not allowed to upload another Certificate.")
    OTHER_DOMAIN_KEY_MISSING = ErrorSpec(
        "KER-KMS-033", "Other Domain Valid key not available, Upload other domain valid Key certificate."
    )
    PRIVATE_KEY_PRESENT = ErrorSpec(
        "KER-KMS-034", "PrivateKey available, for Other Domain Certificate, Private Key should not available."
    )
    CERTIFICATE_EXISTS = ErrorSpec(
        "KER-KMS-035", "Certificate Already Exist, not allowed to upload same certificate again"
    )
    UNSUPPORTED_SIGNATURE_FORMAT = ErrorSpec("KER-KMS-036", "Unsupported output format for the signature")
    INTERNAL = ErrorSpec("KER-KMS-500", "Internal server error")
    STORE_UNAVAILABLE = ErrorSpec("KER-KMS-500", "Key store is not available. Try again later.")
    AUDIT_UNAVAILABLE = ErrorSpec(
        "KER-KMS-500", "The audit record could not be written: the result is withheld. Try again later."
    )
    # Cryptomanager (KER-CRY-*)
    INVALID_DATA_WITHOUT_SPLITTER = ErrorSpec("KER-CRY-003", "data sent to decrypt is without key splitter or invalid")
    INVALID_BASE64 = ErrorSpec("KER-CRY-003", " input data is not base64 encoded")
    EMPTY_DATA = ErrorSpec("KER-CRY-004", "data should not be null or empty")
    ENCRYPT_WITH_MASTER_KEY = ErrorSpec(
        "KER-CRY-011", "Not Allowed to preform encryption with Master Key. Use Base/Encrypt key to encrypt data."
    )
    DECRYPTION_NOT_ALLOWED = ErrorSpec(
        "KER-CRY-012", "Not Allowed to preform decryption for the provided application id and with authentication token"
    )
    INVALID_JSON_TO_ENCRYPT = ErrorSpec("KER-CRY-013", "Input data to encrypt is not valid JSON.")
    JWE_ENCRYPTION = ErrorSpec("KER-CRY-014", "Internal Error while encrypting data using JWE.")
    JWE_DECRYPTION = ErrorSpec("KER-CRY-015", "Internal Error while decrypting data using JWE.")
    # Zero-knowledge crypto (KER-ZKC-*, and the reference's ad-hoc ZK-DEC-001)
    ZK_RANDOM_KEY = ErrorSpec("KER-ZKC-001", "Failed to Encrypt/Decrypt Random Key.")
    ZK_NO_UNIQUE_ALIAS = ErrorSpec("KER-ZKC-002", "No unique alias is found.")
    ZK_DATA_CRYPTO = ErrorSpec("KER-ZKC-004", "Data Encryption/Decryption Error.")
    ZK_KEY_DERIVATION = ErrorSpec("KER-ZKC-005", "Error Key derivation.")
    ZK_INVALID_RANDOM_KEY = ErrorSpec("KER-ZKC-006", "Invalid encrypted random Key.")
    ZK_INVALID_DATA_FORMAT = ErrorSpec("ZK-DEC-001", "Invalid encrypted data format.")
    # Token ID generator (KER-TIG-*)
    TOKEN_ID_INPUT_EMPTY = ErrorSpec("KER-TIG-010", "UIN and partner code cannot be empty")
    # Expensive work (PBKDF2, Argon2) refused while its share of the workers is in use: HTTP 503
    EXPENSIVE_WORK_BUSY = ErrorSpec("KER-KMS-500", "Too many PIN or hash requests in progress. Try again later.")
    # Signature (KER-CSS-*, KER-JWS-*)
    VALIDATION_UNSUCCESSFUL = ErrorSpec("KER-CSS-101", "Validation Unsuccessful")
    DATA_TO_SIGN_INVALID = ErrorSpec("KER-JWS-102", "Data to sign is not valid.")
    DATA_TO_SIGN_NOT_JSON = ErrorSpec("KER-JWS-103", "Data to sign is not valid JSON.")
    SIGNATURE_DATA_INVALID = ErrorSpec("KER-JWS-106", "Signature data to verify not valid.")
    VERIFICATION_CERTIFICATE_INVALID = ErrorSpec("KER-JWS-107", "Signature verification certificate not valid.")
    SIGNING_NOT_ALLOWED_FOR_TOKEN = ErrorSpec("KER-JWS-108", "Signing data not allowed for the authenticated token.")
    # COSE / CWT (the reference's development line; KER-CWS-*, KER-SIG-*)
    COSE_SIGN_FAILED = ErrorSpec("KER-CWS-109", "Error - Unable to sign the data.")
    COSE_VERIFY_FAILED = ErrorSpec("KER-CWS-110", "Error - Unable to verify the data.")
    CWT_INVALID = ErrorSpec("KER-CWS-111", "Error - Invalid CWT Signed input.")
    COSE_SIGN1_INVALID = ErrorSpec("KER-CWS-112", "Error - Invalid COSE Sign1.")
    SIGNATURE_ALGORITHM_NOT_SUPPORTED = ErrorSpec("KER-SIG-113", "Signature Algorithm Not Supported")
    INPUT_PARSING = ErrorSpec("KER-SIG-114", "Input data parsing error.")
    CWT_NOT_YET_VALID = ErrorSpec("KER-SIG-115", "Token is not yet valid; Not Before date is in the future.")
    CWT_EXPIRED = ErrorSpec("KER-SIG-116", "Token is no longer valid; Expiry date exceeded.")
    NEGATIVE_DAYS = ErrorSpec("KER-SIG-117", "Negative values are not allowed for days.")
    CWT_CLAIM_MISSING = ErrorSpec("KER-SIG-118", "{} Claim not found in the CWT Token.")
    CWT_CLAIM_MISMATCH = ErrorSpec("KER-SIG-119", "Provided {} Claim value not matched with CWT.")
    UNABLE_TO_SIGN = ErrorSpec("KER-JWS-104", "Error - Unable to sign the data.")
    UNABLE_TO_VERIFY = ErrorSpec("KER-JWS-105", "Error - Unable to verify the data.")
    # PDF generator (KER-PDG-*): the reference lets it escape as HTTP 500; here it is the caller's input
    PDF_SIGNING = ErrorSpec("KER-PDG-001", "Error while signing the PDF: ")
    # Client crypto (KER-CC-*): the reference lets them escape as HTTP 500; here a bad input is HTTP 200
    CC_TPM_REQUIRED = ErrorSpec("KER-CC-001", "TPM INSTANCE IS REQUIRED")
    CC_INIT_FAILED = ErrorSpec("KER-CC-002", "FAILED TO INITIALIZE CC INSTANCE")
    CC_RELOAD = ErrorSpec("KER-CC-003", "Restart / reload context")
    CC_CRYPTO_FAILED = ErrorSpec("KER-CC-004", "Failed crypto operation")
    CC_TPM_FLAG = ErrorSpec("KER-CC-005", "TPM required flag not set")
    CC_SYMMETRIC_KEY = ErrorSpec("KER-CC-006", "Symmetric key generation failed.")
    CC_TPM_NULL = ErrorSpec("KER-CC-007", "TPM is null.")
    CC_SIGNED_DATA_NULL = ErrorSpec("KER-CC-008", "Signed Data is null.")
    # Licence keys (KER-LKM-*)
    LICENSE_TSP_EMPTY = ErrorSpec("KER-LKM-001", "TSP entered is null or empty.")
    LICENSE_LENGTH = ErrorSpec(
        "KER-LKM-002", "The length of license key generated was not of the specified length."
    )
    LICENSE_PERMISSION_NOT_ACCEPTED = ErrorSpec("KER-LKM-003", "Permission value entered is not accepted.")
    LICENSE_NOT_FOUND = ErrorSpec("KER-LKM-004", "LicenseKey Not Found.")
    LICENSE_EXPIRED = ErrorSpec("KER-LKM-005", "LicenseKey Expired.")
    LICENSE_KEY_EMPTY = ErrorSpec("KER-LKM-006", "License Key entered is null or empty.")
    LICENSE_PERMISSION_EMPTY = ErrorSpec("KER-LKM-007", "Permission entered is an empty string.")
    LICENSE_EXPIRY_PAST = ErrorSpec("KER-LKM-008", "Expiry DateTime should be ahead of current DateTime.")
    LICENSE_NO_PERMISSIONS = ErrorSpec(
        "KER-LKM-009", "No Permissions has been mapped to the entered TSP-LicenseKey Pair."
    )
    # Crypto core (KER-FSE-*)
    INVALID_KEY = ErrorSpec(
        "KER-FSE-001",
        "invalid Key (key is null or empty or has invalid encoding, wronglength, and uninitialized, etc).",
    )
    INVALID_DATA_LENGTH = ErrorSpec("KER-FSE-002", "check input data length")
    INVALID_ENCRYPTED_DATA = ErrorSpec("KER-FSE-003", "data not valid (currupted,length is not valid etc.)")
    CORRUPTED_DATA = ErrorSpec("KER-FSE-004", "encrypted data is corrupted")
    NULL_DATA = ErrorSpec("KER-FSE-006", "data is null or length is 0")
    # Partner certificate manager (mixed prefixes, as in the reference)
    INVALID_CERTIFICATE_UPLOADED = ErrorSpec("KER-PCM-001", "Invalid Certificate uploaded.")
    THUMBPRINT_GENERATION = ErrorSpec("KER-PCM-002", "Error in generating Certificate Thumbprint.")
    CA_CERTIFICATE_EXISTS = ErrorSpec("KER-PCM-003", "Certificate already exists in store.")
    CERTIFICATE_DATES_INVALID = ErrorSpec("KER-PCM-004", "Certificate Dates are not valid.")
    ROOT_CA_NOT_FOUND = ErrorSpec("KER-PCM-005", "Root CA Certificate not found.")
    TRUST_PATH_NOT_FOUND = ErrorSpec("KER-PCM-006", "Root CA/Intermediate CA Certificates not found.")
    CERTIFICATE_VERSION = ErrorSpec("KER-PCM-007", "Certificate version not supported.")
    ORGANIZATION_MISMATCH = ErrorSpec("KER-PCM-008", "Partner Organization Name not Matched.")
    INVALID_PARTNER_CERT_ID = ErrorSpec("KER-PCM-010", "Invalid Partner Certificate ID.")
    INVALID_PARTNER_DOMAIN = ErrorSpec("KER-PCM-011", "Invalid Partner Domain.")
    PARTNER_CERT_NOT_FOUND = ErrorSpec("KER-PCM-012", "Partner Certificate not found for the given ID.")
    PARTNER_KEY_SIZE = ErrorSpec("KER-PCM-013", "Partner Certificate Key Size is less than allowed size.")
    PARTNER_SIGNATURE_ALGORITHM = ErrorSpec("KER-PCM-014", "Partner Certificate Signature algorithm not supported.")
    SELF_SIGNED_PARTNER = ErrorSpec("KER-PCM-015", "Self Signed Certificate not allowed as partner.")
    PARTNER_SIGN_NOT_ALLOWED = ErrorSpec("KER-PCM-016", "Sign Certificate not allowed for the authenticated token.")
    CA_VALIDITY_TOO_SHORT = ErrorSpec(
        "KER-PCM-017", "The CA Certificate validity is less than required minimum validity."
    )
    INVALID_CA_CERTIFICATE_TYPE = ErrorSpec("KER-PCM-018", "Invalid Certificate Type")
    CA_CERT_NOT_FOUND = ErrorSpec("KER-PMS-019", "CA Certificate not found for the given ID.")
    FUTURE_DATED_CERTIFICATE = ErrorSpec("KER-PMS-020", "Future Dated Certificate not allowed to upload.")
    P7B_GENERATION = ErrorSpec("KER-KMS-021", "Failed to create p7b file format.")
    PARTNER_VALIDITY_TOO_SHORT = ErrorSpec(
        "KER-KMS-021", "The PARTNER Certificate validity is less than required minimum validity"
    )
    # Keystore (KER-KMA-*)
    KEYSTORE_PROCESSING = ErrorSpec("KER-KMA-003", "Error occured in processing Keystore: ")
    NO_SUCH_ALIAS = ErrorSpec("KER-KMA-004", "No such alias: ")
    SIGNING_CERTIFICATE_EXPIRED = ErrorSpec(
        "KER-KMA-005", "Error occured while processing exception: signing certificate is not valid now."
    )
    KEYSTORE_PASSWORD = ErrorSpec("KER-KMA-007", "Provided Keystore password is not valid.")
    KEYSTORE_UNAVAILABLE = ErrorSpec(
        "KER-KMA-003", "Error occured in processing Keystore: the keystore is not available. Try again later."
    )


class KeyManagerError(Exception):
    """A failure the caller can act on, reported in the MOSIP error envelope."""

    def __init__(self, error: Errors, detail: str = "", *, fmt: str | None = None):
        self.error = error
        base = error.value.message.format(fmt) if fmt is not None else error.value.message
        self.message = base + detail
        super().__init__(f"{error.value.code} --> {self.message}")

    @property
    def code(self) -> str:
        return self.error.value.code


class ValidationError(KeyManagerError):
    """Request validation failure (KER-KMS-005); may carry one message per field."""

    def __init__(self, messages: list[str]):
        self.messages = messages or [Errors.INVALID_REQUEST.value.message]
        super().__init__(Errors.INVALID_REQUEST)
        self.message = "; ".join(self.messages)


class MultipleErrors(KeyManagerError):
    """Several business errors reported together, one ``{errorCode, message}`` item each, in order
    (the reference's licence validation: InvalidArgumentsException, LicenseKeyServiceException)."""

    def __init__(self, errors: list[Errors]) -> None:
        if not errors:
            raise ValueError("MultipleErrors needs at least one error")
        super().__init__(errors[0])
        self.errors = tuple(errors)
        self.message = "; ".join(error.value.message for error in self.errors)

    def pairs(self) -> list[tuple[str, str]]:
        return [(error.value.code, error.value.message) for error in self.errors]


class StoreUnavailableError(KeyManagerError):
    """The key store (database) or keystore (HSM) cannot be reached right now."""

    def __init__(self, error: Errors = Errors.STORE_UNAVAILABLE) -> None:
        super().__init__(error)


class KeystoreUnavailableError(StoreUnavailableError):
    """The keystore (HSM token) does not answer, even after reopening the session."""

    def __init__(self) -> None:
        super().__init__(Errors.KEYSTORE_UNAVAILABLE)


class ServiceBusyError(StoreUnavailableError):
    """Deliberately slow work (PBKDF2, Argon2) has used its share of the workers: HTTP 503."""

    def __init__(self) -> None:
        super().__init__(Errors.EXPENSIVE_WORK_BUSY)
