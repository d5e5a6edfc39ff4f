"""The audit trail for the console: the latest records, filtered, and the chain's verdict."""
from __future__ import annotations

from dataclasses import dataclass

from application.ports.audit_log import AuditLog
from domain.audit import AuditRecord, ChainVerdict, verify_chain

#: Most records one answer carries; how many are scanned to find matches for a filter.
MAX_LIMIT = 1000
SCAN_LIMIT = 10000


@dataclass(frozen=True)
class AuditQuery:
    limit: int = 100
    operation: str | None = None
    outcome: str | None = None  # "success", an error code, or "failure" (anything but success)
    subject: str | None = None

    def matches(self, record: AuditRecord) -> bool:
        if self.operation is not None and record.operation != self.operation:
            return False
        if self.subject is not None and record.subject != self.subject:
            return False
        if self.outcome == "failure":
            return record.outcome != "success"
        return self.outcome is None or record.outcome == self.outcome


class ListAuditRecords:
    def __init__(self, audit_log: AuditLog) -> None:
        self.audit_log = audit_log

    def execute(self, query: AuditQuery) -> list[AuditRecord]:
        """The newest matching records, newest first (at most ``limit``; filters look at the newest
        SCAN_LIMIT records)."""
        limit = max(1, min(query.limit, MAX_LIMIT))
        unfiltered = query.operation is None and query.outcome is None and query.subject is None
        records = self.audit_log.latest(limit if unfiltered else SCAN_LIMIT)
        return [record for record in reversed(records) if query.matches(record)][:limit]


class VerifyAuditTrail:
    def __init__(self, audit_log: AuditLog) -> None:
        self.audit_log = audit_log

    def execute(self) -> ChainVerdict:
        return verify_chain(self.audit_log.records())
