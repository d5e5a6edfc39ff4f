"""/csverifysign and /tpmencrypt: a client's public key (TPM, Android or local) at work."""
from __future__ import annotations

from dataclasses import dataclass

from application.crypto import client_crypto
from application.crypto.client_crypto import ClientType


@dataclass(frozen=True)
class ClientVerifyCommand:
    data: bytes
    signature: bytes
    public_key: bytes
    client_type: ClientType | None = None  # None: LOCAL; a TPMT_PUBLIC is TPM whatever is said


@dataclass(frozen=True)
class ClientEncryptCommand:
    value: bytes
    public_key: bytes
    client_type: ClientType | None = None


class VerifyClientSignature:
    """csverifysign: True or False for a well-formed key; KER-CC-004 for a key that is none."""

    def execute(self, command: ClientVerifyCommand) -> bool:
        public_key = client_crypto.client_public_key(command.public_key, command.client_type)
        return client_crypto.verify(public_key, command.signature, command.data)


class EncryptForClient:
    """tpmencrypt: a fresh AES key wrapped to the client's key with its kind's OAEP parameters."""

    def execute(self, command: ClientEncryptCommand) -> bytes:
        public_key = client_crypto.client_public_key(command.public_key, command.client_type)
        return client_crypto.encrypt(public_key, command.value)
