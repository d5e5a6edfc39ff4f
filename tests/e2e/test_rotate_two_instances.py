"""`keymanager rotate --due` run by two processes at once on one PostgreSQL schema and one keystore
(two instances of a deployment): every due key gets exactly one successor (issue 13)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from domain.keys import KeyTuple
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.lockstep import run_in_lockstep
from tests.support.repo import REPO_ROOT

pytestmark = pytest.mark.slow

PASSWORD = "rotation-keystore-password"
REFS = [f"rot-{n}" for n in range(6)]
#: ``keymanager rotate --due`` in a child of run_in_lockstep: argv[3] is the instance's data directory.
CHILD = r"""
import contextlib, io, json, os, sys, time
from pathlib import Path
from entrypoints.cli import main

ready, go = Path(sys.argv[1]), Path(sys.argv[2])
os.environ["KEYMANAGER_DATA_DIR"] = sys.argv[3]
ready.write_text("ready")
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("no start signal")
    time.sleep(0.002)
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["rotate", "--due"])
print(json.dumps({"code": code, "output": out.getvalue()}))
"""


def test_two_instances_make_each_successor_once(make_container, tmp_path: Path, postgres_schema_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", store="postgres", db_url=postgres_schema_url, keystore="pkcs12",
                        keystore_directory=tmp_path / "keystore", keystore_password=PASSWORD)
    container = make_container(settings)
    init_master_keys(container)
    for ref in REFS:
        container.get_certificate().execute(GetCertificateCommand("REGISTRATION", ref))
    # Bring the base keys into their 30-day pre-expiry window, as time would.
    from adapters.postgres.key_repository import PostgresUnitOfWork

    soon = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=10)
    with PostgresUnitOfWork(container.database()) as unit:
        unit.write(f"UPDATE {unit.table('key_alias')} SET key_expire_dtimes = :t WHERE ref_id LIKE 'rot-%'",
                   {"t": soon})
        unit.commit()

    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYMANAGER_")}
    env.update(KEYMANAGER_STORE="postgres", KEYMANAGER_DB_URL=postgres_schema_url, KEYMANAGER_KEYSTORE="pkcs12",
               KEYMANAGER_KEYSTORE_DIR=str(tmp_path / "keystore"), KEYMANAGER_KEYSTORE_PASSWORD=PASSWORD)
    # Both processes start (interpreter, imports) first, then run the command at the same instant:
    # each must find the keys due before the other's first successor commits.
    runs = run_in_lockstep(tmp_path, CHILD, [[str(tmp_path / f"instance-{n}")] for n in range(2)], env,
                           run_timeout=300)
    outputs = [run["output"] for run in runs]
    assert [run["code"] for run in runs] == [0, 0], outputs
    for ref in REFS:  # both report it (each found the successor current), only one made it
        assert all(f"REGISTRATION:{ref} " in output and "rotated" in output for output in outputs), outputs
        with container.uow_factory()() as uow:
            assert len(uow.keys.aliases_for(KeyTuple("REGISTRATION", ref))) == 2, ref
    with container.uow_factory()() as uow:  # nothing else was due: masters untouched
        assert len(uow.keys.aliases_for(KeyTuple("REGISTRATION"))) == 1
    # and a third run finds nothing due
    again = subprocess.run([sys.executable, "-m", "entrypoints.cli", "rotate", "--due"], cwd=REPO_ROOT,
                           env={**env, "KEYMANAGER_DATA_DIR": str(tmp_path / "instance-0")}, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0 and "no key is due" in again.stdout, again.stdout + again.stderr
