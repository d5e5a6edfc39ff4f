"""How both benchmarks time an operation: calls per second over about ``seconds``, in this thread."""
from __future__ import annotations

import time
from collections.abc import Callable


def one_round(operation: Callable[[], object], seconds: float) -> tuple[float, int]:
    """(ops/s, calls) of one round of about ``seconds`` (time.perf_counter), checking the clock every 8 calls."""
    count = 0
    start = now = time.perf_counter()
    deadline = start + seconds
    while now < deadline:
        for _ in range(8):
            operation()
        count += 8
        now = time.perf_counter()
    return count / (now - start), count
