"""`keymanager --version` and each command's --help (issue 13): what it does, what it reads."""
from __future__ import annotations

import importlib.metadata

import pytest

from entrypoints.cli import main


def run(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_version_prints_the_package_version(capsys) -> None:
    assert run(capsys, "--version").strip() == f"keymanager {importlib.metadata.version('keymanager')}"


def test_db_upgrade_help_is_the_help_of_upgrade(capsys) -> None:
    out = run(capsys, "db", "upgrade", "--help")
    assert out.startswith("usage: keymanager db upgrade")
    assert "schema migrations" in out
    assert "KEYMANAGER_DATA_DIR" in out and "KEYMANAGER_DB_URL" in out


@pytest.mark.parametrize(
    "argv, reads",
    [
        (("init",), ("KEYMANAGER_DATA_DIR", "KEYMANAGER_KEYSTORE", "KEYMANAGER_INIT_KEYS")),
        (("serve",), ("KEYMANAGER_STORE", "KEYMANAGER_PORT", "KEYMANAGER_AUTH")),
        (("status",), ("KEYMANAGER_DATA_DIR", "KEYMANAGER_KEYSTORE_PASSWORD", "Read-only")),
        (("db", "version"), ("KEYMANAGER_DB_URL", "Read-only")),
        (("audit", "verify"), ("KEYMANAGER_STORE",)),
        (("audit", "list"), ("KEYMANAGER_DATA_DIR", "--limit")),
        (("zk", "init"), ("KEYMANAGER_ZK_POOL_SIZE", "--size")),
    ],
)
def test_each_command_says_what_it_does_and_what_it_reads(capsys, argv, reads) -> None:
    out = run(capsys, *argv, "--help")
    assert out.startswith(f"usage: keymanager {' '.join(argv)}")
    assert "environment: " in out
    flat = " ".join(out.split())  # argparse wraps the text
    for text in reads:
        assert text in flat, (text, out)


def test_db_needs_an_action(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["db"])
    assert exited.value.code == 2
    assert "upgrade" in capsys.readouterr().err


def test_rotate_requires_an_existing_store(tmp_path, monkeypatch, capsys) -> None:
    from entrypoints.cli import main

    for name in list(__import__("os").environ):
        if name.startswith("KEYMANAGER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KEYMANAGER_DATA_DIR", str(tmp_path / "nothing-here"))
    assert main(["rotate", "--due"]) == 2
    assert "no key store" in capsys.readouterr().err
    assert not (tmp_path / "nothing-here").exists()
