"""The audit trail's rules: what a record holds, how records are chained, how a chain is checked.

A record says when, who, which operation, on which key and with what outcome, and nothing
else: never data, keys, tokens or PINs. Records are hash-chained:

    hash_n = SHA-256( hash_{n-1} ‖ canonical(record_n) ),   hash_0 = 64 zeros (genesis)

where ``canonical`` is the record's fields (sequence number included, hashes excluded) as JSON
with sorted keys and no whitespace, UTF-8. Sequence numbers start at 1 and have no gaps, so an
edited record breaks its own hash, a removed one leaves a gap (or a prev-hash mismatch) and a
reordered one breaks both its hash (its sequence number is hashed) and its successor's link.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64
SUCCESS = "success"
#: Longest text kept per field: request-supplied identifiers are clipped, never stored whole.
MAX_FIELD_CHARS = 256
TRUNCATED = "...[truncated]"
#: Characters that cannot be stored or shown safely: C0/C1 controls, DEL and lone surrogates
#: (not encodable as UTF-8: an insert would fail, and with it the record).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def format_timestamp(instant: datetime) -> str:
    """UTC, microseconds, 'Z': one fixed text form, so the hash does not depend on a database's types."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def safe_text(value: object) -> str | None:
    """Caller-supplied text as it can always be stored: unsafe characters escaped as ``\\uXXXX``,
    clipped to MAX_FIELD_CHARS with a visible marker. Never raises: a record must not fail over its text."""
    if value is None:
        return None
    text = _UNSAFE.sub(_escape, value if isinstance(value, str) else str(value))
    if len(text) > MAX_FIELD_CHARS:
        text = text[: MAX_FIELD_CHARS - len(TRUNCATED)] + TRUNCATED
    return text


@dataclass(frozen=True)
class AuditEvent:
    """What the caller reports; the log adds sequence number, time and hashes."""

    operation: str
    outcome: str = SUCCESS  # "success" or the error code
    subject: str | None = None
    app_id: str | None = None
    ref_id: str | None = None
    key_alias: str | None = None
    thumbprint: str | None = None  # hex SHA-256 of the certificate

    def __post_init__(self) -> None:
        for item in fields(self):
            object.__setattr__(self, item.name, safe_text(getattr(self, item.name)))
        if not self.operation or not self.outcome:
            raise ValueError("an audit event needs an operation and an outcome")


@dataclass(frozen=True)
class AuditRecord:
    sequence: int
    timestamp: str  # format_timestamp(...)
    subject: str | None
    operation: str
    app_id: str | None
    ref_id: str | None
    key_alias: str | None
    thumbprint: str | None
    outcome: str
    prev_hash: str
    hash: str

    def content(self) -> dict[str, object]:
        """The hashed fields (everything but the two hashes)."""
        return {
            "sequence": self.sequence,
            "timestamp": self.timestamp,
            "subject": self.subject,
            "operation": self.operation,
            "app_id": self.app_id,
            "ref_id": self.ref_id,
            "key_alias": self.key_alias,
            "thumbprint": self.thumbprint,
            "outcome": self.outcome,
        }


def canonical(record: AuditRecord) -> bytes:
    return json.dumps(record.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(prev_hash: str, record: AuditRecord) -> str:
    return hashlib.sha256(prev_hash.encode("ascii", "replace") + canonical(record)).hexdigest()


def seal(previous: AuditRecord | None, event: AuditEvent, at: datetime) -> AuditRecord:
    """The record that follows ``previous`` (None: the first one) in the chain."""
    prev_hash = previous.hash if previous is not None else GENESIS_HASH
    unsealed = AuditRecord(
        sequence=(previous.sequence + 1) if previous is not None else 1,
        timestamp=format_timestamp(at),
        subject=event.subject,
        operation=event.operation,
        app_id=event.app_id,
        ref_id=event.ref_id,
        key_alias=event.key_alias,
        thumbprint=event.thumbprint,
        outcome=event.outcome,
        prev_hash=prev_hash,
        hash="",
    )
    return replace(unsealed, hash=chain_hash(prev_hash, unsealed))


@dataclass(frozen=True)
class ChainVerdict:
    intact: bool
    count: int  # records read
    head: str  # hash of the last good record (GENESIS_HASH for an empty log)
    broken_at: int | None = None  # the sequence number where the chain first breaks
    reason: str | None = None


def verify_chain(records: Iterable[AuditRecord]) -> ChainVerdict:
    """Walk the records in the order given (the store's sequence order) and report the first break.

    A break at position n is reported as the sequence number n that was expected there: a
    removed record ``n`` gives broken_at=n, an edited or moved record gives its position.
    """
    expected, prev_hash, count = 1, GENESIS_HASH, 0
    for record in records:
        count += 1
        if record.sequence != expected:
            reason = "record missing (sequence gap)" if record.sequence > expected else "sequence out of order"
            return ChainVerdict(False, count, prev_hash, expected, reason)
        if record.prev_hash != prev_hash:
            return ChainVerdict(False, count, prev_hash, expected, "link to the previous record broken")
        if record.hash != chain_hash(prev_hash, record):
            return ChainVerdict(False, count, prev_hash, expected, "record altered (hash mismatch)")
        prev_hash, expected = record.hash, expected + 1
    return ChainVerdict(True, count, prev_hash)
