from __future__ import annotations

from dataclasses import dataclass

from application.keys.hierarchy import KeyHierarchy
from application.keys.zk import RANDOM_KEY_BYTES, ZkKeys, key_check
from application.ports.clock import Clock
from application.ports.keystore import Keystore, KeystoreError, PrivateKeyOperationError
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.codec import b64_decode_lenient
from domain.errors import Errors, KeyManagerError
from domain.key_migration import MIGRATION_FAILED, MIGRATION_NOT_ALLOWED, MIGRATION_SUCCESS
from domain.zk import POOL_LOCK, ZK_MASTER, ZkPoolRow

from .temp_key import temp_key_aliases


@dataclass(frozen=True)
class ZkKeyData:
    key_index: int
    encrypted_key_data: str | None  # base64url(RSA-OAEP-SHA256(temporary key, raw random key))


@dataclass(frozen=True)
class MigrateZkKeysCommand:
    keys: list[ZkKeyData]
    purge_temp_key: bool = False


@dataclass(frozen=True)
class ZkKeyStatus:
    key_index: int
    status: str


@dataclass(frozen=True)
class MigrateZkKeysResult:
    statuses: list[ZkKeyStatus]
    temp_key_alias: str  # for the audit trail
    temp_key_thumbprint: str | None


class MigrateZkKeys:
    """migrateZKKeys: ZK pool keys of another deployment, each encrypted to the temporary key
    (getZKTempCertificate), become pool rows here: opened with the temporary key, wrapped with this
    deployment's ZK master key (standard base64 of AES-ECB, the reference's row format) under the
    same index, status Active. Each key answers "Migration Success", "Error in Migration" (it does
    not open to a 32-byte key) or "Migration Not Allowed. Valid Key Exists." (the index is taken,
    also by an earlier key of the same request). ``purge_temp_key`` expires the temporary key and
    removes it from the keystore afterwards.

    As in the reference: a current temporary key and a current ZK master key are required
    (KER-KMS-003). Deliberate differences: the whole request is one transaction under the pool's
    lock (two migrations of one index cannot both insert it); a key that is not base64 is "Error in
    Migration" for that key alone (the reference fails the request); the rows carry our check value
    (application/keys/zk.py), so a wrong master key is detected when they are used.
    """

    def __init__(
        self,
        hierarchy: KeyHierarchy,
        zk_keys: ZkKeys,
        uow_factory: UnitOfWorkFactory,
        keystore: Keystore,
        clock: Clock,
    ) -> None:
        self.hierarchy = hierarchy
        self.zk_keys = zk_keys
        self.uow_factory = uow_factory
        self.keystore = keystore
        self.clock = clock

    def execute(self, command: MigrateZkKeysCommand) -> MigrateZkKeysResult:
        with self.uow_factory() as uow:
            uow.lock(POOL_LOCK)
            at = self.clock.now()
            _, temp_key = temp_key_aliases(self.hierarchy, uow.keys, at)
            _, masters = self.hierarchy.aliases(uow.keys, ZK_MASTER, at)
            if temp_key is None or len(masters) != 1:
                raise KeyManagerError(Errors.NO_UNIQUE_ALIAS)
            master = masters[0].alias

            statuses: list[ZkKeyStatus] = []
            rows: dict[int, ZkPoolRow] = {}
            for item in command.keys:
                index = item.key_index
                if index in rows or uow.zk.row(index) is not None:
                    statuses.append(ZkKeyStatus(index, MIGRATION_NOT_ALLOWED))
                    continue
                random_key = self._open(temp_key.alias, item.encrypted_key_data)
                if random_key is None:
                    statuses.append(ZkKeyStatus(index, MIGRATION_FAILED))
                    continue
                rows[index] = ZkPoolRow(index, self.zk_keys.wrap(master, random_key),
                                        key_check=key_check(random_key, index))
                statuses.append(ZkKeyStatus(index, MIGRATION_SUCCESS))
            uow.zk.add_rows(list(rows.values()))
            if command.purge_temp_key:
                self.hierarchy.expire_now(uow.keys, [temp_key], at)
            uow.commit()
        if command.purge_temp_key:
            try:
                self.keystore.delete(temp_key.alias)
            except KeystoreError:
                pass  # expired already; removed when the next temporary key is made
        return MigrateZkKeysResult(statuses, temp_key.alias, temp_key.thumbprint)

    def _open(self, temp_alias: str, encrypted: str | None) -> bytes | None:
        """The raw random key, None when the item does not open to one."""
        try:
            wrapped = b64_decode_lenient((encrypted or "").strip())
        except KeyManagerError:
            return None
        if not wrapped:
            return None
        try:
            random_key = self.keystore.decrypt(temp_alias, wrapped)
        except PrivateKeyOperationError:
            return None
        except KeystoreError:
            raise KeyManagerError(Errors.KEYSTORE_PROCESSING) from None
        return random_key if len(random_key) == RANDOM_KEY_BYTES else None
