"""Stopping a `keymanager serve` process that leads its own session (granian's workers are in its group);
shared by the HTTP benchmark and the e2e tests' server helper."""
from __future__ import annotations

import os
import signal
import subprocess


def stop_server(process: subprocess.Popen | None, timeout: float) -> None:
    """SIGTERM and wait; past ``timeout``, SIGKILL the whole group (the workers), then the process."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.kill()
        process.wait(timeout=10)
