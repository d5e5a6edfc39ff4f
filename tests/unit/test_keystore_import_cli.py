"""`keymanager keystore import` at the command line (entrypoints/cli.py): its help, and where the
file's password comes from. The import itself: tests/integration/test_keystore_import.py."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from entrypoints.cli import main, read_import_password
from entrypoints.settings import ConfigurationError


def test_help_says_what_it_does_and_what_it_reads(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["keystore", "import", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: keymanager keystore import")
    flat = " ".join(out.split())
    for text in ("FILE.p12", "--password-file", "standard input", "KEYMANAGER_KEYSTORE", "PKCS11_TOKEN_LABEL",
                 "KEYMANAGER_DB_URL", "before anything is written", "never key material"):
        assert text in flat, text


def test_the_password_is_the_first_line_of_the_file_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "password"
    path.write_text("  spaces stay  \r\nsecond line\n", encoding="utf-8")
    assert read_import_password(path) == "  spaces stay  "


def test_else_a_line_of_standard_input() -> None:
    assert read_import_password(None, io.StringIO("from a pipe\n")) == "from a pipe"


@pytest.mark.parametrize("content", ["", "\n", "   \n"])
def test_an_empty_password_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "password"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="password is empty"):
        read_import_password(path)
    with pytest.raises(ConfigurationError, match="password is empty"):
        read_import_password(None, io.StringIO(content))


def test_an_unreadable_password_file_is_named_not_shown(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the password file .*missing"):
        read_import_password(tmp_path / "missing")


def test_a_missing_keystore_file_creates_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("KEYMANAGER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KEYMANAGER_DATA_DIR", str(tmp_path / "data"))
    password = tmp_path / "password"
    password.write_text("secret\n")
    assert main(["keystore", "import", str(tmp_path / "nope.p12"), "--password-file", str(password)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
