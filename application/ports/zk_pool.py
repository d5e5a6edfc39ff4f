"""The ZK key pool port: the semantics of data_encrypt_keystore (and our check values)."""
from __future__ import annotations

from typing import Protocol

from domain.zk import ZkPoolRow


class ZkKeyPoolRepository(Protocol):
    def active_ids(self) -> list[int]:
        """Ids of the rows whose status is Active (any case), ascending."""

    def row(self, key_id: int) -> ZkPoolRow | None:
        """The row with this id and its check value, None when there is none."""

    def count(self) -> int:
        """How many rows the pool holds."""

    def next_id(self) -> int:
        """One more than the largest id (0 for an empty pool)."""

    def add_rows(self, rows: list[ZkPoolRow]) -> None:
        """Insert rows (and their check values)."""
