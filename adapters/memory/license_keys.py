"""In-memory licensekey_list, tsp_licensekey_map and licensekey_permission, staged like the key repository."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from domain.license_keys import LicenseKey

if TYPE_CHECKING:  # the store holds these tables; importing it here at run time would be circular
    from .key_repository import MemoryStore


@dataclass
class LicenseTables:
    """The three tables of one MemoryStore."""

    licenses: dict[str, LicenseKey] = field(default_factory=dict)
    tsp_map: set[tuple[str, str]] = field(default_factory=set)  # (tsp_id, license_key)
    permissions: dict[str, str | None] = field(default_factory=dict)

    def update(self, other: LicenseTables) -> None:
        self.licenses.update(other.licenses)
        self.tsp_map.update(other.tsp_map)
        self.permissions.update(other.permissions)

    def clear(self) -> None:
        self.licenses.clear()
        self.tsp_map.clear()
        self.permissions.clear()


class MemoryLicenseKeys:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.staged = LicenseTables()

    def _tables(self) -> LicenseTables:
        merged = LicenseTables()
        with self._store.data_lock:
            merged.update(self._store.licenses)
        merged.update(self.staged)
        return merged

    def license(self, license_key: str) -> LicenseKey | None:
        return self._tables().licenses.get(license_key)

    def exists(self, license_key: str) -> bool:
        return license_key in self._tables().licenses

    def add_license(self, license: LicenseKey) -> None:
        if self.exists(license.license_key):
            raise ValueError("duplicate licensekey_list row")
        self.staged.licenses[license.license_key] = license

    def map_to_tsp(self, tsp_id: str, license_key: str, at: datetime) -> None:
        if (tsp_id, license_key) in self._tables().tsp_map:
            raise ValueError("duplicate tsp_licensekey_map row")
        self.staged.tsp_map.add((tsp_id, license_key))

    def is_mapped(self, tsp_id: str, license_key: str) -> bool:
        return (tsp_id, license_key) in self._tables().tsp_map

    def permissions(self, license_key: str) -> str | None:
        return self._tables().permissions.get(license_key)

    def save_permissions(self, license_key: str, permissions: str, at: datetime) -> None:
        self.staged.permissions[license_key] = permissions

    def commit(self) -> None:
        """Apply the staged rows (the caller holds the store's data lock)."""
        self._store.licenses.update(self.staged)

    def clear(self) -> None:
        self.staged.clear()
