"""AES keys held in the keystore (generateSymmetricKey, the ZK master key): a key_alias row
without certificate, thumbprint or unique identifier, and the key itself in the keystore."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from application.keys.hierarchy import KeyHierarchy
from application.ports.clock import Clock
from application.ports.keystore import Keystore, KeystoreError
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import Errors, KeyManagerError
from domain.keys import KeyAlias, KeyTuple

GENERATED = "Generation Success"
EXISTS = "Key Exists."


class SymmetricKeys:
    def __init__(
        self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock, keystore: Keystore
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock
        self.keystore = keystore

    def current_aliases(self, uow: UnitOfWork, key_tuple: KeyTuple, at: datetime) -> list[KeyAlias]:
        return self.hierarchy.aliases(uow.keys, key_tuple, at)[1]

    def ensure(self, key_tuple: KeyTuple, validity_days: int, *, force: bool = False) -> str:
        """Make the tuple's AES key unless one is current (``force``: expire it and make a new
        one). Serialised per tuple across processes; KER-KMS-003 for more than one current key."""
        hierarchy = self.hierarchy
        now = self.clock.now()
        with self.uow_factory() as uow:
            uow.lock(key_tuple)
            current = self.current_aliases(uow, key_tuple, now)
            if len(current) > 1 and not force:
                raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
            if current and not force:
                return EXISTS
            hierarchy.expire_now(uow.keys, current, now)
            with hierarchy.keystore_rollback() as created:
                alias = str(uuid.uuid4())
                try:
                    self.keystore.generate_secret_key(alias)
                except KeystoreError:
                    raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
                created.append(alias)
                record = KeyAlias(alias, key_tuple, now, now + timedelta(days=validity_days))
                hierarchy.note_created(uow, record)
                uow.keys.add_alias(record)
                uow.commit()
        return GENERATED
