"""The group-commit writer (ADR 0014): many submissions, one batch; a failed batch fails every ticket."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from adapters.memory.audit_log import MemoryAuditLog
from adapters.memory.key_repository import MemoryStore
from application.support.audit_writer import AuditWriter
from domain.audit import AuditEvent, verify_chain


class Clock:
    def now(self) -> datetime:
        return datetime(2025, 1, 15, tzinfo=UTC)


class CountingLog(MemoryAuditLog):
    def __init__(self) -> None:
        super().__init__(MemoryStore())
        self.batches: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.broken = False

    def append_batch(self, events, at):
        self.gate.wait(10)
        if self.broken:
            raise OSError("disk full")
        self.batches.append(len(events))
        return super().append_batch(events, at)


def event(n: int) -> AuditEvent:
    return AuditEvent(operation="decrypt", subject=f"s{n}")


def test_records_queued_during_a_commit_share_the_next_one() -> None:
    log = CountingLog()
    writer = AuditWriter(log, Clock())
    log.gate.clear()  # hold the first commit while more requests arrive
    first = writer.submit([event(0)])
    tickets = [writer.submit([event(n)]) for n in range(1, 21)]
    log.gate.set()
    records = [first.result(10)] + [ticket.result(10) for ticket in tickets]
    assert sum(log.batches) == 21 and len(log.batches) < 21  # fewer commits than records
    assert [batch[0].subject for batch in records] == [f"s{n}" for n in range(21)]  # each ticket, its own record
    assert verify_chain(log.records()).intact


def test_a_batch_that_fails_fails_every_ticket_and_the_writer_lives_on() -> None:
    log = CountingLog()
    writer = AuditWriter(log, Clock())
    log.broken = True
    tickets = [writer.submit([event(n)]) for n in range(3)]
    for ticket in tickets:
        with pytest.raises(OSError):
            ticket.result(10)
    assert writer.failures == 3
    log.broken = False
    assert writer.submit([event(9)]).result(10)[0].sequence == 1


def test_driven_mode_commits_on_flush_only() -> None:
    log = CountingLog()
    writer = AuditWriter(log, Clock())
    scheduled: list[int] = []
    writer.drive(lambda delay: scheduled.append(1))
    tickets = [writer.submit([event(n)]) for n in range(5)]
    assert scheduled == [1] and not any(ticket.done() for ticket in tickets)  # one flush asked for, for all five
    writer.flush()
    assert log.batches == [5] and all(ticket.result(0) for ticket in tickets)
    writer.submit([event(5)])
    assert scheduled == [1, 1]  # the next submission asks for the next flush


def test_driven_mode_retries_later_while_the_store_is_locked_elsewhere() -> None:
    log = CountingLog()
    busy = [True]
    plain = log.try_append_batch

    def try_append_batch(events, at):
        return None if busy[0] else plain(events, at)

    log.try_append_batch = try_append_batch
    writer = AuditWriter(log, Clock())
    asked: list[float] = []
    writer.drive(asked.append)
    first = writer.submit([event(0)])
    writer.flush()  # the store is locked by another process: nothing written, a later try asked for
    assert asked == [0.0, pytest.approx(0.0002)] and not first.done()
    second = writer.submit([event(1)])
    assert asked == [0.0, pytest.approx(0.0002)]  # a flush is already due: no second wake-up
    busy[0] = False
    writer.flush()
    assert log.batches == [2] and [first.result(0)[0].sequence, second.result(0)[0].sequence] == [1, 2]


def test_sqlite_try_append_gives_way_to_another_writer(tmp_path) -> None:
    from adapters.sqlite.audit_log import SqliteAuditLog
    from adapters.sqlite.key_repository import SqliteDatabase, SqliteUnitOfWork

    database = SqliteDatabase(tmp_path / "km.sqlite")
    database.upgrade()
    log = SqliteAuditLog(database)
    entered, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with SqliteUnitOfWork(database) as unit:
            unit.begin_write()
            entered.set()
            leave.wait(10)

    other = threading.Thread(target=hold)  # another writer (a thread here; the lock serves processes too)
    other.start()
    entered.wait(10)
    try:
        assert log.try_append_batch([event(0)], Clock().now()) is None
    finally:
        leave.set()
        other.join(10)
    (record,) = log.try_append_batch([event(0)], Clock().now())
    assert record.sequence == 1 and [r.sequence for r in log.records()] == [1]


def test_driven_mode_waits_for_the_lock_after_many_busy_tries() -> None:
    from application.support.audit_writer import MAX_TRIES

    log = CountingLog()
    log.try_append_batch = lambda events, at: None  # always taken by someone else
    writer = AuditWriter(log, Clock())
    writer.drive(lambda delay: None)
    ticket = writer.submit([event(0)])
    for _ in range(MAX_TRIES):
        writer.flush()
        assert not ticket.done()
    writer.flush()  # now it waits for the lock (append_batch) instead of trying again
    assert ticket.result(0)[0].sequence == 1 and log.batches == [1]
