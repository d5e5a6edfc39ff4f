"""The real server (`keymanager serve`: granian + the RSGI bridge) under slow and hostile clients (issue 12).

* 200 connections holding a partial request line or partial headers and 50 holding a partial body
  (``Content-Length: 1000``, one byte sent) do not stall the service: a fresh getCertificate is
  answered within 2 s, 5 s and 30 s after they opened; by 30 s the header and body read timeouts
  have closed every one of them.
* A chunked body over the limit is refused with 413 in the MOSIP envelope (it used to be cut off
  and answered 200 "not valid JSON"); so is a declared one.
* A URL whose bytes are not UTF-8 is refused with KER-KMS-005, never turned into a key or a token.
* What the server answers by itself, without the application (README "HTTP server"): a head it
  cannot parse gets 400 or 431 with an empty body.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.support.server import Server, requests, server_factory

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 10
BODY_TIMEOUT = 20
MAX_BODY = 1024 * 1024
SLOW_HEADS, SLOW_BODIES = 200, 50


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with server_factory(tmp_path_factory.mktemp("hardening")) as make:
        yield make(
            "hardening",
            KEYMANAGER_ZK_POOL_SIZE="16",
            KEYMANAGER_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
            KEYMANAGER_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
            KEYMANAGER_MAX_BODY_BYTES=str(MAX_BODY),
        ).start()


def connect(server: Server, first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(first_bytes)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server has closed the connection (EOF or reset, possibly after an error answer)."""
    sock.settimeout(0.5)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def fresh_certificate_in_time(server: Server) -> None:
    # The bound is the client's timeout: a stalled server fails the request, it is not a timing assertion.
    response = requests.get(f"{server.base}/getCertificate", params={"applicationId": "ROOT"}, timeout=2)
    assert response.status_code == 200 and response.json()["errors"] is None


def test_slow_clients_do_not_stall_the_service_and_are_closed(server: Server) -> None:
    head = b"POST /v1/keymanager/decrypt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    opened = time.monotonic()
    slow = [connect(server, b"GET /v1/keymanager/getCert") for _ in range(SLOW_HEADS // 2)]  # partial request line
    slow += [connect(server, head) for _ in range(SLOW_HEADS // 2)]  # partial headers
    slow += [connect(server, head + b"Content-Length: 1000\r\n\r\n{") for _ in range(SLOW_BODIES)]  # partial body
    try:
        time.sleep(max(0.0, opened + 5 - time.monotonic()))
        fresh_certificate_in_time(server)
        assert not any(closed_by_server(sock) for sock in slow[:5] + slow[-5:]), "closed before their timeouts"
        time.sleep(max(0.0, opened + 30 - time.monotonic()))
        fresh_certificate_in_time(server)
        still_open = [index for index, sock in enumerate(slow) if not closed_by_server(sock)]
        assert still_open == [], f"{len(still_open)} slow connections survived their read timeouts"
    finally:
        for sock in slow:
            sock.close()
    fresh_certificate_in_time(server)


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    yield b'{"request": {"data": "'
    sent = 0
    while sent < total:
        yield b"A" * size
        sent += size
    yield b'"}}'


def test_a_chunked_body_over_the_limit_gets_413_in_the_envelope(server: Server) -> None:
    try:
        response = requests.post(f"{server.base}/decrypt", data=chunks(25 * 1024 * 1024),
                                 headers={"Content-Type": "application/json"}, timeout=30)
    except requests.ConnectionError:
        pytest.fail("the server dropped the connection instead of answering 413")
    assert response.status_code == 413
    body = response.json()
    assert body["response"] is None and body["errors"][0]["errorCode"] == "KER-KMS-005"
    assert str(MAX_BODY) in body["errors"][0]["message"]
    rid = response.headers["X-Request-ID"]
    assert "keymanager.access: POST <unread> 413" in server.output() and f"rid={rid}" in server.output()
    # a declared length over the limit, too (refused before the body is read)
    declared = requests.post(f"{server.base}/decrypt", data=b"x" * (MAX_BODY + 1),
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert declared.status_code == 413 and declared.json()["errors"][0]["errorCode"] == "KER-KMS-005"
    # a chunked body under the limit reaches the application
    small = requests.post(f"{server.base}/decrypt", data=iter([b'{"request": ', b"{}}"]),
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert small.status_code == 200 and small.json()["errors"][0]["errorCode"] == "KER-KMS-005"
    fresh_certificate_in_time(server)


def raw_exchange(server: Server, data: bytes) -> bytes:
    sock = connect(server, data)
    received = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    finally:
        sock.close()
    return received


@pytest.mark.parametrize("url", [
    "/v1/keymanager/tokenid/%ED%A0%80/partner",  # a lone surrogate, percent-encoded
    "/v1/keymanager/tokenid/%C3%28/partner",  # a broken two-byte sequence
    "/v1/keymanager/getCertificate?applicationId=REGISTRATION&referenceId=%ED%A0%80",
])
def test_urls_that_are_not_utf8_are_refused(server: Server, url: str) -> None:
    answer = raw_exchange(server, f"GET {url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 200 OK", answer[:300]
    assert b'"errorCode": "KER-KMS-005"' in rest and b"not valid UTF-8" in rest
    assert b'"response": null' in rest


@pytest.mark.parametrize("head, status", [
    (b"POST /v1/keymanager/decrypt HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", b"400"),
    (b"HELLO\r\n\r\n", b"400"),
    (b"GET /v1/keymanager/getCertificate HTTP/1.1\r\nHost: x\r\n"
     + b"".join(b"X-H%d: a\r\n" % i for i in range(200)) + b"\r\n", b"431"),
])
def test_what_the_server_answers_by_itself(server: Server, head: bytes, status: bytes) -> None:
    """Heads the HTTP server cannot parse never reach the application: it answers alone (documented)."""
    answer = raw_exchange(server, head)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    fresh_certificate_in_time(server)


def test_a_long_request_line_reaches_the_application(server: Server) -> None:
    answer = raw_exchange(server, b"GET /v1/keymanager/" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404"), answer[:200]
    assert b'"errorCode": "KER-KMS-005"' in answer


def test_views_run_off_the_loop_are_audited_too(server: Server) -> None:
    """PBKDF2 views run in the bridge's thread pool while the audit writer is driven by the loop:
    their records still commit, and the answers arrive (nothing waits for a flush that never comes)."""
    blob = server.ok("POST", "/encryptWithPin", {"data": "off the loop", "userPin": "AB1234"})["data"]
    assert server.ok("POST", "/decryptWithPin", {"data": blob, "userPin": "AB1234"}) == {"data": "off the loop"}
    fresh_certificate_in_time(server)
