"""The key repository over the reference's tables, for any SQL unit of work.

The SQL is written once with named parameters (``:name``), which both sqlite3
and pg8000's native API accept. A unit of work supplies the dialect's pieces:
table names (PostgreSQL qualifies them with a schema), timestamp conversion,
and where a write transaction begins.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from domain.keys import KeyAlias, KeyPolicy, KeyTuple, StoredKey

SYSTEM_USER = "SYSTEM"
_ALIAS_COLUMNS = "id, app_id, ref_id, key_gen_dtimes, key_expire_dtimes, cert_thumbprint, uni_ident"
_LIVE = "COALESCE(is_deleted, FALSE) = FALSE"


class SqlUnit(Protocol):
    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a read (inside the unit's transaction if one is open)."""

    def write(self, sql: str, params: dict[str, Any]) -> None:
        """Run a write, opening the unit's write transaction first if needed."""

    def table(self, name: str) -> str:
        """The (possibly schema-qualified) name of a reference table."""

    def to_db_time(self, instant: datetime) -> Any: ...

    def from_db_time(self, value: Any) -> datetime: ...

    def now(self) -> Any:
        """The audit timestamp (cr_dtimes / upd_dtimes) in the database's format."""

    def date_of(self, column: str) -> str:
        """An SQL expression giving a timestamp column's date as 'YYYY-MM-DD' text."""

    def binary_order(self, column: str) -> str:
        """A text column ordered by code point, whatever the database's collation."""

    def lower_of(self, column: str) -> str:
        """An SQL expression giving a text column in lower case, for every script (not ASCII only)."""


