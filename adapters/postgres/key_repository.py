"""PostgreSQL key repository and unit of work (pg8000, native API).

Reads run as single autocommit statements; the first write, or ``lock()``,
opens a transaction. ``lock(key_tuple)`` takes a transaction-scoped advisory
lock on the tuple, which serialises key creation across every process and
instance sharing the database (the loser then finds the winner's key).
Connection failures become StoreUnavailableError (HTTP 503) at once instead of
a hang: connect and socket timeouts are short, and a broken connection is
dropped from the pool so the next unit reconnects.
"""
from __future__ import annotations

import hashlib
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pg8000.native as pg

from domain.errors import StoreUnavailableError
from domain.keys import KeyTuple

from ..sql.audit_log import SqlAuditTrail
from ..sql.key_repository import SqlKeyRepository
from ..sql.license_keys import SqlLicenseKeys
from ..sql.pq_keys import SqlPqKeys  # -- post-quantum hybrid (issue 18) --
from ..sql.trust_store import SqlTrustStore
from ..sql.zk_pool import SqlZkKeyPool
from . import schema as migrations
from .pool import ConnectionPool, PoolExhausted

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}\Z")
#: Errors meaning "the server or the connection is gone", not "your SQL is wrong".
_CONNECTION_ERRORS = (pg.InterfaceError, OSError, EOFError, ssl.SSLError)
#: SQLSTATE classes of server-side connection loss (admin shutdown, crash, cannot connect).
_CONNECTION_SQLSTATES = ("57P01", "57P02", "57P03", "08")


class InvalidDatabaseUrl(ValueError):
    pass


@dataclass(frozen=True)
class PostgresOptions:
    user: str
    host: str = "127.0.0.1"
    port: int = 5432
    database: str = "mosip_keymgr"
    password: str | None = None
    schema: str = "keymgr"
    pool_size: int = 8
    #: pg8000 applies one socket timeout to connecting and to every statement;
    #: the server-side statement/lock timeouts are shorter so the server answers first.
    socket_timeout: float = 10.0
    statement_timeout_ms: int = 8000

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> PostgresOptions:
        """postgresql://user[:password]@host[:port]/database[?schema=keymgr]"""
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.username:
            raise InvalidDatabaseUrl("expected postgresql://user[:password]@host[:port]/database")
        query = parse_qs(parts.query)
        schema = query.get("schema", [overrides.pop("schema", "keymgr")])[0]
        if not _IDENTIFIER.match(schema):
            raise InvalidDatabaseUrl("schema must be a plain SQL identifier")
        return cls(
            user=unquote(parts.username),
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            database=(parts.path or "/").lstrip("/") or "mosip_keymgr",
            schema=schema,
            **overrides,
        )


def is_connection_error(error: BaseException) -> bool:
    if isinstance(error, _CONNECTION_ERRORS):
        return True
    if isinstance(error, pg.DatabaseError) and error.args and isinstance(error.args[0], dict):
        code = str(error.args[0].get("C", ""))
        return code.startswith(_CONNECTION_SQLSTATES)
    return False


