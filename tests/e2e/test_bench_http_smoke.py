"""Smoke test of ``python -m bench.http`` (the HTTP load bench, see bench/http.py): a short run
against the real server must load every endpoint with only successful responses, measure a raw
rate for each and write its JSON. No throughput is asserted: figures depend on the machine.

wrk comes from tests/support/ensure_wrk.sh (Debian package wrk); when it is missing the test runs
that script once, then fails under CI=true or skips on a developer's machine (tests/conftest.py).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.http import ENDPOINTS  # every endpoint the benchmark measures by default
from tests.support.repo import REPO_ROOT
from tests.support.required import missing_backend

pytestmark = pytest.mark.slow


def wrk_available() -> bool:
    if shutil.which("wrk"):
        return True
    subprocess.run(["bash", str(REPO_ROOT / "tests" / "support" / "ensure_wrk.sh")], timeout=600, check=False)
    return shutil.which("wrk") is not None


def test_bench_http_short_run_writes_json(tmp_path: Path) -> None:
    if not wrk_available():
        missing_backend("wrk (Debian package wrk, for python -m bench.http)")
    out = tmp_path / "out.json"
    command = [sys.executable, "-m", "bench.http", "--duration", "1", "--connections", "2", "--threads", "1",
               "--raw-seconds", "0.3", "--json", str(out)]
    finished = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    output = f"stdout:\n{finished.stdout[-4000:]}\nstderr:\n{finished.stderr[-4000:]}"
    assert finished.returncode == 0, output
    assert out.exists(), output

    document = json.loads(out.read_text())
    assert set(document["endpoints"]) == set(ENDPOINTS), output
    for endpoint in ENDPOINTS:
        result = document["endpoints"][endpoint]
        assert result["requests"] > 0, (endpoint, result)
        assert result["non_2xx"] == 0, (endpoint, result)
        assert result["envelope_errors"] == 0, (endpoint, result)
        assert result["raw_ops_per_second"] > 0, (endpoint, result)
        assert result["raw_before"] > 0 and result["raw_after"] > 0, (endpoint, result)
    for endpoint in ENDPOINTS:
        assert f"/{endpoint}" in finished.stdout  # the printed table names every endpoint
