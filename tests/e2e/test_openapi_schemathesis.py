"""schemathesis over the whole OpenAPI document, against a real server process (issue 13).

schemathesis' own runner (its CLI, as an operator would run it) loads the document from the
server and sends every documented operation requests generated from it: the document's
examples, its coverage cases (boundaries, missing and wrong-typed fields) and fuzzed ones, valid
and invalid. Each answer must be no server error (5xx) and must match the document: a documented
status, the documented content type, a body that validates against the response schema.
The MOSIP convention answers a caller's mistake with HTTP 200 and an error envelope, so
schemathesis' "invalid data must be rejected with 4xx" checks do not apply here.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import requests, server_factory

pytestmark = pytest.mark.slow

#: Fuzzed cases per operation: enough to reach the envelope's error paths, small enough for the suite.
EXAMPLES = os.environ.get("KEYMANAGER_SCHEMATHESIS_EXAMPLES", "25")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert found, "schemathesis is a test dependency (setup.cfg [dev]): pip install -e '.[dev]'"
    return found


def test_every_operation_answers_as_documented(tmp_path: Path) -> None:
    with server_factory(tmp_path) as make:
        server = make("schemathesis", KEYMANAGER_ZK_POOL_SIZE="16").start()  # the embedded default
        report = tmp_path / "schemathesis.json"
        run = subprocess.run(
            [_schemathesis(), "run", f"{server.base}/v3/api-docs", "--checks", CHECKS,
             "--phases", "examples,coverage,fuzzing", "--max-examples", EXAMPLES,
             "--generation-deterministic", "--workers", "1",  # 2 trips a CPython 3.11 ast bug in hypothesis
             "--request-timeout", "60",
             "--report", "ndjson", "--report-ndjson-path", str(report), "--no-color"],
            capture_output=True, text=True, timeout=1500, cwd=tmp_path,
        )
        summary = run.stdout[-6000:]
        assert run.returncode == 0, summary + run.stderr[-2000:] + "\nserver log (end):\n" + server.output()[-3000:]
        document = requests.get(f"{server.base}/v3/api-docs", timeout=30).json()
    # It really ran: every operation of the document was tested, and answers were checked.
    operations = sum(len(methods) for methods in document["paths"].values())
    assert operations >= 40
    assert f"Tested: {operations}" in " ".join(summary.split()), summary
    events = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    assert len(events) > operations, "schemathesis recorded too few events"
