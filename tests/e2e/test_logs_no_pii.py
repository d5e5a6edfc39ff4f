"""No personal data in the real server's output (issue 12).

`keymanager serve` (granian workers, its own access log off) is driven over HTTP with a marker UIN in
the path of /tokenid/{uin}/{partnercode}, a marker encryptedKey in the query string of
/zkReEncryptRandomKey, and an unknown path carrying the UIN. The whole server output (stdout and
stderr, every worker) is then searched: no marker anywhere, and the application's access lines name
the route templates and echo the request ids.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.server import Server, requests, server_factory

pytestmark = pytest.mark.slow

MARKER_UIN = "9876543210123"
MARKER_PARTNER = "mrkpartner7391"
MARKER_KEY = "Zm9vYmFyOTg3NjU0MzIxMDEyMw-marker-key-5521"
MARKERS = (MARKER_UIN, MARKER_PARTNER, MARKER_KEY)
PREFIX = "/v1/keymanager"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    with server_factory(tmp_path) as make:
        yield make


def access_line(output: str, method: str, route: str, status: int, rid: str) -> str | None:
    pattern = re.compile(
        rf"keymanager\.access: {re.escape(method)} {re.escape(route)} {status} \d+\.\dms rid={re.escape(rid)}$",
        re.MULTILINE,
    )
    match = pattern.search(output)
    return match.group(0) if match else None


def test_server_output_has_templates_and_never_the_uin(servers) -> None:
    server = servers("logs", KEYMANAGER_ZK_POOL_SIZE="16").start()  # a small pool: the ceremony is quick
    calls = [
        ("GET", f"/tokenid/{MARKER_UIN}/{MARKER_PARTNER}", None, f"{PREFIX}/tokenid/{{uin}}/{{partnercode}}", "e2e-token"),
        ("POST", "/zkReEncryptRandomKey", {"encryptedKey": MARKER_KEY}, f"{PREFIX}/zkReEncryptRandomKey", "e2e-zk"),
        ("GET", f"/resident/{MARKER_UIN}", {"uin": MARKER_UIN}, "<unmatched>", "e2e-unknown"),
    ]
    seen = []
    for method, path, params, route, rid in calls:
        response = requests.request(method, server.base + path, params=params, headers={"X-Request-ID": rid},
                                    timeout=30)
        assert response.headers["X-Request-ID"] == rid
        seen.append((method, route, response.status_code, rid))
    assert seen[0][2] == 200 and seen[2][2] == 404
    generated = requests.get(f"{server.base}/tokenid/{MARKER_UIN}/p", timeout=30).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    seen.append(("GET", f"{PREFIX}/tokenid/{{uin}}/{{partnercode}}", 200, generated))

    server.stop()  # flushes and ends every worker: the whole output is on disk
    output = server.log_path.read_text(errors="replace")
    for marker in MARKERS:
        assert marker not in output, f"{marker!r} in the server output:\n{output[-8000:]}"
    for method, route, status, rid in seen:
        assert access_line(output, method, route, status, rid), (
            f"no access line for {method} {route} {status} rid={rid}:\n{output[-8000:]}"
        )


def test_json_logs_on_the_real_server(servers) -> None:
    server = servers("json-logs", KEYMANAGER_ZK_POOL_SIZE="16", KEYMANAGER_LOG_FORMAT="json").start()
    response = requests.get(f"{server.base}/tokenid/{MARKER_UIN}/{MARKER_PARTNER}", headers={"X-Request-ID": "e2e-json"},
                            timeout=30)
    assert response.status_code == 200
    server.stop()
    import json

    records = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    loggers = {record["logger"] for record in records}
    assert {"keymanager.access", "_granian"} <= loggers, loggers  # ours and the server's own lines
    (access,) = [r for r in records if r["logger"] == "keymanager.access" and r.get("request_id") == "e2e-json"]
    assert access["route"] == f"{PREFIX}/tokenid/{{uin}}/{{partnercode}}" and access["status"] == 200
    assert not [line for line in server.output().splitlines() if " INFO keymanager" in line]  # no text lines
    assert all(marker not in server.output() for marker in MARKERS)
