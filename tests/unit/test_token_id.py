"""Token ID against derived_ids.txt and the reference's rules (API §8.1)."""
from __future__ import annotations

import hashlib

import pytest

from application.crypto.token_id import token_id
from domain.errors import KeyManagerError
from tests.support.repo import VECTORS_DIR

# The reference's public TEST salts (mosip.kernel.tokenid.uin.salt / .partnercode.salt).
UIN_SALT = "zHuDEAbmbxiUbUShgy6pwUhKh9DE0EZn9kQDKPPKbWscGajMwf"
PARTNER_SALT = "yS8w5Wb6vhIKdf1msi4LYTJks7mqkbmITk2O63Iq8h0bkRlD0d"


def vector() -> str:
    for line in (VECTORS_DIR / "derived_ids.txt").read_text().splitlines():
        if line.startswith("tokenId(uin=1234567890,partner=partner123"):
            return line.rsplit("=", 1)[1]
    raise AssertionError("token ID vector missing")


def test_derived_ids_vector():
    expected = vector().strip()
    assert expected == "273516174950465218861486381028222425"
    assert token_id("1234567890", "partner123", UIN_SALT, PARTNER_SALT) == expected


def test_inputs_are_trimmed():
    expected = token_id("1234567890", "partner123", UIN_SALT, PARTNER_SALT)
    assert token_id("  1234567890\t", "\npartner123 ", UIN_SALT, PARTNER_SALT) == expected


@pytest.mark.parametrize("uin,partner", [("", "p"), ("u", ""), ("   ", "p"), ("u", "\t\n"), (None, "p")])
def test_empty_input_is_tig_010(uin, partner):
    with pytest.raises(KeyManagerError) as caught:
        token_id(uin, partner, UIN_SALT, PARTNER_SALT)
    assert caught.value.code == "KER-TIG-010"
    assert caught.value.message == "UIN and partner code cannot be empty"


def test_other_lengths_are_prefixes():
    full = token_id("1234567890", "partner123", UIN_SALT, PARTNER_SALT, length=154)
    assert len(full) == 154 and full.isdigit()
    assert token_id("1234567890", "partner123", UIN_SALT, PARTNER_SALT, length=20) == full[:20]
    assert full.startswith("273516174950465218861486381028222425")
    with pytest.raises(ValueError):
        token_id("1234567890", "partner123", UIN_SALT, PARTNER_SALT, length=0)
    with pytest.raises(ValueError):
        token_id("1234567890", "partner123", UIN_SALT, PARTNER_SALT, length=155)


def test_computation_spelled_out():
    def dd(text: str) -> str:
        return hashlib.sha256(hashlib.sha256(text.encode()).digest()).hexdigest().upper()

    h = dd("salt-p" + "P1" + dd("42" + "salt-u"))
    assert token_id("42", "P1", "salt-u", "salt-p", length=50) == str(int(h.encode().hex(), 16))[:50]


def test_salts_and_partner_change_the_token():
    base = token_id("1234567890", "partner123", UIN_SALT, PARTNER_SALT)
    assert token_id("1234567890", "partner124", UIN_SALT, PARTNER_SALT) != base
    assert token_id("1234567891", "partner123", UIN_SALT, PARTNER_SALT) != base
    assert token_id("1234567890", "partner123", UIN_SALT + "x", PARTNER_SALT) != base
