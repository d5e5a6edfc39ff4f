"""Group commit of audit records (ADR 0014): one transaction, one fsync, for many requests.

Each request submits its record and gets a ticket (a ``concurrent.futures.Future``) that
completes once the record is durable, or fails when it cannot be made durable. One writer
thread per process takes everything queued since its last commit and appends it as one batch
(``AuditLog.append_batch``), so under load many records share a commit while a lone request
still only waits for its own. The caller decides what to do while it waits: the HTTP layer
answers only once its ticket succeeded (fail closed: no record, no answer).
"""
from __future__ import annotations

import logging
import os
import threading
from collections import deque
from concurrent.futures import Future
from typing import Sequence

from domain.audit import AuditEvent, AuditRecord

from .ports.audit_log import AuditLog
from .ports.clock import Clock

log = logging.getLogger("keymanager.audit")

#: Records per transaction at most: bounds one commit's duration (and its lock hold) under a burst.
MAX_BATCH = 1000

AuditTicket = Future  # Future[list[AuditRecord]]


class AuditWriter:
    def __init__(self, audit_log: AuditLog, clock: Clock, max_batch: int = MAX_BATCH) -> None:
        self.audit_log = audit_log
        self.clock = clock
        self.max_batch = max_batch
        self.batches = 0  # commits made (figures for the benchmark and metrics)
        self.records = 0
        self.failures = 0  # records that could not be made durable
        self._pid: int | None = None  # the process whose writer thread runs
        self._start_lock = threading.Lock()
        self._queue: deque[tuple[list[AuditEvent], AuditTicket]] = deque()
        self._ready = threading.Condition()

    def submit(self, events: Sequence[AuditEvent]) -> AuditTicket:
        """Queue the events; the ticket completes with their records once they are durable."""
        if self._pid != os.getpid():
            self._start()  # first use, or a forked child: the parent's thread is not here
        ticket: AuditTicket = Future()
        with self._ready:
            self._queue.append((list(events), ticket))
            self._ready.notify()
        return ticket

    def append(self, events: Sequence[AuditEvent], timeout: float) -> list[AuditRecord]:
        """Submit and wait (callers without an event loop to wait on)."""
        return self.submit(events).result(timeout=timeout)

    def _start(self) -> None:
        with self._start_lock:
            if self._pid == os.getpid():
                return
            # After a fork the parent's queue and condition are not ours to share.
            self._queue, self._ready = deque(), threading.Condition()
            threading.Thread(target=self._run, name="keymanager-audit-writer", daemon=True).start()
            self._pid = os.getpid()

    def _take(self) -> list[tuple[list[AuditEvent], AuditTicket]]:
        with self._ready:
            while not self._queue:
                self._ready.wait()
            batch, size = [], 0
            while self._queue and (not batch or size + len(self._queue[0][0]) <= self.max_batch):
                item = self._queue.popleft()
                batch.append(item)
                size += len(item[0])
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            events = [event for item, _ in batch for event in item]
            try:
                records = self.audit_log.append_batch(events, self.clock.now())
            except BaseException as error:  # noqa: BLE001 - every waiter must hear of it, the thread lives on
                self.failures += len(events)
                log.error("audit batch of %d record(s) NOT written (%s); %d record(s) lost so far",
                          len(events), type(error).__name__, self.failures)
                for _, ticket in batch:
                    ticket.set_exception(error)
                continue
            self.batches += 1
            self.records += len(records)
            start = 0
            for item, ticket in batch:
                ticket.set_result(records[start:start + len(item)])
                start += len(item)
