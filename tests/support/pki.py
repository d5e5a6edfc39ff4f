"""Build X.509 CA hierarchies for trust-store tests, with controllable dates and defects.

Partner-certificate tests need roots, intermediates and leaves that are expired, future-dated,
self-signed, weak (1024-bit), SHA-1 signed or X.509 v1. ``cryptography`` refuses to produce the
last two, so those are re-signed here from a patched TBS with a tiny DER writer.

Keys are slow to generate, so they are cached by ``(common_name, key_size, curve)``: the same
CN always gets the same key. That keeps tests fast and lets a test re-issue a "renewed"
certificate for an existing CA; give distinct CAs distinct CNs so they never share a key.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha1": hashes.SHA1}
_SHA256_RSA_OID = bytes.fromhex("06092a864886f70d01010b")  # sha256WithRSAEncryption, with tag+len
_SHA1_RSA_OID = bytes.fromhex("06092a864886f70d010105")  # sha1WithRSAEncryption, same length
_V3_VERSION = bytes.fromhex("a003020102")  # [0] EXPLICIT INTEGER 2
_OID_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")
_OID_DATA = bytes.fromhex("06092a864886f70d010701")

_KEYS: dict[tuple[str, int, str | None], PrivateKey] = {}


@dataclass
class Issued:
    """A certificate and the private key of its subject (to issue children or sign with)."""

    certificate: x509.Certificate
    private_key: PrivateKey

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def sha1_hex(self) -> str:
        """The thumbprint trust stores usually key certificates by."""
        return hashlib.sha1(self.der).hexdigest()


@dataclass
class Hierarchy:
    root: Issued
    intermediate: Issued
    partner: Issued


def cached_key(common_name: str, key_size: int = 2048, ec_curve: ec.EllipticCurve | None = None) -> PrivateKey:
    """The key for this CN (generated once per test session: same CN = same key)."""
    slot = (common_name, key_size, ec_curve.name if ec_curve else None)
    if slot not in _KEYS:
        _KEYS[slot] = (ec.generate_private_key(ec_curve) if ec_curve
                       else rsa.generate_private_key(public_exponent=65537, key_size=key_size))
    return _KEYS[slot]


def make_certificate(
    common_name: str,
    *,
    issuer: Issued | None = None,
    now: datetime,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    ca: bool = True,
    key: PrivateKey | None = None,
    key_size: int = 2048,
    ec_curve: ec.EllipticCurve | None = None,
    hash_name: str = "sha256",
    version: int = 3,
    organization: str | None = None,
    organizational_unit: str | None = None,
    country: str | None = None,
    state: str | None = None,
    locality: str | None = None,
    key_usage: bool = True,
    extensions: bool = True,
) -> Issued:
    """Issue one certificate (self-signed when ``issuer`` is None).

    Dates default to ``now - 1 day`` .. ``now + 3 years``; an explicit past ``not_after`` or
    future ``not_before`` makes an expired or not-yet-valid certificate (the other default
    moves so the validity window stays non-empty). ``version=1`` implies no extensions.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if hash_name not in _HASHES:
        raise ValueError(f"hash_name must be one of {sorted(_HASHES)}")
    if version not in (1, 3):
        raise ValueError("version must be 1 or 3")
    if not_before is None:
        not_before = now - timedelta(days=1)
        if not_after is not None and not_after <= not_before:
            not_before = not_after - timedelta(days=365)
    if not_after is None:
        not_after = max(now + timedelta(days=3 * 365), not_before + timedelta(days=365))

    key = key or cached_key(common_name, key_size, ec_curve)
    subject = _name(common_name, organization, organizational_unit, country, state, locality)
    issuer_name = issuer.certificate.subject if issuer else subject
    signing_key = issuer.private_key if issuer else key

    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after))
    if version == 3 and extensions:
        builder = _add_extensions(builder, key, issuer, ca=ca, key_usage=key_usage)

    # cryptography signs neither SHA-1 nor v1: build with SHA-256, then patch and re-sign below.
    builder_hash = "sha256" if hash_name == "sha1" else hash_name
    certificate = builder.sign(signing_key, _HASHES[builder_hash]())
    if hash_name == "sha1" or version == 1:
        certificate = _resign(certificate, signing_key, hash_name, drop_version=version == 1)
    return Issued(certificate, key)


def make_hierarchy(now: datetime, *, organization: str = "Partner Org", prefix: str = "Test",
                   partner_ca: bool = False) -> Hierarchy:
    """root (self-signed CA) -> intermediate (CA) -> partner (leaf unless ``partner_ca``)."""
    root = make_certificate(f"{prefix} Root CA", now=now)
    intermediate = make_certificate(f"{prefix} Intermediate CA", issuer=root, now=now)
    partner = make_certificate(f"{prefix} Partner", issuer=intermediate, now=now,
                               organization=organization, ca=partner_ca)
    return Hierarchy(root, intermediate, partner)