def _timed_out(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def advisory_key(key_tuple: KeyTuple) -> int:
    """A signed 64-bit lock id for the tuple (collisions only serialise more)."""
    digest = hashlib.blake2b(f"{key_tuple.app_id}\x00{key_tuple.ref_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresDatabase:
    def __init__(self, options: PostgresOptions) -> None:
        self.options = options
        self.schema = options.schema
        self.round_trips = 0  # statements sent by this process (for the benchmark's accounting)
        self.pool: ConnectionPool[pg.Connection] = ConnectionPool(
            self._connect, lambda c: c.close(), options.pool_size, acquire_timeout=options.socket_timeout
        )

    def _connect(self) -> pg.Connection:
        o = self.options
        try:
            connection = pg.Connection(
                o.user, host=o.host, port=o.port, database=o.database, password=o.password,
                timeout=o.socket_timeout, application_name="keymanager",
            )
            connection.run(f"SET statement_timeout = {int(o.statement_timeout_ms)}")
            connection.run(f"SET lock_timeout = {int(o.statement_timeout_ms)}")
            connection.run("SET TIME ZONE 'UTC'")
        except Exception as error:
            if is_connection_error(error) or isinstance(error, pg.DatabaseError):
                raise StoreUnavailableError() from None
            raise
        return connection

    def upgrade(self) -> list[int]:
        with PostgresUnitOfWork(self) as unit:
            unit.begin_write()
            unit.write("SELECT pg_advisory_xact_lock(:k)", {"k": migrations.MIGRATION_LOCK})
            unit.write(f"CREATE SCHEMA IF NOT EXISTS {self.schema}", {})
            unit.write(
                f"CREATE TABLE IF NOT EXISTS {self.schema}.km_schema_version"
                " (version integer PRIMARY KEY, applied_dtimes timestamp NOT NULL)",
                {},
            )
            rows = unit.query(f"SELECT COALESCE(MAX(version), 0) FROM {self.schema}.km_schema_version", {})
            current = int(rows[0][0])
            applied = []
            for number, statements in migrations.migrations(self.schema):
                if number <= current:
                    continue
                for statement in statements:
                    unit.write(statement, {})
                if number == 1:
                    sql, rows_to_seed = migrations.seed_policies_sql(self.schema)
                    for row in rows_to_seed:
                        unit.write(sql, row)
                unit.write(
                    f"INSERT INTO {self.schema}.km_schema_version (version, applied_dtimes)"
                    " VALUES (:v, (now() AT TIME ZONE 'UTC'))",
                    {"v": number},
                )
                applied.append(number)
            unit.commit()
            return applied

    def schema_version(self) -> int:
        with PostgresUnitOfWork(self) as unit:
            rows = unit.query(
                "SELECT to_regclass(:name) IS NOT NULL", {"name": f"{self.schema}.km_schema_version"}
            )
            if not rows[0][0]:
                return 0
            return int(unit.query(f"SELECT COALESCE(MAX(version), 0) FROM {self.schema}.km_schema_version", {})[0][0])

    def ping(self) -> bool:
        try:
            with PostgresUnitOfWork(self) as unit:
                return unit.query("SELECT 1", {}) == [[1]]
        except StoreUnavailableError:
            return False

    def close(self) -> None:
        self.pool.close_all()


class PostgresUnitOfWork:
    def __init__(self, database: PostgresDatabase) -> None:
        self._database = database
        self._connection: pg.Connection | None = None
        self._broken = False
        self._in_transaction = False
        self.keys = SqlKeyRepository(self)
        self.trust = SqlTrustStore(self)
        self.zk = SqlZkKeyPool(self)
        self.licenses = SqlLicenseKeys(self)
        self.pq = SqlPqKeys(self)  # -- post-quantum hybrid (issue 18) --
        self.audit = SqlAuditTrail(self)

    def __enter__(self) -> PostgresUnitOfWork:
        self._connection, self._broken, self._in_transaction = None, False, False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            if self._connection is not None:
                self._database.pool.release(self._connection, broken=self._broken)
                self._connection = None

    # -- the SqlUnit protocol -------------------------------------------------------------

    def _run(self, sql: str, params: dict[str, Any]) -> list[Any]:
        # A pooled connection may have died while idle (server restart): outside a
        # transaction nothing is lost by retrying once on a fresh connection.
        for attempt in (1, 2):
            if self._connection is None:
                try:
                    self._connection = self._database.pool.acquire()
                except PoolExhausted:
                    raise StoreUnavailableError() from None
            try:
                self._database.round_trips += 1
                return self._connection.run(sql, **params) or []
            except Exception as error:
                if not is_connection_error(error):
                    raise
                self._database.pool.release(self._connection, broken=True)
                self._connection = None
                # No retry inside a transaction (its work is lost) nor after a timeout: a
                # server that does not answer would make the caller wait twice as long.
                if self._in_transaction or attempt == 2 or _timed_out(error):
                    self._in_transaction = False
                    raise StoreUnavailableError() from None
        raise AssertionError("unreachable")

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._run(sql, params)]

    def write(self, sql: str, params: dict[str, Any]) -> None:
        self.begin_write()
        self._run(sql, params)

    def table(self, name: str) -> str:
        return f"{self._database.schema}.{name}"

    @staticmethod
    def to_db_time(instant: datetime) -> datetime:
        return instant.astimezone(UTC).replace(tzinfo=None)

    @staticmethod
    def from_db_time(value: datetime) -> datetime:
        return value.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)

    @staticmethod
    def binary_order(column: str) -> str:
        return f'{column} COLLATE "C"'

    @staticmethod
    def lower_of(column: str) -> str:
        return f"LOWER({column})"

    @staticmethod
    def date_of(column: str) -> str:
        return f"to_char({column}, 'YYYY-MM-DD')"

    # -- the UnitOfWork protocol ----------------------------------------------------------

    def begin_write(self) -> None:
        if not self._in_transaction:
            self._run("BEGIN", {})
            self._in_transaction = True

    def lock(self, key_tuple: KeyTuple) -> None:
        self.begin_write()
        self._run("SELECT pg_advisory_xact_lock(:k)", {"k": advisory_key(key_tuple)})

    def lock_audit(self) -> None:
        # Always the last lock a transaction takes (after any key tuple's): no lock-order deadlock.
        self.begin_write()
        self._run("SELECT pg_advisory_xact_lock(:k)", {"k": migrations.AUDIT_LOCK})

    def commit(self) -> None:
        if self._in_transaction:
            self._run("COMMIT", {})
            self._in_transaction = False
            self.audit.reset()

    def rollback(self) -> None:
        self.audit.reset()
        if self._in_transaction:
            self._in_transaction = False
            try:
                self._run("ROLLBACK", {})
            except StoreUnavailableError:
                self._broken = True


class PostgresUnitOfWorkFactory:
    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self.database)
