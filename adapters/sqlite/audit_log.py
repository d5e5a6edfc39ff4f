"""The audit log in the embedded SQLite store (table km_audit_log, migration 2).

``append_batch`` reads the last record and writes the new ones inside one ``BEGIN IMMEDIATE``
transaction, which SQLite serialises across every thread and process sharing the file (the
chain cannot fork), and commits them with one fsync. It runs in a unit of work of its own,
never a request's: the group-commit writer (application/support/audit_writer.py) calls it.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime

from domain.audit import AuditEvent, AuditRecord
from domain.errors import StoreUnavailableError

from ..sql.audit_log import SELECT_COLUMNS, TABLE, from_row
from .key_repository import SqliteDatabase, SqliteUnitOfWork


class SqliteAuditLog:
    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database

    def append_batch(self, events: Sequence[AuditEvent], at: datetime) -> list[AuditRecord]:
        records = self._append(events, at, blocking=True)
        assert records is not None  # a blocking append waits for the lock (or raises)
        return records

    def try_append_batch(self, events: Sequence[AuditEvent], at: datetime) -> list[AuditRecord] | None:
        """As append_batch, but None at once (nothing written) while another writer holds the store."""
        return self._append(events, at, blocking=False)

    def _append(self, events: Sequence[AuditEvent], at: datetime, blocking: bool) -> list[AuditRecord] | None:
        if not events:
            return []
        with SqliteUnitOfWork(self.database) as unit:
            if not unit.try_begin_write(blocking):
                return None
            records = unit.audit.append_many(events, at)
            unit.commit()
        return records

    def records(self) -> Iterator[AuditRecord]:
        try:
            cursor = self.database.connection().execute(f"SELECT {SELECT_COLUMNS} FROM {TABLE} ORDER BY seq_no")
            for row in cursor:
                yield from_row(row)
        except sqlite3.Error:
            raise StoreUnavailableError() from None

    def latest(self, limit: int) -> list[AuditRecord]:
        try:
            rows = self.database.connection().execute(
                f"SELECT {SELECT_COLUMNS} FROM {TABLE} ORDER BY seq_no DESC LIMIT ?", (max(0, limit),)
            ).fetchall()
        except sqlite3.Error:
            raise StoreUnavailableError() from None
        return [from_row(row) for row in reversed(rows)]
