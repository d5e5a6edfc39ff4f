"""The actuator's health and info (issue 13): Spring's shape, public, never audited, DOWN in time."""
from __future__ import annotations

import threading

import pytest

from application.ports.keystore import KeystoreHealth
from domain.errors import StoreUnavailableError
from entrypoints.http import actuator
from entrypoints.http.app import create_app

BASE = "/v1/keymanager/actuator"


def test_health_is_up_with_store_and_keystore(client, container) -> None:
    response = client.get(f"{BASE}/health")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "UP"
    assert body["components"]["db"] == {"status": "UP", "details": {"store": "memory"}}
    assert body["components"]["keystore"]["status"] == "UP"
    assert list(container.audit_log().records())[-1].subject == "system"  # probes leave no record


def test_liveness_readiness_and_info(client) -> None:
    assert client.get(f"{BASE}/health/liveness").get_json() == {"status": "UP",
                                                               "components": {"livenessState": {"status": "UP"}}}
    ready = client.get(f"{BASE}/health/readiness")
    assert ready.status_code == 200 and ready.get_json()["components"]["keyCeremony"]["status"] == "UP"
    info = client.get(f"{BASE}/info").get_json()
    assert info["app"]["name"] == "keymanager" and info["build"]["version"] not in ("", "unknown")


def test_not_ready_before_the_key_ceremony(make_container, memory_settings) -> None:
    client = create_app(memory_settings, make_container(memory_settings)).test_client()
    assert client.get(f"{BASE}/health").status_code == 200  # alive and connected ...
    ready = client.get(f"{BASE}/health/readiness")  # ... but not ready: no ROOT yet
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["status"] == "DOWN" and body["components"]["keyCeremony"]["status"] == "DOWN"
    assert "keymanager init" in body["components"]["keyCeremony"]["details"]["root"]


def test_probes_need_no_token_when_everything_else_does(oidc_app) -> None:  # noqa: F811
    client = oidc_app.test_client()
    for path in ("health", "health/liveness", "health/readiness", "info"):
        assert client.get(f"{BASE}/{path}").status_code == 200, path
    assert client.get("/v1/keymanager/getCertificate?applicationId=ROOT").status_code == 401


class BrokenKeystore:
    def health(self) -> KeystoreHealth:
        return KeystoreHealth(ok=False, detail="pkcs12 keystore directory /secret/place is missing")


def test_down_when_the_keystore_does_not_answer(client, container, caplog) -> None:
    container.keystore.override(BrokenKeystore())
    try:
        response = client.get(f"{BASE}/health")
    finally:
        container.keystore.reset_override()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "DOWN" and body["components"]["db"]["status"] == "UP"
    assert body["components"]["keystore"] == {"status": "DOWN",
                                              "details": {"keystore": "memory", "state": "not available"}}
    assert "/secret/place" not in response.get_data(as_text=True)  # internals go to the log only
    assert "/secret/place" in caplog.text


def test_down_when_the_store_does_not_answer(client, container) -> None:
    def unavailable():
        raise StoreUnavailableError()

    container.uow_factory.override(unavailable)  # the factory: every unit of work fails to start
    try:
        response = client.get(f"{BASE}/health")
    finally:
        container.uow_factory.reset_override()
    body = response.get_json()
    assert response.status_code == 503 and body["components"]["db"] == {
        "status": "DOWN", "details": {"error": "StoreUnavailableError"}}


def test_a_hanging_keystore_makes_the_probe_say_down_instead_of_hanging(client, container, monkeypatch) -> None:
    release = threading.Event()

    class Hanging:
        def health(self) -> KeystoreHealth:
            release.wait(30)
            return KeystoreHealth(ok=True, detail="late")

    monkeypatch.setattr(actuator, "CHECK_TIMEOUT_SECONDS", 0.2)
    container.keystore.override(Hanging())
    try:
        response = client.get(f"{BASE}/health")
    finally:
        release.set()
        container.keystore.reset_override()
    assert response.status_code == 503
    assert response.get_json()["components"]["keystore"] == {"status": "DOWN",
                                                             "details": {"error": "no answer within 0.2 s"}}


@pytest.mark.parametrize("path", ["health", "info"])
def test_probe_answers_are_not_mosip_envelopes(client, path) -> None:
    body = client.get(f"{BASE}/{path}").get_json()
    assert "errors" not in body and "responsetime" not in body  # Spring's actuator shape, as probes expect


def test_health_names_the_missing_zk_public_key_without_going_down(client, container, caplog) -> None:
    body = client.get(f"{BASE}/health").get_json()
    assert body["status"] == "UP" and body["components"]["zkPublicKeys"]["status"] == "UP"
    assert body["components"]["zkPublicKeys"]["details"]["missing"] == ["IDA:PUBLIC_KEY"]
    assert "uploadOtherDomainCertificate" in body["components"]["zkPublicKeys"]["details"]["hint"]
    # zkEncrypt keeps the reference's answer, and the log says what it looked for
    from domain.errors import KeyManagerError

    with caplog.at_level("WARNING", logger="keymanager.zk"):
        with pytest.raises(KeyManagerError) as refused:
            container.zk_encrypt()._encrypted_random_key(bytes(32))  # the step that needs IDA's certificate
    assert (refused.value.code, refused.value.message) == ("KER-ZKC-002", "No unique alias is found.")
    assert "IDA:PUBLIC_KEY" in caplog.text


def test_status_names_the_missing_zk_public_key(container, memory_settings) -> None:
    import io

    from entrypoints.cli import run_status

    out = io.StringIO()
    run_status(container, out=out, settings=memory_settings)
    assert "zk public keys missing: IDA:PUBLIC_KEY" in out.getvalue()
