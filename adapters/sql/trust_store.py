"""ca_cert_store and partner_cert_store for any SQL unit of work (SQLite, PostgreSQL).

Filters, order and paging of getCaCertificates run in SQL, so a large trust store
is never loaded to show one page. Dates are compared as 'YYYY-MM-DD' text, which
each dialect produces from a timestamp with ``date_of``.
"""
from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from domain.partner_trust import CaCertificatePage, CaCertificateQuery, CaCertificateRecord, PartnerCertificateRecord

from .key_repository import SYSTEM_USER, SqlUnit

_LIVE = "COALESCE(is_deleted, FALSE) = FALSE"
_CA_COLUMNS = (
    "cert_id, cert_subject, cert_issuer, issuer_id, cert_not_before, cert_not_after, cert_data,"
    " cert_thumbprint, cert_serial_no, partner_domain, ca_cert_type, cr_dtimes, crl_uri"
)
_PARTNER_COLUMNS = (
    "cert_id, cert_subject, cert_issuer, issuer_id, cert_not_before, cert_not_after, partner_domain, cert_data,"
    " signed_cert_data, organization_name, cert_thumbprint, cert_serial_no, cr_dtimes, key_usage"
)
#: CaCertificateRecord attribute -> column, for ORDER BY (only these names ever reach the SQL).
_SORT_COLUMNS = {
    "cert_id": "cert_id",
    "subject": "cert_subject",
    "issuer": "cert_issuer",
    "issuer_id": "issuer_id",
    "not_before": "cert_not_before",
    "not_after": "cert_not_after",
    "thumbprint": "cert_thumbprint",
    "serial_number": "cert_serial_no",
    "domain": "partner_domain",
    "ca_type": "ca_cert_type",
    "created_at": "cr_dtimes",
}

_TIME_COLUMNS = {"cert_not_before", "cert_not_after", "cr_dtimes"}


