from __future__ import annotations

from dataclasses import dataclass

from application.crypto import argon2 as argon2_hash
from application.support.work_limiter import WorkLimiter
from domain.codec import b64url_decode, b64url_encode
from domain.errors import Errors, KeyManagerError


@dataclass(frozen=True)
class Argon2Parameters:
    iterations: int = 10
    memory_kib: int = 65536
    parallelism: int = 2


@dataclass(frozen=True)
class Argon2Result:
    hash_value: str  # base64url
    salt: str  # base64url, as given or generated


class GenerateArgon2Hash:
    """generateArgon2Hash: Argon2id raw hash (32 bytes) with the reference's parameters, under
    the slow-work limiter (64 MiB and ten passes per call). Without a salt, 24 random bytes
    (the length of the reference's generated salts)."""

    def __init__(self, parameters: Argon2Parameters, limiter: WorkLimiter) -> None:
        self.parameters = parameters
        self.limiter = limiter

    def execute(self, input_data: str, salt: str | None) -> Argon2Result:
        if not (input_data or "").strip():
            raise KeyManagerError(Errors.EMPTY_DATA)
        salt_bytes = b64url_decode(salt.strip()) if salt and salt.strip() else argon2_hash.new_salt()
        if len(salt_bytes) < 8:
            raise KeyManagerError(Errors.INVALID_DATA_LENGTH)  # Argon2 needs at least 8 bytes of salt
        p = self.parameters
        with self.limiter.slot():
            digest = argon2_hash.argon2id_raw(
                input_data, salt_bytes, iterations=p.iterations, memory_kib=p.memory_kib, parallelism=p.parallelism
            )
        return Argon2Result(b64url_encode(digest), b64url_encode(salt_bytes))
