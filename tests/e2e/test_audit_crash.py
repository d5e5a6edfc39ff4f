"""`kill -9` of server workers under load leaves nothing unaudited (issue 12, ADR 0014), with SQLite and PostgreSQL.

Four clients encrypt to fresh reference ids (each request creates a base key, then uses it) while
two workers are killed with SIGKILL in turn; granian replaces them. Afterwards, read from the store:

* `keymanager audit verify` says intact;
* every key in the store has its generateKey record (written in the key's own transaction);
* every answer a client received as a success has its success record (no record, no answer).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.audit import SUCCESS, verify_chain
from domain.keys import KeyTuple
from entrypoints.settings import Settings
from tests.support.repo import REPO_ROOT
from tests.support.server import APP, REQUEST_TIME, Server, b64url, requests, server_factory

pytestmark = pytest.mark.slow

CLIENTS = 4
KILLS = 2
#: Seconds a client waits for an answer before counting the request as failed (no answer, nothing to check).
CLIENT_TIMEOUT = 10


def workers_of(server: Server) -> list[int]:
    assert server.process is not None
    found = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def load(server: Server, name: str, stop: threading.Event, answered: list[str], failed: list[str]) -> None:
    session = requests.Session()
    index = 0
    while not stop.is_set():
        ref = f"crash-{name}-{index}"
        index += 1
        body = {"id": "e2e", "version": "1.0", "requesttime": REQUEST_TIME, "metadata": {},
                "request": {"applicationId": APP, "referenceId": ref, "timeStamp": REQUEST_TIME,
                            "data": b64url(b"kill -9 under load")}}
        try:
            # An answer takes well under a second; a request a killed worker took with it can hang until the
            # timeout, and the test waits for every client to finish.
            response = session.post(f"{server.base}/encrypt", json=body, timeout=CLIENT_TIMEOUT)
        except requests.RequestException:
            failed.append(ref)  # the worker died under this request: no answer, nothing to check
            session = requests.Session()
            continue
        if response.status_code == 200 and response.json()["errors"] is None:
            answered.append(ref)
        else:
            failed.append(ref)


def run_and_kill(server: Server) -> list[str]:
    stop = threading.Event()
    answered: list[str] = []
    failed: list[str] = []
    threads = [threading.Thread(target=load, args=(server, str(n), stop, answered, failed)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        killed = []
        for _ in range(KILLS):
            time.sleep(2.0)
            pids = [pid for pid in workers_of(server) if pid not in killed]
            assert pids, "no worker process to kill"
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])
        time.sleep(4.0)  # the replacement worker starts and serves
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert len(answered) > 20, (len(answered), len(failed), server.output())
    assert killed and not set(killed) & set(workers_of(server))
    return answered


def check_store(make_container, server: Server, settings: Settings, answered: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYMANAGER_")}
    env.update(KEYMANAGER_DATA_DIR=str(server.data_dir), **server.env)
    verify = subprocess.run([sys.executable, "-m", "entrypoints.cli", "audit", "verify"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0 and "audit trail intact" in verify.stdout, verify.stdout + verify.stderr

    container = make_container(settings)
    records = list(container.audit_log().records())
    assert verify_chain(records).intact
    recorded_keys = {r.key_alias for r in records if r.operation in ("generateKey", "rotateKey")}
    with container.uow_factory()() as uow:
        keys = [a for a in uow.keys.all_aliases() if a.ref_id.startswith("crash-")]
    assert keys, "the load created no keys"
    unaudited = [a.alias for a in keys if a.alias not in recorded_keys]
    assert unaudited == [], f"{len(unaudited)} keys without their creation record"
    encrypted = {r.ref_id for r in records if r.operation == "encrypt" and r.outcome == SUCCESS}
    missing = [ref for ref in answered if ref not in encrypted]
    assert missing == [], f"{len(missing)} answered requests without their record"
    # and each answered reference id has its key
    with container.uow_factory()() as uow:
        assert all(uow.keys.aliases_for(KeyTuple(APP, ref)) for ref in answered[:50])


@pytest.fixture
def servers(tmp_path: Path) -> Iterator:
    with server_factory(tmp_path) as make:
        yield make


def test_kill_9_under_load_leaves_nothing_unaudited_sqlite(make_container, servers) -> None:
    server = servers("crash-sqlite", KEYMANAGER_ZK_POOL_SIZE="16").start()
    answered = run_and_kill(server)
    server.stop()
    check_store(make_container, server, Settings(data_dir=server.data_dir, store="sqlite", keystore="memory"), answered)


def test_kill_9_under_load_leaves_nothing_unaudited_postgres(make_container, servers, postgres_schema_url: str) -> None:
    server = servers("crash-postgres", KEYMANAGER_ZK_POOL_SIZE="16", KEYMANAGER_STORE="postgres",
                     KEYMANAGER_DB_URL=postgres_schema_url).start()
    answered = run_and_kill(server)
    server.stop()
    check_store(make_container, server, Settings(data_dir=server.data_dir, store="postgres", keystore="memory",
                                 db_url=postgres_schema_url), answered)
