"""SQLite key repository and unit of work (the embedded default store).

Reads run without a transaction; the first write, or ``lock()``, opens a
``BEGIN IMMEDIATE`` transaction, which SQLite serialises across every process
sharing the file: that is what makes "exactly one current key" hold.
The queries themselves are shared with PostgreSQL (adapters/sql).
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from domain.errors import StoreUnavailableError
from domain.keys import KeyTuple

from ..sql.audit_log import SqlAuditTrail
from ..sql.key_repository import SqlKeyRepository
from ..sql.license_keys import SqlLicenseKeys
from ..sql.pq_keys import SqlPqKeys  # -- post-quantum hybrid (issue 18) --
from ..sql.trust_store import SqlTrustStore
from ..sql.zk_pool import SqlZkKeyPool
from . import schema


class SqliteDatabase:
    """One database file; one connection per thread (and per process after a fork)."""

    def __init__(self, path: Path, busy_timeout_ms: int = 30000) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self.write_lock = WriteLock(Path(f"{self.path}.writelock"), busy_timeout_ms / 1000)

    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = self.open_connection()
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def open_connection(self) -> sqlite3.Connection:
        """A new autocommit connection with the store's settings (callers cache it per thread)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout_ms / 1000)
        connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")  # key material: durable on power loss too
        connection.create_function("km_lower", 1, _lower, deterministic=True)
        return connection

    def upgrade(self) -> list[int]:
        try:
            return schema.upgrade(self.connection())
        except sqlite3.OperationalError:
            raise StoreUnavailableError() from None

    def schema_version(self) -> int:
        return schema.current_version(self.connection())


class WriteLock:
    """Who may open a write transaction next, across threads and processes (flock on a lock file).

    SQLite lets one writer in at a time and makes the others poll with growing sleeps (up to
    100 ms a turn): two worker processes committing audit batches back to back would spend most
    of their time asleep. A blocked flock() wakes as soon as the holder lets go. Taken before
    ``BEGIN IMMEDIATE``; SQLite's own lock stays the guarantee (other programs may not use ours).
    """

    def __init__(self, path: Path, timeout_seconds: float) -> None:
        self.path = path
        self.timeout = timeout_seconds
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock (False, without waiting, when ``blocking`` is off and someone holds it)."""
        if not (self._threads.acquire(timeout=self.timeout) if blocking else self._threads.acquire(False)):
            if blocking:
                raise StoreUnavailableError()
            return False
        try:
            if self._pid != os.getpid():  # first use, or a forked child: a descriptor of our own
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            assert self._fd is not None  # opened just above or by an earlier call of this process
            fcntl.flock(self._fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._threads.release()
            return False
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def _lower(value: str | bytes | int | float | None) -> str | bytes | int | float | None:
    return value.lower() if isinstance(value, str) else value


class SqliteUnitOfWork:
    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._connection: sqlite3.Connection | None = None
        self._in_transaction = False
        self.keys = SqlKeyRepository(self)
        self.trust = SqlTrustStore(self)
        self.zk = SqlZkKeyPool(self)
        self.licenses = SqlLicenseKeys(self)
        self.pq = SqlPqKeys(self)  # -- post-quantum hybrid (issue 18) --
        self.audit = SqlAuditTrail(self)

    def __enter__(self) -> SqliteUnitOfWork:
        self._connection = self._database.connection()
        self._in_transaction = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def _execute(self, sql: str, params: dict[str, Any] | tuple[()] = ()) -> sqlite3.Cursor:
        assert self._connection is not None, "use the unit of work in a with-block"
        try:
            return self._connection.execute(sql, params)
        except sqlite3.OperationalError:
            # locked past the busy timeout, disk I/O error, unreadable file
            raise StoreUnavailableError() from None

    # -- the SqlUnit protocol -------------------------------------------------------------

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return self._execute(sql, params).fetchall()

    def write(self, sql: str, params: dict[str, Any]) -> None:
        self.begin_write()
        self._execute(sql, params)

    @staticmethod
    def table(name: str) -> str:
        return name

    @staticmethod
    def to_db_time(instant: datetime) -> str:
        return schema.format_timestamp(instant)

    @staticmethod
    def from_db_time(value: str) -> datetime:
        return schema.parse_timestamp(value)

    @staticmethod
    def now() -> str:
        return schema.format_timestamp(datetime.now(UTC))

    @staticmethod
    def binary_order(column: str) -> str:
        return column  # BINARY, the default

    @staticmethod
    def lower_of(column: str) -> str:
        return f"km_lower({column})"  # SQLite's LOWER() folds ASCII letters only

    @staticmethod
    def date_of(column: str) -> str:
        return f"substr({column}, 1, 10)"

    # -- the UnitOfWork protocol ----------------------------------------------------------

    def begin_write(self) -> None:
        self.try_begin_write(blocking=True)

    def try_begin_write(self, blocking: bool = False) -> bool:
        """Open the write transaction; without ``blocking``, False at once when another writer holds the lock."""
        if not self._in_transaction:
            if not self._database.write_lock.acquire(blocking):
                return False
            try:
                self._execute("BEGIN IMMEDIATE")
            except BaseException:
                self._database.write_lock.release()
                raise
            self._in_transaction = True
        return True

    def lock(self, key_tuple: KeyTuple) -> None:
        self.begin_write()

    def lock_audit(self) -> None:
        self.begin_write()  # BEGIN IMMEDIATE: the one writer of the file, audit chain included

    def commit(self) -> None:
        if self._in_transaction:
            self._execute("COMMIT")  # a failed COMMIT leaves the transaction open: rollback() ends it
            self._in_transaction = False
            self.audit.reset()
            self._database.write_lock.release()

    def rollback(self) -> None:
        self.audit.reset()
        if self._in_transaction:
            self._in_transaction = False
            try:
                self._execute("ROLLBACK")
            except StoreUnavailableError:
                pass
            finally:
                self._database.write_lock.release()


class SqliteUnitOfWorkFactory:
    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database

    def __call__(self) -> SqliteUnitOfWork:
        return SqliteUnitOfWork(self.database)
