"""domain/identifiers.py: thumbprints, uni_ident and kid (mosip-crypto.md §3.4),
checked against vectors/derived_ids.txt and vectors/README.md."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from domain.identifiers import (
    key_id,
    thumbprint,
    thumbprint_hex,
    uni_ident,
    unique_value_for_generated,
    unique_value_for_upload,
)
from domain.keys import KeyTuple
from tests.support.repo import VECTORS_DIR


@pytest.fixture(scope="module")
def derived_ids() -> dict[str, str]:
    values = {}
    for line in (VECTORS_DIR / "derived_ids.txt").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() in ("uniqueValue", "uniqueIdentifier", "kid"):
            values[name.strip()] = value.strip()
    assert set(values) == {"uniqueValue", "uniqueIdentifier", "kid"}
    return values


@pytest.fixture(scope="module")
def readme_thumbprint() -> str:
    text = (VECTORS_DIR / "README.md").read_text()
    match = re.search(r"thumbprint `([0-9A-F]{64})`", text)
    assert match, "SHA-256 thumbprint not found in vectors/README.md"
    return match.group(1)


def test_uni_ident_of_vector(derived_ids):
    assert uni_ident(derived_ids["uniqueValue"]) == derived_ids["uniqueIdentifier"]


def test_uni_ident_is_40_upper_hex():
    value = uni_ident("PMS_partner_12-31-2024")
    assert re.fullmatch(r"[0-9A-F]{40}", value)
    assert value != uni_ident("PMS_partner_12-31-2023")


def test_key_id_of_vector(derived_ids):
    assert key_id(derived_ids["uniqueIdentifier"]) == derived_ids["kid"]


def test_key_id_chain_from_unique_value(derived_ids):
    assert key_id(uni_ident(derived_ids["uniqueValue"])) == derived_ids["kid"]


def test_key_id_is_43_char_base64url():
    kid = key_id(uni_ident("anything"))
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", kid)


def test_key_id_accepts_lower_case_hex(derived_ids):
    assert key_id(derived_ids["uniqueIdentifier"].lower()) == derived_ids["kid"]


def test_thumbprint_of_test_cert_der(readme_thumbprint, vectors):
    der = (VECTORS_DIR / "test_cert.der").read_bytes()
    assert thumbprint_hex(der) == readme_thumbprint
    assert thumbprint_hex(der) == vectors["V3.thumbprint"]
    assert thumbprint(der) == bytes.fromhex(readme_thumbprint)
    assert len(thumbprint(der)) == 32


def test_thumbprint_hex_is_upper_case():
    value = thumbprint_hex(b"\x00some certificate bytes")
    assert re.fullmatch(r"[0-9A-F]{64}", value)


def test_unique_value_of_generated_master_key_matches_vector(derived_ids):
    # REGISTRATION master key (ref "") generated on 2025-01-15: the day of the vector.
    generated = datetime(2025, 1, 15, 9, 30, 12, tzinfo=UTC)
    value = unique_value_for_generated(KeyTuple("REGISTRATION", ""), generated)
    assert value == derived_ids["uniqueValue"]
    assert uni_ident(value) == derived_ids["uniqueIdentifier"]


@pytest.mark.parametrize(
    "generated",
    [
        datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2025, 2, 3, 0, 0, tzinfo=UTC),
        datetime(2031, 7, 9, 12, 0, tzinfo=UTC),
    ],
)
def test_unique_value_uses_month_day_year(generated):
    # appId + "_" + refId + "_" + MM-dd-yyyy (§3.4).
    value = unique_value_for_generated(KeyTuple("PMS", "partner"), generated)
    expected_date = f"{generated.month:02d}-{generated.day:02d}-{generated.year:04d}"
    assert value == f"PMS_partner_{expected_date}"


def test_unique_value_ignores_time_of_day():
    morning = datetime(2025, 3, 4, 0, 0, tzinfo=UTC)
    tuple_ = KeyTuple("REGISTRATION", "ref")
    assert unique_value_for_generated(tuple_, morning) == unique_value_for_generated(
        tuple_, morning + timedelta(hours=23, minutes=59)
    )
    assert unique_value_for_generated(tuple_, morning) != unique_value_for_generated(
        tuple_, morning + timedelta(days=1)
    )


def test_unique_value_for_upload_uses_thumbprint(vectors):
    value = unique_value_for_upload(KeyTuple("PARTNER", "p1"), vectors["V3.thumbprint"])
    assert value == "PARTNER_p1_" + vectors["V3.thumbprint"]
