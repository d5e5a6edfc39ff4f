"""The slow-work limit through HTTP (application/support/work_limiter.py): PBKDF2 (encryptWithPin /
decryptWithPin) and Argon2 (generateArgon2Hash) share one per-process bound. Beyond it a request
is refused at once with HTTP 503, ``Retry-After: 1`` and the MOSIP error envelope (KER-KMS-500),
never a 500, while the fast endpoints keep answering.
"""
from __future__ import annotations

import base64
import threading
import time
from typing import Any

import pytest

import application.crypto.argon2
import application.crypto.pin
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys

API = "/v1/keymanager"
APP, REF = "REGISTRATION", "10001_110011"
PIN = "PIN-31d7-slow-work"
FAST = dict(pin_hash_iterations=1000, argon2_iterations=2, argon2_memory_kib=1024)
BUSY_MESSAGE = "Too many PIN or hash requests in progress. Try again later."


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def wrap(request: Any) -> dict[str, Any]:
    return {"id": "mosip.slow", "version": "1.0", "requesttime": "2025-01-15T09:30:00.000Z", "metadata": {},
            "request": request}


def post(client, path: str, request: Any):
    return client.post(API + path, json=wrap(request))


def assert_ok(response) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == 200 and body["errors"] is None, response.get_data(as_text=True)
    return body["response"]


def assert_busy(response) -> None:
    """HTTP 503, Retry-After: 1, the MOSIP error envelope with KER-KMS-500."""
    text = response.get_data(as_text=True)
    assert response.status_code == 503, text
    assert response.headers.get("Retry-After") == "1"
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"id", "version", "responsetime", "metadata", "response", "errors"}
    assert body["id"] == "mosip.slow" and body["version"] == "1.0"
    assert body["response"] is None
    assert body["errors"] == [{"errorCode": "KER-KMS-500", "message": BUSY_MESSAGE}]
    assert PIN not in text


def build(make_container, settings: Settings, clock):
    container = make_container(settings, clock)
    init_master_keys(container)
    app = create_app(settings, container)
    return app, container


@pytest.fixture
def strict(make_container, memory_settings: Settings, clock):
    """concurrency 1, nobody may wait: a held slot refuses every other slow request at once."""
    settings = memory_settings.with_overrides(
        slow_work_concurrency=1, slow_work_waiting=0, slow_work_wait_seconds=0.2, **FAST
    )
    return build(make_container, settings, clock)


def test_held_slot_refuses_slow_endpoints_while_fast_ones_answer(strict) -> None:
    app, container = strict
    client = app.test_client()
    blob = assert_ok(post(client, "/encryptWithPin", {"data": "hello", "userPin": PIN}))["data"]
    limiter = container.slow_work()
    assert limiter is container.slow_work()  # one limiter per process (a singleton)

    with limiter.slot():
        started = time.monotonic()
        assert_busy(post(client, "/encryptWithPin", {"data": "hello", "userPin": PIN}))
        assert_busy(post(client, "/decryptWithPin", {"data": blob, "userPin": PIN}))
        assert_busy(post(client, "/generateArgon2Hash", {"inputData": "secret"}))
        assert_busy(post(client, "/generateArgon2Hash", {"inputData": "secret", "salt": b64url(bytes(16))}))
        assert time.monotonic() - started < 2.0  # refused at once (waiting=0), not after a wait each

        # the fast endpoints answer at the same time
        response = client.get(f"{API}/getCertificate", query_string={"applicationId": APP, "referenceId": REF})
        assert response.status_code == 200 and response.get_json()["errors"] is None
        encrypted = assert_ok(post(client, "/encrypt", {
            "applicationId": APP, "referenceId": REF, "timeStamp": "2025-01-15T09:30:00.000Z",
            "data": b64url(b"fast"), "salt": None, "aad": None}))
        assert encrypted["data"]
        assert client.get(f"{API}/tokenid/1234567890/partner123").status_code == 200
        # validation happens before the limiter: a bad request is still a 200 KER-KMS-005
        invalid = post(client, "/encryptWithPin", {"data": "hello", "userPin": " "})
        assert invalid.status_code == 200
        assert invalid.get_json()["errors"][0]["errorCode"] == "KER-KMS-005"

    # released: the slow endpoints work again
    again = assert_ok(post(client, "/encryptWithPin", {"data": "hello again", "userPin": PIN}))["data"]
    assert assert_ok(post(client, "/decryptWithPin", {"data": again, "userPin": PIN})) == {"data": "hello again"}
    assert assert_ok(post(client, "/generateArgon2Hash", {"inputData": "secret"}))["hashValue"]


