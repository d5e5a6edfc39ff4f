"""application/support/ttl_cache.py: a bounded, expiring, thread-safe LRU cache."""
from __future__ import annotations

import threading

import pytest

from application.support.ttl_cache import TtlLruCache


class FakeMonotonic:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def time() -> FakeMonotonic:
    return FakeMonotonic()


# -- LRU bound -------------------------------------------------------------------------------


def test_get_returns_what_was_put(time):
    cache: TtlLruCache[str] = TtlLruCache(4, 60, monotonic=time)
    cache.put("a", "A")
    assert cache.get("a") == "A"
    assert cache.get("missing") is None
    assert len(cache) == 1


def test_bound_evicts_oldest(time):
    cache: TtlLruCache[int] = TtlLruCache(3, 60, monotonic=time)
    for key in "abcd":
        cache.put(key, ord(key))
    assert len(cache) == 3
    assert cache.get("a") is None
    assert [cache.get(k) for k in "bcd"] == [ord("b"), ord("c"), ord("d")]


def test_get_refreshes_recency(time):
    cache: TtlLruCache[int] = TtlLruCache(2, 60, monotonic=time)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert cache.get("c") == 3


def test_put_existing_key_refreshes_recency_without_growing(time):
    cache: TtlLruCache[int] = TtlLruCache(2, 60, monotonic=time)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    assert len(cache) == 2
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 10


def test_size_one(time):
    cache: TtlLruCache[int] = TtlLruCache(1, 60, monotonic=time)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") is None
    assert cache.get("b") == 2
    assert len(cache) == 1


# -- TTL -------------------------------------------------------------------------------------


def test_entry_expires_after_ttl(time):
    cache: TtlLruCache[str] = TtlLruCache(4, 10, monotonic=time)
    cache.put("a", "A")
    time.advance(9.999)
    assert cache.get("a") == "A"
    time.advance(0.001)  # exactly the TTL
    assert cache.get("a") is None
    assert len(cache) == 0  # the expired entry is dropped, not kept


def test_get_does_not_extend_ttl(time):
    cache: TtlLruCache[str] = TtlLruCache(4, 10, monotonic=time)
    cache.put("a", "A")
    for _ in range(4):
        time.advance(2)
        assert cache.get("a") == "A"
    time.advance(2)
    assert cache.get("a") is None


def test_put_again_restarts_ttl(time):
    cache: TtlLruCache[str] = TtlLruCache(4, 10, monotonic=time)
    cache.put("a", "A")
    time.advance(8)
    cache.put("a", "A2")
    time.advance(8)
    assert cache.get("a") == "A2"
    time.advance(2)
    assert cache.get("a") is None


def test_entries_expire_independently(time):
    cache: TtlLruCache[str] = TtlLruCache(4, 10, monotonic=time)
    cache.put("a", "A")
    time.advance(5)
    cache.put("b", "B")
    time.advance(5)
    assert cache.get("a") is None
    assert cache.get("b") == "B"


def test_default_clock_is_monotonic_and_works():
    cache: TtlLruCache[str] = TtlLruCache(2, 60)
    cache.put("a", "A")
    assert cache.get("a") == "A"


# -- disabled --------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "ttl"), [(0, 60), (4, 0), (0, 0), (-1, 60), (4, -5)])
def test_size_or_ttl_zero_disables(time, size, ttl):
    cache: TtlLruCache[str] = TtlLruCache(size, ttl, monotonic=time)
    assert cache.enabled is False
    cache.put("a", "A")
    assert cache.get("a") is None
    assert len(cache) == 0


def test_enabled_when_both_positive(time):
    assert TtlLruCache(1, 0.5, monotonic=time).enabled is True


# -- discard / clear -------------------------------------------------------------------------


def test_discard_and_clear(time):
    cache: TtlLruCache[int] = TtlLruCache(4, 60, monotonic=time)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.discard("a")
    cache.discard("never-there")
    assert cache.get("a") is None
    assert cache.get("b") == 2
    cache.clear()
    assert len(cache) == 0
    assert cache.get("b") is None


# -- threads ---------------------------------------------------------------------------------


def test_thread_safety_smoke():
    size = 64
    cache: TtlLruCache[tuple[int, int]] = TtlLruCache(size, 60)
    errors: list[BaseException] = []
    wrong: list[tuple[object, object]] = []
    start = threading.Barrier(8)

    def worker(thread_id: int) -> None:
        try:
            start.wait()
            for i in range(3000):
                key = (thread_id * 7 + i) % 200
                cache.put(key, (key, key * key))
                for probe in (key, (key + 13) % 200):
                    value = cache.get(probe)
                    if value is not None and value != (probe, probe * probe):
                        wrong.append((probe, value))
                if i % 500 == 0:
                    cache.discard((key + 1) % 200)
                assert len(cache) <= size
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert wrong == []
    assert 0 < len(cache) <= size
