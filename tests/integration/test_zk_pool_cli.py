"""`keymanager zk init` as a real process (ADR 0013): interrupted with SIGKILL halfway, it keeps
the batches it committed; a rerun completes the pool; a further run, or a smaller --size,
changes nothing. Then every row is checked: ids 0..size-1, distinct keys, a check value each,
and a sample unwrapped with its check value verified. Once on SQLite, once on PostgreSQL,
both with the PKCS#12 keystore.

Timing: a 500-row batch takes a few tens of milliseconds, so a pool of 3,000 can finish
before a kill lands. The pool here is 20,000 rows and the kill is sent at the first progress
line at or beyond 1,000 keys (non-TTY: one line per tenth, i.e. at 2,000): more than 30
batches remain then, a margin of about half a second even on SQLite.
"""
from __future__ import annotations

import base64
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from application.keys.zk import key_check
from domain.zk import ZK_MASTER
from entrypoints.settings import Settings
from tests.support.repo import REPO_ROOT, child_process_env
from tests.support.required import adapter_params

SIZE = 20_000
KILL_AT = 1_000
BATCH = 500
PASSWORD = "zk-cli-test-password"
PROGRESS = re.compile(r"^ZK key pool \[[#.]{30}\] (\d+)/(\d+)$")
SUMMARY = re.compile(r"^ZK key pool\s+(master key created, )?(\d+) keys added, (\d+) in the pool$")
TIMEOUT = 180


