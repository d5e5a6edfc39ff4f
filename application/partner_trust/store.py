"""Trust paths over a partner domain's CA certificates (ADR 0012).

Path building and validation are `cryptography`'s X.509 verifier's, not ours. Its
default policies are the Web PKI's; the ones here are close to RFC 5280's as the
reference's PKIX builder applies them to partner hierarchies:
- a CA must have basicConstraints with cA true, critical or not, and, if it has
  keyUsage, keyCertSign; its extendedKeyUsage is not chained;
- the end certificate's extensions are not constrained (partners need no subjectAltName,
  and the certificates we re-issue are themselves CAs).
Stricter than the JDK, on purpose or by the library: trust anchors need basicConstraints
too, and RSA keys under 2048 bits, SHA-1 signatures and non-positive serial numbers are
refused anywhere in a path (uploads refuse such certificates up front: certificate_facts).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

from application.crypto.x509 import UNPARSABLE_CERTIFICATE
from application.partner_trust.certificate_facts import is_self_signed
from application.ports.trust_store import TrustStoreRepository
from application.support.ttl_cache import TtlLruCache
from domain.partner_trust import CaCertificateRecord

#: Longest path accepted: leaf, up to six intermediates, anchor.
MAX_CHAIN_DEPTH = 8


def _require_ca(policy: Any, certificate: x509.Certificate, constraints: x509.BasicConstraints) -> None:
    if not constraints.ca:
        raise ValueError("basicConstraints does not assert cA")


def _require_cert_sign(policy: Any, certificate: x509.Certificate, usage: x509.KeyUsage | None) -> None:
    if usage is not None and not usage.key_cert_sign:
        raise ValueError("keyUsage lacks keyCertSign")


CA_POLICY = (
    ExtensionPolicy.webpki_defaults_ca()
    .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, _require_ca)
    .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _require_cert_sign)
    # PKIX (and the reference) does not chain extendedKeyUsage; the Web PKI client policy would
    # demand clientAuth in every CA that has one.
    .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
)
END_ENTITY_POLICY = ExtensionPolicy.permit_all()


@dataclass(frozen=True)
class TrustedCa:
    """A ca_cert_store row with its parsed certificate."""

    record: CaCertificateRecord
    certificate: x509.Certificate
    self_signed: bool

    @classmethod
    def of(cls, record: CaCertificateRecord, certificate: x509.Certificate) -> TrustedCa:
        return cls(record, certificate, is_self_signed(certificate))


def build_path(
    certificate: x509.Certificate,
    cas: Iterable[TrustedCa],
    at: datetime,
    extra_intermediates: Iterable[x509.Certificate] = (),
) -> list[x509.Certificate] | None:
    """certificate ... anchor, through the domain's CAs valid at ``at`` (self-signed ones are
    the anchors, the others intermediates, plus any the caller brings); None when no valid
    path exists."""
    valid = [ca for ca in cas if ca.record.valid_at(at)]
    anchors = [ca.certificate for ca in valid if ca.self_signed]
    if not anchors:
        return None
    intermediates = [ca.certificate for ca in valid if not ca.self_signed] + list(extra_intermediates)
    verifier = (
        PolicyBuilder()
        .store(Store(anchors))
        .time(at)
        .max_chain_depth(MAX_CHAIN_DEPTH)
        .extension_policies(ca_policy=CA_POLICY, ee_policy=END_ENTITY_POLICY)
        .build_client_verifier()
    )
    try:
        return list(verifier.verify(certificate, intermediates).chain)
    except (VerificationError, ValueError, TypeError, UnsupportedAlgorithm):
        return None


def load_pem_quietly(pem: str) -> x509.Certificate | None:
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
        certificate.public_key()
    except (*UNPARSABLE_CERTIFICATE, UnicodeEncodeError):
        return None
    return certificate


class PartnerTrustStore:
    """Each domain's parsed CA certificates, cached while the domain's rows are unchanged.
    Every upload changes the domain's stamp (in any process sharing the store), so the next
    reader reloads; the time limit only bounds memory held for idle domains."""

    def __init__(self, cache: TtlLruCache) -> None:
        self._cache = cache

    def cas(self, trust: TrustStoreRepository, domain: str) -> list[TrustedCa]:
        stamp = trust.domain_stamp(domain)
        cached = self._cache.get(domain)
        if cached is not None and cached[0] == stamp:
            return list(cached[1])
        loaded = []
        for record in trust.ca_certificates(domain):
            certificate = load_pem_quietly(record.certificate_pem)
            if certificate is not None:  # a row we cannot read trusts nothing
                loaded.append(TrustedCa.of(record, certificate))
        self._cache.put(domain, (stamp, tuple(loaded)))
        return loaded

    def invalidate(self, domain: str) -> None:
        self._cache.discard(domain)

