from __future__ import annotations

from dataclasses import dataclass

from application.crypto import primitives as crypto
from application.keys.zk import ZkKeys, derive_key
from application.use_cases.zk.attributes import ZkAttribute
from domain.codec import b64url_decode
from domain.errors import Errors, KeyManagerError
from domain.zk import unpack_value


@dataclass(frozen=True)
class ZkDecryptCommand:
    id: str
    attributes: list[ZkAttribute]


class ZkDecrypt:
    """zkDecrypt: each value names its pool index; the resident's key is derived again from
    the request's id. A value of 48 bytes or fewer is ZK-DEC-001, an unknown index
    KER-ZKC-001, a wrong id or any tampering KER-ZKC-004."""

    def __init__(self, zk_keys: ZkKeys) -> None:
        self.zk_keys = zk_keys

    def execute(self, command: ZkDecryptCommand) -> list[ZkAttribute]:
        keys: dict[int, bytes] = {}  # one derivation per pool index in the request
        out = []
        for attribute in command.attributes:
            try:
                raw = b64url_decode(attribute.value.strip())
            except KeyManagerError:
                raise KeyManagerError(Errors.ZK_INVALID_DATA_FORMAT) from None
            value = unpack_value(raw)
            if value.index not in keys:
                keys[value.index] = derive_key(self.zk_keys.random_key(value.index), command.id)
            try:
                plain = crypto.aes_gcm_decrypt(keys[value.index], value.nonce, value.sealed, value.aad)
                out.append(ZkAttribute(attribute.identifier, plain.decode("utf-8")))
            except (KeyManagerError, UnicodeDecodeError):
                raise KeyManagerError(Errors.ZK_DATA_CRYPTO) from None
        return out
