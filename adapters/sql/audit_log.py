"""What the SQL audit log adapters share: the km_audit_log columns and the row mapping."""
from __future__ import annotations

from typing import Any, Sequence

from domain.audit import AuditRecord

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
