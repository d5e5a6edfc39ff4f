"""A bounded, thread-safe LRU cache whose entries expire, with hit and miss counts.

Used for unwrapped base private keys, thumbprint look-ups and key policies:
bounded so memory stays flat, expiring so no stale answer outlives the limit.
A cache of size 0 or a TTL of 0 disables caching.

Eviction and expiry are cachetools' ``TTLCache`` (least recently used first, expired entries
never answered); what this class adds is a lock (``TTLCache`` is not thread-safe), the
switch-off rule above and the counts the metrics read.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import TTLCache

V = TypeVar("V")
_MISSING = object()


class TtlLruCache(Generic[V]):
    def __init__(
        self, max_entries: int, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max(0, int(max_entries))
        self._ttl = float(ttl_seconds)
        self._items: TTLCache[Hashable, V] | None = (
            TTLCache(maxsize=self._max, ttl=self._ttl, timer=monotonic) if self.enabled else None
        )
        self._lock = threading.Lock()
        self.hits = 0  # lookups answered / not answered from the cache (metrics)
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._max > 0 and self._ttl > 0

    def get(self, key: Hashable) -> V | None:
        if self._items is None:
            return None
        with self._lock:
            value = self._items.get(key, _MISSING)
            if value is _MISSING:
                self.misses += 1
                return None
            self.hits += 1
            return value  # type: ignore[return-value]

    def put(self, key: Hashable, value: V) -> None:
        if self._items is None:
            return
        with self._lock:
            self._items[key] = value

    def discard(self, key: Hashable) -> None:
        if self._items is None:
            return
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        if self._items is None:
            return
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        if self._items is None:
            return 0
        with self._lock:
            self._items.expire()
            return len(self._items)
