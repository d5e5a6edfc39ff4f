"""SQLite key repository and unit of work (the embedded default store).

Reads run without a transaction; the first write, or ``lock()``, opens a
``BEGIN IMMEDIATE`` transaction, which SQLite serialises across every process
sharing the file: that is what makes "exactly one current key" hold.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from domain.errors import StoreUnavailableError
from domain.keys import KeyAlias, KeyPolicy, KeyTuple, StoredKey

from . import schema

SYSTEM_USER = "SYSTEM"
_ALIAS_COLUMNS = "id, app_id, ref_id, key_gen_dtimes, key_expire_dtimes, cert_thumbprint, uni_ident"
_LIVE = "COALESCE(is_deleted, 0) = 0"


class SqliteDatabase:
    """One database file; one connection per thread (and per process after a fork)."""

    def __init__(self, path: Path, busy_timeout_ms: int = 30000) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout_ms / 1000)
            connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")  # key material: durable on power loss too
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def upgrade(self) -> list[int]:
        try:
            return schema.upgrade(self.connection())
        except sqlite3.OperationalError:
            raise StoreUnavailableError() from None

    def schema_version(self) -> int:
        return schema.current_version(self.connection())


def _alias_from_row(row: tuple[Any, ...]) -> KeyAlias:
    alias, app_id, ref_id, generated, expires, thumbprint, uni_ident = row
    return KeyAlias(
        alias=alias,
        key_tuple=KeyTuple(app_id, ref_id or ""),
        generated_at=schema.parse_timestamp(generated),
        expires_at=schema.parse_timestamp(expires),
        thumbprint=thumbprint,
        uni_ident=uni_ident,
    )


class SqliteKeyRepository:
    def __init__(self, unit: "SqliteUnitOfWork") -> None:
        self._unit = unit

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._unit.execute(sql, params).fetchall()

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        self._unit.begin_write()
        self._unit.execute(sql, params)

    def policy(self, app_id: str) -> KeyPolicy | None:
        rows = self._query(
            "SELECT app_id, key_validity_duration, pre_expire_days, access_allowed, is_active"
            f" FROM key_policy_def WHERE app_id = ? AND {_LIVE}",
            (app_id,),
        )
        if not rows:
            return None
        app, validity, pre_expire, access, active = rows[0]
        return KeyPolicy(app, int(validity or 0), int(pre_expire or 0), access, bool(active))

    def save_policy(self, policy: KeyPolicy) -> None:
        self._write(
            "INSERT INTO key_policy_def (app_id, key_validity_duration, is_active, pre_expire_days, access_allowed,"
            " cr_by, cr_dtimes) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app_id) DO UPDATE SET"
            " key_validity_duration = excluded.key_validity_duration, is_active = excluded.is_active,"
            " pre_expire_days = excluded.pre_expire_days, access_allowed = excluded.access_allowed,"
            " upd_by = excluded.cr_by, upd_dtimes = excluded.cr_dtimes",
            (policy.app_id, policy.validity_days, int(policy.is_active), policy.pre_expire_days,
             policy.access_allowed, SYSTEM_USER, self._unit.now()),
        )

    def aliases_for(self, key_tuple: KeyTuple) -> list[KeyAlias]:
        rows = self._query(
            f"SELECT {_ALIAS_COLUMNS} FROM key_alias WHERE app_id = ? AND COALESCE(ref_id, '') = ? AND {_LIVE}"
            " ORDER BY key_gen_dtimes",
            (key_tuple.app_id, key_tuple.ref_id),
        )
        return [_alias_from_row(r) for r in rows]

    def aliases_with_thumbprint(self, thumbprint_hex: str) -> list[KeyAlias]:
        rows = self._query(
            f"SELECT {_ALIAS_COLUMNS} FROM key_alias WHERE cert_thumbprint = ? AND {_LIVE}", (thumbprint_hex,)
        )
        return [_alias_from_row(r) for r in rows]

    def all_aliases(self) -> list[KeyAlias]:
        rows = self._query(
            f"SELECT {_ALIAS_COLUMNS} FROM key_alias WHERE {_LIVE} ORDER BY app_id, ref_id, key_gen_dtimes"
        )
        return [_alias_from_row(r) for r in rows]

    def add_alias(self, alias: KeyAlias) -> None:
        self._write(
            "INSERT INTO key_alias (id, app_id, ref_id, key_gen_dtimes, key_expire_dtimes, cert_thumbprint,"
            " uni_ident, cr_by, cr_dtimes, is_deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (alias.alias, alias.app_id, alias.ref_id, schema.format_timestamp(alias.generated_at),
             schema.format_timestamp(alias.expires_at), alias.thumbprint, alias.uni_ident, SYSTEM_USER,
             self._unit.now()),
        )

    def set_expiry(self, alias: str, expires_at: datetime) -> None:
        self._write(
            "UPDATE key_alias SET key_expire_dtimes = ?, upd_by = ?, upd_dtimes = ? WHERE id = ?",
            (schema.format_timestamp(expires_at), SYSTEM_USER, self._unit.now(), alias),
        )

    def uni_ident_exists(self, uni_ident: str) -> bool:
        return bool(self._query("SELECT 1 FROM key_alias WHERE uni_ident = ?", (uni_ident,)))

    def stored_key(self, alias: str) -> StoredKey | None:
        rows = self._query(
            f"SELECT id, master_key, private_key, certificate_data FROM key_store WHERE id = ? AND {_LIVE}", (alias,)
        )
        return StoredKey(*rows[0]) if rows else None

    def add_stored_key(self, stored: StoredKey) -> None:
        self._write(
            "INSERT INTO key_store (id, master_key, private_key, certificate_data, cr_by, cr_dtimes, is_deleted)"
            " VALUES (?, ?, ?, ?, ?, ?, 0)",
            (stored.alias, stored.master_alias, stored.private_key, stored.certificate_pem, SYSTEM_USER,
             self._unit.now()),
        )


class SqliteUnitOfWork:
    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._connection: sqlite3.Connection | None = None
        self._in_transaction = False
        self.keys = SqliteKeyRepository(self)

    def __enter__(self) -> "SqliteUnitOfWork":
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

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        assert self._connection is not None, "use the unit of work in a with-block"
        try:
            return self._connection.execute(sql, params)
        except sqlite3.OperationalError:
            # locked past the busy timeout, disk I/O error, unreadable file
            raise StoreUnavailableError() from None

    def begin_write(self) -> None:
        if not self._in_transaction:
            self.execute("BEGIN IMMEDIATE")
            self._in_transaction = True

    def lock(self, key_tuple: KeyTuple) -> None:
        self.begin_write()

    def commit(self) -> None:
        if self._in_transaction:
            self.execute("COMMIT")
            self._in_transaction = False

    def rollback(self) -> None:
        if self._in_transaction:
            self._in_transaction = False
            try:
                self.execute("ROLLBACK")
            except StoreUnavailableError:
                pass

    @staticmethod
    def now() -> str:
        return schema.format_timestamp(datetime.now().astimezone())


class SqliteUnitOfWorkFactory:
    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database

    def __call__(self) -> SqliteUnitOfWork:
        return SqliteUnitOfWork(self.database)

