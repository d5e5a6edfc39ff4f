from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.keys.hierarchy import KeyHierarchy, used_key
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import Errors, KeyManagerError
from domain.keys import KERNEL, SIGN, KeyTuple


@dataclass(frozen=True)
class RevokeKeyCommand:
    app_id: str
    ref_id: str
    disable_auto_gen: bool = False  # accepted and ignored, as the reference does


@dataclass(frozen=True)
class RevokeKeyResult:
    status: str
    timestamp: datetime


class RevokeKey:
    """Expire the current key of (app, ref) now; the next use creates its successor.
    Data encrypted to the revoked key still decrypts."""

    def __init__(self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock

    def execute(self, command: RevokeKeyCommand) -> RevokeKeyResult:
        if not command.app_id.strip() or not command.ref_id.strip():
            raise KeyManagerError(Errors.INVALID_REQUEST)
        if command.app_id.upper() == KERNEL and command.ref_id.upper() == SIGN:
            raise KeyManagerError(Errors.REVOKE_NOT_ALLOWED)
        key_tuple = KeyTuple(command.app_id, command.ref_id)
        with self.uow_factory() as uow:
            uow.lock(key_tuple)
            at = self.clock.now()  # after the lock: see keys made while we waited as current
            _, current = self.hierarchy.aliases(uow.keys, key_tuple, at)
            if len(current) != 1:
                raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
            used_key.set(current[0])
            self.hierarchy.expire_now(uow.keys, current, at)
            uow.commit()
        return RevokeKeyResult(status="Key Revoked", timestamp=self.clock.now())
