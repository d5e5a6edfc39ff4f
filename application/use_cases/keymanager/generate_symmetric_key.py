from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.keys.symmetric import SymmetricKeys
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

    def __init__(self, symmetric_keys: SymmetricKeys) -> None:
        self.symmetric_keys = symmetric_keys

    def execute(self, command: GenerateSymmetricKeyCommand) -> SymmetricKeyResult:
        key_tuple = KeyTuple(command.app_id.strip(), command.ref_id.strip())
        status = self.symmetric_keys.ensure(key_tuple, SYMMETRIC_KEY_VALIDITY_DAYS, force=command.force)
        return SymmetricKeyResult(status, self.symmetric_keys.hierarchy.clock.now())
