"""Proactive rotation inside ``keymanager serve`` (issue 13): every ``KEYMANAGER_ROTATION_INTERVAL_SECONDS``
(0: off) each worker renews the keys that are due, so no request pays for key generation.

Every worker of every instance runs it: the rotation itself takes each tuple's lock and re-reads before it
creates anything (application/use_cases/keymanager/rotate_due_keys.py), so a successor is made exactly once however many
run at the same moment; the others find it current. The first run waits a random part of the interval (at most
a minute), so workers started together do not all scan at once.
"""
from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("keymanager.rotation")


def run_rotation(rotate: Callable[[], Any]) -> None:
    """One pass; logs what it renewed and what failed (tuples and codes only), never raises."""
    try:
        done = rotate()
    except Exception as error:  # noqa: BLE001 - the next pass tries again
        log.error("scheduled rotation failed (%s)", type(error).__name__)
        return
    for rotation in done:
        name = f"{rotation.key_tuple.app_id}:{rotation.key_tuple.ref_id}"
        if rotation.error_code is None:
            log.info("rotated %s: %s -> %s", name, rotation.previous_alias, rotation.new_alias)
        else:
            log.error("rotation of %s failed: %s", name, rotation.error_code)


def start_rotation(interval_seconds: float, rotate: Callable[[], Any]) -> threading.Thread | None:
    if interval_seconds <= 0:
        return None
    stop = threading.Event()

    def loop() -> None:
        delay = random.uniform(0, min(60.0, interval_seconds))
        while not stop.wait(delay):
            run_rotation(rotate)
            delay = interval_seconds

    thread = threading.Thread(target=loop, name="keymanager-rotation", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
