"""A bounded, thread-safe LRU cache whose entries expire.

Used for unwrapped base private keys, thumbprint look-ups and key policies:
bounded so memory stays flat, expiring so no stale answer outlives the limit.
A cache of size 0 or a TTL of 0 disables caching.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")


class TtlLruCache(Generic[V]):
    def __init__(
        self, max_entries: int, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max(0, int(max_entries))
        self._ttl = float(ttl_seconds)
        self._now = monotonic
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0  # lookups answered / not answered from the cache (metrics)
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._max > 0 and self._ttl > 0

    def get(self, key: Hashable) -> V | None:
        if not self.enabled:
            return None
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            deadline, value = item
            if self._now() >= deadline:
                del self._items[key]
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: V) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._items[key] = (self._now() + self._ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
