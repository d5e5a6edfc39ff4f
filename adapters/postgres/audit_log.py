"""The audit log in PostgreSQL (<schema>.km_audit_log, migration 2).

``append_batch`` runs in a transaction of its own and first takes a transaction-scoped advisory
lock (schema.AUDIT_LOCK): every worker and every instance sharing the database then reads the
same last record and the chain cannot fork; the batch commits with one WAL flush. An advisory
lock, not SELECT ... FOR UPDATE on the last row, because the first append has no row to lock.
A key's creation record takes the same lock inside the key's own transaction (SqlAuditTrail).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from domain.audit import AuditEvent, AuditRecord

from ..sql.audit_log import SELECT_COLUMNS, TABLE, from_row
from .key_repository import PostgresDatabase, PostgresUnitOfWork

#: Rows fetched per round trip when streaming the whole log.
PAGE = 1000


class PostgresAuditLog:
    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    def append_batch(self, events: Sequence[AuditEvent], at: datetime) -> list[AuditRecord]:
        if not events:
            return []
        with PostgresUnitOfWork(self.database) as unit:
            records = unit.audit.append_many(events, at)
            unit.commit()
        return records

    def try_append_batch(self, events: Sequence[AuditEvent], at: datetime) -> list[AuditRecord] | None:
        """Waits for the lock like append_batch (requests on PostgreSQL run in threads, not on a loop)."""
        return self.append_batch(events, at)

    def records(self) -> Iterator[AuditRecord]:
        after = None
        while True:
            with PostgresUnitOfWork(self.database) as unit:
                table = unit.table(TABLE)
                if after is None:
                    rows = unit.query(f"SELECT {SELECT_COLUMNS} FROM {table} ORDER BY seq_no LIMIT :n", {"n": PAGE})
                else:
                    rows = unit.query(
                        f"SELECT {SELECT_COLUMNS} FROM {table} WHERE seq_no > :after ORDER BY seq_no LIMIT :n",
                        {"after": after, "n": PAGE},
                    )
            for row in rows:
                yield from_row(row)
            if len(rows) < PAGE:
                return
            after = rows[-1][0]

    def latest(self, limit: int) -> list[AuditRecord]:
        with PostgresUnitOfWork(self.database) as unit:
            rows = unit.query(
                f"SELECT {SELECT_COLUMNS} FROM {unit.table(TABLE)} ORDER BY seq_no DESC LIMIT :n", {"n": max(0, limit)}
            )
        return [from_row(row) for row in reversed(rows)]
