"""Read-only commands (status, audit verify, audit list, db version) never create a key store
(issue 13): pointed where there is none, they exit 2 naming the place and create nothing, so
that no one is invited to `keymanager init` a second, unrelated key hierarchy. Only init, serve,
db upgrade and zk init create. On SQLite with the PKCS#12 keystore, and on PostgreSQL."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from entrypoints.cli import main

READ_ONLY = [("status",), ("audit", "verify"), ("audit", "list"), ("db", "version")]
SMALL_INIT = {"KEYMANAGER_INIT_KEYS": "ROOT,REGISTRATION", "KEYMANAGER_ZK_POOL_SIZE": "0"}


@pytest.fixture
def env(monkeypatch, tmp_path: Path):
    """A clean KEYMANAGER_* environment (the embedded defaults, generated keystore password)."""
    for name in list(os.environ):
        if name.startswith(("KEYMANAGER_", "PKCS11_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def assert_refused(capsys, argv, *names: str) -> str:
    code, out, err = cli(capsys, *argv)
    assert code == 2, (argv, out, err)
    assert err.startswith("keymanager: no "), err
    for name in names:
        assert name in err, (name, err)
    return err


@pytest.mark.parametrize("argv", READ_ONLY, ids=" ".join)
@pytest.mark.parametrize("exists", [False, True], ids=["absent", "empty"])
def test_read_only_commands_refuse_where_there_is_no_store_and_create_nothing(
    env, capsys, tmp_path: Path, argv, exists: bool
) -> None:
    data = tmp_path / "fresh"
    if exists:
        data.mkdir()
    env(KEYMANAGER_DATA_DIR=str(data))

    err = assert_refused(capsys, argv, str(data.absolute()), "KEYMANAGER_DATA_DIR", "keymanager init")

    assert "configuration error" not in err
    assert data.exists() is exists
    assert files_under(data) == []


def test_after_init_the_read_only_commands_work(env, capsys, tmp_path: Path) -> None:
    data = tmp_path / "var"
    env(KEYMANAGER_DATA_DIR=str(data), **SMALL_INIT)
    assert cli(capsys, "init")[0] == 0
    assert (data / "keystore.password").is_file() and (data / "keystore").is_dir()
    made = files_under(data)
    for argv in READ_ONLY:
        code, out, err = cli(capsys, *argv)
        assert code == 0, (argv, out, err)
    assert "ROOT" in cli(capsys, "status")[1]
    assert {f for f in files_under(data) if not f.endswith(("-wal", "-shm"))} <= set(made)


def test_db_upgrade_creates_the_store_only_and_status_still_refuses(env, capsys, tmp_path: Path) -> None:
    data = tmp_path / "var"
    env(KEYMANAGER_DATA_DIR=str(data))
    assert cli(capsys, "db", "upgrade")[0] == 0
    assert (data / "keymanager.sqlite3").is_file()
    assert not (data / "keystore.password").exists()  # the keystore is not opened by db commands
    assert cli(capsys, "audit", "verify")[0] == 0
    assert cli(capsys, "db", "version")[0] == 0

    assert_refused(capsys, ["status"], str((data / "keystore").absolute()), "KEYMANAGER_DATA_DIR", "keymanager init")
    assert not (data / "keystore").exists() and not (data / "keystore.password").exists()


def test_status_refuses_when_the_generated_keystore_password_is_gone(env, capsys, tmp_path: Path) -> None:
    data = tmp_path / "var"
    env(KEYMANAGER_DATA_DIR=str(data), **SMALL_INIT)
    assert cli(capsys, "init")[0] == 0
    (data / "keystore.password").unlink()

    assert_refused(capsys, ["status"], "keystore password", "KEYMANAGER_KEYSTORE_PASSWORD")
    assert not (data / "keystore.password").exists()  # a new password would never open the old keys


def test_the_keystore_directory_is_named_when_it_is_configured(env, capsys, tmp_path: Path) -> None:
    data, keystore = tmp_path / "var", tmp_path / "elsewhere"
    env(KEYMANAGER_DATA_DIR=str(data), **SMALL_INIT)
    assert cli(capsys, "init")[0] == 0
    env(KEYMANAGER_KEYSTORE_DIR=str(keystore))

    assert_refused(capsys, ["status"], str(keystore.absolute()), "KEYMANAGER_KEYSTORE_DIR")
    assert not keystore.exists()


def test_postgres_read_only_commands_need_the_schema_and_the_keystore(
    env, capsys, tmp_path: Path, postgres_schema_url: str
) -> None:
    from adapters.postgres.key_repository import PostgresDatabase, PostgresOptions

    data = tmp_path / "var"
    env(KEYMANAGER_DATA_DIR=str(data), KEYMANAGER_STORE="postgres", KEYMANAGER_DB_URL=postgres_schema_url,
        **SMALL_INIT)
    for argv in [("audit", "verify"), ("audit", "list"), ("db", "version")]:
        assert_refused(capsys, argv, "KEYMANAGER_DB_URL", "keymanager init")
    assert_refused(capsys, ["status"], str((data / "keystore").absolute()), "KEYMANAGER_DATA_DIR")
    assert not data.exists()
    database = PostgresDatabase(PostgresOptions.from_url(postgres_schema_url))
    try:
        assert database.schema_version() == 0  # the schema was not created either
    finally:
        database.close()

    assert cli(capsys, "db", "upgrade")[0] == 0
    assert cli(capsys, "audit", "verify")[0] == 0
    assert not data.exists()  # the database is shared; this machine's data directory may stay empty
    assert_refused(capsys, ["status"], str((data / "keystore").absolute()))
    assert cli(capsys, "init")[0] == 0
    assert cli(capsys, "status")[0] == 0
