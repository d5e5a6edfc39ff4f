"""Clock adapters: the system's UTC clock, and a settable one for tests and tools."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def _millis(instant: datetime) -> datetime:
    # The reference works in milliseconds (LocalDateTime rendered as .SSS).
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


class SystemClock:
    def now(self) -> datetime:
        return _millis(datetime.now(UTC))


class ManualClock:
    """A clock that only moves when told to (key lifecycle tests, what-if tools)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _millis(start or datetime.now(UTC))
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = _millis(instant)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now = _millis(self._now + delta)
