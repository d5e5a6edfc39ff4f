"""km_pq_key for any SQL unit of work (issue 18, ADR 0023): our own table, beside the reference's."""
from __future__ import annotations

from typing import Any

from domain.codec import b64url_decode, b64url_encode
from domain.pq_envelope import PqKey

from .key_repository import SYSTEM_USER, SqlUnit

_COLUMNS = "id, key_alias_id, master_key, public_key, private_key"


class SqlPqKeys:
    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit
        self._table = unit.table("km_pq_key")

    @staticmethod
    def _to_key(row: tuple[Any, ...]) -> PqKey:
        key_id, rsa_alias, master_alias, public_key, private_key = row
        return PqKey(key_id, rsa_alias, master_alias, b64url_decode(public_key), private_key)

    def _one(self, column: str, value: str) -> PqKey | None:
        rows = self._unit.query(f"SELECT {_COLUMNS} FROM {self._table} WHERE {column} = :value", {"value": value})
        return self._to_key(rows[0]) if rows else None

    def for_rsa_alias(self, rsa_alias: str) -> PqKey | None:
        return self._one("key_alias_id", rsa_alias)

    def by_key_id(self, key_id: str) -> PqKey | None:
        return self._one("id", key_id)

    def add(self, key: PqKey) -> None:
        self._unit.write(
            f"INSERT INTO {self._table} ({_COLUMNS}, algorithm, cr_by, cr_dtimes)"
            " VALUES (:id, :alias, :master, :public, :private, 'ML-KEM-768', :by, :at)",
            {"id": key.key_id, "alias": key.rsa_alias, "master": key.master_alias,
             "public": b64url_encode(key.public_key), "private": key.private_key, "by": SYSTEM_USER,
             "at": self._unit.now()},
        )
