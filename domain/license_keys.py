"""Licence keys of trusted service providers (TSPs) and their permissions (mosip-api.md §10).

The reference's rules, kept because its clients and its database depend on them:

- a licence key is a random alphanumeric string (``A-Z a-z 0-9``) of a configured length;
- a requested permission is accepted when it *contains* one of the configured permission strings
  (a substring match, not equality: "OTP Trigger for SMS" is accepted through "OTP Trigger");
- a licence's permissions are one comma-joined string (``licensekey_permission.permission``); a
  later mapping puts its permissions *before* the stored ones; reading splits the string on ``,``
  as Java's ``String.split`` does (trailing empty items dropped).
"""
from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .errors import Errors

#: The reference's ``mosip.kernel.licensekey.permissions`` (application-local.properties).
DEFAULT_PERMISSIONS = (
    "OTP Trigger",
    "OTP Authentication",
    "Demo Authentication - Identity Data Match",
    "Demo Authentication - Address Data Match",
    "Demo Authentication - Full Address Data Match",
    "Demo Authentication - Secondary Language Match",
    "Biometric Authentication - FMR Data Match",
    "Biometric Authentication - IIR Data Match",
    "Biometric Authentication - FID Data Match",
    "Static Pin Authentication",
    "eKYC - limited",
    "eKYC - Full",
    "eKYC - No",
)
#: The reference's ``mosip.kernel.licensekey.length``.
DEFAULT_LENGTH = 16
#: Column widths of the reference's tables (db_scripts/mosip_keymgr/ddl).
LICENSE_KEY_COLUMN = 255  # licensekey_list.license_key
TSP_ID_COLUMN = 36  # tsp_licensekey_map.tsp_id
PERMISSION_COLUMN = 512  # licensekey_permission.permission
#: RandomStringUtils.randomAlphanumeric's alphabet.
ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits
SEPARATOR = ","


@dataclass(frozen=True)
class LicenseKey:
    """A ``licensekey_list`` row. ``expires_at`` is None only in rows written by hand."""

    license_key: str
    expires_at: datetime | None
    created_at: datetime | None = None
    active: bool = True

    def expired_at(self, now: datetime) -> bool:
        """The reference's ``now.isAfter(expiry)``; a row without an expiry counts as expired
        (the reference fails with HTTP 500 on it: here the licence is refused, not granted)."""
        return self.expires_at is None or now > self.expires_at


def random_license_key(length: int) -> str:
    """``length`` characters of ALPHABET from the operating system's CSPRNG."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def blank(value: str | None) -> bool:
    return value is None or not value.strip()


def blank_field_errors(tsp_id: str | None, license_key: str | None) -> list[Errors]:
    """KER-LKM-001 (blank TSP) and KER-LKM-006 (blank licence key), each when it applies, in that
    order: the reference reports them together."""
    errors = []
    if blank(tsp_id):
        errors.append(Errors.LICENSE_TSP_EMPTY)
    if blank(license_key):
        errors.append(Errors.LICENSE_KEY_EMPTY)
    return errors


def accepted(permission: str, configured: Iterable[str]) -> bool:
    """The reference's rule: the permission contains one of the configured strings."""
    return any(allowed in permission for allowed in configured)


def join_permissions(new: Sequence[str], stored: str | None) -> str:
    """The stored string after a mapping: the new permissions first, then what was stored."""
    items = list(new)
    if stored:  # a NULL or empty row adds nothing (the reference would append "null" or a trailing ",")
        items.append(stored)
    return SEPARATOR.join(items)


def split_permissions(stored: str) -> list[str]:
    """Java's ``stored.split(",")``: no separator, the string itself (even ""); else the items
    with the trailing empty ones removed."""
    if SEPARATOR not in stored:
        return [stored]
    items = stored.split(SEPARATOR)
    while items and items[-1] == "":
        items.pop()
    return items
