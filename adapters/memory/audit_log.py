"""In-memory audit log (tests and throwaway runs): the chain lives as long as the process."""
from __future__ import annotations

import threading
from typing import Iterator

from application.ports.clock import Clock
from domain.audit import AuditEvent, AuditRecord, seal


class MemoryAuditLog:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._records: list[AuditRecord] = []
        self._lock = threading.Lock()

    def append(self, event: AuditEvent) -> AuditRecord:
        with self._lock:
            record = seal(self._records[-1] if self._records else None, event, self.clock.now())
            self._records.append(record)
            return record

    def records(self) -> Iterator[AuditRecord]:
        with self._lock:
            snapshot = list(self._records)
        return iter(snapshot)

    def latest(self, limit: int) -> list[AuditRecord]:
        with self._lock:
            return list(self._records[-limit:]) if limit > 0 else []
