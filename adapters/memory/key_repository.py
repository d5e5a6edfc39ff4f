"""In-memory key repository and unit of work: for tests and throwaway runs.

Writes are staged in the unit and applied together on commit, so an abandoned
unit leaves nothing behind, like the database adapters.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from types import TracebackType

from domain.audit import AuditEvent, AuditRecord, seal
from domain.keys import DEFAULT_POLICIES, KeyAlias, KeyPolicy, KeyTuple, StoredKey
from domain.partner_trust import CaCertificateRecord, PartnerCertificateRecord
from domain.zk import ZkPoolRow

from .license_keys import LicenseTables, MemoryLicenseKeys
from .pq_keys import MemoryPqKeys, PqKeyTable  # -- post-quantum hybrid (issue 18) --
from .trust_store import MemoryTrustStore
from .zk_pool import MemoryZkKeyPool


class MemoryStore:
    """The shared state every unit of work of one process reads and commits to."""

    def __init__(self, seed_default_policies: bool = True) -> None:
        self.policies: dict[str, KeyPolicy] = {}
        self.aliases: dict[str, KeyAlias] = {}
        self.stored: dict[str, StoredKey] = {}
        self.retired_thumbprints: dict[str, str] = {}
        self.ca_certificates: dict[str, CaCertificateRecord] = {}
        self.partner_certificates: dict[str, PartnerCertificateRecord] = {}
        self.trust_version = 0  # bumped by every commit that adds CA rows
        self.zk_pool: dict[int, ZkPoolRow] = {}
        self.licenses = LicenseTables()  # licensekey_list, tsp_licensekey_map, licensekey_permission
        self.pq_keys = PqKeyTable()  # -- post-quantum hybrid (issue 18) -- km_pq_key
        self.audit_records: list[AuditRecord] = []  # the audit chain (MemoryAuditLog reads it)
        self.data_lock = threading.Lock()
        # One creation lock for the whole store: simple, and deadlock-free.
        self.creation_lock = threading.RLock()
        if seed_default_policies:
            self.policies.update({p.app_id: p for p in DEFAULT_POLICIES})


class MemoryKeyRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.staged_policies: dict[str, KeyPolicy] = {}
        self.staged_aliases: dict[str, KeyAlias] = {}
        self.staged_stored: dict[str, StoredKey] = {}
        self.staged_retired: dict[str, str] = {}

    def _aliases(self) -> dict[str, KeyAlias]:
        with self._store.data_lock:
            merged = dict(self._store.aliases)
        merged.update(self.staged_aliases)
        return merged

    def policy(self, app_id: str) -> KeyPolicy | None:
        if app_id in self.staged_policies:
            return self.staged_policies[app_id]
        with self._store.data_lock:
            return self._store.policies.get(app_id)

    def save_policy(self, policy: KeyPolicy) -> None:
        self.staged_policies[policy.app_id] = policy

    def policies(self) -> list[KeyPolicy]:
        with self._store.data_lock:
            merged = dict(self._store.policies)
        merged.update(self.staged_policies)
        return [merged[app] for app in sorted(merged)]

    def aliases_for(self, key_tuple: KeyTuple) -> list[KeyAlias]:
        return sorted(
            (a for a in self._aliases().values() if a.key_tuple == key_tuple), key=lambda a: a.generated_at
        )

    def aliases_with_thumbprint(self, thumbprint_hex: str) -> list[KeyAlias]:
        return [a for a in self._aliases().values() if a.thumbprint == thumbprint_hex]

    def all_aliases(self) -> list[KeyAlias]:
        return sorted(self._aliases().values(), key=lambda a: (a.app_id, a.ref_id, a.generated_at))

    def add_alias(self, alias: KeyAlias) -> None:
        if alias.alias in self._aliases():
            raise ValueError(f"duplicate alias {alias.alias}")
        if alias.uni_ident and self.uni_ident_exists(alias.uni_ident):
            raise ValueError("duplicate uni_ident")
        self.staged_aliases[alias.alias] = alias

    def set_expiry(self, alias: str, expires_at: datetime) -> None:
        current = self._aliases()[alias]
        self.staged_aliases[alias] = replace(current, expires_at=expires_at)

    def update_alias(self, alias: KeyAlias) -> None:
        if alias.alias not in self._aliases():
            raise KeyError(alias.alias)
        self.staged_aliases[alias.alias] = alias

    def update_certificate(self, alias: str, certificate_pem: str) -> None:
        stored = self.stored_key(alias)
        if stored is None:
            raise KeyError(alias)
        self.staged_stored[alias] = replace(stored, certificate_pem=certificate_pem)

    def retire_thumbprint(self, thumbprint_hex: str, alias: str) -> None:
        self.staged_retired[thumbprint_hex] = alias

    def alias_with_retired_thumbprint(self, thumbprint_hex: str) -> KeyAlias | None:
        with self._store.data_lock:
            alias = self._store.retired_thumbprints.get(thumbprint_hex)
        alias = self.staged_retired.get(thumbprint_hex, alias)
        return self._aliases().get(alias) if alias else None

    def uni_ident_exists(self, uni_ident: str) -> bool:
        return any(a.uni_ident == uni_ident for a in self._aliases().values())

    def stored_key(self, alias: str) -> StoredKey | None:
        if alias in self.staged_stored:
            return self.staged_stored[alias]
        with self._store.data_lock:
            return self._store.stored.get(alias)

    def add_stored_key(self, stored: StoredKey) -> None:
        self.staged_stored[stored.alias] = stored


def seal_onto(store: MemoryStore, events: list[tuple[AuditEvent, datetime]]) -> list[AuditRecord]:
    """Append to the store's chain; the caller holds ``store.data_lock``."""
    records = []
    for event, at in events:
        head = store.audit_records[-1] if store.audit_records else None
        records.append(seal(head, event, at))
        store.audit_records.append(records[-1])
    return records


