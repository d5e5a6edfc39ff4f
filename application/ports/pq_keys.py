"""The ML-KEM key port (issue 18): km_pq_key, the post-quantum twins of RSA base keys (ADR 0023)."""
from __future__ import annotations

from typing import Protocol

from domain.pq_envelope import PqKey


class PqKeyRepository(Protocol):
    def for_rsa_alias(self, rsa_alias: str) -> PqKey | None:
        """The ML-KEM key made beside the RSA base key ``rsa_alias``, None when it has none (yet)."""

    def by_key_id(self, key_id: str) -> PqKey | None:
        """The ML-KEM key whose identifier (upper-case hex SHA-256 of its public key) is ``key_id``."""

    def add(self, key: PqKey) -> None:
        """Insert a km_pq_key row (at most one per RSA key)."""
