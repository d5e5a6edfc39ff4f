"""In-memory ca_cert_store and partner_cert_store, staged like the key repository."""
from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from domain.partner_trust import CaCertificatePage, CaCertificateQuery, CaCertificateRecord, PartnerCertificateRecord

if TYPE_CHECKING:  # the store holds these tables; importing it here at run time would be circular
    from .key_repository import MemoryStore


class MemoryTrustStore:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.staged_ca: dict[str, CaCertificateRecord] = {}
        self.staged_partner: dict[str, PartnerCertificateRecord] = {}

    def _cas(self) -> list[CaCertificateRecord]:
        with self._store.data_lock:
            merged = dict(self._store.ca_certificates)
        merged.update(self.staged_ca)
        return sorted(merged.values(), key=lambda r: (r.created_at, r.cert_id))

    def ca_certificates(self, domain: str) -> list[CaCertificateRecord]:
        return [r for r in self._cas() if r.domain == domain]

    def ca_certificate(self, cert_id: str) -> CaCertificateRecord | None:
        return next((r for r in self._cas() if r.cert_id == cert_id), None)

    def ca_exists(self, thumbprint: str, domain: str) -> bool:
        return any(r.thumbprint == thumbprint and r.domain == domain for r in self._cas())

    def add_ca(self, record: CaCertificateRecord) -> None:
        if self.ca_exists(record.thumbprint, record.domain) or self.ca_certificate(record.cert_id):
            raise ValueError("duplicate ca_cert_store row")
        self.staged_ca[record.cert_id] = record

    def search_ca(self, query: CaCertificateQuery) -> CaCertificatePage:
        rows = [r for r in self._cas() if query.matches(r)]
        rows.sort(key=lambda r: r.cert_id, reverse=query.descending)
        rows.sort(key=lambda r: getattr(r, query.sort_by), reverse=query.descending)
        return CaCertificatePage(len(rows), rows[query.offset : query.offset + query.page_size])

    def domain_stamp(self, domain: str) -> Hashable:
        with self._store.data_lock:
            return self._store.trust_version

    def partner_certificate(self, cert_id: str) -> PartnerCertificateRecord | None:
        if cert_id in self.staged_partner:
            return self.staged_partner[cert_id]
        with self._store.data_lock:
            return self._store.partner_certificates.get(cert_id)

    def add_partner(self, record: PartnerCertificateRecord) -> None:
        self.staged_partner[record.cert_id] = record

    def commit(self) -> None:
        """Apply the staged rows (the caller holds the store's data lock)."""
        if self.staged_ca:
            self._store.trust_version += 1
        self._store.ca_certificates.update(self.staged_ca)
        self._store.partner_certificates.update(self.staged_partner)

    def clear(self) -> None:
        self.staged_ca.clear()
        self.staged_partner.clear()
