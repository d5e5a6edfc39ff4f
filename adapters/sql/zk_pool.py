"""data_encrypt_keystore (the reference's ZK pool) and km_zk_key_check, for any SQL unit."""
from __future__ import annotations

from domain.zk import ACTIVE, ZkPoolRow

from .key_repository import SYSTEM_USER, SqlUnit


class SqlZkKeyPool:
    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit
        self._pool = unit.table("data_encrypt_keystore")
        self._check = unit.table("km_zk_key_check")

    def active_ids(self) -> list[int]:
        # The reference inserts "Active" but once counted "active": accept any case.
        rows = self._unit.query(
            f"SELECT id FROM {self._pool} WHERE LOWER(key_status) = :status ORDER BY id", {"status": ACTIVE.lower()}
        )
        return [int(r[0]) for r in rows]

    def row(self, key_id: int) -> ZkPoolRow | None:
        rows = self._unit.query(
            f"SELECT p.id, p.key, p.key_status, c.key_check FROM {self._pool} p"
            f" LEFT JOIN {self._check} c ON c.id = p.id WHERE p.id = :id",
            {"id": key_id},
        )
        if not rows:
            return None
        key_id, key, status, check = rows[0]
        return ZkPoolRow(int(key_id), key, status or "", check)

    def count(self) -> int:
        return int(self._unit.query(f"SELECT COUNT(*) FROM {self._pool}", {})[0][0])

    def next_id(self) -> int:
        return int(self._unit.query(f"SELECT COALESCE(MAX(id) + 1, 0) FROM {self._pool}", {})[0][0])

    def add_rows(self, rows: list[ZkPoolRow]) -> None:
        """Multi-row INSERTs of up to 100 rows: a pool of 10,000 in a few hundred statements."""
        now = self._unit.now()
        for start in range(0, len(rows), 100):
            chunk = rows[start : start + 100]
            params: dict = {"by": SYSTEM_USER, "at": now}
            values = []
            for i, row in enumerate(chunk):
                values.append(f"(:id{i}, :key{i}, :status{i}, :by, :at)")
                params.update({f"id{i}": row.id, f"key{i}": row.key, f"status{i}": row.status})
            self._unit.write(
                f"INSERT INTO {self._pool} (id, key, key_status, cr_by, cr_dtimes) VALUES {', '.join(values)}", params
            )
            checked = [(i, row) for i, row in enumerate(chunk) if row.key_check is not None]
            if checked:
                self._unit.write(
                    f"INSERT INTO {self._check} (id, key_check, cr_dtimes) VALUES "
                    + ", ".join(f"(:id{i}, :check{i}, :at)" for i, _ in checked),
                    {**{f"id{i}": row.id for i, row in checked},
                     **{f"check{i}": row.key_check for i, row in checked}, "at": now},
                )