class Deployment:
    def __init__(self, data_dir: Path, store: str, db_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.store = store
        self.db_url = db_url

    def env(self) -> dict[str, str]:
        env = child_process_env(
            KEYMANAGER_DATA_DIR=str(self.data_dir),
            KEYMANAGER_KEYSTORE_PASSWORD=PASSWORD,
            KEYMANAGER_STORE=self.store,
            KEYMANAGER_KEYSTORE="pkcs12",
            PYTHONUNBUFFERED="1",
        )
        if self.db_url:
            env["KEYMANAGER_DB_URL"] = self.db_url
        return env

    def command(self, size: int) -> list[str]:
        return [sys.executable, "-m", "entrypoints.cli", "zk", "init", "--size", str(size)]

    def run(self, size: int) -> tuple[int, int, list[tuple[int, int]], str]:
        """Run to completion: (keys added, pool total, progress lines, stdout)."""
        done = subprocess.run(self.command(size), cwd=REPO_ROOT, env=self.env(), capture_output=True,
                              text=True, timeout=TIMEOUT)
        assert done.returncode == 0, done.stdout + done.stderr
        progress = [(int(m[1]), int(m[2])) for m in map(PROGRESS.match, done.stderr.splitlines()) if m]
        (summary,) = [m for m in map(SUMMARY.match, done.stdout.splitlines()) if m]
        return int(summary[2]), int(summary[3]), progress, done.stdout

    def run_and_kill(self, size: int, kill_at: int) -> list[tuple[int, int]]:
        """Start a run, SIGKILL it at the first progress line reporting ``kill_at`` keys or more
        (and fewer than ``size``); return the progress lines read."""
        process = subprocess.Popen(self.command(size), cwd=REPO_ROOT, env=self.env(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        watchdog = threading.Timer(TIMEOUT, process.kill)
        watchdog.start()
        seen: list[tuple[int, int]] = []
        killed = False
        try:
            assert process.stderr is not None
            for line in process.stderr:
                match = PROGRESS.match(line.strip())
                if not match:
                    continue
                seen.append((int(match[1]), int(match[2])))
                if kill_at <= seen[-1][0] < size:
                    process.send_signal(signal.SIGKILL)
                    killed = True
                    break
        finally:
            watchdog.cancel()
            if process.poll() is None and not killed:
                process.kill()
            process.wait(timeout=30)
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        assert killed, f"the run ended before reaching {kill_at} keys: {seen}"
        assert process.returncode == -signal.SIGKILL, f"the run finished before the kill landed: {seen}"
        return seen

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, store=self.store, db_url=self.db_url, keystore="pkcs12",
                        keystore_password=PASSWORD)

    def rows(self) -> list[tuple[int, str, str, str | None]]:
        """(id, key, status, check value) of every pool row, read with SQL."""
        query = ("SELECT p.id, p.key, p.key_status, c.key_check FROM {s}data_encrypt_keystore p "
                 "LEFT JOIN {s}km_zk_key_check c ON c.id = p.id ORDER BY p.id")
        if self.store == "sqlite":
            with sqlite3.connect(self.data_dir / "keymanager.sqlite3") as db:
                rows = db.execute(query.format(s="")).fetchall()
            db.close()
            return [tuple(r) for r in rows]
        import pg8000.native as pg

        from adapters.postgres.key_repository import PostgresOptions

        options = PostgresOptions.from_url(self.db_url)
        connection = pg.Connection(options.user, host=options.host, port=options.port, database=options.database,
                                   password=options.password, timeout=10)
        try:
            return [tuple(r) for r in connection.run(query.format(s=options.schema + "."))]
        finally:
            connection.close()


@pytest.fixture(params=adapter_params(["sqlite", "postgres"]))
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Deployment:
    if request.param == "postgres":
        return Deployment(tmp_path / "data", "postgres", request.getfixturevalue("postgres_schema_url"))
    return Deployment(tmp_path / "data", "sqlite")


def test_interrupted_run_resumes_and_the_pool_is_sound(make_container, deployment: Deployment) -> None:
    # -- a run killed halfway keeps whole batches only
    seen = deployment.run_and_kill(SIZE, KILL_AT)
    assert all(total == SIZE for _, total in seen)
    reported = seen[-1][0]
    at_kill = len(deployment.rows())
    assert 0 < at_kill < SIZE, (at_kill, seen)
    assert at_kill >= reported  # what was reported had been committed
    assert at_kill % BATCH == 0, f"{at_kill} rows: a batch was committed in part"
    assert [r[0] for r in deployment.rows()] == list(range(at_kill))

    # -- the rerun continues from there
    added, total, progress, stdout = deployment.run(SIZE)
    assert "master key created" not in stdout  # made by the first run, before the kill
    assert (added, total) == (SIZE - at_kill, SIZE)
    assert progress[0] == (at_kill, SIZE) and progress[-1] == (SIZE, SIZE)
    tenths = [10 * done // SIZE for done, _ in progress]
    assert tenths == sorted(set(tenths)), "non-TTY progress: one line per tenth, in order"

    # -- exactly SIZE rows, ids 0..SIZE-1, all distinct, each with a check value
    rows = deployment.rows()
    assert len(rows) == SIZE
    assert [r[0] for r in rows] == list(range(SIZE))
    assert len({r[1] for r in rows}) == SIZE
    assert all(re.fullmatch(r"[A-Za-z0-9+/]{43}=", r[1]) for r in rows)  # the reference's format
    assert {r[2] for r in rows} == {"Active"}
    assert all(r[3] is not None and re.fullmatch(r"[0-9a-f]{32}", r[3]) for r in rows)

    # -- a sample unwraps, with its check value verified (around the kill and the batch edges too)
    container = make_container(deployment.settings())
    zk_keys, keystore = container.zk_keys(), container.keystore()
    with container.uow_factory()() as uow:
        aliases = uow.keys.aliases_for(ZK_MASTER)
        master, _ = zk_keys.master_aliases(uow)
    assert [a.alias for a in aliases] == [master]  # one master key across the three runs
    sample = {0, 1, BATCH - 1, BATCH, at_kill - 1, at_kill, SIZE - 1, *random.Random(7).sample(range(SIZE), 40)}
    for key_id in sorted(sample):
        _, key, _, check = rows[key_id]
        random_key = zk_keys.random_key(key_id)
        assert len(random_key) == 32
        assert key_check(random_key, key_id) == check
        assert base64.b64encode(keystore.encrypt_blocks(master, random_key)).decode() == key

    # -- idempotent: nothing added by another run, nor by a smaller --size
    assert deployment.run(SIZE)[:2] == (0, SIZE)
    added, total, progress, _ = deployment.run(10)
    assert (added, total) == (0, SIZE)
    assert progress == [(10, 10)]  # the bar is full at once (done is capped at the total)
    assert deployment.rows() == rows
