"""`entrypoints.wsgi:create_app()` under another WSGI server (gunicorn, threads): no bridge, so the audit
hook waits for its own record; answers and records are the same (issue 12: the factory keeps working)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repo import REPO_ROOT
from tests.support.server import APP, PLAINTEXT, REF, Server, free_port

pytestmark = pytest.mark.slow
pytest.importorskip("gunicorn")


def test_the_wsgi_factory_serves_under_gunicorn(tmp_path: Path) -> None:
    server = Server(data_dir=tmp_path / "data", port=free_port(), log_path=tmp_path / "gunicorn.log")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYMANAGER_")}
    env.update(KEYMANAGER_DATA_DIR=str(server.data_dir), KEYMANAGER_ZK_POOL_SIZE="16", PYTHONUNBUFFERED="1")
    init = subprocess.run([sys.executable, "-m", "entrypoints.cli", "init"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr
    with open(server.log_path, "ab") as log:
        server.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--bind",
             f"127.0.0.1:{server.port}", "entrypoints.wsgi:create_app()"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        server.wait_ready()
        wire = server.encrypt(PLAINTEXT)
        assert server.decrypt(wire) == PLAINTEXT
        assert server.certificate(APP, REF)
        verify = subprocess.run([sys.executable, "-m", "entrypoints.cli", "audit", "list", "--limit", "5"],
                                cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
        lines = verify.stdout.splitlines()
        assert any(" encrypt " in f" {line} " and "success" in line for line in lines), verify.stdout
        assert any(" decrypt " in f" {line} " and "success" in line for line in lines), verify.stdout
    finally:
        server.stop()
