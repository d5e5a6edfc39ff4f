"""The partner trust store's records and rules that need no cryptography: domains,
certificate types, the rows of ca_cert_store and partner_cert_store, and the
listing query of getCaCertificates (mosip-api.md §5)."""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from .errors import Errors, KeyManagerError

ROOT_CA = "ROOT"
INTERMEDIATE_CA = "INTERMEDIATE"
CA_TYPES = (ROOT_CA, INTERMEDIATE_CA)
#: The reference's default `mosip.kernel.partner.allowed.domains`, with the local TRUST_CA domain.
DEFAULT_PARTNER_DOMAINS = ("AUTH", "DEVICE", "FTM", "TRUST_CA")
AUTH_DOMAIN = "AUTH"
FTM_DOMAIN = "FTM"

UPLOAD_SUCCESS = "Upload Success."
PARTIAL_UPLOAD_SUCCESS = "Partial Upload Success."
UPLOAD_FAILED = "Upload Failed."


def partner_domain(value: str | None, allowed: tuple[str, ...]) -> str:
    """The domain, upper-case, if configured (compared case-insensitively); else KER-PCM-011."""
    domain = (value or "").strip().upper()
    if not domain or domain not in {d.upper() for d in allowed}:
        raise KeyManagerError(Errors.INVALID_PARTNER_DOMAIN)
    return domain


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (Java's LocalDate.plusMonths)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class CaCertificateRecord:
    """A ca_cert_store row."""

    cert_id: str
    subject: str
    issuer: str
    issuer_id: str
    not_before: datetime
    not_after: datetime
    certificate_pem: str
    thumbprint: str  # lower-case hex SHA-1 of the DER
    serial_number: str  # decimal
    domain: str
    ca_type: str
    created_at: datetime
    crl_uri: str | None = None

    def valid_at(self, at: datetime) -> bool:
        return self.not_before <= at <= self.not_after


@dataclass(frozen=True)
class PartnerCertificateRecord:
    """A partner_cert_store row: the partner's own certificate and the one we re-issued."""

    cert_id: str
    subject: str
    issuer: str
    issuer_id: str
    not_before: datetime
    not_after: datetime
    domain: str
    certificate_pem: str
    signed_certificate_pem: str
    organization: str
    thumbprint: str
    serial_number: str
    created_at: datetime
    key_usage: str = ""


#: getCaCertificates' sortByFieldName values (the reference's entity property names) and the
#: record attribute each sorts on. Anything else is the caller's mistake (KER-KMS-005).
SORT_FIELDS = {
    "certid": "cert_id",
    "certsubject": "subject",
    "certissuer": "issuer",
    "issuerid": "issuer_id",
    "certnotbefore": "not_before",
    "certnotafter": "not_after",
    "certthumbprint": "thumbprint",
    "certserialno": "serial_number",
    "partnerdomain": "domain",
    "cacertificatetype": "ca_type",
    "createdtimes": "created_at",
}
DEFAULT_SORT = "created_at"
DEFAULT_PAGE_SIZE = 10


@dataclass(frozen=True)
class CaCertificateQuery:
    """Filters (all optional, combined with AND), order and page of a ca_cert_store listing.
    Text filters are case-insensitive substrings; date filters match the UTC date."""

    domain: str | None = None
    ca_type: str | None = None
    cert_id: str | None = None
    issued_to: str | None = None
    issued_by: str | None = None
    valid_from: date | None = None  # not_before's date
    valid_till: date | None = None  # not_after's date
    uploaded: date | None = None  # created_at's date
    expiring_between: tuple[date, date] | None = None  # not_after's date within [first, second]
    excluded_thumbprints: frozenset[str] = field(default_factory=frozenset)
    sort_by: str = DEFAULT_SORT
    descending: bool = False
    page_number: int = 1  # 1-based
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page_number - 1) * self.page_size

    def matches(self, record: CaCertificateRecord) -> bool:
        """The same filters in Python (the memory store; the SQL store says them in SQL)."""

        def contains(haystack: str | None, needle: str | None) -> bool:
            return needle is None or needle.lower() in (haystack or "").lower()

        day = lambda instant: instant.astimezone(UTC).date()  # noqa: E731 - dates are UTC dates
        return (
            (self.domain is None or record.domain == self.domain)
            and (self.ca_type is None or record.ca_type == self.ca_type)
            and contains(record.cert_id, self.cert_id)
            and contains(record.subject, self.issued_to)
            and contains(record.issuer, self.issued_by)
            and (self.valid_from is None or day(record.not_before) == self.valid_from)
            and (self.valid_till is None or day(record.not_after) == self.valid_till)
            and (self.uploaded is None or day(record.created_at) == self.uploaded)
            and (
                self.expiring_between is None
                or self.expiring_between[0] <= day(record.not_after) <= self.expiring_between[1]
            )
            and record.thumbprint not in self.excluded_thumbprints
        )


@dataclass(frozen=True)
class CaCertificatePage:
    total: int
    records: list[CaCertificateRecord]


@dataclass(frozen=True)
class PartnerTrustPolicy:
    """The reference's `mosip.kernel.partner.*` settings."""

    domains: tuple[str, ...] = DEFAULT_PARTNER_DOMAINS
    ca_minimum_validity_months: int = 12
    certificate_duration_years: int = 1  # validity of re-issued partner certificates
    grace_days: int = 30
    sign_app_id: str = "PMS"
    resign_ftm_domain_certs: bool = False

    @property
    def partner_minimum_days(self) -> int:
        """Remaining validity a partner certificate needs (315 days if the setting is negative)."""
        days = self.certificate_duration_years * 365 - self.grace_days
        return days if days >= 0 else 315
