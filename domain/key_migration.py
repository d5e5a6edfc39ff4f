"""Key migration (mosip-api.md §9): the statuses it answers and the temporary key of ZK migrations.

Moving keys in from another Key Manager deployment: base keys arrive already wrapped for this
deployment's master key of their application (or as certificates only, ``NA``); ZK pool keys
arrive RSA-OAEP-encrypted to a short-lived temporary key pair held in this deployment's keystore.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .keys import KeyAlias, KeyTuple

#: The reference's KeyMigratorConstants statuses, word for word.
MIGRATION_SUCCESS = "Migration Success"
MIGRATION_NOT_ALLOWED = "Migration Not Allowed. Valid Key Exists."
MIGRATION_FAILED = "Error in Migration"

#: The temporary RSA-2048 key ZK pool keys are encrypted to: a keystore key pair with a
#: self-signed certificate, no key policy (so no pre-expiry window), valid one day.
ZK_TEMP_KEY = KeyTuple("KEY_MIGRATE", "ZK_TEMP_KEY")
ZK_TEMP_KEY_COMMON_NAME = "ZKKeysSelfSignedKey"
ZK_TEMP_KEY_VALIDITY = timedelta(days=1)

#: key_store.private_key is VARCHAR(2500) in the reference's schema (mosip-crypto.md §8.1).
PRIVATE_KEY_COLUMN_CHARS = 2500


def current_alongside(
    not_before: datetime, not_after: datetime, existing: list[KeyAlias], at: datetime, window: int
) -> KeyAlias | None:
    """An existing key of the tuple that is current, from now on, at some instant the migrated
    key would be current too (both current: the tuple has no unique key any more)."""
    pre_expiry = timedelta(days=window)
    start, end = max(not_before, at), not_after - pre_expiry
    if start > end:
        return None
    for alias in existing:
        if alias.expires_at < alias.generated_at:
            continue  # revoked as it was made: never current
        other_start, other_end = max(alias.generated_at, at), alias.expires_at - pre_expiry
        if other_start <= other_end and other_start <= end and start <= other_end:
            return alias
    return None
