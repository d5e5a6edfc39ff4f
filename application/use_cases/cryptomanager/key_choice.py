"""Which keys data may be encrypted to (shared by /encrypt and /jwtEncrypt)."""
from __future__ import annotations

from domain.errors import Errors, KeyManagerError
from domain.keys import IDENTITY_CACHE, KERNEL, SIGN, KeyTuple


def refuse_master_key_encryption(key_tuple: KeyTuple) -> None:
    """/encrypt always uses a base (or other-domain) key: never ROOT, a module key,
    KERNEL/SIGN or KERNEL/IDENTITY_CACHE (KER-CRY-011)."""
    if not key_tuple.ref_id.strip() or (
        key_tuple.app_id.upper() == KERNEL and key_tuple.ref_id.upper() in (SIGN, IDENTITY_CACHE)
    ):
        raise KeyManagerError(Errors.ENCRYPT_WITH_MASTER_KEY)
