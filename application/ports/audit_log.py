"""The audit trail port: an append-only, hash-chained log of who did what to which key.

``append`` must be atomic with respect to every other writer of the same store (other
threads, worker processes and instances): it reads the last record, seals the new one
onto it (domain.audit.seal) and writes it, under one lock, so the chain never forks.
"""
from __future__ import annotations

from typing import Iterator, Protocol

from domain.audit import AuditEvent, AuditRecord


class AuditLog(Protocol):
    def append(self, event: AuditEvent) -> AuditRecord:
        """Seal the event onto the chain and store it; raises StoreUnavailableError when it cannot."""

    def records(self) -> Iterator[AuditRecord]:
        """Every record in sequence order (streamed: the log can be long)."""

    def latest(self, limit: int) -> list[AuditRecord]:
        """The last ``limit`` records, oldest first."""
