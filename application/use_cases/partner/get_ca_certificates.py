from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from application.keys.hierarchy import KeyHierarchy
from application.partner_trust.certificate_facts import sha1_thumbprint
from application.ports.clock import Clock
from application.ports.key_repository import KeyRepository
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import Errors, KeyManagerError, ValidationError
from domain.keys import ROOT, KeyTuple
from domain.partner_trust import (
    CA_TYPES,
    DEFAULT_PAGE_SIZE,
    DEFAULT_SORT,
    SORT_FIELDS,
    CaCertificateQuery,
    CaCertificateRecord,
    PartnerTrustPolicy,
    partner_domain,
)


@dataclass(frozen=True)
class GetCaCertificatesCommand:
    ca_type: str | None = None
    partner_domain: str | None = None
    exclude_mosip_ca: bool = False
    sort_by: str | None = None
    sort_order: str | None = None
    page_number: int | None = None
    page_size: int | None = None
    cert_id: str | None = None
    issued_to: str | None = None
    issued_by: str | None = None
    valid_from: date | None = None
    valid_till: date | None = None
    uploaded: date | None = None
    expiring_within: date | None = None


@dataclass(frozen=True)
class CaCertificatesResult:
    page_number: int
    page_size: int
    total_records: int
    total_pages: int
    records: list[CaCertificateRecord]
    now: datetime


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class GetCaCertificates:
    """getCaCertificates: one page of the trust store, filtered and sorted (mosip-api.md §5.6).
    An unknown sort field is the caller's mistake (KER-KMS-005), where the reference fails
    with a 500; the upload-time filter matches the upload time the rows show."""

    def __init__(
        self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock, policy: PartnerTrustPolicy
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock
        self.policy = policy

    def execute(self, command: GetCaCertificatesCommand) -> CaCertificatesResult:
        ca_type = _text(command.ca_type)
        if ca_type is not None:
            ca_type = ca_type.upper()
            if ca_type not in CA_TYPES:
                raise KeyManagerError(Errors.INVALID_CA_CERTIFICATE_TYPE)
        domain = _text(command.partner_domain)
        if domain is not None:
            domain = partner_domain(domain, self.policy.domains)
        sort_name = _text(command.sort_by)
        sort_by = DEFAULT_SORT if sort_name is None else SORT_FIELDS.get(sort_name.lower())
        if sort_by is None:
            raise ValidationError([f"sortByFieldName: unknown field, one of {', '.join(sorted(SORT_FIELDS))}"])
        page_number = command.page_number if command.page_number and command.page_number > 0 else 1
        page_size = command.page_size if command.page_size and command.page_size > 0 else DEFAULT_PAGE_SIZE
        now = self.clock.now()
        with self.uow_factory() as uow:
            excluded = self._our_thumbprints(uow.keys) if command.exclude_mosip_ca else frozenset()
            page = uow.trust.search_ca(
                CaCertificateQuery(
                    domain=domain,
                    ca_type=ca_type,
                    cert_id=_text(command.cert_id),
                    issued_to=_text(command.issued_to),
                    issued_by=_text(command.issued_by),
                    valid_from=command.valid_from,
                    valid_till=command.valid_till,
                    uploaded=command.uploaded,
                    expiring_between=(now.date(), command.expiring_within) if command.expiring_within else None,
                    excluded_thumbprints=excluded,
                    sort_by=sort_by,
                    descending=(command.sort_order or "").strip().upper() == "DESC",
                    page_number=page_number,
                    page_size=page_size,
                )
            )
        return CaCertificatesResult(
            page_number=page_number,
            page_size=page_size,
            total_records=page.total,
            total_pages=math.ceil(page.total / page_size),
            records=page.records,
            now=now,
        )

    def _our_thumbprints(self, keys: KeyRepository) -> frozenset[str]:
        """SHA-1 thumbprints of every ROOT and PMS certificate we have had."""
        thumbprints = set()
        for key_tuple in (KeyTuple(ROOT), KeyTuple(self.policy.sign_app_id)):
            for alias in keys.aliases_for(key_tuple):
                certificate, _, _ = self.hierarchy.certificate_of(keys, alias)
                thumbprints.add(sha1_thumbprint(certificate))
        return frozenset(thumbprints)
