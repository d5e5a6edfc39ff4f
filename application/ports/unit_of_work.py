"""Unit of work: a key's alias row, wrapped private key, certificate and the audit record of
its creation are written together or not at all. Rolls back unless ``commit()`` is called."""
from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from domain.keys import KeyTuple

from .audit_log import AuditTrail
from .key_repository import KeyRepository
from .license_keys import LicenseKeyRepository
from .pq_keys import PqKeyRepository  # -- post-quantum hybrid (issue 18) --
from .trust_store import TrustStoreRepository
from .zk_pool import ZkKeyPoolRepository


class UnitOfWork(Protocol):
    keys: KeyRepository
    trust: TrustStoreRepository
    zk: ZkKeyPoolRepository
    licenses: LicenseKeyRepository
    pq: PqKeyRepository  # -- post-quantum hybrid (issue 18) --
    audit: AuditTrail

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def lock(self, key_tuple: KeyTuple) -> None:
        """Serialise key creation for ``key_tuple`` with every other process and
        instance sharing the store, until this unit ends. Call before reading
        what the decision depends on."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