def test_busy_refusals_are_audited(strict) -> None:
    app, container = strict
    client = app.test_client()
    with container.slow_work().slot():
        assert_busy(post(client, "/encryptWithPin", {"data": "hello", "userPin": PIN}))
    records = [r for r in container.audit_log().records() if r.operation == "encryptWithPin"]
    assert [r.outcome for r in records] == ["KER-KMS-500"]
    assert all(PIN not in str(value) for r in records for value in r.content().values())


def test_a_waiting_request_gives_up_after_wait_seconds(make_container, memory_settings: Settings, clock) -> None:
    settings = memory_settings.with_overrides(
        slow_work_concurrency=1, slow_work_waiting=1, slow_work_wait_seconds=0.2, **FAST
    )
    app, container = build(make_container, settings, clock)
    client = app.test_client()
    with container.slow_work().slot():
        started = time.monotonic()
        assert_busy(post(client, "/encryptWithPin", {"data": "hello", "userPin": PIN}))
        assert time.monotonic() - started >= 0.19  # it waited for the slot before giving up
    assert_ok(post(client, "/encryptWithPin", {"data": "hello", "userPin": PIN}))


def test_failures_release_the_slot(strict, monkeypatch) -> None:
    app, container = strict
    client = app.test_client()
    blob = assert_ok(post(client, "/encryptWithPin", {"data": "hello", "userPin": PIN}))["data"]
    for _ in range(3):  # business errors inside the slot (wrong PIN, too short, short salt)
        wrong = post(client, "/decryptWithPin", {"data": blob, "userPin": PIN + "x"})
        assert wrong.get_json()["errors"][0]["errorCode"] == "KER-FSE-004"
        short = post(client, "/decryptWithPin", {"data": b64url(bytes(10)), "userPin": PIN})
        assert short.get_json()["errors"][0]["errorCode"] == "KER-FSE-003"

    def broken(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(application.crypto.pin, "derive_pin_key", broken)
    crashed = post(client, "/encryptWithPin", {"data": "hello", "userPin": PIN})
    assert crashed.status_code == 500 and crashed.get_json()["errors"][0]["errorCode"] == "KER-KMS-500"
    assert "unexpected" not in crashed.get_data(as_text=True)
    monkeypatch.undo()
    # every slot came back
    assert assert_ok(post(client, "/decryptWithPin", {"data": blob, "userPin": PIN})) == {"data": "hello"}


class ConcurrencyProbe:
    """Wraps a slow function: counts how many calls run at once, and makes each take a while."""

    def __init__(self, hold_seconds: float) -> None:
        self.hold_seconds = hold_seconds
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0
        self.calls = 0

    def wrap(self, function):
        def wrapped(*args, **kwargs):
            with self.lock:
                self.running += 1
                self.calls += 1
                self.max_running = max(self.max_running, self.running)
            try:
                time.sleep(self.hold_seconds)
                return function(*args, **kwargs)
            finally:
                with self.lock:
                    self.running -= 1

        return wrapped


def run_concurrently(app, requests: list[tuple[str, dict[str, Any]]]) -> list:
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)
    failures: list[BaseException] = []

    def worker(index: int, path: str, request: dict[str, Any]) -> None:
        try:
            client = app.test_client()
            barrier.wait(timeout=10)
            responses[index] = post(client, path, request)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(i, path, request)) for i, (path, request) in
               enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert all(response is not None for response in responses)
    return responses


