"""Licence keys (mosip-api.md §10): the reference's rules in domain/license_keys.py and the three
use cases on the in-memory store with a manual clock (the HTTP API and the SQL stores are in
tests/integration/test_license_keys_http.py and tests/contract/test_license_key_repository_contract.py)."""
from __future__ import annotations

import string
import threading
from collections import Counter
from datetime import timedelta

import pytest

from adapters.clock import ManualClock
from adapters.memory.key_repository import MemoryUnitOfWorkFactory
from application.use_cases.license_keys.fetch_license_permissions import (
    FetchLicensePermissions,
    FetchLicensePermissionsCommand,
)
from application.use_cases.license_keys.generate_license_key import GenerateLicenseKey, GenerateLicenseKeyCommand
from application.use_cases.license_keys.map_license_permissions import (
    MAPPED_STATUS,
    MapLicensePermissions,
    MapLicensePermissionsCommand,
)
from domain.errors import Errors, MultipleErrors, ValidationError
from domain.license_keys import (
    ALPHABET,
    DEFAULT_PERMISSIONS,
    LicenseKey,
    accepted,
    blank_field_errors,
    join_permissions,
    random_license_key,
    split_permissions,
)
from tests.support.repo import START

TSP = "mpartner-default-auth"


def codes(error: MultipleErrors) -> list[str]:
    return [code for code, _ in error.pairs()]


# -- the rules ------------------------------------------------------------------------------------


def test_the_default_permissions_are_the_references_thirteen() -> None:
    assert len(DEFAULT_PERMISSIONS) == 13
    assert DEFAULT_PERMISSIONS[0] == "OTP Trigger" and DEFAULT_PERMISSIONS[-1] == "eKYC - No"
    assert all("," not in permission for permission in DEFAULT_PERMISSIONS)


def test_a_licence_key_is_alphanumeric_of_the_asked_length() -> None:
    assert ALPHABET == string.ascii_uppercase + string.ascii_lowercase + string.digits
    for length in (1, 16, 255):
        key = random_license_key(length)
        assert len(key) == length and set(key) <= set(ALPHABET)


