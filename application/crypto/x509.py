"""X.509 certificates and CSRs in the reference's layout, signed through a callback.

Keys held in a keystore (HSM) cannot be handed to `cryptography`'s builders, so
we let the builder produce the to-be-signed bytes and have the keystore sign
them: a certificate is SEQUENCE { tbsCertificate, algorithm, signature }.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID

from domain.errors import Errors, KeyManagerError, ValidationError

#: Produces an RSASSA-PKCS1-v1_5 SHA-256 signature over the given bytes.
Signer = Callable[[bytes], bytes]

# AlgorithmIdentifier DER of the signatures we produce.
SHA256_WITH_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")  # sha256WithRSAEncryption, NULL
ECDSA_WITH_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")  # ecdsa-with-SHA256 (DER signature)
ED25519 = bytes.fromhex("300506032b6570")  # id-Ed25519
#: What parsing a certificate (and reading its key) raises for input that is not a usable
#: certificate: bad base64, bad DER, an invalid version, a key on an unknown curve...
UNPARSABLE_CERTIFICATE = (binascii.Error, ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion)
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


@dataclass(frozen=True)
class Subject:
    common_name: str = ""
    organizational_unit: str = ""
    organization: str = ""
    location: str = ""
    state: str = ""
    country: str = ""

    def to_name(self) -> x509.Name:
        """RDNs in the reference's DER order C, ST, L, O, OU, CN; empty values skipped.
        A value X.509 cannot carry (country not two letters, a common name over 64
        characters) is the caller's mistake: KER-KMS-005, not a 500."""
        parts = (
            (NameOID.COUNTRY_NAME, self.country, "country"),
            (NameOID.STATE_OR_PROVINCE_NAME, self.state, "state"),
            (NameOID.LOCALITY_NAME, self.location, "location"),
            (NameOID.ORGANIZATION_NAME, self.organization, "organization"),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, self.organizational_unit, "organizationUnit"),
            (NameOID.COMMON_NAME, self.common_name, "commonName"),
        )
        attributes = []
        for oid, value, field in parts:
            if not value:
                continue
            try:
                attributes.append(x509.NameAttribute(oid, value))
            except ValueError:
                raise ValidationError([f"Invalid request: {field} is not valid in a certificate subject"]) from None
        return x509.Name(attributes)

    @classmethod
    def from_name(cls, name: x509.Name) -> Subject:
        def first(oid: x509.ObjectIdentifier) -> str:
            values = name.get_attributes_for_oid(oid)
            return str(values[0].value) if values else ""

        return cls(
            common_name=first(NameOID.COMMON_NAME),
            organizational_unit=first(NameOID.ORGANIZATIONAL_UNIT_NAME),
            organization=first(NameOID.ORGANIZATION_NAME),
            location=first(NameOID.LOCALITY_NAME),
            state=first(NameOID.STATE_OR_PROVINCE_NAME),
            country=first(NameOID.COUNTRY_NAME),
        )


#: RFC 5280 ub-common-name, counted in UTF-8 bytes as `cryptography` enforces it.
COMMON_NAME_MAX_BYTES = 64


def fitted_common_name(name: str) -> str:
    """A commonName we make up (``APP-REF``, the default master name) that fits X.509: unchanged
    when it fits, else its head and a digest of the whole, so that long references (up to 128
    characters) still get a certificate, and distinct ones distinct names."""
    encoded = name.encode("utf-8")
    if len(encoded) <= COMMON_NAME_MAX_BYTES:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    head = encoded[: COMMON_NAME_MAX_BYTES - len(digest) - 1].decode("utf-8", "ignore")
    return f"{head}~{digest}"


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _signed_structure(to_be_signed: bytes, signer: Signer, algorithm: bytes = SHA256_WITH_RSA) -> bytes:
    signature = signer(to_be_signed)
    return _der(0x30, to_be_signed + algorithm + _der(0x03, b"\x00" + signature))


@lru_cache(maxsize=1)
def _placeholder_key() -> rsa.RSAPrivateKey:
    # Only its algorithm matters: the builder needs some RSA key to emit a TBS
    # whose signature algorithm is sha256WithRSAEncryption. Its signature is discarded.
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def positive_serial() -> int:
    """A random positive 63-bit serial (RFC 5280), never zero."""
    return secrets.randbits(63) or 1


