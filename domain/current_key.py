"""The reference's rule for which key of a tuple is "current" at an instant.

A key is current at t when t == generated, t == expiry, or
generated < t < expiry - pre_expire_days. During its last pre_expire_days a key
is no longer current, so the next request creates its successor; the old key
keeps decrypting (thumbprint lookup ignores expiry).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from .keys import BASE_POLICY, DEFAULT_BASE_PRE_EXPIRE_DAYS, KeyAlias, KeyPolicy, KeyTuple


def pre_expire_days(key_tuple: KeyTuple, policy_of: Callable[[str], KeyPolicy | None]) -> int:
    """Which policy supplies the pre-expiry window, as the reference chooses it.

    Master-type keys use their application's own policy; every other key (base
    keys, other-domain certificates) uses the BASE policy (30 days when absent).
    An application without any policy gets 0.
    """
    own = policy_of(key_tuple.app_id)
    if own is None:
        return 0
    if key_tuple.is_master_tuple:
        return own.pre_expire_days
    base = policy_of(BASE_POLICY)
    return base.pre_expire_days if base is not None else DEFAULT_BASE_PRE_EXPIRE_DAYS


def is_current(alias: KeyAlias, at: datetime, pre_expire: int) -> bool:
    if alias.expires_at < alias.generated_at:
        # Revoked (or force-expired) in the instant it was made: expiry = now - 1 min
        # must not leave it current through the "t == generated" clause.
        return False
    if at == alias.generated_at or at == alias.expires_at:
        return True
    return alias.generated_at < at < alias.expires_at - timedelta(days=pre_expire)


def current_aliases(aliases: Iterable[KeyAlias], at: datetime, pre_expire: int) -> list[KeyAlias]:
    return [a for a in aliases if is_current(a, at, pre_expire)]


def sort_by_generation(aliases: Iterable[KeyAlias]) -> list[KeyAlias]:
    return sorted(aliases, key=lambda a: a.generated_at)


def by_tuple(aliases: Iterable[KeyAlias]) -> dict[KeyTuple, list[KeyAlias]]:
    """The aliases of each tuple, oldest generation first (the newest is the last)."""
    grouped: dict[KeyTuple, list[KeyAlias]] = {}
    for alias in sort_by_generation(aliases):
        grouped.setdefault(alias.key_tuple, []).append(alias)
    return grouped
