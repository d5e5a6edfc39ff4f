"""Proactive rotation (issue 13): make the successor of every key that is due, before a request has to.

A key is due when it has entered its pre-expiry window (the reference's rule, domain/current_key.py): it is
no longer current, and the next request for its tuple would pay for RSA key generation. This use case asks
the hierarchy for each such tuple's current key, which creates the successor exactly as that request would:
under the tuple's lock, re-reading first, so two instances (or workers) running it at once make each successor
exactly once. Keys a request could never renew are left alone: secret keys (no certificate), other parties'
certificates (no private key) and tuples without a key policy.

``within``: also the keys that will be due within that time. Such a key is still current, and the reference's
rule allows one current key per tuple, so it is retired first (its expiry set to now, as a forced regeneration
does; it keeps decrypting) under the tuple's lock, and only if it is still the newest key: a second instance
that arrives later finds the successor and leaves it alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.keys.hierarchy import KeyHierarchy
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.current_key import by_tuple, current_aliases, pre_expire_days, sort_by_generation
from domain.errors import KeyManagerError
from domain.keys import RENEWED_BY_SIGNING, ROOT, KeyAlias, KeyTuple


@dataclass(frozen=True)
class Rotation:
    key_tuple: KeyTuple
    previous_alias: str
    new_alias: str | None  # the current key now (made here or, at the same moment, by another instance); None: failed
    error_code: str | None = None


class RotateDueKeys:
    def __init__(self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock

    def due(self, at: datetime) -> list[KeyAlias]:
        """The newest key of every renewable tuple that is no longer current at ``at``."""
        found = []
        with self.uow_factory() as uow:
            keys = uow.keys
            for key_tuple, rows in by_tuple(keys.all_aliases()).items():
                newest = rows[-1]
                if newest.thumbprint is None or keys.policy(key_tuple.app_id) is None:
                    continue  # a secret key, or nothing says how long a successor would live
                stored = keys.stored_key(newest.alias)
                if stored is not None and stored.is_other_domain:
                    continue  # another party's certificate: only they can renew it
                if not current_aliases(rows, at, pre_expire_days(key_tuple, keys.policy)):
                    found.append(newest)
        # ROOT, then the keys it issues, then base keys: each successor is issued by an issuer that is current.
        return sorted(found, key=lambda a: (a.key_tuple != KeyTuple(ROOT), not a.key_tuple.in_keystore, a.app_id,
                                            a.ref_id))

    def execute(self, within: timedelta = timedelta(0)) -> list[Rotation]:
        """Renew every key due now (or within ``within``); one failure does not stop the others. ROOT and the
        masters first: base keys are issued by them."""
        done = []
        now = self.clock.now()
        for previous in self.due(now + within):
            key_tuple = previous.key_tuple
            try:
                if within:
                    self._retire_if_newest(previous, now)
                key = self.hierarchy.current_key(key_tuple, signing=key_tuple.ref_id in RENEWED_BY_SIGNING)
            except KeyManagerError as error:
                done.append(Rotation(key_tuple, previous.alias, None, error.code))
                continue
            done.append(Rotation(key_tuple, previous.alias, key.alias.alias))
        return done

    def _retire_if_newest(self, previous: KeyAlias, now: datetime) -> None:
        hierarchy = self.hierarchy
        with self.uow_factory() as uow:
            uow.lock(previous.key_tuple)
            rows = uow.keys.aliases_for(previous.key_tuple)
            newest = sort_by_generation(rows)[-1]
            still_current = current_aliases([newest], now, pre_expire_days(previous.key_tuple, uow.keys.policy))
            if newest.alias == previous.alias and still_current:
                hierarchy.expire_now(uow.keys, [newest], now)
                uow.commit()
