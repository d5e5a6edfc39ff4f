"""The audit log in the embedded SQLite store (table km_audit_log, migration 2).

An append reads the last record and writes the next one inside ``BEGIN IMMEDIATE``, which
SQLite serialises across every thread and process sharing the file: the chain cannot fork.
Uses its own connection (not the request's unit of work), so an audit write never joins,
commits or rolls back a key operation's transaction.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from typing import Iterator

from application.ports.clock import Clock
from domain.audit import AuditEvent, AuditRecord, seal
from domain.errors import StoreUnavailableError

from ..sql.audit_log import INSERT_VALUES, SELECT_COLUMNS, TABLE, from_row, to_row
from .key_repository import SqliteDatabase


class SqliteAuditLog:
    def __init__(self, database: SqliteDatabase, clock: Clock) -> None:
        self.database = database
        self.clock = clock
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        # A connection of our own per thread (and per process after a fork).
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = self.database.open_connection()
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def append(self, event: AuditEvent) -> AuditRecord:
        try:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute(
                    f"SELECT {SELECT_COLUMNS} FROM {TABLE} ORDER BY seq_no DESC LIMIT 1"
                ).fetchone()
                record = seal(from_row(row) if row else None, event, self.clock.now())
                connection.execute(f"INSERT INTO {TABLE} ({SELECT_COLUMNS}) VALUES ({INSERT_VALUES})", to_row(record))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            raise StoreUnavailableError() from None
        return record

    def records(self) -> Iterator[AuditRecord]:
        try:
            cursor = self._connection().execute(f"SELECT {SELECT_COLUMNS} FROM {TABLE} ORDER BY seq_no")
            for row in cursor:
                yield from_row(row)
        except sqlite3.Error:
            raise StoreUnavailableError() from None

    def latest(self, limit: int) -> list[AuditRecord]:
        try:
            rows = self._connection().execute(
                f"SELECT {SELECT_COLUMNS} FROM {TABLE} ORDER BY seq_no DESC LIMIT ?", (max(0, limit),)
            ).fetchall()
        except sqlite3.Error:
            raise StoreUnavailableError() from None
        return [from_row(row) for row in reversed(rows)]
