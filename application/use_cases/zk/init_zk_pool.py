from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from application.keys.symmetric import EXISTS, SymmetricKeys
from application.keys.zk import ZkKeys
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.zk import POOL_LOCK, ZK_MASTER, ZK_MASTER_VALIDITY_DAYS

BATCH_SIZE = 500


@dataclass(frozen=True)
class ZkPoolResult:
    created: int
    total: int
    master_created: bool


class InitZkPool:
    """`keymanager zk init`: the ZK master key (if missing) and the pool of random keys up to
    ``size`` rows. Each batch commits on its own, so an interrupted run keeps what it made and a
    rerun continues from there; a pool already that large is left alone (idempotent)."""

    def __init__(self, symmetric_keys: SymmetricKeys, zk_keys: ZkKeys, uow_factory: UnitOfWorkFactory) -> None:
        self.symmetric_keys = symmetric_keys
        self.zk_keys = zk_keys
        self.uow_factory = uow_factory

    def execute(
        self, size: int, progress: Callable[[int, int], None] = lambda done, total: None, batch_size: int = BATCH_SIZE
    ) -> ZkPoolResult:
        master_created = self.symmetric_keys.ensure(ZK_MASTER, ZK_MASTER_VALIDITY_DAYS) != EXISTS
        created = 0
        while True:
            with self.uow_factory() as uow:
                uow.lock(POOL_LOCK)
                have = uow.zk.count()
                progress(have, size)
                if have >= size:
                    return ZkPoolResult(created, have, master_created)
                master, _ = self.zk_keys.master_aliases(uow)
                first = uow.zk.next_id()
                rows = [self.zk_keys.new_row(master, first + i) for i in range(min(batch_size, size - have))]
                uow.zk.add_rows(rows)
                uow.commit()
                created += len(rows)
