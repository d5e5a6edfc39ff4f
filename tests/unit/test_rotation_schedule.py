"""The serve-time rotation schedule (issue 13): runs the rotation repeatedly, survives failures, can be off."""
from __future__ import annotations

import logging
import threading
from types import SimpleNamespace

from entrypoints.server import rotation


def test_off_when_the_interval_is_zero() -> None:
    assert rotation.start_rotation(0, lambda: []) is None


def test_runs_again_and_again_and_survives_a_failure(monkeypatch) -> None:
    monkeypatch.setattr(rotation.random, "uniform", lambda a, b: 0.0)
    calls: list[int] = []
    enough = threading.Event()

    def rotate():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("store down")
        if len(calls) >= 3:
            enough.set()
        return []

    thread = rotation.start_rotation(0.01, rotate)
    assert thread is not None
    try:
        assert enough.wait(10), calls
    finally:
        thread.stop.set()
        thread.join(5)
    assert len(calls) >= 3


def test_a_pass_logs_each_tuple_and_never_raises(caplog) -> None:
    done = [
        SimpleNamespace(key_tuple=SimpleNamespace(app_id="REGISTRATION", ref_id="r1"), previous_alias="a",
                        new_alias="b", error_code=None),
        SimpleNamespace(key_tuple=SimpleNamespace(app_id="IDA", ref_id=""), previous_alias="c", new_alias=None,
                        error_code="KER-KMS-012"),
    ]
    with caplog.at_level(logging.INFO, logger="keymanager.rotation"):
        rotation.run_rotation(lambda: done)
        rotation.run_rotation(lambda: (_ for _ in ()).throw(OSError("disk")))
    text = caplog.text
    assert "rotated REGISTRATION:r1: a -> b" in text and "rotation of IDA: failed: KER-KMS-012" in text
    assert "scheduled rotation failed (OSError)" in text and "disk" not in text
