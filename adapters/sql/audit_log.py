"""What the SQL audit log adapters share: the km_audit_log columns, the row mapping and the
append inside a unit of work (SqlAuditTrail), used both for a key's creation record (in the
key's own transaction) and for the group commit of request records (a transaction of its own)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from domain.audit import AuditEvent, AuditRecord, seal

TABLE = "km_audit_log"
COLUMNS = (
    "seq_no", "event_dtimes", "subject", "operation", "app_id", "ref_id", "key_alias", "cert_thumbprint",
    "outcome", "prev_hash", "record_hash",
)
SELECT_COLUMNS = ", ".join(COLUMNS)
#: Named parameters in COLUMNS order (both adapters bind by name).
INSERT_VALUES = ", ".join(f":{name}" for name in COLUMNS)


def to_row(record: AuditRecord) -> dict[str, Any]:
    return {
        "seq_no": record.sequence,
        "event_dtimes": record.timestamp,
        "subject": record.subject,
        "operation": record.operation,
        "app_id": record.app_id,
        "ref_id": record.ref_id,
        "key_alias": record.key_alias,
        "cert_thumbprint": record.thumbprint,
        "outcome": record.outcome,
        "prev_hash": record.prev_hash,
        "record_hash": record.hash,
    }


def from_row(row: Sequence[Any]) -> AuditRecord:
    seq, at, subject, operation, app_id, ref_id, alias, thumbprint, outcome, prev_hash, record_hash = row
    return AuditRecord(
        sequence=int(seq),
        timestamp=str(at),
        subject=subject,
        operation=operation,
        app_id=app_id,
        ref_id=ref_id,
        key_alias=alias,
        thumbprint=thumbprint,
        outcome=outcome,
        prev_hash=prev_hash,
        hash=record_hash,
    )


class AuditUnit(Protocol):
    """What SqlAuditTrail needs of a unit of work (both SQL units of work provide it)."""

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]: ...

    def write(self, sql: str, params: dict[str, Any]) -> None: ...

    def table(self, name: str) -> str: ...

    def lock_audit(self) -> None:
        """Open the write transaction and hold the chain's lock until it ends."""


class SqlAuditTrail:
    """Appends to the chain inside the unit's transaction; the unit commits or rolls back."""

    def __init__(self, unit: AuditUnit) -> None:
        self._unit = unit
        self._head: AuditRecord | None = None
        self._locked = False

    def append(self, event: AuditEvent, at: datetime) -> AuditRecord:
        return self.append_many([event], at)[0]

    def append_many(self, events: Sequence[AuditEvent], at: datetime) -> list[AuditRecord]:
        unit = self._unit
        table = unit.table(TABLE)
        if not self._locked:
            unit.lock_audit()  # every writer reads the same head after this: the chain cannot fork
            rows = unit.query(f"SELECT {SELECT_COLUMNS} FROM {table} ORDER BY seq_no DESC LIMIT 1", {})
            self._head, self._locked = (from_row(rows[0]) if rows else None), True
        records = []
        for event in events:
            self._head = seal(self._head, event, at)
            unit.write(f"INSERT INTO {table} ({SELECT_COLUMNS}) VALUES ({INSERT_VALUES})", to_row(self._head))
            records.append(self._head)
        return records

    def reset(self) -> None:
        """The unit's transaction ended: the next append reads the head again."""
        self._head, self._locked = None, False