def _like(needle: str) -> str:
    escaped = needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlTrustStore:
    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit
        self._ca = unit.table("ca_cert_store")
        self._partner = unit.table("partner_cert_store")

    def _to_ca(self, row: tuple[Any, ...]) -> CaCertificateRecord:
        (cert_id, subject, issuer, issuer_id, not_before, not_after, pem, thumbprint, serial, domain, ca_type,
         created, crl_uri) = row
        t = self._unit.from_db_time
        return CaCertificateRecord(
            cert_id=cert_id, subject=subject, issuer=issuer, issuer_id=issuer_id, not_before=t(not_before),
            not_after=t(not_after), certificate_pem=pem, thumbprint=thumbprint, serial_number=serial or "",
            domain=domain, ca_type=ca_type or "", created_at=t(created), crl_uri=crl_uri,
        )

    def ca_certificates(self, domain: str) -> list[CaCertificateRecord]:
        rows = self._unit.query(
            f"SELECT {_CA_COLUMNS} FROM {self._ca} WHERE partner_domain = :domain AND {_LIVE}"
            " ORDER BY cr_dtimes, cert_id",
            {"domain": domain},
        )
        return [self._to_ca(r) for r in rows]

    def ca_certificate(self, cert_id: str) -> CaCertificateRecord | None:
        rows = self._unit.query(
            f"SELECT {_CA_COLUMNS} FROM {self._ca} WHERE cert_id = :id AND {_LIVE}", {"id": cert_id}
        )
        return self._to_ca(rows[0]) if rows else None

    def ca_exists(self, thumbprint: str, domain: str) -> bool:
        return bool(
            self._unit.query(
                f"SELECT 1 FROM {self._ca} WHERE cert_thumbprint = :tp AND partner_domain = :domain",
                {"tp": thumbprint, "domain": domain},
            )
        )

    def add_ca(self, record: CaCertificateRecord) -> None:
        t = self._unit.to_db_time
        self._unit.write(
            f"INSERT INTO {self._ca} (cert_id, cert_subject, cert_issuer, issuer_id, cert_not_before, cert_not_after,"
            " crl_uri, cert_data, cert_thumbprint, cert_serial_no, partner_domain, ca_cert_type, cr_by, cr_dtimes,"
            " is_deleted) VALUES (:id, :subject, :issuer, :issuer_id, :nb, :na, :crl, :pem, :tp, :serial, :domain,"
            " :type, :by, :at, FALSE)",
            {"id": record.cert_id, "subject": record.subject, "issuer": record.issuer, "issuer_id": record.issuer_id,
             "nb": t(record.not_before), "na": t(record.not_after), "crl": record.crl_uri,
             "pem": record.certificate_pem, "tp": record.thumbprint, "serial": record.serial_number,
             "domain": record.domain, "type": record.ca_type, "by": SYSTEM_USER, "at": t(record.created_at)},
        )

    def search_ca(self, query: CaCertificateQuery) -> CaCertificatePage:
        where, params = [_LIVE], {}  # type: ignore[var-annotated]
        date_of, lower = self._unit.date_of, self._unit.lower_of

        def add(condition: str, **values: Any) -> None:
            where.append(condition)
            params.update(values)

        if query.domain is not None:
            add("partner_domain = :domain", domain=query.domain)
        if query.ca_type is not None:
            add("ca_cert_type = :type", type=query.ca_type)
        if query.cert_id is not None:
            add(f"{lower('cert_id')} LIKE :cid ESCAPE '\\'", cid=_like(query.cert_id))
        if query.issued_to is not None:
            add(f"{lower('cert_subject')} LIKE :to ESCAPE '\\'", to=_like(query.issued_to))
        if query.issued_by is not None:
            add(f"{lower('cert_issuer')} LIKE :by ESCAPE '\\'", by=_like(query.issued_by))
        if query.valid_from is not None:
            add(f"{date_of('cert_not_before')} = :vf", vf=query.valid_from.isoformat())
        if query.valid_till is not None:
            add(f"{date_of('cert_not_after')} = :vt", vt=query.valid_till.isoformat())
        if query.uploaded is not None:
            add(f"{date_of('cr_dtimes')} = :up", up=query.uploaded.isoformat())
        if query.expiring_between is not None:
            first, last = query.expiring_between
            add(f"{date_of('cert_not_after')} BETWEEN :e0 AND :e1", e0=first.isoformat(), e1=last.isoformat())
        if query.excluded_thumbprints:
            names = [f"x{i}" for i in range(len(query.excluded_thumbprints))]
            add(f"cert_thumbprint NOT IN ({', '.join(':' + n for n in names)})",
                **dict(zip(names, sorted(query.excluded_thumbprints))))
        condition = " AND ".join(where)
        total = int(self._unit.query(f"SELECT COUNT(*) FROM {self._ca} WHERE {condition}", params)[0][0])
        direction = "DESC" if query.descending else "ASC"
        column = _SORT_COLUMNS[query.sort_by]
        if column not in _TIME_COLUMNS:
            column = self._unit.binary_order(column)  # the same order whatever the server's locale
        rows = self._unit.query(
            f"SELECT {_CA_COLUMNS} FROM {self._ca} WHERE {condition}"
            f" ORDER BY {column} {direction}, {self._unit.binary_order('cert_id')} {direction}"
            " LIMIT :limit OFFSET :offset",
            {**params, "limit": query.page_size, "offset": query.offset},
        )
        return CaCertificatePage(total, [self._to_ca(r) for r in rows])

    def domain_stamp(self, domain: str) -> Hashable:
        rows = self._unit.query(
            f"SELECT COUNT(*), MAX(cr_dtimes), MAX(upd_dtimes), MAX(cert_id) FROM {self._ca}"
            f" WHERE partner_domain = :domain AND {_LIVE}",
            {"domain": domain},
        )
        return tuple(rows[0])

    def partner_certificate(self, cert_id: str) -> PartnerCertificateRecord | None:
        rows = self._unit.query(
            f"SELECT {_PARTNER_COLUMNS} FROM {self._partner} WHERE cert_id = :id AND {_LIVE}", {"id": cert_id}
        )
        if not rows:
            return None
        (cert_id, subject, issuer, issuer_id, not_before, not_after, domain, pem, signed, organization, thumbprint,
         serial, created, key_usage) = rows[0]
        t = self._unit.from_db_time
        return PartnerCertificateRecord(
            cert_id=cert_id, subject=subject, issuer=issuer, issuer_id=issuer_id, not_before=t(not_before),
            not_after=t(not_after), domain=domain, certificate_pem=pem, signed_certificate_pem=signed,
            organization=organization, thumbprint=thumbprint, serial_number=serial or "", created_at=t(created),
            key_usage=key_usage or "",
        )

    def add_partner(self, record: PartnerCertificateRecord) -> None:
        t = self._unit.to_db_time
        self._unit.write(
            f"INSERT INTO {self._partner} (cert_id, cert_subject, cert_issuer, issuer_id, cert_not_before,"
            " cert_not_after, partner_domain, cert_data, signed_cert_data, key_usage, organization_name,"
            " cert_thumbprint, cert_serial_no, cr_by, cr_dtimes, is_deleted) VALUES (:id, :subject, :issuer,"
            " :issuer_id, :nb, :na, :domain, :pem, :signed, :usage, :org, :tp, :serial, :by, :at, FALSE)",
            {"id": record.cert_id, "subject": record.subject, "issuer": record.issuer, "issuer_id": record.issuer_id,
             "nb": t(record.not_before), "na": t(record.not_after), "domain": record.domain,
             "pem": record.certificate_pem, "signed": record.signed_certificate_pem, "usage": record.key_usage,
             "org": record.organization, "tp": record.thumbprint, "serial": record.serial_number,
             "by": SYSTEM_USER, "at": t(record.created_at)},
        )