def issue_certificate(
    *,
    public_key: CertificatePublicKeyTypes,
    subject: x509.Name,
    issuer: x509.Name,
    not_before: datetime,
    not_after: datetime,
    certificate_authority: bool,
    path_length: int | None,
    signer: Signer,
    key_encipherment: bool = False,
) -> x509.Certificate:
    """A v3 certificate: basicConstraints (critical), SKI, keyUsage (critical), no AKI.

    CA certificates get digitalSignature + keyCertSign (and keyEncipherment if asked: re-issued
    AUTH partner certificates), end-entity (base key) certificates keyEncipherment only, as the
    reference issues them.
    """
    if certificate_authority:
        usage = dict(digital_signature=True, key_cert_sign=True, key_encipherment=key_encipherment)
    else:
        usage = dict(digital_signature=False, key_cert_sign=False, key_encipherment=True)
        path_length = None
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(positive_serial())
        .not_valid_before(not_before.replace(microsecond=0))
        .not_valid_after(not_after.replace(microsecond=0))
        .add_extension(x509.BasicConstraints(ca=certificate_authority, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.KeyUsage(
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
                **usage,
            ),
            critical=True,
        )
    )
    tbs = builder.sign(_placeholder_key(), hashes.SHA256()).tbs_certificate_bytes
    return x509.load_der_x509_certificate(_signed_structure(tbs, signer))


def build_csr(
    *, public_key: CertificatePublicKeyTypes, subject: x509.Name, signer: Signer
) -> x509.CertificateSigningRequest:
    """PKCS#10 request over ``public_key``, no attributes, signed by that key's private key:
    SHA256withRSA, SHA256withECDSA or Ed25519 by key type (``signer`` produces the matching form)."""
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    info = _der(0x30, b"\x02\x01\x00" + subject.public_bytes() + spki + b"\xa0\x00")
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        algorithm = ECDSA_WITH_SHA256
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        algorithm = ED25519
    else:
        algorithm = SHA256_WITH_RSA
    return x509.load_der_x509_csr(_signed_structure(info, signer, algorithm))


_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")  # pkcs7-signedData
_DATA_OID = bytes.fromhex("06092a864886f70d010701")  # pkcs7-data


def pkcs7_der(certificates: list[x509.Certificate]) -> bytes:
    """A degenerate PKCS#7 SignedData (no content, no signers) holding the certificates in the
    order given: leaf first, root last. `cryptography`'s serializer sorts them (DER SET OF),
    which loses the order clients read a chain in; the reference's BouncyCastle keeps it."""
    certs = b"".join(certificate_der(c) for c in certificates)
    signed_data = (
        b"\x02\x01\x01"  # version 1
        + b"\x31\x00"  # digestAlgorithms: none
        + _der(0x30, _DATA_OID)  # encapContentInfo: data, content absent
        + (_der(0xA0, certs) if certs else b"")  # [0] IMPLICIT certificates (absent when empty)
        + b"\x31\x00"  # signerInfos: none
    )
    return _der(0x30, _SIGNED_DATA_OID + _der(0xA0, _der(0x30, signed_data)))


def pkcs7_pem(certificates: list[x509.Certificate]) -> str:
    """The reference's p7b text: standard base64 in 64-column lines between PKCS7 armour,
    no trailing newline."""
    body = base64.b64encode(pkcs7_der(certificates)).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PKCS7-----\n" + "\n".join(lines) + "\n-----END PKCS7-----"


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def csr_pem(csr: x509.CertificateSigningRequest) -> str:
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def certificate_der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def load_der(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def parse_pem_certificate(text: str) -> x509.Certificate:
    """The first PEM block of any label, parsed as an X.509 certificate (KER-KMS-013 otherwise)."""
    match = _PEM_BLOCK.search(text or "")
    if match is None:
        raise KeyManagerError(Errors.CERTIFICATE_PARSING)
    try:
        der = base64.b64decode("".join(match.group(2).split()), validate=True)
        certificate = x509.load_der_x509_certificate(der)
        certificate.public_key()
    except UNPARSABLE_CERTIFICATE:
        raise KeyManagerError(Errors.CERTIFICATE_PARSING) from None
    return certificate


def rsa_public_key_of(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyManagerError(Errors.INVALID_KEY)
    return key
