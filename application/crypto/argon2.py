"""generateArgon2Hash's raw Argon2id (spec §2.6, API §3.7), as argon2-jvm's ``rawHash``.

Argon2id, version 0x13, the input's UTF-8 bytes as the password; the reference's
defaults are 10 iterations, 64 MiB and 2 lanes, 32-byte output. Each call holds
``memory_kib`` KiB for its duration, so callers bound how many run at once.
"""
from __future__ import annotations

import os

from argon2.low_level import Type, hash_secret_raw

DEFAULT_ITERATIONS = 10
DEFAULT_MEMORY_KIB = 65536
DEFAULT_PARALLELISM = 2
DEFAULT_HASH_LENGTH = 32
#: The reference's generated salts (AES-GCM of an 8-byte counter) are 24 bytes.
SALT_BYTES = 24
#: libargon2's ARGON2_MIN_SALT_LENGTH.
MIN_SALT_BYTES = 8


def argon2id_raw(
    input_data: str,
    salt: bytes,
    *,
    iterations: int = DEFAULT_ITERATIONS,
    memory_kib: int = DEFAULT_MEMORY_KIB,
    parallelism: int = DEFAULT_PARALLELISM,
    hash_length: int = DEFAULT_HASH_LENGTH,
) -> bytes:
    """Raw Argon2id hash. ValueError (without the input) for a salt shorter than 8 bytes."""
    if len(salt) < MIN_SALT_BYTES:
        raise ValueError(f"salt must be at least {MIN_SALT_BYTES} bytes")
    return hash_secret_raw(
        secret=input_data.encode("utf-8", "replace"),  # lone surrogates -> "?", as Java
        salt=salt,
        time_cost=iterations,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=hash_length,
        type=Type.ID,
        version=19,
    )


def new_salt() -> bytes:
    """24 random bytes, the size of the reference's generated salts."""
    return os.urandom(SALT_BYTES)