class MemoryAuditTrail:
    """Audit records staged in a unit of work, chained when it commits."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.staged: list[tuple[AuditEvent, datetime]] = []

    def append(self, event: AuditEvent, at: datetime) -> AuditRecord:
        self.staged.append((event, at))
        with self._store.data_lock:  # provisional: the sequence is fixed when the unit commits
            head = self._store.audit_records[-1] if self._store.audit_records else None
        return seal(head, event, at)


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.keys = MemoryKeyRepository(store)
        self.trust = MemoryTrustStore(store)
        self.zk = MemoryZkKeyPool(store)
        self.licenses = MemoryLicenseKeys(store)
        self.pq = MemoryPqKeys(store.pq_keys)  # -- post-quantum hybrid (issue 18) --
        self.audit = MemoryAuditTrail(store)
        self._locked = False

    def __enter__(self) -> MemoryUnitOfWork:
        self.keys = MemoryKeyRepository(self._store)
        self.trust = MemoryTrustStore(self._store)
        self.zk = MemoryZkKeyPool(self._store)
        self.licenses = MemoryLicenseKeys(self._store)
        self.pq = MemoryPqKeys(self._store.pq_keys)  # -- post-quantum hybrid (issue 18) --
        self.audit = MemoryAuditTrail(self._store)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        if self._locked:
            self._locked = False
            self._store.creation_lock.release()

    def lock(self, key_tuple: KeyTuple) -> None:
        if not self._locked:
            self._store.creation_lock.acquire()
            self._locked = True

    def commit(self) -> None:
        with self._store.data_lock:
            self._store.policies.update(self.keys.staged_policies)
            self._store.aliases.update(self.keys.staged_aliases)
            self._store.stored.update(self.keys.staged_stored)
            self._store.retired_thumbprints.update(self.keys.staged_retired)
            self.trust.commit()
            self._store.zk_pool.update(self.zk.staged)
            self.licenses.commit()
            self.pq.commit()  # -- post-quantum hybrid (issue 18) --
            seal_onto(self._store, self.audit.staged)
        self.rollback()

    def rollback(self) -> None:
        self.keys.staged_policies.clear()
        self.keys.staged_aliases.clear()
        self.keys.staged_stored.clear()
        self.keys.staged_retired.clear()
        self.trust.clear()
        self.zk.staged.clear()
        self.licenses.clear()
        self.pq.clear()  # -- post-quantum hybrid (issue 18) --
        self.audit.staged.clear()


class MemoryUnitOfWorkFactory:
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)
