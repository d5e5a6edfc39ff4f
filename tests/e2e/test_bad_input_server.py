"""Issue 12's bad inputs against the real server process: clean KER-KMS-005 answers, never a 500, and every
refused audited call still recorded (the chain verifies afterwards).

Each case used to be a 500 with a traceback, or an answer without an audit record (a lone surrogate in
``referenceId`` made the audit insert fail while /decrypt still returned the plaintext).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.repo import REPO_ROOT
from tests.support.server import REQUEST_TIME, Server, b64url, requests, server_factory

pytestmark = pytest.mark.slow

PLAINTEXT = b"must-not-come-back-7731"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with server_factory(tmp_path_factory.mktemp("bad-input")) as make:
        yield make("bad-input", KEYMANAGER_ZK_POOL_SIZE="16").start()


def post_raw(server: Server, path: str, text: str) -> requests.Response:
    """POST the JSON text as it is (escapes such as \\ud800 stay escapes on the wire)."""
    return requests.post(server.base + path, data=text.encode("ascii"), timeout=30,
                         headers={"Content-Type": "application/json"})


def envelope(request: dict, requesttime: str = REQUEST_TIME) -> str:
    return json.dumps({"id": "e2e", "version": "1.0", "requesttime": requesttime, "metadata": {}, "request": request})


def refused(response: requests.Response) -> None:
    assert response.status_code == 200, response.text[:300]
    assert "Traceback" not in response.text
    body = response.json()
    assert body["response"] is None and body["errors"] and {e["errorCode"] for e in body["errors"]} == {"KER-KMS-005"}, body


def test_lone_surrogates_are_refused_before_anything_runs(server: Server) -> None:
    wire = server.encrypt(PLAINTEXT)
    cases = [
        ("/decrypt", {"applicationId": "REGISTRATION", "referenceId": "10001_110011", "data": wire}),
        ("/encrypt", {"applicationId": "REGISTRATION", "referenceId": "10001_110011", "data": b64url(PLAINTEXT)}),
        ("/decryptWithPin", {"data": "x", "userPin": "AB1234", "applicationId": "A"}),
        ("/sign", {"data": "abc", "applicationId": "A"}),
    ]
    for path, request in cases:
        field = "referenceId" if "referenceId" in request else "applicationId"
        text = envelope({**request, field: "MARK"}).replace('"MARK"', '"\\ud800"')
        response = post_raw(server, path, text)
        refused(response)
        assert b64url(PLAINTEXT) not in response.text and PLAINTEXT.decode() not in response.text


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_json_is_refused(server: Server, depth: int) -> None:
    refused(post_raw(server, "/decrypt", '{"request":' * depth + "1" + "}" * depth))
    refused(post_raw(server, "/encrypt", "[" * depth + "]" * depth))


def test_requesttime_must_parse(server: Server) -> None:
    request = {"applicationId": "REGISTRATION", "referenceId": "10001_110011", "data": b64url(PLAINTEXT)}
    refused(post_raw(server, "/encrypt", envelope(request, requesttime="INVALID-TIMESTAMP-FORMAT")))


def test_huge_paging_numbers_are_refused(server: Server) -> None:
    huge = 99999999999999999999999
    text = envelope({"partnerDomain": "AUTH", "pageNumber": huge, "pageSize": huge})
    refused(post_raw(server, "/getCaCertificates", text))


def test_the_trail_verifies_after_the_refusals(server: Server) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYMANAGER_")}
    env.update(KEYMANAGER_DATA_DIR=str(server.data_dir), **server.env)
    for action in ("verify", "list"):
        done = subprocess.run([sys.executable, "-m", "entrypoints.cli", "audit", action, *(["--limit", "50"] if action == "list" else [])],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        if action == "verify":
            assert "audit trail intact" in done.stdout
        else:  # the refused /decrypt and /encrypt calls are on record with their outcome
            assert any("decrypt" in line and "KER-KMS-005" in line for line in done.stdout.splitlines()), done.stdout
