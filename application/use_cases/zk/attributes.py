"""What the ZK use cases share: an attribute (identifier, value) and whose certificates a random key is
encrypted to."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ZkAttribute:
    identifier: str | None
    value: str


@dataclass(frozen=True)
class ZkPublicKeys:
    """Whose certificates the random key is encrypted to (`mosip.kernel.zkcrypto.publickey.*`)."""

    app_id: str = "IDA"
    ref_ids: tuple[str, ...] = ("PUBLIC_KEY",)