class SqlKeyRepository:
    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit
        self._alias = unit.table("key_alias")
        self._store = unit.table("key_store")
        self._policy = unit.table("key_policy_def")
        self._retired = unit.table("km_key_thumbprint")

    def _to_alias(self, row: tuple[Any, ...]) -> KeyAlias:
        alias, app_id, ref_id, generated, expires, thumbprint, uni_ident = row
        return KeyAlias(
            alias=alias,
            key_tuple=KeyTuple(app_id, ref_id or ""),
            generated_at=self._unit.from_db_time(generated),
            expires_at=self._unit.from_db_time(expires),
            thumbprint=thumbprint,
            uni_ident=uni_ident,
        )

    def policy(self, app_id: str) -> KeyPolicy | None:
        rows = self._unit.query(
            "SELECT app_id, key_validity_duration, pre_expire_days, access_allowed, is_active"
            f" FROM {self._policy} WHERE app_id = :app AND {_LIVE}",
            {"app": app_id},
        )
        if not rows:
            return None
        app, validity, pre_expire, access, active = rows[0]
        return KeyPolicy(app, int(validity or 0), int(pre_expire or 0), access, bool(active))

    def policies(self) -> list[KeyPolicy]:
        rows = self._unit.query(
            "SELECT app_id, key_validity_duration, pre_expire_days, access_allowed, is_active"
            f" FROM {self._policy} WHERE {_LIVE} ORDER BY {self._unit.binary_order('app_id')}",
            {},
        )
        return [KeyPolicy(app, int(validity or 0), int(pre or 0), access, bool(active))
                for app, validity, pre, access, active in rows]

    def save_policy(self, policy: KeyPolicy) -> None:
        self._unit.write(
            f"INSERT INTO {self._policy} (app_id, key_validity_duration, is_active, pre_expire_days,"
            " access_allowed, cr_by, cr_dtimes, is_deleted)"
            " VALUES (:app, :validity, :active, :pre, :access, :by, :at, FALSE)"
            " ON CONFLICT (app_id) DO UPDATE SET key_validity_duration = excluded.key_validity_duration,"
            " is_active = excluded.is_active, pre_expire_days = excluded.pre_expire_days,"
            " access_allowed = excluded.access_allowed, upd_by = excluded.cr_by, upd_dtimes = excluded.cr_dtimes,"
            " is_deleted = FALSE",
            {"app": policy.app_id, "validity": policy.validity_days, "active": bool(policy.is_active),
             "pre": policy.pre_expire_days, "access": policy.access_allowed, "by": SYSTEM_USER,
             "at": self._unit.now()},
        )

    def aliases_for(self, key_tuple: KeyTuple) -> list[KeyAlias]:
        rows = self._unit.query(
            f"SELECT {_ALIAS_COLUMNS} FROM {self._alias}"
            f" WHERE app_id = :app AND COALESCE(ref_id, '') = :ref AND {_LIVE} ORDER BY key_gen_dtimes",
            {"app": key_tuple.app_id, "ref": key_tuple.ref_id},
        )
        return [self._to_alias(r) for r in rows]

    def aliases_with_thumbprint(self, thumbprint_hex: str) -> list[KeyAlias]:
        rows = self._unit.query(
            f"SELECT {_ALIAS_COLUMNS} FROM {self._alias} WHERE cert_thumbprint = :tp AND {_LIVE}",
            {"tp": thumbprint_hex},
        )
        return [self._to_alias(r) for r in rows]

    def all_aliases(self) -> list[KeyAlias]:
        rows = self._unit.query(
            f"SELECT {_ALIAS_COLUMNS} FROM {self._alias} WHERE {_LIVE} ORDER BY app_id, ref_id, key_gen_dtimes", {}
        )
        return [self._to_alias(r) for r in rows]

    def add_alias(self, alias: KeyAlias) -> None:
        self._unit.write(
            f"INSERT INTO {self._alias} (id, app_id, ref_id, key_gen_dtimes, key_expire_dtimes, cert_thumbprint,"
            " uni_ident, cr_by, cr_dtimes, is_deleted)"
            " VALUES (:id, :app, :ref, :gen, :exp, :tp, :uni, :by, :at, FALSE)",
            {"id": alias.alias, "app": alias.app_id, "ref": alias.ref_id,
             "gen": self._unit.to_db_time(alias.generated_at), "exp": self._unit.to_db_time(alias.expires_at),
             "tp": alias.thumbprint, "uni": alias.uni_ident, "by": SYSTEM_USER, "at": self._unit.now()},
        )

    def set_expiry(self, alias: str, expires_at: datetime) -> None:
        self._unit.write(
            f"UPDATE {self._alias} SET key_expire_dtimes = :exp, upd_by = :by, upd_dtimes = :at WHERE id = :id",
            {"exp": self._unit.to_db_time(expires_at), "by": SYSTEM_USER, "at": self._unit.now(), "id": alias},
        )

    def update_alias(self, alias: KeyAlias) -> None:
        self._unit.write(
            f"UPDATE {self._alias} SET key_gen_dtimes = :gen, key_expire_dtimes = :exp, cert_thumbprint = :tp,"
            " uni_ident = :uni, upd_by = :by, upd_dtimes = :at WHERE id = :id",
            {"gen": self._unit.to_db_time(alias.generated_at), "exp": self._unit.to_db_time(alias.expires_at),
             "tp": alias.thumbprint, "uni": alias.uni_ident, "by": SYSTEM_USER, "at": self._unit.now(),
             "id": alias.alias},
        )

    def update_certificate(self, alias: str, certificate_pem: str) -> None:
        self._unit.write(
            f"UPDATE {self._store} SET certificate_data = :cert, upd_by = :by, upd_dtimes = :at WHERE id = :id",
            {"cert": certificate_pem, "by": SYSTEM_USER, "at": self._unit.now(), "id": alias},
        )

    def retire_thumbprint(self, thumbprint_hex: str, alias: str) -> None:
        self._unit.write(
            f"INSERT INTO {self._retired} (cert_thumbprint, key_alias_id, cr_dtimes) VALUES (:tp, :id, :at)"
            " ON CONFLICT (cert_thumbprint) DO NOTHING",
            {"tp": thumbprint_hex, "id": alias, "at": self._unit.now()},
        )

    def alias_with_retired_thumbprint(self, thumbprint_hex: str) -> KeyAlias | None:
        rows = self._unit.query(
            f"SELECT {', '.join('a.' + c.strip() for c in _ALIAS_COLUMNS.split(','))} FROM {self._retired} r"
            f" JOIN {self._alias} a ON a.id = r.key_alias_id WHERE r.cert_thumbprint = :tp",
            {"tp": thumbprint_hex},
        )
        return self._to_alias(rows[0]) if rows else None

    def uni_ident_exists(self, uni_ident: str) -> bool:
        return bool(self._unit.query(f"SELECT 1 FROM {self._alias} WHERE uni_ident = :uni", {"uni": uni_ident}))

    def stored_key(self, alias: str) -> StoredKey | None:
        rows = self._unit.query(
            f"SELECT id, master_key, private_key, certificate_data FROM {self._store} WHERE id = :id AND {_LIVE}",
            {"id": alias},
        )
        return StoredKey(*rows[0]) if rows else None

    def add_stored_key(self, stored: StoredKey) -> None:
        self._unit.write(
            f"INSERT INTO {self._store} (id, master_key, private_key, certificate_data, cr_by, cr_dtimes, is_deleted)"
            " VALUES (:id, :master, :key, :cert, :by, :at, FALSE)",
            {"id": stored.alias, "master": stored.master_alias, "key": stored.private_key,
             "cert": stored.certificate_pem, "by": SYSTEM_USER, "at": self._unit.now()},
        )
