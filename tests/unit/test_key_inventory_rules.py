"""The console's key rules (issue 17, domain/key_inventory.py): kind, status, policy validation."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.key_inventory import (
    access_allowed_list,
    key_kind,
    key_status,
    policy_problems,
    pre_expiry_start,
    was_cut_short,
)
from domain.keys import EXPIRE_NOW_OFFSET, KeyAlias, KeyPolicy, KeyTuple

T0 = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def alias(days: float = 730, *, generated: datetime = T0) -> KeyAlias:
    return KeyAlias("a", KeyTuple("REGISTRATION", "r"), generated, generated + timedelta(days=days))


@pytest.mark.parametrize(("tuple_", "certificate", "other", "kind"), [
    (KeyTuple("ROOT"), True, False, "root"),
    (KeyTuple("REGISTRATION"), True, False, "module"),
    (KeyTuple("KERNEL", "SIGN"), True, False, "signing"),
    (KeyTuple("ID_REPO", "EC_SECP256K1_SIGN"), True, False, "signing"),
    (KeyTuple("ID_REPO", "ED25519_SIGN"), True, False, "signing"),
    (KeyTuple("ID_REPO", "ML_DSA_65_SIGN"), True, False, "signing"),
    (KeyTuple("KERNEL", "IDENTITY_CACHE"), False, False, "zk-master"),
    (KeyTuple("TEST", "AES"), False, False, "symmetric"),
    (KeyTuple("IDA", "PUBLIC_KEY"), True, True, "other-domain"),
    (KeyTuple("REGISTRATION", "10001"), True, False, "base"),
])
def test_kinds(tuple_: KeyTuple, certificate: bool, other: bool, kind: str) -> None:
    assert key_kind(tuple_, has_certificate=certificate, other_domain=other) == kind


def test_statuses_through_a_life() -> None:
    key = alias(730)
    not_after = key.expires_at
    assert key_status(key, T0, 30, not_after) == "current"  # at generation (the reference's rule)
    assert key_status(key, T0 + timedelta(days=699), 30, not_after) == "current"
    assert key_status(key, T0 + timedelta(days=700), 30, not_after) == "due"
    assert key_status(key, key.expires_at, 30, not_after) == "due"
    assert key_status(key, key.expires_at + timedelta(milliseconds=1), 30, not_after) == "expired"
    assert pre_expiry_start(key, 30) == T0 + timedelta(days=700)


def test_revoked_is_an_expiry_moved_before_its_natural_end() -> None:
    revoked_at = T0 + timedelta(days=3, hours=5)
    revoked = KeyAlias("a", KeyTuple("R", "r"), T0, revoked_at - EXPIRE_NOW_OFFSET)
    natural_end = T0 + timedelta(days=730)
    assert key_status(revoked, revoked_at, 30, natural_end) == "revoked"
    assert key_status(revoked, T0 + timedelta(days=1000), 30, natural_end) == "revoked"  # stays revoked
    assert not was_cut_short(alias(730), natural_end)
    # without certificate (a secret key): a policy lifetime is whole days, a revocation is not
    assert was_cut_short(revoked, None) and not was_cut_short(alias(3650), None)
    # revoked in the instant it was made
    assert was_cut_short(KeyAlias("a", KeyTuple("R", "r"), T0, T0 - EXPIRE_NOW_OFFSET), None)


@pytest.mark.parametrize(("validity", "pre", "access", "fragment"), [
    (30, 30, ("NA",), "shorter than validityDays"),
    (30, 0, ("NA",), "preExpireDays must be positive"),
    (0, 1, ("NA",), "validityDays"),
    (36501, 1, ("NA",), "validityDays"),
    (30, 3, (), "at least one user"),
    (30, 3, ("NA", "bob"), "cannot be combined"),
    (30, 3, (" bob",), "surrounding blanks"),
    (30, 3, ("x" * 1025,), "1024 characters"),
])
def test_policy_problems(validity: int, pre: int, access: tuple[str, ...], fragment: str) -> None:
    assert any(fragment in problem for problem in policy_problems("REGISTRATION", validity, pre, access))


def test_a_good_policy_has_no_problems() -> None:
    assert policy_problems("NEW_APP-1.0", 365, 30, ("alice", "bob")) == []
    assert policy_problems("", 365, 30, ("NA",)) and policy_problems("A B", 365, 30, ("NA",))


def test_access_allowed_as_stored() -> None:
    assert access_allowed_list(KeyPolicy("A", 1, 0, "NA")) == ["NA"]
    assert access_allowed_list(KeyPolicy("A", 1, 0, "alice, bob")) == ["alice", "bob"]
    assert access_allowed_list(KeyPolicy("A", 1, 0, "")) == []
    assert access_allowed_list(KeyPolicy("A", 1, 0, None)) == []


def test_every_signing_reference_is_a_signing_key_and_other_references_are_base_keys() -> None:
    from domain.key_inventory import key_kind
    from domain.keys import SIGN_REFERENCES, KeyTuple

    for ref in SIGN_REFERENCES:
        assert key_kind(KeyTuple("ID_REPO", ref), has_certificate=True, other_domain=False) == "signing"
    # a base key whose reference merely looks like a signing one is still a base key
    assert key_kind(KeyTuple("REGISTRATION", "DEVICE_SIGN"), has_certificate=True, other_domain=False) == "base"
