"""The trust store port: the semantics of ca_cert_store and partner_cert_store."""
from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from domain.partner_trust import CaCertificatePage, CaCertificateQuery, CaCertificateRecord, PartnerCertificateRecord


class TrustStoreRepository(Protocol):
    def ca_certificates(self, domain: str) -> list[CaCertificateRecord]:
        """Every (not deleted) CA row of the domain, whatever its dates, oldest upload first."""

    def ca_certificate(self, cert_id: str) -> CaCertificateRecord | None:
        """The CA row with this id, in any domain."""

    def ca_exists(self, thumbprint: str, domain: str) -> bool:
        """Whether the domain already holds the certificate with this SHA-1 thumbprint."""

    def add_ca(self, record: CaCertificateRecord) -> None:
        """Insert a CA row."""

    def search_ca(self, query: CaCertificateQuery) -> CaCertificatePage:
        """One page of the rows matching the query, and how many match in all."""

    def domain_stamp(self, domain: str) -> Hashable:
        """A value that changes whenever the domain's CA rows change (any process): a cache
        of the domain's trust store is still good while the stamp is the same."""

    def partner_certificate(self, cert_id: str) -> PartnerCertificateRecord | None:
        """The partner row with this id."""

    def add_partner(self, record: PartnerCertificateRecord) -> None:
        """Insert a partner row."""
