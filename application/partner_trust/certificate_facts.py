"""What the partner trust store reads off a certificate, in the reference's formats:
SHA-1 thumbprints, DN strings, self-signedness, and the upload input (PEM or p7b)."""
from __future__ import annotations

import hashlib
import warnings

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from application.crypto.x509 import UNPARSABLE_CERTIFICATE, certificate_der, parse_pem_certificate
from domain.codec import b64_decode_lenient
from domain.errors import Errors, KeyManagerError

#: The RDNs a stored subject or issuer string holds, in the reference's order.
_DN_ORDER = (
    ("CN", NameOID.COMMON_NAME),
    ("OU", NameOID.ORGANIZATIONAL_UNIT_NAME),
    ("O", NameOID.ORGANIZATION_NAME),
    ("L", NameOID.LOCALITY_NAME),
    ("ST", NameOID.STATE_OR_PROVINCE_NAME),
    ("C", NameOID.COUNTRY_NAME),
)
_ESCAPED = set(',"\\+=<>;')
_SHA2 = (hashes.SHA224, hashes.SHA256, hashes.SHA384, hashes.SHA512)
MINIMUM_RSA_BITS = 2048


def sha1_thumbprint(certificate: x509.Certificate) -> str:
    """ca_cert_store / partner_cert_store thumbprint: lower-case hex SHA-1 of the DER."""
    return hashlib.sha1(certificate_der(certificate)).hexdigest()


def _escape(value: str) -> str:
    """RFC 4514 escaping as BouncyCastle's IETFUtils.valueToString writes it: the special
    characters, a leading '#', and every leading and trailing space."""
    lead = len(value) - len(value.lstrip(" "))
    if lead == len(value):
        return "\\ " * lead
    trail = len(value) - len(value.rstrip(" "))
    core = "".join("\\" + ch if ch in _ESCAPED else ch for ch in value[lead : len(value) - trail])
    if not lead and core.startswith("#"):
        core = "\\" + core
    return "\\ " * lead + core + "\\ " * trail


def dn_string(name: x509.Name) -> str:
    """`CN=..,OU=..,O=..,L=..,ST=..,C=..`: only those present (first value each), no spaces."""
    parts = []
    for label, oid in _DN_ORDER:
        values = name.get_attributes_for_oid(oid)
        if values:
            parts.append(f"{label}={_escape(str(values[0].value))}")
    return ",".join(parts)


def organization_of(certificate: x509.Certificate) -> str:
    values = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(values[0].value) if values else ""


def is_self_signed(certificate: x509.Certificate) -> bool:
    """Issued by itself: the names match and its own key verifies its signature."""
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def path_refusal(certificate: x509.Certificate, *, as_anchor: bool) -> str | None:
    """Why no trust path can ever go through this certificate with our verifier (ADR 0012), as a
    caller-safe detail; None when nothing stands in the way. Refusing such a certificate at upload
    says so at once, instead of storing an anchor that never anchors anything. (Intermediates
    without cA are stored, as the reference stores an FTM partner's own certificate.)"""
    if certificate.serial_number <= 0:
        return " Its serial number is not positive (RFC 5280)."
    if as_anchor:
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.ca:
            return " A CA certificate needs basicConstraints with cA true."
    return None


def rsa_key_too_small(certificate: x509.Certificate) -> bool:
    key = certificate.public_key()
    return isinstance(key, rsa.RSAPublicKey) and key.key_size < MINIMUM_RSA_BITS


def sha2_signature(certificate: x509.Certificate) -> bool:
    """SHA-2 with RSA PKCS#1 v1.5 or ECDSA, as "SHA256withRSA" / "SHA384withECDSA" name them
    (RSASSA-PSS, Ed25519, SHA-1 and MD5 are refused, as the reference refuses them)."""
    try:
        algorithm = certificate.signature_hash_algorithm
        parameters = certificate.signature_algorithm_parameters
    except UnsupportedAlgorithm:
        return False
    if not isinstance(algorithm, _SHA2):
        return False
    return isinstance(parameters, (padding.PKCS1v15, ec.ECDSA))


def parse_upload(certificate_data: str) -> list[x509.Certificate]:
    """uploadCACertificate's input: one PEM certificate, else URL-safe base64 of a DER (or BER)
    PKCS#7 bundle, whose list is reversed so the root comes first. KER-PCM-001 otherwise."""
    try:
        return [parse_pem_certificate(certificate_data)]
    except KeyManagerError:
        pass
    try:
        with warnings.catch_warnings():
            # BouncyCastle's bundles are BER (indefinite lengths, unsorted sets): `cryptography`
            # parses them after warning that they are not DER. Expected here, not a fault.
            warnings.filterwarnings("ignore", message="PKCS#7 certificates could not be parsed as DER")
            bundle = pkcs7.load_der_pkcs7_certificates(b64_decode_lenient("".join(certificate_data.split())))
        for certificate in bundle:
            certificate.public_key()
    except (KeyManagerError, *UNPARSABLE_CERTIFICATE):
        raise KeyManagerError(Errors.INVALID_CERTIFICATE_UPLOADED) from None
    if not bundle:
        raise KeyManagerError(Errors.INVALID_CERTIFICATE_UPLOADED)
    return list(reversed(bundle))


def parse_partner_certificate(certificate_data: str | None) -> x509.Certificate:
    """A partner's PEM certificate: KER-PCM-001 when blank, KER-KMS-013 when unreadable."""
    if not (certificate_data or "").strip():
        raise KeyManagerError(Errors.INVALID_CERTIFICATE_UPLOADED)
    return parse_pem_certificate(certificate_data or "")
