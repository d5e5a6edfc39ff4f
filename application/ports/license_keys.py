"""The licence key repository port: the reference's licensekey_list, tsp_licensekey_map and
licensekey_permission tables (mosip-crypto.md §8.1), reached through the unit of work."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.license_keys import LicenseKey


class LicenseKeyRepository(Protocol):
    def license(self, license_key: str) -> LicenseKey | None:
        """The licensekey_list row of this key (whatever its is_active / is_deleted, as the reference reads it)."""

    def exists(self, license_key: str) -> bool:
        """Whether licensekey_list holds this key."""

    def add_license(self, license: LicenseKey) -> None:
        """Insert a licensekey_list row (created_dtime and cr_dtimes: ``license.created_at``)."""

    def map_to_tsp(self, tsp_id: str, license_key: str, at: datetime) -> None:
        """Insert the tsp_licensekey_map row of (tsp_id, license_key)."""

    def is_mapped(self, tsp_id: str, license_key: str) -> bool:
        """Whether tsp_licensekey_map holds (tsp_id, license_key)."""

    def permissions(self, license_key: str) -> str | None:
        """The licence's comma-joined permissions; None when it has no licensekey_permission row
        (or a row whose permission is NULL)."""

    def save_permissions(self, license_key: str, permissions: str, at: datetime) -> None:
        """Insert or replace the licence's licensekey_permission row (upd_by / upd_dtimes on a replace).
        Read-modify-write callers hold ``UnitOfWork.lock`` on the licence first."""
