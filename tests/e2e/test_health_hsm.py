"""Health probes on the real server with a SoftHSM2 token as keystore (issue 13): DOWN (503) once the token
is removed, the way an operator unplugging the HSM or deleting the token would remove it, and UP again once
it is back.

SoftHSM2 keeps a token it loaded in memory, and an open session still answers C_GenerateRandom after the
token's directory is gone; the check describes the token anew (C_GetTokenInfo, which then fails) and
re-initialises the library to see it back (tests/integration/test_pkcs11_health.py shows the details).
One worker, so that every probe and request of the test meets the same process (each worker checks its own
view of the token).
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import BackendUnavailable, init_softhsm_token
from tests.support.required import missing_backend
from tests.support.server import APP, PLAINTEXT, Server, requests, server_factory

pytestmark = [pytest.mark.slow, pytest.mark.softhsm]

#: The brief of issue 13: a probe notices within about this long.
NOTICE_SECONDS = 10.0


@pytest.fixture
def hsm(tmp_path: Path) -> dict[str, str | Path]:
    """A SoftHSM2 configuration of its own (a token directory nothing else uses) with one token."""
    try:
        token: dict[str, str | Path] = dict(init_softhsm_token(tmp_path / "softhsm", "km-e2e-health"))
    except BackendUnavailable as error:
        missing_backend(str(error))
    (directory,) = list((tmp_path / "softhsm" / "tokens").iterdir())
    pin_file = tmp_path / "pin"
    pin_file.write_text(f"{token['pin']}\n")
    pin_file.chmod(0o600)
    token.update(conf=Path(token["conf"]), pin_file=pin_file, dir=directory, aside=tmp_path / "unplugged-token")
    return token


@pytest.fixture
def servers(tmp_path) -> Iterator:
    with server_factory(tmp_path) as make:
        yield make


def probe(server: Server, path: str = "health") -> tuple[int, dict]:
    response = requests.get(f"{server.base}/actuator/{path}", timeout=15)
    return response.status_code, response.json()


def poll(server: Server, status: int, path: str = "health", seconds: float = NOTICE_SECONDS) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        code, body = probe(server, path)
        if code == status:
            return body
        assert time.monotonic() < deadline, f"/actuator/{path} still {code} after {seconds:g} s: {body}"
        time.sleep(0.25)


def test_down_while_the_token_is_removed_and_up_once_it_is_back(servers, hsm) -> None:
    server = servers(
        "hsm-health", KEYMANAGER_KEYSTORE="pkcs11", KEYMANAGER_STORE="sqlite", KEYMANAGER_WORKERS="1",
        KEYMANAGER_ZK_POOL_SIZE="16", PKCS11_MODULE=str(hsm["module"]), PKCS11_TOKEN_LABEL=str(hsm["label"]),
        PKCS11_TOKEN_PIN_FILE=str(hsm["pin_file"]), SOFTHSM2_CONF=str(hsm["conf"]),
    ).start()  # serve runs the key ceremony on the token first
    code, body = probe(server)
    assert code == 200 and body["status"] == "UP", body
    assert body["components"]["keystore"] == {"status": "UP", "details": {"keystore": "pkcs11", "state": "answers"}}
    code, body = probe(server, "health/readiness")
    assert code == 200 and body["components"]["keyCeremony"]["status"] == "UP", body
    ciphertext = server.encrypt(PLAINTEXT)
    assert server.decrypt(ciphertext) == PLAINTEXT

    shutil.move(hsm["dir"], hsm["aside"])  # the token is gone
    started = time.monotonic()
    body = poll(server, 503)
    assert time.monotonic() - started < NOTICE_SECONDS
    assert body["status"] == "DOWN"
    assert body["components"]["keystore"]["status"] == "DOWN"
    assert body["components"]["keystore"]["details"]["state"] == "not available"
    assert body["components"]["db"]["status"] == "UP"
    assert str(hsm["label"]) not in json.dumps(body)
    code, body = probe(server, "health/readiness")
    assert code == 503 and body["status"] == "DOWN", body
    assert body["components"]["keystore"]["status"] == "DOWN" and body["components"]["db"]["status"] == "UP"
    assert probe(server)[0] == 503  # and it stays DOWN while the token is away
    assert probe(server, "health/liveness")[0] == 200  # the process itself is alive
    response = requests.get(f"{server.base}/getCertificate", timeout=30,  # a new key, issued by a key in the token
                            params={"applicationId": APP, "referenceId": "after-removal"})
    assert response.status_code == 503 and response.json()["errors"], response.text  # the keystore is not available

    shutil.move(hsm["aside"], hsm["dir"])  # the token is back
    body = poll(server, 200)
    assert body["status"] == "UP" and body["components"]["keystore"]["status"] == "UP", body
    body = poll(server, 200, "health/readiness")
    assert body["components"]["keystore"]["status"] == "UP" and body["components"]["keyCeremony"]["status"] == "UP"
    assert server.certificate(APP, "after-removal")  # the keys in the token work again
    assert server.decrypt(ciphertext) == PLAINTEXT
    assert server.decrypt(server.encrypt(PLAINTEXT)) == PLAINTEXT

    output = server.output()
    assert str(hsm["pin"]) not in output
    assert "Traceback" not in output
    assert str(hsm["label"]) in output  # the log names the token that went away; the probe's answer does not
