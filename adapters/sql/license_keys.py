"""licensekey_list, tsp_licensekey_map and licensekey_permission for any SQL unit of work.

Rows are written as the reference writes them (cr_by ``defaultadmin@mosip.io`` for the licence and
its permissions, ``SYSTEM`` for the TSP mapping, is_active TRUE), so the reference and this service
can share the tables. Reads ignore is_active / is_deleted, as the reference's do.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.license_keys import LicenseKey

from .key_repository import SYSTEM_USER, SqlUnit

#: The reference's LicenseKeyManagerPropertyConstants.DEFAULT_CREATED_BY.
LICENSE_USER = "defaultadmin@mosip.io"


class SqlLicenseKeys:
    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit
        self._list = unit.table("licensekey_list")
        self._map = unit.table("tsp_licensekey_map")
        self._permission = unit.table("licensekey_permission")

    def _time(self, value: Any) -> datetime | None:
        return None if value is None else self._unit.from_db_time(value)

    def license(self, license_key: str) -> LicenseKey | None:
        rows = self._unit.query(
            f"SELECT license_key, expiry_dtime, created_dtime, is_active FROM {self._list} WHERE license_key = :key",
            {"key": license_key},
        )
        if not rows:
            return None
        key, expires, created, active = rows[0]
        return LicenseKey(key, self._time(expires), self._time(created), bool(active))

    def exists(self, license_key: str) -> bool:
        return bool(self._unit.query(f"SELECT 1 FROM {self._list} WHERE license_key = :key", {"key": license_key}))

    def add_license(self, license: LicenseKey) -> None:
        at = self._unit.to_db_time(license.created_at) if license.created_at is not None else self._unit.now()
        self._unit.write(
            f"INSERT INTO {self._list} (license_key, created_dtime, expiry_dtime, is_active, cr_by, cr_dtimes,"
            " is_deleted) VALUES (:key, :created, :expires, :active, :by, :at, FALSE)",
            {"key": license.license_key, "created": at,
             "expires": None if license.expires_at is None else self._unit.to_db_time(license.expires_at),
             "active": license.active, "by": LICENSE_USER, "at": at},
        )

    def map_to_tsp(self, tsp_id: str, license_key: str, at: datetime) -> None:
        self._unit.write(
            f"INSERT INTO {self._map} (tsp_id, license_key, is_active, cr_by, cr_dtimes, is_deleted)"
            " VALUES (:tsp, :key, TRUE, :by, :at, FALSE)",
            {"tsp": tsp_id, "key": license_key, "by": SYSTEM_USER, "at": self._unit.to_db_time(at)},
        )

    def is_mapped(self, tsp_id: str, license_key: str) -> bool:
        return bool(self._unit.query(
            f"SELECT 1 FROM {self._map} WHERE tsp_id = :tsp AND license_key = :key",
            {"tsp": tsp_id, "key": license_key},
        ))

    def _permission_rows(self, license_key: str) -> list[tuple[Any, ...]]:
        return self._unit.query(
            f"SELECT permission FROM {self._permission} WHERE license_key = :key", {"key": license_key}
        )

    def permissions(self, license_key: str) -> str | None:
        rows = self._permission_rows(license_key)
        return rows[0][0] if rows else None

    def save_permissions(self, license_key: str, permissions: str, at: datetime) -> None:
        params = {"key": license_key, "permission": permissions, "by": LICENSE_USER, "at": self._unit.to_db_time(at)}
        if self._permission_rows(license_key):
            self._unit.write(
                f"UPDATE {self._permission} SET permission = :permission, upd_by = :by, upd_dtimes = :at"
                " WHERE license_key = :key",
                params,
            )
        else:
            self._unit.write(
                f"INSERT INTO {self._permission} (license_key, permission, is_active, cr_by, cr_dtimes, is_deleted)"
                " VALUES (:key, :permission, TRUE, :by, :at, FALSE)",
                params,
            )
