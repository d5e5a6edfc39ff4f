"""Key identity, key classes, key policies and the records that describe keys."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

ROOT = "ROOT"
KERNEL = "KERNEL"
SIGN = "SIGN"
IDENTITY_CACHE = "IDENTITY_CACHE"
PARTNER = "PARTNER"
BASE_POLICY = "BASE"
EC_SECP256K1_SIGN = "EC_SECP256K1_SIGN"
EC_SECP256R1_SIGN = "EC_SECP256R1_SIGN"
ED25519_SIGN = "ED25519_SIGN"
# -- ML-DSA and batch (issue 18) --
#: ML-DSA-65 (FIPS 204) signing keys: always held in the database, wrapped by the application's key (ADR 0024).
ML_DSA_65_SIGN = "ML_DSA_65_SIGN"
#: Reserved reference ids of signing keys (any application but ROOT).
SIGN_REFERENCES = (EC_SECP256K1_SIGN, EC_SECP256R1_SIGN, ED25519_SIGN, ML_DSA_65_SIGN)
#: Signing keys that signing renews when due (the certificate path refuses to create one).
RENEWED_BY_SIGNING = (ED25519_SIGN, ML_DSA_65_SIGN)
#: Private-key column value of a certificate-only (other-domain) key.
NO_PRIVATE_KEY = "NA"
#: pre_expire_days for non-master keys when the BASE policy row is missing.
DEFAULT_BASE_PRE_EXPIRE_DAYS = 30
#: Revocation and forced regeneration back-date the expiry by this much.
EXPIRE_NOW_OFFSET = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyTuple:
    """A key's identity: the application and the reference inside it ("" = module key)."""

    app_id: str
    ref_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref_id", self.ref_id or "")

    @property
    def is_master_tuple(self) -> bool:
        """Keys held in the keystore (HSM): ROOT, module master keys and KERNEL/SIGN."""
        return self.ref_id == "" or (
            self.app_id.upper() == KERNEL and self.ref_id.upper() in (SIGN, IDENTITY_CACHE)
        )

    @property
    def in_keystore(self) -> bool:
        """Keys whose private key lives in the keystore (HSM): master-type keys and the
        EC signing keys. Base keys and Ed25519 signing keys live in the database."""
        return self.is_master_tuple or self.ref_id in (EC_SECP256K1_SIGN, EC_SECP256R1_SIGN)

    def __str__(self) -> str:
        return f"{self.app_id}:{self.ref_id}" if self.ref_id else self.app_id


class KeyClass(Enum):
    ROOT = "root"
    MODULE_MASTER = "module-master"
    BASE = "base"
    OTHER_DOMAIN = "other-domain"


def key_class_of(key_tuple: KeyTuple, stored_private_key: str | None = None) -> KeyClass:
    """Classify a key by its tuple and (for database-held keys) its stored private key."""
    if key_tuple.app_id == ROOT and key_tuple.ref_id == "":
        return KeyClass.ROOT
    if key_tuple.is_master_tuple:
        return KeyClass.MODULE_MASTER
    if stored_private_key == NO_PRIVATE_KEY:
        return KeyClass.OTHER_DOMAIN
    return KeyClass.BASE


@dataclass(frozen=True)
class KeyPolicy:
    """A row of key_policy_def: how long keys of an application live and who may use them."""

    app_id: str
    validity_days: int
    pre_expire_days: int
    access_allowed: str | None = "NA"
    is_active: bool = True

    def expiry_from(self, generated_at: datetime) -> datetime:
        return generated_at + timedelta(days=self.validity_days)


#: The reference's default policies (db_scripts keymgr-key_policy_def.csv).
DEFAULT_POLICIES: tuple[KeyPolicy, ...] = tuple(
    KeyPolicy(app, validity, pre)
    for app, validity, pre in (
        ("PRE_REGISTRATION", 1095, 60),
        ("REGISTRATION", 1095, 60),
        ("REGISTRATION_PROCESSOR", 1095, 60),
        ("ID_REPO", 1095, 60),
        ("KERNEL", 1095, 60),
        ("ROOT", 2920, 1125),
        ("BASE", 730, 30),
        ("PMS", 1460, 395),
        ("RESIDENT", 1095, 60),
        ("ADMIN_SERVICES", 1095, 60),
        ("DIGITAL_CARD", 1095, 60),
        ("COMPLIANCE_TOOLKIT", 1095, 60),
    )
)


@dataclass(frozen=True)
class KeyAlias:
    """A row of key_alias: one key of a tuple, with its validity window and identifiers."""

    alias: str
    key_tuple: KeyTuple
    generated_at: datetime
    expires_at: datetime
    thumbprint: str | None = None
    uni_ident: str | None = None

    @property
    def app_id(self) -> str:
        return self.key_tuple.app_id

    @property
    def ref_id(self) -> str:
        return self.key_tuple.ref_id


@dataclass(frozen=True)
class StoredKey:
    """A row of key_store: a database-held key's wrapped private key and its certificate."""

    alias: str
    master_alias: str
    private_key: str
    certificate_pem: str

    @property
    def is_other_domain(self) -> bool:
        return self.private_key == NO_PRIVATE_KEY or self.master_alias == self.alias
