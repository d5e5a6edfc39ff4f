"""Health probes on the real server (issue 13): UP with the embedded store; with PostgreSQL behind a proxy
that we cut, DOWN (503) while the database cannot be reached and UP again once it can."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.server import Server, free_port, requests, server_factory

pytestmark = pytest.mark.slow


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``cut()`` closes every connection and refuses new ones."""

    def __init__(self, target: tuple[str, int], port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self._open = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def start(self) -> TcpProxy:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        self._open.set()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for sock in [self._listener, *self._sockets]:
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()
            self._sockets.clear()
            self._listener = None

    def _accept(self, listener: socket.socket) -> None:
        while self._open.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.close()
                except OSError:
                    pass


def health(server: Server, path: str = "health") -> tuple[int, dict]:
    response = requests.get(f"{server.base}/actuator/{path}", timeout=15)
    return response.status_code, response.json()


def wait_for(server: Server, status: int, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        code, body = health(server)
        if code == status or time.monotonic() > deadline:
            assert code == status, body
            return body
        time.sleep(0.5)


@pytest.fixture
def servers(tmp_path) -> Iterator:
    with server_factory(tmp_path) as make:
        yield make


def test_probes_on_the_embedded_default(servers) -> None:
    server = servers("health", KEYMANAGER_ZK_POOL_SIZE="16").start()
    for path in ("health", "health/liveness", "health/readiness"):
        code, body = health(server, path)
        assert code == 200 and body["status"] == "UP", (path, body)
    assert health(server)[1]["components"]["db"]["details"]["store"] == "sqlite"
    info = requests.get(f"{server.base}/actuator/info", timeout=15).json()
    assert info["app"]["name"] == "keymanager"


def test_down_while_postgresql_is_unreachable_and_up_again(servers, postgres_schema_url: str) -> None:
    parts = urlsplit(postgres_schema_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432)).start()
    netloc = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    through_proxy = urlunsplit(parts._replace(netloc=f"{netloc}:{proxy.port}"))
    server = servers("health-pg", KEYMANAGER_ZK_POOL_SIZE="16", KEYMANAGER_STORE="postgres",
                     KEYMANAGER_DB_URL=through_proxy, KEYMANAGER_DB_TIMEOUT_SECONDS="2").start()
    assert wait_for(server, 200)["components"]["db"]["status"] == "UP"

    proxy.cut()  # the database is gone for the service
    body = wait_for(server, 503)
    assert body["status"] == "DOWN" and body["components"]["db"]["status"] == "DOWN"
    assert body["components"]["keystore"]["status"] == "UP"
    assert requests.get(f"{server.base}/actuator/health/liveness", timeout=15).status_code == 200  # still alive

    proxy = TcpProxy(proxy.target, port=proxy.port).start()  # the database is back, on the same port
    assert wait_for(server, 200)["components"]["db"]["status"] == "UP"
    proxy.cut()


def test_metrics_add_up_across_the_workers(servers) -> None:
    """Two granian workers, each counting its own requests: any scrape shows them all (multiprocess mode)."""
    server = servers("metrics", KEYMANAGER_ZK_POOL_SIZE="16").start()
    session = requests.Session()
    for _ in range(40):  # spread over both workers by the kernel
        assert session.get(f"{server.base}/tokenid/1234/p", timeout=15, headers={"Connection": "close"}).ok
    pattern = ('http_server_requests_seconds_count{method="GET",outcome="SUCCESS",status="200",'
               'uri="/v1/keymanager/tokenid/{uin}/{partnercode}"}')
    for _ in range(4):  # whichever worker answers the scrape
        text = requests.get(f"{server.base}/actuator/prometheus", timeout=15).text
        (line,) = [line for line in text.splitlines() if line.startswith(pattern)]
        assert float(line.split()[-1]) == 40
    assert 'keymanager_key_expiry_seconds{application_id="ROOT",reference_id=""}' in text
    # each worker wrote its own figures: the sum above really added two processes up
    assert len(list((server.data_dir / "metrics").glob("histogram_*.db"))) >= 2
