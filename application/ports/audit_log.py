"""The audit trail ports: an append-only, hash-chained log of who did what to which key (ADR 0014).

Appends are atomic with respect to every other writer of the same store (threads, worker
processes, instances): the writer reads the last record, seals the new ones onto it
(domain.audit.seal) and writes them under one lock, so the chain never forks.

* ``AuditLog.append_batch`` makes several records durable in one transaction (one lock, one
  fsync): the group commit of application/support/audit_writer.py.
* ``AuditTrail`` is the same append bound to a unit of work's own transaction: a key and the
  record of its creation are committed together or not at all.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from domain.audit import AuditEvent, AuditRecord


class AuditLog(Protocol):
    def append_batch(self, events: Sequence[AuditEvent], at: datetime) -> list[AuditRecord]:
        """Seal the events onto the chain, in order, and commit them in one transaction;
        raises StoreUnavailableError when they cannot be made durable (then none are)."""

    def try_append_batch(self, events: Sequence[AuditEvent], at: datetime) -> list[AuditRecord] | None:
        """As append_batch, but may answer None at once (nothing written) instead of waiting while
        another writer holds the chain's lock: an event loop then retries shortly and keeps serving."""

    def records(self) -> Iterator[AuditRecord]:
        """Every record in sequence order (streamed: the log can be long)."""

    def latest(self, limit: int) -> list[AuditRecord]:
        """The last ``limit`` records, oldest first."""


class AuditTrail(Protocol):
    """The audit log inside a unit of work: records commit or roll back with the unit."""

    def append(self, event: AuditEvent, at: datetime) -> AuditRecord:
        """Take the chain's lock for the rest of the unit, seal the event onto the chain and write it."""
