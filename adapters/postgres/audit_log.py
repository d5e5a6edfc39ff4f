"""The audit log in PostgreSQL (<schema>.km_audit_log, migration 2).

Every append runs in its own transaction (never the key operation's) and first takes a
transaction-scoped advisory lock (schema.AUDIT_LOCK): every worker and every instance sharing
the database then reads the same last record and the chain cannot fork. An advisory lock, not
SELECT ... FOR UPDATE on the last row, because the first append has no row to lock.
"""
from __future__ import annotations

from typing import Iterator

from application.ports.clock import Clock
from domain.audit import AuditEvent, AuditRecord, seal

from ..sql.audit_log import INSERT_VALUES, SELECT_COLUMNS, TABLE, from_row, to_row
from .key_repository import PostgresDatabase, PostgresUnitOfWork
from .schema import AUDIT_LOCK

#: Rows fetched per round trip when streaming the whole log.
PAGE = 1000


class PostgresAuditLog:
    def __init__(self, database: PostgresDatabase, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def append(self, event: AuditEvent) -> AuditRecord:
        with PostgresUnitOfWork(self.database) as unit:
            table = unit.table(TABLE)
            unit.begin_write()
            unit.write("SELECT pg_advisory_xact_lock(:k)", {"k": AUDIT_LOCK})
            rows = unit.query(f"SELECT {SELECT_COLUMNS} FROM {table} ORDER BY seq_no DESC LIMIT 1", {})
            record = seal(from_row(rows[0]) if rows else None, event, self.clock.now())
            unit.write(f"INSERT INTO {table} ({SELECT_COLUMNS}) VALUES ({INSERT_VALUES})", to_row(record))
            unit.commit()
            return record

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
