"""The key policy's access rule (key_policy_def.access_allowed) for decryption and signing."""
from __future__ import annotations

from .keys import KeyPolicy


def has_key_access(policy: KeyPolicy | None, app_id: str, caller: str | None) -> bool:
    """The reference's access_allowed rule: NA allows everyone, otherwise a
    comma-separated list of user names compared case-insensitively."""
    if not app_id.strip():
        return True
    allowed = (policy.access_allowed or "").strip() if policy is not None else ""
    if not allowed:
        return False
    if allowed == "NA":
        return True
    names = {name.strip().lower() for name in allowed.split(",")}
    return caller is not None and caller.lower() in names
