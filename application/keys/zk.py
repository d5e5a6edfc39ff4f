"""The zero-knowledge key material (mosip-crypto.md §4, ADR 0013).

A pool of random AES-256 keys R, each stored wrapped by the ZK master key M (an AES key in
the keystore) in the reference's format: standard base64 of AES-ECB(M, R). A resident's key
is AES-ECB(R, SHA-256(id)). We add a check value per row we write, HMAC-SHA256 keyed by R over
the row id, so an unwrap with the wrong master key, a corrupted row or rows swapped between
ids are refused (KER-ZKC-001) instead of yielding a key that encrypts data nobody can open.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from application.crypto import primitives as crypto
from application.keys.hierarchy import KeyHierarchy
from application.ports.clock import Clock
from application.ports.keystore import Keystore, KeystoreError
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.support.ttl_cache import TtlLruCache
from domain.errors import Errors, KeyManagerError
from domain.zk import ZK_MASTER, ZkPoolRow

_CHECK_LABEL = b"keymanager zk pool key check v1:"
RANDOM_KEY_BYTES = 32


def key_check(random_key: bytes, key_id: int) -> str:
    """Hex of the first 16 bytes of HMAC-SHA256(R, label ‖ id)."""
    return hmac.new(random_key, _CHECK_LABEL + str(key_id).encode(), hashlib.sha256).digest()[:16].hex()


def derive_key(random_key: bytes, resident_id: str) -> bytes:
    """The resident's AES-256 key: AES-ECB(R, SHA-256(UTF-8 id)) (two blocks)."""
    try:
        return crypto.aes_ecb(random_key, hashlib.sha256(resident_id.encode("utf-8")).digest(), encrypt=True)
    except (KeyManagerError, UnicodeEncodeError):
        raise KeyManagerError(Errors.ZK_KEY_DERIVATION) from None


class ZkKeys:
    def __init__(
        self,
        hierarchy: KeyHierarchy,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        keystore: Keystore,
        random_keys: TtlLruCache,
        pool_facts: TtlLruCache,
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock
        self.keystore = keystore
        self._random_keys = random_keys  # pool id -> unwrapped R (bounded, expiring)
        # Short-lived: "ids" -> the Active ids; "masters" -> the master aliases for unwrapping
        # (a rotation shows within the TTL; meanwhile the check values let the old master serve).
        self._facts = pool_facts

    # -- the master key ---------------------------------------------------------------------

    def master_aliases(self, uow: UnitOfWork) -> tuple[str, list[str]]:
        """(the single current master alias, every master alias newest first); KER-ZKC-002
        when there is no current master key or more than one."""
        all_aliases, current = self.hierarchy.aliases(uow.keys, ZK_MASTER, self.clock.now())
        if len(current) != 1:
            raise KeyManagerError(Errors.ZK_NO_UNIQUE_ALIAS)
        return current[0].alias, [a.alias for a in reversed(all_aliases)]

    def wrap(self, master_alias: str, random_key: bytes) -> str:
        try:
            return base64.b64encode(self.keystore.encrypt_blocks(master_alias, random_key)).decode("ascii")
        except (KeystoreError, KeyManagerError):
            raise KeyManagerError(Errors.ZK_RANDOM_KEY) from None

    def new_row(self, master_alias: str, key_id: int) -> ZkPoolRow:
        random_key = secrets.token_bytes(RANDOM_KEY_BYTES)
        return ZkPoolRow(key_id, self.wrap(master_alias, random_key), key_check=key_check(random_key, key_id))

    # -- the pool ---------------------------------------------------------------------------

    def pick_index(self) -> int:
        ids = self._facts.get("ids")
        if ids is None:
            with self.uow_factory() as uow:
                ids = tuple(uow.zk.active_ids())
            if ids:
                self._facts.put("ids", ids)
        if not ids:
            raise KeyManagerError(Errors.ZK_RANDOM_KEY)
        return secrets.choice(ids)

    def random_key(self, key_id: int) -> bytes:
        cached = self._random_keys.get(key_id)
        if cached is not None:
            return cached
        with self.uow_factory() as uow:
            row = uow.zk.row(key_id)
            if row is None:
                raise KeyManagerError(Errors.ZK_RANDOM_KEY)
            masters = self._facts.get("masters")
            if masters is None:
                masters = self.master_aliases(uow)
                self._facts.put("masters", masters)
        random_key = self._unwrap(row, *masters)
        self._random_keys.put(key_id, random_key)
        return random_key

    def _unwrap(self, row: ZkPoolRow, current: str, every: list[str]) -> bytes:
        try:
            wrapped = base64.b64decode(row.key, validate=True)
        except (binascii.Error, ValueError):
            raise KeyManagerError(Errors.ZK_RANDOM_KEY) from None
        if len(wrapped) != RANDOM_KEY_BYTES:
            raise KeyManagerError(Errors.ZK_RANDOM_KEY)
        # A row the reference made has no check value: only the current master applies, as there.
        candidates = [current] if row.key_check is None else [current] + [a for a in every if a != current]
        for alias in candidates:
            try:
                random_key = self.keystore.decrypt_blocks(alias, wrapped)
            except (KeystoreError, KeyManagerError):
                continue
            if row.key_check is None or hmac.compare_digest(key_check(random_key, row.id), row.key_check):
                return random_key
        raise KeyManagerError(Errors.ZK_RANDOM_KEY)
