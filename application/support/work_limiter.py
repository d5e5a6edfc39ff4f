"""A bound on deliberately slow work (PBKDF2 at 100,000 iterations, Argon2id with 64 MiB).

Each such request holds a worker thread and a CPU for hundreds of milliseconds. Without a
bound, a burst of them occupies every thread of every worker and the fast endpoints wait
behind them. Here at most ``concurrency`` computations run at once per process, at most
``waiting`` more requests wait (each for at most ``wait_seconds``), and any beyond that are
refused at once with HTTP 503: slow requests can never hold more than
``concurrency + waiting`` threads of a worker. See docs/performance.md.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from domain.errors import ServiceBusyError


class WorkLimiter:
    def __init__(self, concurrency: int, waiting: int, wait_seconds: float) -> None:
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self._admitted = threading.BoundedSemaphore(max(1, concurrency) + max(0, waiting))
        self._wait_seconds = wait_seconds
        self.in_flight = 0  # admitted requests, computing or waiting for a slot (metrics)
        self._count = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._admitted.acquire(blocking=False):
            raise ServiceBusyError()
        with self._count:
            self.in_flight += 1
        try:
            if not self._slots.acquire(timeout=self._wait_seconds):
                raise ServiceBusyError()
            try:
                yield
            finally:
                self._slots.release()
        finally:
            with self._count:
                self.in_flight -= 1
            self._admitted.release()