def to_p7b_der(certs: list[x509.Certificate], *, indefinite_length: bool = False) -> bytes:
    """A degenerate PKCS#7 SignedData (certificates only) keeping the given order.

    ``pkcs7.serialize_certificates`` sorts the SET OF certificates as DER demands; chain-order
    tests need the order preserved. ``indefinite_length`` mimics BouncyCastle's BER output for
    the ContentInfo, its [0] EXPLICIT wrapper and the SignedData.
    """
    cert_ders = b"".join(c.public_bytes(serialization.Encoding.DER) for c in certs)
    signed_data_body = (
        _tlv(0x02, b"\x01")                          # version 1
        + _tlv(0x31, b"")                            # digestAlgorithms: empty SET
        + _tlv(0x30, _OID_DATA)                      # contentInfo: data, no content
        + _tlv(0xA0, cert_ders)                      # [0] IMPLICIT certificates
        + _tlv(0x31, b""))                           # signerInfos: empty SET
    wrap = _indefinite if indefinite_length else _tlv
    return wrap(0x30, _OID_SIGNED_DATA + wrap(0xA0, wrap(0x30, signed_data_body)))


def b64url(data: bytes) -> str:
    """URL-safe base64 without padding (as in JWS/JWK fields)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --- internals -----------------------------------------------------------------------------

def _name(cn: str, o: str | None, ou: str | None, c: str | None, st: str | None,
          loc: str | None) -> x509.Name:
    parts = [(NameOID.COUNTRY_NAME, c), (NameOID.STATE_OR_PROVINCE_NAME, st),
             (NameOID.LOCALITY_NAME, loc), (NameOID.ORGANIZATION_NAME, o),
             (NameOID.ORGANIZATIONAL_UNIT_NAME, ou), (NameOID.COMMON_NAME, cn)]
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts if value is not None])


def _add_extensions(builder: x509.CertificateBuilder, key: PrivateKey, issuer: Issued | None,
                    *, ca: bool, key_usage: bool) -> x509.CertificateBuilder:
    builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if key_usage:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=not ca,
            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
            encipher_only=False, decipher_only=False), critical=True)
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    if issuer is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.private_key.public_key()), critical=False)
    return builder


def _resign(certificate: x509.Certificate, signing_key: PrivateKey, hash_name: str,
            *, drop_version: bool) -> x509.Certificate:
    """Re-sign a patched TBS: SHA-1 algorithm OID and/or no version field (X.509 v1)."""
    tbs = certificate.tbs_certificate_bytes
    algorithm_id = _children(certificate.public_bytes(serialization.Encoding.DER))[1]
    if drop_version:
        body = _content(tbs)
        if not body.startswith(_V3_VERSION):
            raise AssertionError("expected a v3 version field at the start of the TBS")
        tbs = _tlv(0x30, body[len(_V3_VERSION):])
    if hash_name == "sha1":
        if not isinstance(signing_key, rsa.RSAPrivateKey):
            raise ValueError("SHA-1 certificates are only supported with RSA issuers")
        if tbs.count(_SHA256_RSA_OID) != 1:
            raise AssertionError("expected exactly one sha256WithRSAEncryption OID in the TBS")
        tbs = tbs.replace(_SHA256_RSA_OID, _SHA1_RSA_OID)
        algorithm_id = algorithm_id.replace(_SHA256_RSA_OID, _SHA1_RSA_OID)
    hash_algorithm = _HASHES[hash_name]()
    if isinstance(signing_key, rsa.RSAPrivateKey):
        signature = signing_key.sign(tbs, padding.PKCS1v15(), hash_algorithm)
    else:
        signature = signing_key.sign(tbs, ec.ECDSA(hash_algorithm))
    der = _tlv(0x30, tbs + algorithm_id + _tlv(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    encoded = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _indefinite(tag: int, content: bytes) -> bytes:
    """BER indefinite-length constructed encoding: tag, 0x80, content, end-of-contents."""
    return bytes([tag, 0x80]) + content + b"\x00\x00"


def _read_header(data: bytes, offset: int) -> tuple[int, int]:
    """(content offset, content length) of the DER TLV at ``offset`` (single-byte tags only)."""
    first = data[offset + 1]
    if first < 0x80:
        return offset + 2, first
    count = first & 0x7F
    return offset + 2 + count, int.from_bytes(data[offset + 2:offset + 2 + count], "big")


def _content(der: bytes) -> bytes:
    """The content bytes of the DER TLV at the start of ``der``."""
    start, length = _read_header(der, 0)
    return der[start:start + length]


def _children(der: bytes) -> list[bytes]:
    """The encoded children (TLVs) of a DER SEQUENCE."""
    content, children, offset = _content(der), [], 0
    while offset < len(content):
        child_start, child_length = _read_header(content, offset)
        children.append(content[offset:child_start + child_length])
        offset = child_start + child_length
    return children
