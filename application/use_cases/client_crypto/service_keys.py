"""/cssign, /tpmdecrypt and the two public-key endpoints: what the service's own client keys do."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from application.crypto import client_crypto
from application.keys.client_keys import ClientKey, ClientKeys


@dataclass(frozen=True)
class ClientSignCommand:
    data: bytes


@dataclass(frozen=True)
class ClientDecryptCommand:
    value: bytes


@dataclass(frozen=True)
class ServiceKeyResult:
    """Output bytes (a signature or plaintext) and the key that made them, for the audit trail."""

    data: bytes
    key: ClientKey


class ClientSign:
    """cssign: SHA256withRSA over the data with the service's client signing key."""

    def __init__(self, client_keys: ClientKeys) -> None:
        self.client_keys = client_keys

    def execute(self, command: ClientSignCommand) -> ServiceKeyResult:
        signature, key = self.client_keys.sign(command.data)
        return ServiceKeyResult(signature, key)


class ClientDecrypt:
    """tpmdecrypt: the inverse of tpmencrypt to the service's client encryption key, in the
    current layout or 1.1.4.4's (client_crypto.open_sealed)."""

    def __init__(self, client_keys: ClientKeys) -> None:
        self.client_keys = client_keys

    def execute(self, command: ClientDecryptCommand) -> ServiceKeyResult:
        wrapped, sealed = client_crypto.split_wrapped_key(command.value)
        secret, key = self.client_keys.unwrap(wrapped)
        return ServiceKeyResult(client_crypto.open_sealed(secret, sealed), key)


class KeyPurpose(str, Enum):
    SIGNING = "signing"
    ENCRYPTION = "encryption"


class ServicePublicKey:
    """tpmsigning/publickey and tpmencryption/publickey: the key pair, whose SPKI the view
    returns (the request's serverProfile is ignored, as in the reference)."""

    def __init__(self, client_keys: ClientKeys) -> None:
        self.client_keys = client_keys

    def execute(self, purpose: KeyPurpose) -> ClientKey:
        if purpose is KeyPurpose.SIGNING:
            return self.client_keys.signing_key()
        return self.client_keys.encryption_key()
