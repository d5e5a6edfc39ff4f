"""The rule that keeps a migrated key from becoming current beside another current key of its tuple
(domain/key_migration.py): both current, the tuple would answer KER-KMS-003 to every request."""
from __future__ import annotations

from datetime import timedelta

import pytest

from domain.key_migration import current_alongside
from domain.keys import KeyAlias, KeyTuple
from tests.support.repo import START

DAY = timedelta(days=1)
TUPLE = KeyTuple("REGISTRATION", "ref")


def alias(name: str, generated_days: float, expires_days: float) -> KeyAlias:
    return KeyAlias(name, TUPLE, START + generated_days * DAY, START + expires_days * DAY)


@pytest.mark.parametrize(
    ("existing", "migrated", "clash"),
    [
        ([], (-10, 700), None),
        ([alias("own", -1, 729)], (-10, 700), "own"),  # both current now
        ([alias("own", -1, 729)], (-800, -70), None),  # the migrated key is long expired
        ([alias("own", -1, 729)], (-700, 25), None),  # within its 30-day pre-expiry window: not current
        ([alias("own", -1, 729)], (-700, 31), "own"),  # current for one more day
        ([alias("old", -800, -70)], (-10, 700), None),  # the existing key is past its use
        ([alias("revoked", -1, -1 - 1 / 1440)], (-10, 700), None),  # revoked as it was made
        ([alias("own", -1, 729)], (-1, -1 - 1 / 1440), None),  # the migrated key was revoked as it was made
        ([alias("future", 100, 829)], (-10, 700), "future"),  # both current from day 100 on
        ([alias("old", -800, -70), alias("own", -1, 729)], (-10, 700), "own"),
    ],
)
def test_a_clash_is_an_overlap_of_the_current_windows_from_now_on(existing, migrated, clash) -> None:
    not_before, not_after = (START + days * DAY for days in migrated)
    found = current_alongside(not_before, not_after, existing, START, 30)
    assert (found.alias if found else None) == clash


def test_without_a_pre_expiry_window_the_last_day_counts() -> None:
    existing = [alias("own", -1, 729)]
    assert current_alongside(START - 700 * DAY, START + DAY, existing, START, 0) == existing[0]
    assert current_alongside(START - 700 * DAY, START + DAY, existing, START, 30) is None
