"""The audit chain's rules (domain/audit.py): sealing, canonical form, and what verify detects."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.audit import (
    GENESIS_HASH,
    MAX_FIELD_CHARS,
    SUCCESS,
    AuditEvent,
    AuditRecord,
    canonical,
    chain_hash,
    seal,
    verify_chain,
)

T0 = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def build(events: list[AuditEvent]) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for index, event in enumerate(events):
        records.append(seal(records[-1] if records else None, event, T0 + timedelta(seconds=index)))
    return records


def sample(n: int = 5) -> list[AuditRecord]:
    operations = ["generateMasterKey", "encrypt", "decrypt", "jwtSign", "revokeKey", "jwtVerify"]
    return build(
        [
            AuditEvent(operation=operations[i % len(operations)], subject="dev", app_id="REGISTRATION",
                       ref_id=f"ref-{i}", thumbprint="AB" * 32, outcome=SUCCESS if i % 3 else "KER-CRY-010")
            for i in range(n)
        ]
    )


def test_the_first_record_links_to_genesis_and_the_hash_follows_the_rule() -> None:
    first, second = sample(2)
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.prev_hash == GENESIS_HASH == "0" * 64
    assert second.prev_hash == first.hash
    # hash_n = SHA-256(hash_{n-1} || canonical(record_n)), recomputed independently here
    content = {
        "sequence": 2, "timestamp": "2025-01-15T09:30:01.000000Z", "subject": "dev", "operation": "encrypt",
        "app_id": "REGISTRATION", "ref_id": "ref-1", "key_alias": None, "thumbprint": "AB" * 32,
        "outcome": SUCCESS,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    assert canonical(second) == text
    assert second.hash == hashlib.sha256(first.hash.encode() + text).hexdigest()


def test_canonical_form_has_sorted_keys_and_no_whitespace_and_no_hashes() -> None:
    record = sample(1)[0]
    text = canonical(record).decode()
    assert " " not in text and "\n" not in text
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert record.hash not in text and "prev_hash" not in text


def test_event_fields_are_clipped() -> None:
    event = AuditEvent(operation="encrypt", app_id="A" * 10_000)
    assert len(event.app_id) == MAX_FIELD_CHARS
    with pytest.raises(ValueError):
        AuditEvent(operation="", outcome=SUCCESS)


def test_an_untouched_chain_verifies() -> None:
    records = sample(7)
    verdict = verify_chain(records)
    assert verdict.intact and verdict.count == 7 and verdict.broken_at is None
    assert verdict.head == records[-1].hash


def test_an_empty_log_verifies() -> None:
    verdict = verify_chain([])
    assert verdict.intact and verdict.count == 0 and verdict.head == GENESIS_HASH


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "mallory"},
        {"operation": "getCertificate"},
        {"app_id": "OTHER"},
        {"ref_id": None},
        {"thumbprint": "CD" * 32},
        {"outcome": SUCCESS},
        {"timestamp": "2030-01-01T00:00:00.000000Z"},
    ],
)
def test_an_edited_field_is_detected_at_its_record(change) -> None:
    records = sample(6)
    records[3] = replace(records[3], **change)
    if records[3] == sample(6)[3]:  # the change happened to be a no-op for this record
        pytest.skip("no change")
    verdict = verify_chain(records)
    assert not verdict.intact
    assert verdict.broken_at == 4
    assert "altered" in verdict.reason


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    records = sample(6)
    edited = replace(records[2], subject="mallory")
    records[2] = replace(edited, hash=chain_hash(edited.prev_hash, edited))
    verdict = verify_chain(records)
    assert not verdict.intact and verdict.broken_at == 4 and "link" in verdict.reason


def test_a_deleted_record_is_detected() -> None:
    records = sample(6)
    del records[2]  # sequence 3 gone
    verdict = verify_chain(records)
    assert not verdict.intact and verdict.broken_at == 3 and "missing" in verdict.reason


def test_a_deleted_first_record_is_detected() -> None:
    verdict = verify_chain(sample(4)[1:])
    assert not verdict.intact and verdict.broken_at == 1


def test_deleted_and_renumbered_records_are_detected() -> None:
    records = sample(6)
    del records[2]
    renumbered = [replace(r, sequence=i + 1) for i, r in enumerate(records)]
    verdict = verify_chain(renumbered)
    assert not verdict.intact and verdict.broken_at == 3


def test_swapped_records_are_detected() -> None:
    records = sample(6)
    records[1], records[4] = records[4], records[1]
    verdict = verify_chain(records)
    assert not verdict.intact and verdict.broken_at == 2


def test_swapped_contents_keeping_sequence_numbers_are_detected() -> None:
    """What a row swap in the table looks like: positions keep their numbers, contents move."""
    records = sample(6)
    a, b = records[1], records[2]
    records[1] = replace(b, sequence=a.sequence)
    records[2] = replace(a, sequence=b.sequence)
    verdict = verify_chain(records)
    assert not verdict.intact and verdict.broken_at == 2


def test_a_truncated_hash_is_detected() -> None:
    records = sample(5)
    records[2] = replace(records[2], hash=records[2].hash[:32])
    verdict = verify_chain(records)
    assert not verdict.intact and verdict.broken_at == 3


def test_a_truncated_prev_hash_is_detected() -> None:
    records = sample(5)
    records[3] = replace(records[3], prev_hash=records[3].prev_hash[:-1])
    verdict = verify_chain(records)
    assert not verdict.intact and verdict.broken_at == 4


# -- properties ---------------------------------------------------------------------------------

texts = st.one_of(st.none(), st.text(max_size=40))
events = st.builds(
    AuditEvent,
    operation=st.text(min_size=1, max_size=20),
    outcome=st.one_of(st.just(SUCCESS), st.text(min_size=1, max_size=12)),
    subject=texts,
    app_id=texts,
    ref_id=texts,
    key_alias=texts,
    thumbprint=st.one_of(st.none(), st.text(alphabet="0123456789ABCDEF", min_size=64, max_size=64)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(events, min_size=0, max_size=12))
def test_any_sealed_chain_verifies(event_list) -> None:
    records = build(event_list)
    verdict = verify_chain(records)
    assert verdict.intact and verdict.count == len(records)


@settings(max_examples=100, deadline=None)
@given(st.lists(events, min_size=2, max_size=12), st.data())
def test_any_single_tampering_is_detected_at_or_before_its_position(event_list, data) -> None:
    records = build(event_list)
    kind = data.draw(st.sampled_from(["edit", "delete", "swap"]))
    index = data.draw(st.integers(0, len(records) - 1))
    if kind == "edit":
        original = records[index]
        records[index] = replace(original, subject=(original.subject or "") + "x")
    elif kind == "delete":
        if index == len(records) - 1:
            index -= 1  # removing the last record is a truncation: see ADR 0011 (head anchoring)
        del records[index]
    else:
        other = data.draw(st.integers(0, len(records) - 1).filter(lambda i: i != index))
        if records[index].content() | {"sequence": 0} == records[other].content() | {"sequence": 0}:
            return  # identical contents (same time cannot happen in build, but keep the property honest)
        records[index], records[other] = records[other], records[index]
        index = min(index, other)
    verdict = verify_chain(records)
    assert not verdict.intact
    assert verdict.broken_at == index + 1
