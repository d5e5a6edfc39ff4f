from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.keys.symmetric import SymmetricKeys
from application.ports.clock import Clock
from domain.keys import KeyTuple
from domain.zk import SYMMETRIC_KEY_VALIDITY_DAYS


@dataclass(frozen=True)
class GenerateSymmetricKeyCommand:
    app_id: str
    ref_id: str
    force: bool = False


@dataclass(frozen=True)
class SymmetricKeyResult:
    status: str  # "Generation Success" or "Key Exists."
    timestamp: datetime


class GenerateSymmetricKey:
    """generateSymmetricKey: an AES-256 key in the keystore for (app, ref), valid 3650 days;
    "Key Exists." when one is current, unless ``force`` expires it first. No key policy is
    needed (as the reference); its main use is the ZK master key KERNEL/IDENTITY_CACHE."""

    def __init__(self, symmetric_keys: SymmetricKeys, clock: Clock) -> None:
        self.symmetric_keys = symmetric_keys
        self.clock = clock

    def execute(self, command: GenerateSymmetricKeyCommand) -> SymmetricKeyResult:
        key_tuple = KeyTuple(command.app_id.strip(), command.ref_id.strip())
        status = self.symmetric_keys.ensure(key_tuple, SYMMETRIC_KEY_VALIDITY_DAYS, force=command.force)
        return SymmetricKeyResult(status, self.clock.now())