@pytest.fixture
def queued(make_container, memory_settings: Settings, clock):
    settings = memory_settings.with_overrides(
        slow_work_concurrency=1, slow_work_waiting=1, slow_work_wait_seconds=5.0, **FAST
    )
    return build(make_container, settings, clock)


def test_concurrent_pin_requests_run_one_at_a_time(queued, monkeypatch) -> None:
    app, _ = queued
    probe = ConcurrencyProbe(hold_seconds=0.4)
    monkeypatch.setattr(application.crypto.pin, "derive_pin_key", probe.wrap(application.crypto.pin.derive_pin_key))
    requests = [("/encryptWithPin", {"data": f"text-{i}", "userPin": PIN}) for i in range(8)]
    responses = run_concurrently(app, requests)

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 503}, statuses  # never a 500
    succeeded = [i for i, r in enumerate(responses) if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 503]
    assert succeeded and refused, statuses
    # concurrency 1 + waiting 1: at most two get in while the burst lasts (all arrive within 0.4 s)
    assert len(succeeded) <= 2 + 1, statuses
    assert probe.max_running == 1
    assert probe.calls == len(succeeded)
    for response in refused:
        assert_busy(response)
    # the successes are real encryptions
    client = app.test_client()
    monkeypatch.undo()
    for index in succeeded:
        blob = responses[index].get_json()["response"]["data"]
        assert assert_ok(post(client, "/decryptWithPin", {"data": blob, "userPin": PIN})) == {"data": f"text-{index}"}


def test_pin_and_argon2_share_one_bound(queued, monkeypatch) -> None:
    app, _ = queued
    probe = ConcurrencyProbe(hold_seconds=0.4)
    monkeypatch.setattr(application.crypto.pin, "derive_pin_key", probe.wrap(application.crypto.pin.derive_pin_key))
    monkeypatch.setattr(application.crypto.argon2, "argon2id_raw", probe.wrap(application.crypto.argon2.argon2id_raw))
    requests: list[tuple[str, dict[str, Any]]] = []
    for i in range(3):
        requests.append(("/encryptWithPin", {"data": f"text-{i}", "userPin": PIN}))
        requests.append(("/generateArgon2Hash", {"inputData": f"input-{i}"}))
    responses = run_concurrently(app, requests)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 503}, statuses
    assert 200 in statuses and 503 in statuses, statuses
    assert probe.max_running == 1
    assert probe.calls == statuses.count(200)
    for response in responses:
        if response.status_code == 503:
            assert_busy(response)


def test_fast_endpoint_answers_while_slow_work_runs(strict, monkeypatch) -> None:
    """Not just a held slot: a real PIN request in progress on another thread."""
    app, _ = strict
    entered, release = threading.Event(), threading.Event()
    original = application.crypto.pin.derive_pin_key

    def blocking(*args, **kwargs):
        entered.set()
        assert release.wait(timeout=10)
        return original(*args, **kwargs)

    monkeypatch.setattr(application.crypto.pin, "derive_pin_key", blocking)
    result: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: result.update(response=post(app.test_client(), "/encryptWithPin",
                                                   {"data": "slow", "userPin": PIN}))
    )
    worker.start()
    try:
        assert entered.wait(timeout=10)
        client = app.test_client()
        response = client.get(f"{API}/getCertificate", query_string={"applicationId": APP, "referenceId": REF})
        assert response.status_code == 200 and response.get_json()["errors"] is None
        assert_busy(post(client, "/generateArgon2Hash", {"inputData": "x"}))
        assert_busy(post(client, "/encryptWithPin", {"data": "x", "userPin": PIN}))
    finally:
        release.set()
        worker.join(timeout=10)
    assert assert_ok(result["response"])["data"]
