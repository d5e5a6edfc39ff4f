"""domain/current_key.py and domain/keys.py: the "current key" rule, the choice
of pre-expiry window, the default policies and key classes (mosip-crypto.md
§3.1, §3.2, §8.2)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.current_key import current_aliases, is_current, pre_expire_days, sort_by_generation
from domain.keys import (
    BASE_POLICY,
    DEFAULT_BASE_PRE_EXPIRE_DAYS,
    DEFAULT_POLICIES,
    NO_PRIVATE_KEY,
    KeyAlias,
    KeyClass,
    KeyPolicy,
    KeyTuple,
    StoredKey,
    key_class_of,
)

GEN = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
EXPIRY = GEN + timedelta(days=365)
TICK = timedelta(microseconds=1000)  # the reference's resolution (ms)


def alias(gen: datetime = GEN, expiry: datetime = EXPIRY, name: str = "a", key_tuple=KeyTuple("REGISTRATION", "r")):
    return KeyAlias(alias=name, key_tuple=key_tuple, generated_at=gen, expires_at=expiry)


# -- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pre", [0, 30, 60])
def test_current_at_generation_instant(pre):
    assert is_current(alias(), GEN, pre)


@pytest.mark.parametrize("pre", [0, 30, 60])
def test_current_at_expiry_instant(pre):
    # t == expiry counts even though it lies inside the pre-expiry window.
    assert is_current(alias(), EXPIRY, pre)


@pytest.mark.parametrize("offset", [TICK, timedelta(days=1), timedelta(days=300)])
def test_current_strictly_inside_window(offset):
    assert is_current(alias(), GEN + offset, 60)


def test_boundary_of_pre_expiry_window_is_exclusive():
    pre = 60
    boundary = EXPIRY - timedelta(days=pre)
    assert is_current(alias(), boundary - TICK, pre)
    assert not is_current(alias(), boundary, pre)


@pytest.mark.parametrize("days_before_expiry", [59, 30, 1])
def test_not_current_inside_last_pre_expire_days(days_before_expiry):
    assert not is_current(alias(), EXPIRY - timedelta(days=days_before_expiry), 60)


def test_not_current_just_before_expiry():
    assert not is_current(alias(), EXPIRY - TICK, 60)


def test_pre_expire_zero_keeps_key_current_until_expiry():
    assert is_current(alias(), EXPIRY - TICK, 0)


@pytest.mark.parametrize("offset", [TICK, timedelta(days=1), timedelta(days=3650)])
def test_not_current_before_generation(offset):
    assert not is_current(alias(), GEN - offset, 0)


@pytest.mark.parametrize("offset", [TICK, timedelta(days=1)])
def test_not_current_after_expiry(offset):
    assert not is_current(alias(), EXPIRY + offset, 0)


def test_window_longer_than_life_leaves_only_the_endpoints():
    key = alias(expiry=GEN + timedelta(days=10))
    assert is_current(key, GEN, 30)
    assert not is_current(key, GEN + timedelta(days=5), 30)
    assert is_current(key, GEN + timedelta(days=10), 30)


def test_current_aliases_filters_and_keeps_order():
    old = alias(gen=GEN - timedelta(days=400), expiry=GEN + timedelta(days=10), name="old")
    new = alias(gen=GEN - timedelta(days=5), expiry=GEN + timedelta(days=360), name="new")
    future = alias(gen=GEN + timedelta(days=1), expiry=GEN + timedelta(days=700), name="future")
    assert current_aliases([old, new, future], GEN, 30) == [new]
    assert current_aliases([old, new, future], GEN, 0) == [old, new]
    assert current_aliases([], GEN, 0) == []


def test_sort_by_generation():
    a = alias(gen=GEN + timedelta(days=2), name="a")
    b = alias(gen=GEN, name="b")
    c = alias(gen=GEN + timedelta(days=1), name="c")
    assert [x.alias for x in sort_by_generation([a, b, c])] == ["b", "c", "a"]


# -- which policy supplies pre_expire_days ---------------------------------------------------


def policies(**pre: int):
    table = {app: KeyPolicy(app, 1000, days) for app, days in pre.items()}
    return table.get


@pytest.mark.parametrize(
    "key_tuple",
    [KeyTuple("REGISTRATION", ""), KeyTuple("REGISTRATION"), KeyTuple("REGISTRATION", None)],  # type: ignore[arg-type]
)
def test_master_tuple_uses_own_policy(key_tuple):
    assert pre_expire_days(key_tuple, policies(REGISTRATION=7, BASE=13)) == 7


@pytest.mark.parametrize("ref", ["SIGN", "IDENTITY_CACHE"])
def test_kernel_sign_uses_kernel_policy(ref):
    assert pre_expire_days(KeyTuple("KERNEL", ref), policies(KERNEL=11, BASE=13)) == 11


def test_root_uses_root_policy():
    assert pre_expire_days(KeyTuple("ROOT"), policies(ROOT=1125, BASE=30)) == 1125


@pytest.mark.parametrize(
    "key_tuple",
    [
        KeyTuple("REGISTRATION", "ref1"),
        KeyTuple("REGISTRATION", "SIGN"),  # SIGN is master-type only for KERNEL
        KeyTuple("KERNEL", "other"),
        KeyTuple("PMS", "EC_SECP256K1_SIGN"),
    ],
)
def test_base_ref_uses_base_policy(key_tuple):
    lookup = policies(REGISTRATION=7, KERNEL=11, PMS=5, BASE=13)
    assert pre_expire_days(key_tuple, lookup) == 13


def test_base_ref_without_base_policy_gets_30():
    assert DEFAULT_BASE_PRE_EXPIRE_DAYS == 30
    assert pre_expire_days(KeyTuple("REGISTRATION", "ref1"), policies(REGISTRATION=7)) == 30


@pytest.mark.parametrize("key_tuple", [KeyTuple("UNKNOWN"), KeyTuple("UNKNOWN", "ref"), KeyTuple("KERNEL", "SIGN")])
def test_app_without_policy_gets_zero(key_tuple):
    assert pre_expire_days(key_tuple, policies(REGISTRATION=7, BASE=13)) == 0


# -- default policies (mosip-crypto.md §8.2) -------------------------------------------------

#: The table of §8.2, app_id -> (validity days, pre_expire_days).
SPEC_DEFAULT_POLICIES = {
    "PRE_REGISTRATION": (1095, 60),
    "REGISTRATION": (1095, 60),
    "REGISTRATION_PROCESSOR": (1095, 60),
    "ID_REPO": (1095, 60),
    "KERNEL": (1095, 60),
    "ROOT": (2920, 1125),
    "BASE": (730, 30),
    "PMS": (1460, 395),
    "RESIDENT": (1095, 60),
    "ADMIN_SERVICES": (1095, 60),
    "DIGITAL_CARD": (1095, 60),
    "COMPLIANCE_TOOLKIT": (1095, 60),
}


def test_default_policies_match_spec_table():
    got = {p.app_id: (p.validity_days, p.pre_expire_days) for p in DEFAULT_POLICIES}
    assert len(got) == len(DEFAULT_POLICIES), "duplicate app_id in DEFAULT_POLICIES"
    assert got == SPEC_DEFAULT_POLICIES


def test_default_policies_are_active_and_open():
    # Every row has is_active = TRUE and access_allowed = NA.
    for policy in DEFAULT_POLICIES:
        assert policy.is_active is True
        assert policy.access_allowed == "NA"


def test_base_policy_name():
    assert BASE_POLICY == "BASE"


def test_policy_expiry_from():
    policy = KeyPolicy("REGISTRATION", 1095, 60)
    assert policy.expiry_from(GEN) == GEN + timedelta(days=1095)


# -- key tuples and classes ------------------------------------------------------------------


def test_key_tuple_none_ref_is_empty_string():
    assert KeyTuple("REGISTRATION", None).ref_id == ""  # type: ignore[arg-type]
    assert KeyTuple("REGISTRATION", None) == KeyTuple("REGISTRATION")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key_tuple", "stored", "expected"),
    [
        (KeyTuple("ROOT"), None, KeyClass.ROOT),
        (KeyTuple("REGISTRATION"), None, KeyClass.MODULE_MASTER),
        (KeyTuple("KERNEL", "SIGN"), None, KeyClass.MODULE_MASTER),
        (KeyTuple("KERNEL", "IDENTITY_CACHE"), None, KeyClass.MODULE_MASTER),
        (KeyTuple("KERNEL"), None, KeyClass.MODULE_MASTER),
        (KeyTuple("REGISTRATION", "ref"), None, KeyClass.BASE),
        (KeyTuple("REGISTRATION", "ref"), "wrapped-key-material", KeyClass.BASE),
        (KeyTuple("PARTNER", "p1"), NO_PRIVATE_KEY, KeyClass.OTHER_DOMAIN),
        (KeyTuple("REGISTRATION", "SIGN"), None, KeyClass.BASE),
    ],
)
def test_key_class_of(key_tuple, stored, expected):
    assert key_class_of(key_tuple, stored) is expected


def test_no_private_key_marker_is_na():
    assert NO_PRIVATE_KEY == "NA"


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (StoredKey("a", "m", "wrapped", "pem"), False),
        (StoredKey("a", "m", NO_PRIVATE_KEY, "pem"), True),
        (StoredKey("a", "a", "wrapped", "pem"), True),  # master_key = id for other-domain rows
    ],
)
def test_stored_key_is_other_domain(stored, expected):
    assert stored.is_other_domain is expected
