"""In-memory audit log (tests and throwaway runs): the chain lives in the MemoryStore, as long
as the process, shared with the units of work that record key creations."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from domain.audit import AuditEvent, AuditRecord

from .key_repository import MemoryStore, seal_onto


class MemoryAuditLog:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def append_batch(self, events: Sequence[AuditEvent], at: datetime) -> list[AuditRecord]:
        with self.store.data_lock:
            return seal_onto(self.store, [(event, at) for event in events])

    def try_append_batch(self, events: Sequence[AuditEvent], at: datetime) -> list[AuditRecord] | None:
        return self.append_batch(events, at)

    def records(self) -> Iterator[AuditRecord]:
        with self.store.data_lock:
            snapshot = list(self.store.audit_records)
        return iter(snapshot)

    def latest(self, limit: int) -> list[AuditRecord]:
        with self.store.data_lock:
            return list(self.store.audit_records[-limit:]) if limit > 0 else []
