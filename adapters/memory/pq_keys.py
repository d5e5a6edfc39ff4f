"""In-memory km_pq_key, staged like the key repository (issue 18)."""
from __future__ import annotations

import threading

from domain.pq_envelope import PqKey


class PqKeyTable:
    """The committed rows of one MemoryStore, by key id."""

    def __init__(self) -> None:
        self.rows: dict[str, PqKey] = {}
        self.lock = threading.Lock()


class MemoryPqKeys:
    def __init__(self, table: PqKeyTable) -> None:
        self._table = table
        self.staged: dict[str, PqKey] = {}

    def _rows(self) -> dict[str, PqKey]:
        with self._table.lock:
            merged = dict(self._table.rows)
        merged.update(self.staged)
        return merged

    def for_rsa_alias(self, rsa_alias: str) -> PqKey | None:
        return next((k for k in self._rows().values() if k.rsa_alias == rsa_alias), None)

    def by_key_id(self, key_id: str) -> PqKey | None:
        return self._rows().get(key_id)

    def add(self, key: PqKey) -> None:
        if key.key_id in self._rows() or self.for_rsa_alias(key.rsa_alias) is not None:
            raise ValueError("duplicate km_pq_key row")
        self.staged[key.key_id] = key

    def commit(self) -> None:
        with self._table.lock:
            self._table.rows.update(self.staged)
        self.staged.clear()

    def clear(self) -> None:
        self.staged.clear()
