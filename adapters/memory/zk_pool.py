"""In-memory ZK key pool, staged like the key repository."""
from __future__ import annotations

from typing import TYPE_CHECKING

from domain.zk import ACTIVE, ZkPoolRow

if TYPE_CHECKING:  # the store holds these tables; importing it here at run time would be circular
    from .key_repository import MemoryStore


class MemoryZkKeyPool:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.staged: dict[int, ZkPoolRow] = {}

    def _rows(self) -> dict[int, ZkPoolRow]:
        with self._store.data_lock:
            merged = dict(self._store.zk_pool)
        merged.update(self.staged)
        return merged

    def active_ids(self) -> list[int]:
        return sorted(i for i, r in self._rows().items() if r.status.lower() == ACTIVE.lower())

    def row(self, key_id: int) -> ZkPoolRow | None:
        return self._rows().get(key_id)

    def count(self) -> int:
        return len(self._rows())

    def next_id(self) -> int:
        rows = self._rows()
        return max(rows) + 1 if rows else 0

    def add_rows(self, rows: list[ZkPoolRow]) -> None:
        existing = self._rows()
        for row in rows:
            if row.id in existing or row.id in self.staged:
                raise ValueError(f"duplicate pool id {row.id}")
            self.staged[row.id] = row
