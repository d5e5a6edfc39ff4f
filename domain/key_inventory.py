"""The administrator's view of keys (issue 17): what kind a key is and where it stands in its life.

Pure rules over key_alias rows: no storage, no cryptography.

Status of one key at an instant ``at``:

* ``revoked``: its expiry was moved before its natural end (``revokeKey``, a forced regeneration):
  earlier than its certificate's notAfter, or (a key without certificate) not a whole number of days
  after its generation (a policy validity always is);
* ``expired``: its expiry has passed;
* ``due``: it is in its pre-expiry window (the last ``pre_expire_days`` before expiry): no longer
  current, so the next request (or ``keymanager rotate --due``) makes its successor;
* ``current``: otherwise.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .keys import (
    KERNEL,
    ROOT,
    SIGN,
    SIGN_REFERENCES,
    KeyAlias,
    KeyPolicy,
    KeyTuple,
)
from .zk import ZK_MASTER

CURRENT, EXPIRED, REVOKED, DUE = "current", "expired", "revoked", "due"
STATUSES = (CURRENT, DUE, EXPIRED, REVOKED)
KINDS = ("root", "module", "base", "signing", "symmetric", "zk-master", "other-domain")
#: Tolerance between a key_alias expiry (milliseconds) and its certificate's notAfter (seconds).
_SLACK = timedelta(seconds=1)
_DAY = timedelta(days=1)


def key_kind(key_tuple: KeyTuple, *, has_certificate: bool, other_domain: bool) -> str:
    """root, module, base, signing (KERNEL/SIGN, the EC, Ed25519 and ML-DSA signing keys), symmetric (an AES key
    of generateSymmetricKey), zk-master (KERNEL/IDENTITY_CACHE) or other-domain (a certificate only)."""
    if key_tuple == ZK_MASTER:
        return "zk-master"
    if not has_certificate:
        return "symmetric"
    if key_tuple == KeyTuple(ROOT):
        return "root"
    if (key_tuple.app_id.upper() == KERNEL and key_tuple.ref_id.upper() == SIGN) or key_tuple.ref_id in SIGN_REFERENCES:
        return "signing"
    if other_domain:
        return "other-domain"
    if key_tuple.ref_id == "":
        return "module"
    return "base"


def was_cut_short(alias: KeyAlias, certificate_not_after: datetime | None) -> bool:
    """Whether the key's expiry was moved before its natural end (revoked or force-regenerated)."""
    if certificate_not_after is not None:
        return alias.expires_at + _SLACK < certificate_not_after
    lifetime = alias.expires_at - alias.generated_at
    if lifetime < timedelta(0):
        return True
    remainder = lifetime % _DAY
    return _SLACK < remainder < _DAY - _SLACK


def pre_expiry_start(alias: KeyAlias, pre_expire_days: int) -> datetime:
    return alias.expires_at - timedelta(days=pre_expire_days)


def key_status(alias: KeyAlias, at: datetime, pre_expire_days: int, certificate_not_after: datetime | None) -> str:
    if was_cut_short(alias, certificate_not_after):
        return REVOKED
    if at > alias.expires_at:
        return EXPIRED
    if at >= pre_expiry_start(alias, pre_expire_days) and at != alias.generated_at:
        return DUE
    return CURRENT


# -- key policies ---------------------------------------------------------------------------------

#: The longest validity accepted (100 years): a typo of a few zeros must not make an immortal key.
MAX_VALIDITY_DAYS = 36500
#: access_allowed is a VARCHAR(1024) in key_policy_def.
MAX_ACCESS_ALLOWED_CHARS = 1024
MAX_APP_ID_CHARS = 36  # key_policy_def.app_id / key_alias.app_id


def policy_problems(
    app_id: str, validity_days: int, pre_expire_days: int, access_allowed: tuple[str, ...]
) -> list[str]:
    """Why a key policy cannot be stored (empty: it can)."""
    problems = []
    if not app_id or len(app_id) > MAX_APP_ID_CHARS or not all(c.isalnum() or c in "_-." for c in app_id):
        problems.append(f"applicationId must be 1 to {MAX_APP_ID_CHARS} letters, digits, '_', '-' or '.'")
    if not 1 <= validity_days <= MAX_VALIDITY_DAYS:
        problems.append(f"validityDays must be between 1 and {MAX_VALIDITY_DAYS}")
    if pre_expire_days < 1:
        problems.append("preExpireDays must be positive")
    elif pre_expire_days >= validity_days:
        problems.append("preExpireDays must be shorter than validityDays")
    if not access_allowed:
        problems.append('accessAllowed must name at least one user, or be ["NA"] (every caller)')
    elif any(not name or "," in name or name != name.strip() for name in access_allowed):
        problems.append("accessAllowed names must be non-empty, hold no comma and no surrounding blanks")
    elif "NA" in access_allowed and len(access_allowed) > 1:
        problems.append('accessAllowed: "NA" (every caller) cannot be combined with names')
    if len(",".join(access_allowed)) > MAX_ACCESS_ALLOWED_CHARS:
        problems.append(f"accessAllowed must fit in {MAX_ACCESS_ALLOWED_CHARS} characters")
    return problems


def access_allowed_list(policy: KeyPolicy) -> list[str]:
    """key_policy_def.access_allowed as stored, split at commas: ["NA"] lets every caller use the keys
    (the reference's "NA"), a list of user names only those, [] (an empty column) nobody."""
    return [name.strip() for name in (policy.access_allowed or "").split(",") if name.strip()]
