"""Start several Python processes, release them at the same instant, collect their JSON results.

Used by the tests that race OS processes against one store or token. Each child runs
``script`` with argv ``[ready_path, go_path, *arguments]``: it touches ``ready_path`` when set up,
waits for ``go_path`` to exist, works, and prints one JSON document as its last line.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.repo import REPO_ROOT


def run_in_lockstep(
    tmp_path: Path,
    script: str,
    argument_lists: Sequence[Sequence[str]],
    env: Mapping[str, str],
    *,
    start_timeout: float = 60,
    run_timeout: float = 120,
) -> list[Any]:
    go = tmp_path / "go"
    children: list[tuple[Path, subprocess.Popen[bytes]]] = []
    try:
        for number, arguments in enumerate(argument_lists):
            ready = tmp_path / f"ready-{number}"
            command = [sys.executable, "-c", script, str(ready), str(go), *arguments]
            children.append((ready, subprocess.Popen(
                command, cwd=REPO_ROOT, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )))
        deadline = time.monotonic() + start_timeout
        while not all(ready.exists() for ready, _ in children):
            assert time.monotonic() < deadline, "children did not start"
            for _, process in children:
                if process.poll() is not None:
                    pytest.fail(f"a child died while starting: {process.communicate()[1].decode(errors='replace')}")
            time.sleep(0.01)
        go.write_text("go")
        results = []
        for _, process in children:
            stdout, stderr = process.communicate(timeout=run_timeout)
            assert process.returncode == 0, stderr.decode(errors="replace")
            results.append(json.loads(stdout.decode().strip().splitlines()[-1]))
        return results
    finally:
        for _, process in children:
            if process.poll() is None:
                process.kill()
                process.wait()