def test_licence_keys_are_spread_over_the_whole_alphabet() -> None:
    keys = [random_license_key(16) for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    counts = Counter("".join(keys))
    assert set(counts) == set(ALPHABET)  # 32,000 draws: every one of the 62 characters appears
    expected = 32000 / 62
    assert all(0.6 * expected < count < 1.4 * expected for count in counts.values()), counts


@pytest.mark.parametrize(("permission", "allowed"), [
    ("OTP Trigger", True),
    ("OTP Trigger for SMS", True),  # contains "OTP Trigger": accepted (the reference's substring rule)
    ("Biometric Authentication - FMR Data Match and more", True),
    ("eKYC - Full", True),
    ("eKYC - No", True),
    ("otp trigger", False),  # case matters
    ("OTP", False),  # a part of a configured permission is not enough
    ("Something else", False),
    ("", False),
])
def test_a_permission_is_accepted_when_it_contains_a_configured_one(permission: str, allowed: bool) -> None:
    assert accepted(permission, DEFAULT_PERMISSIONS) is allowed


def test_new_permissions_go_before_the_stored_ones() -> None:
    assert join_permissions(["A", "B"], None) == "A,B"
    assert join_permissions(["C"], "A,B") == "C,A,B"
    assert join_permissions(["C"], "") == "C"  # an empty stored value adds no trailing separator


@pytest.mark.parametrize(("stored", "items"), [
    ("A", ["A"]),
    ("A,B", ["A", "B"]),
    ("", [""]),  # Java: no separator found, the string itself
    ("A,,B", ["A", "", "B"]),
    ("A,B,,", ["A", "B"]),  # trailing empty items dropped
    (",A", ["", "A"]),
    (",", []),
])
def test_reading_splits_as_javas_string_split(stored: str, items: list[str]) -> None:
    assert split_permissions(stored) == items


def test_blank_fields_are_reported_together_in_the_references_order() -> None:
    assert blank_field_errors(None, " ") == [Errors.LICENSE_TSP_EMPTY, Errors.LICENSE_KEY_EMPTY]
    assert blank_field_errors("T", "") == [Errors.LICENSE_KEY_EMPTY]
    assert blank_field_errors("T", "K") == []


def test_a_licence_expires_after_its_expiry_and_one_without_expiry_is_expired() -> None:
    licence = LicenseKey("K", START)
    assert not licence.expired_at(START - timedelta(milliseconds=1))
    assert not licence.expired_at(START)  # the reference: now.isAfter(expiry)
    assert licence.expired_at(START + timedelta(milliseconds=1))
    assert LicenseKey("K", None).expired_at(START)


def test_the_error_codes_carry_the_references_messages() -> None:
    messages = {error.value.code: error.value.message for error in Errors if error.value.code.startswith("KER-LKM")}
    assert messages == {
        "KER-LKM-001": "TSP entered is null or empty.",
        "KER-LKM-002": "The length of license key generated was not of the specified length.",
        "KER-LKM-003": "Permission value entered is not accepted.",
        "KER-LKM-004": "LicenseKey Not Found.",
        "KER-LKM-005": "LicenseKey Expired.",
        "KER-LKM-006": "License Key entered is null or empty.",
        "KER-LKM-007": "Permission entered is an empty string.",
        "KER-LKM-008": "Expiry DateTime should be ahead of current DateTime.",
        "KER-LKM-009": "No Permissions has been mapped to the entered TSP-LicenseKey Pair.",
    }


def test_several_errors_keep_their_order_and_the_first_code() -> None:
    error = MultipleErrors([Errors.LICENSE_TSP_EMPTY, Errors.LICENSE_KEY_EMPTY])
    assert error.code == "KER-LKM-001"
    assert error.pairs() == [("KER-LKM-001", "TSP entered is null or empty."),
                             ("KER-LKM-006", "License Key entered is null or empty.")]
    with pytest.raises(ValueError):
        MultipleErrors([])


# -- the use cases on the memory store -------------------------------------------------------------


class Service:
    def __init__(self, permissions: tuple[str, ...] = DEFAULT_PERMISSIONS, length: int = 16) -> None:
        self.clock = ManualClock(START)
        self.factory = MemoryUnitOfWorkFactory()
        self.generate = GenerateLicenseKey(self.factory, self.clock, length)
        self.map = MapLicensePermissions(self.factory, self.clock, permissions)
        self.fetch = FetchLicensePermissions(self.factory, self.clock)

    def new_licence(self, tsp: str = TSP, days: int = 30) -> str:
        return self.generate.execute(GenerateLicenseKeyCommand(tsp, START + timedelta(days=days))).license_key

    def grant(self, key: str, *permissions: str | None, tsp: str = TSP) -> str:
        return self.map.execute(MapLicensePermissionsCommand(tsp, key, tuple(permissions))).status

    def read(self, key: str, tsp: str = TSP) -> list[str]:
        return self.fetch.execute(FetchLicensePermissionsCommand(tsp, key)).permissions


@pytest.fixture
def service() -> Service:
    return Service()


def test_generate_stores_the_licence_and_its_tsp_mapping(service: Service) -> None:
    key = service.new_licence(days=10)
    assert len(key) == 16 and set(key) <= set(ALPHABET)
    with service.factory() as uow:
        assert uow.licenses.license(key) == LicenseKey(key, START + timedelta(days=10), START, True)
        assert uow.licenses.is_mapped(TSP, key)
        assert not uow.licenses.is_mapped("other", key)
        assert uow.licenses.permissions(key) is None


def test_generate_uses_the_configured_length() -> None:
    assert len(Service(length=40).new_licence()) == 40


def test_generate_refuses_a_blank_tsp_and_a_past_expiry(service: Service) -> None:
    for tsp in (None, "", "   "):
        with pytest.raises(MultipleErrors) as caught:
            service.generate.execute(GenerateLicenseKeyCommand(tsp, START + timedelta(days=1)))
        assert codes(caught.value) == ["KER-LKM-001"]
    with pytest.raises(MultipleErrors) as caught:
        service.generate.execute(GenerateLicenseKeyCommand(TSP, START - timedelta(milliseconds=1)))
    assert codes(caught.value) == ["KER-LKM-008"]
    # the blank TSP is reported first, as the reference checks it first
    with pytest.raises(MultipleErrors) as caught:
        service.generate.execute(GenerateLicenseKeyCommand(" ", START - timedelta(days=1)))
    assert codes(caught.value) == ["KER-LKM-001"]
    # an expiry of exactly now is not before now
    assert service.generate.execute(GenerateLicenseKeyCommand(TSP, START)).license_key
    with pytest.raises(ValidationError):  # longer than tsp_licensekey_map.tsp_id
        service.generate.execute(GenerateLicenseKeyCommand("T" * 37, START + timedelta(days=1)))
    assert service.generate.execute(GenerateLicenseKeyCommand("T" * 36, START + timedelta(days=1))).license_key


def test_a_key_of_the_wrong_length_is_ker_lkm_002() -> None:
    service = Service()
    service.generate = GenerateLicenseKey(service.factory, service.clock, 16, key_source=lambda n: "x" * (n - 1))
    with pytest.raises(MultipleErrors) as caught:
        service.new_licence()
    assert codes(caught.value) == ["KER-LKM-002"]
    with service.factory() as uow:
        assert not uow.licenses.is_mapped(TSP, "x" * 15)


def test_a_key_already_in_the_list_is_drawn_again() -> None:
    service = Service()
    drawn = iter(["AAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBB"])
    service.generate = GenerateLicenseKey(service.factory, service.clock, 16, key_source=lambda n: next(drawn))
    assert service.new_licence() == "AAAAAAAAAAAAAAAA"
    assert service.new_licence("other") == "BBBBBBBBBBBBBBBB"


def test_mapping_appends_new_permissions_before_the_stored_ones(service: Service) -> None:
    key = service.new_licence()
    assert service.grant(key, "OTP Trigger", "eKYC - Full") == MAPPED_STATUS
    assert service.read(key) == ["OTP Trigger", "eKYC - Full"]
    assert service.grant(key, "Static Pin Authentication") == MAPPED_STATUS
    assert service.read(key) == ["Static Pin Authentication", "OTP Trigger", "eKYC - Full"]
    assert service.grant(key, "OTP Trigger") == MAPPED_STATUS  # repeated as the reference repeats it
    assert service.read(key) == ["OTP Trigger", "Static Pin Authentication", "OTP Trigger", "eKYC - Full"]


def test_mapping_accepts_permissions_by_substring_and_refuses_the_rest(service: Service) -> None:
    key = service.new_licence()
    service.grant(key, "OTP Trigger via SMS")
    with pytest.raises(MultipleErrors) as caught:
        service.grant(key, "eKYC - Full", "Unknown")  # one unacceptable item refuses the whole request
    assert codes(caught.value) == ["KER-LKM-003"]
    assert service.read(key) == ["OTP Trigger via SMS"]


def test_the_configured_permissions_are_the_ones_accepted() -> None:
    service = Service(permissions=("READ", "WRITE"))
    key = service.new_licence()
    service.grant(key, "READ", "WRITE_ALL")
    with pytest.raises(MultipleErrors):
        service.grant(key, "OTP Trigger")


def test_mapping_validation_errors_come_together(service: Service) -> None:
    with pytest.raises(MultipleErrors) as caught:
        service.map.execute(MapLicensePermissionsCommand("", None, ("OTP Trigger", " ", None)))
    assert codes(caught.value) == ["KER-LKM-001", "KER-LKM-006", "KER-LKM-007"]  # 007 once
    for permissions in ((), (None,), ("",)):
        with pytest.raises(MultipleErrors) as caught:
            service.map.execute(MapLicensePermissionsCommand(TSP, "K", permissions))
        assert codes(caught.value) == ["KER-LKM-007"]


def test_mapping_needs_the_tsp_and_licence_pair(service: Service) -> None:
    key = service.new_licence()
    for tsp, licence in (("other", key), (TSP, "unknown"), (TSP, key + " ")):
        with pytest.raises(MultipleErrors) as caught:
            service.grant(licence, "OTP Trigger", tsp=tsp)
        assert codes(caught.value) == ["KER-LKM-004"]
    # KER-LKM-004 comes before the permission check
    with pytest.raises(MultipleErrors) as caught:
        service.grant("unknown", "Unknown")
    assert codes(caught.value) == ["KER-LKM-004"]


def test_mapping_more_than_the_column_holds_is_refused_and_keeps_the_stored_value(service: Service) -> None:
    key = service.new_licence()
    permission = "OTP Trigger " + "x" * 240
    service.grant(key, permission, permission)  # 2 * 252 + 1 = 505 characters
    with pytest.raises(ValidationError):
        service.grant(key, "eKYC - No")  # 505 + 10 > 512
    assert service.read(key) == [permission, permission]


def test_fetch_reports_blank_fields_together_then_the_mapping_then_expiry_then_permissions(service: Service) -> None:
    with pytest.raises(MultipleErrors) as caught:
        service.fetch.execute(FetchLicensePermissionsCommand(" ", ""))
    assert codes(caught.value) == ["KER-LKM-001", "KER-LKM-006"]
    key = service.new_licence(days=1)
    with pytest.raises(MultipleErrors) as caught:
        service.read(key, tsp="other")
    assert codes(caught.value) == ["KER-LKM-004"]
    with pytest.raises(MultipleErrors) as caught:
        service.read(key)
    assert codes(caught.value) == ["KER-LKM-009"]
    service.grant(key, "eKYC - limited")
    service.clock.set(START + timedelta(days=1))
    assert service.read(key) == ["eKYC - limited"]  # at the expiry instant: still valid
    service.clock.advance(timedelta(milliseconds=1))
    with pytest.raises(MultipleErrors) as caught:
        service.read(key)
    assert codes(caught.value) == ["KER-LKM-005"]
    # an expired licence may still be given permissions (the reference checks expiry on reading only)
    assert service.grant(key, "eKYC - Full") == MAPPED_STATUS


def test_an_expired_licence_without_permissions_is_expired_first(service: Service) -> None:
    key = service.new_licence(days=1)
    service.clock.advance(timedelta(days=2))
    with pytest.raises(MultipleErrors) as caught:
        service.read(key)
    assert codes(caught.value) == ["KER-LKM-005"]


def test_concurrent_mappings_keep_every_permission() -> None:
    service = Service()
    key = service.new_licence()
    permissions = [f"OTP Trigger {n}" for n in range(12)]
    start = threading.Barrier(len(permissions))

    def grant(permission: str) -> None:
        start.wait(timeout=10)
        service.grant(key, permission)

    threads = [threading.Thread(target=grant, args=(p,)) for p in permissions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(service.read(key)) == sorted(permissions)


def test_nothing_is_written_when_a_mapping_fails(service: Service) -> None:
    key = service.new_licence()
    with pytest.raises(MultipleErrors):
        service.grant(key, "Unknown")
    with service.factory() as uow:
        assert uow.licenses.permissions(key) is None
