"""A small thread-safe connection pool, one per process.

Connections are checked out per unit of work and returned at its end; nothing
is held across requests. A connection that failed is discarded, so after an
outage the next checkout opens a fresh one and the service recovers by itself.
"""
from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

C = TypeVar("C")


class PoolExhausted(Exception):
    """No connection became free within the acquire timeout."""


class ConnectionPool(Generic[C]):
    def __init__(
        self,
        connect: Callable[[], C],
        close: Callable[[C], None],
        max_size: int,
        acquire_timeout: float,
    ) -> None:
        self._connect = connect
        self._close = close
        self._slots = threading.BoundedSemaphore(max(1, max_size))
        self._idle: deque[C] = deque()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._timeout = acquire_timeout
        self.in_use = 0  # connections handed out and not yet returned (metrics)

    def _after_fork(self) -> None:
        # A child must not reuse (or close) its parent's sockets: forget them.
        if os.getpid() != self._pid:
            with self._lock:
                self._idle.clear()
                self._pid = os.getpid()
                self.in_use = 0

    def acquire(self) -> C:
        self._after_fork()
        if not self._slots.acquire(timeout=self._timeout):
            raise PoolExhausted()
        try:
            with self._lock:
                self.in_use += 1
                if self._idle:
                    return self._idle.pop()
            return self._connect()
        except BaseException:
            with self._lock:
                self.in_use -= 1
            self._slots.release()
            raise

    def release(self, connection: C, broken: bool = False) -> None:
        with self._lock:
            self.in_use -= 1
        try:
            if broken:
                # A connection that failed usually means the server restarted or its
                # backends were terminated: the idle ones, opened before, are dead too.
                # Drop them so the caller's retry (and the next units) connect afresh.
                self._discard(connection)
                self._after_fork()  # in a forked child: forget, never close, the parent's sockets
                self.close_all()
            elif os.getpid() != self._pid:
                self._discard(connection)
            else:
                with self._lock:
                    self._idle.append(connection)
        finally:
            self._slots.release()

    def _discard(self, connection: C) -> None:
        try:
            self._close(connection)
        except Exception:  # already broken; nothing more to do
            pass

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = list(self._idle), deque()
        for connection in idle:
            self._discard(connection)
