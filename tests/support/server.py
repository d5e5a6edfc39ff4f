"""Helpers of the tests that start the service: a real server process (`python -m entrypoints.cli serve`)
driven over HTTP, free ports, base64url, and a factory that stops every process it started."""
from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench.server_process import stop_server
from tests.support.repo import REPO_ROOT

requests = pytest.importorskip("requests")

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
REQUEST_TIME = "2024-05-01T10:15:30.123Z"
PLAINTEXT = b'{"packet":"registration","seq":42}'
APP, REF = "REGISTRATION", "10001_110011"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Server:
    data_dir: Path
    port: int
    log_path: Path
    process: subprocess.Popen | None = None
    #: Extra KEYMANAGER_* settings (store, database URL, keystore directory, password...).
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/keymanager"

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except OSError:
            return "(no output captured)"

    # -- process control -----------------------------------------------------------------------

    def start(self) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEYMANAGER_")}
        env.update(
            KEYMANAGER_DATA_DIR=str(self.data_dir),
            KEYMANAGER_PORT=str(self.port),
            KEYMANAGER_HOST="127.0.0.1",
            KEYMANAGER_WORKERS="2",
            PYTHONUNBUFFERED="1",
        )
        # Unless self.env names one, KEYMANAGER_KEYSTORE_PASSWORD is unset: the embedded default generates one.
        env.update(self.env)
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "entrypoints.cli", "serve"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode} before answering:\n{self.output()}")
            try:
                requests.get(f"{self.base}/getCertificate", params={"applicationId": "ROOT"}, timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.25)
        pytest.fail(f"server did not answer on port {self.port} within {STARTUP_TIMEOUT:.0f}s:\n{self.output()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_server(process, STOP_TIMEOUT)

    # -- API -------------------------------------------------------------------------------------

    def call(self, method: str, path: str, request: Any = None, **params: str) -> dict[str, Any]:
        body = None
        if request is not None:
            body = {"id": "e2e", "version": "1.0", "requesttime": REQUEST_TIME, "metadata": {}, "request": request}
        response = requests.request(method, self.base + path, json=body, params=params or None, timeout=30)
        assert response.status_code == 200, response.text
        assert "Traceback" not in response.text
        return response.json()

    def ok(self, method: str, path: str, request: Any = None, **params: str) -> dict[str, Any]:
        body = self.call(method, path, request, **params)
        assert body["errors"] is None, body
        return body["response"]

    def certificate(self, app: str, ref: str = "") -> str:
        return self.ok("GET", "/getCertificate", applicationId=app, referenceId=ref)["certificate"]

    def encrypt(self, data: bytes, app: str = APP, ref: str = REF) -> str:
        request = {"applicationId": app, "referenceId": ref, "timeStamp": REQUEST_TIME, "data": b64url(data)}
        return self.ok("POST", "/encrypt", request)["data"]

    def decrypt(self, data: str, app: str = APP, ref: str = REF) -> bytes:
        request = {"applicationId": app, "referenceId": ref, "timeStamp": REQUEST_TIME, "data": data}
        return b64url_decode(self.ok("POST", "/decrypt", request)["data"])


@contextmanager
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Factory of server definitions (``make(name, **env)``); every process started is stopped afterwards."""
    made: list[Server] = []

    def make(name: str, **env: str) -> Server:
        server = Server(
            data_dir=tmp_path / name / "data", port=free_port(), log_path=tmp_path / f"{name}.log", env=env
        )
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            server.stop()
