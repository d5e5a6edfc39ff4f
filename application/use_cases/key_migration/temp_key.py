"""The temporary key of ZK migrations (KEY_MIGRATE / ZK_TEMP_KEY): a keystore key pair, found like
any key of a tuple (no key policy: current from generation to expiry, no pre-expiry window)."""
from __future__ import annotations

from datetime import datetime

from application.keys.hierarchy import KeyHierarchy
from application.ports.key_repository import KeyRepository
from domain.errors import Errors, KeyManagerError
from domain.key_migration import ZK_TEMP_KEY
from domain.keys import KeyAlias


def temp_key_aliases(
    hierarchy: KeyHierarchy, keys: KeyRepository, at: datetime
) -> tuple[list[KeyAlias], KeyAlias | None]:
    """(every temporary key, oldest first; the current one or None); KER-KMS-003 for several current."""
    every, current = hierarchy.aliases(keys, ZK_TEMP_KEY, at)
    if len(current) > 1:
        raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
    return every, (current[0] if current else None)
