"""Secrets kept in files (entrypoints/secret_files.py): given ones win, generated ones are made once,
readable by the owner only, and a missing or empty file is a configuration error naming it."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from entrypoints.secret_files import create_secret_file, keystore_password, pkcs11_pin, tokenid_salts
from entrypoints.settings import ConfigurationError, Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_keystore_password_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    password = keystore_password(settings)
    generated = tmp_path / "data" / "keystore.password"
    assert len(password) >= 32 and generated.read_text().strip().encode() == password
    assert mode(generated) == 0o600
    assert keystore_password(settings) == password


def test_a_given_keystore_password_or_file_wins(tmp_path: Path) -> None:
    assert keystore_password(Settings(data_dir=tmp_path, keystore_password="pw")) == b"pw"
    secret = tmp_path / "secret"
    secret.write_text(" from-file \n")
    assert keystore_password(Settings(data_dir=tmp_path, keystore_password_file=secret)) == b"from-file"
    assert not (tmp_path / "keystore.password").exists()


def test_a_missing_or_empty_password_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(ConfigurationError, match=f"cannot read the keystore password file {missing}"):
        keystore_password(Settings(data_dir=tmp_path, keystore_password_file=missing))
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigurationError, match=f"the keystore password file {empty} is empty"):
        keystore_password(Settings(data_dir=tmp_path, keystore_password_file=empty))


def test_token_id_salts_are_generated_once_and_private(tmp_path: Path) -> None:
    uin, partner = tokenid_salts(tmp_path, None, None)
    assert uin != partner and tokenid_salts(tmp_path, None, None) == (uin, partner)
    assert mode(tmp_path / "tokenid.salts") == 0o600
    assert tokenid_salts(tmp_path, "mine", None) == ("mine", partner)
    assert tokenid_salts(tmp_path / "elsewhere", "a", "b") == ("a", "b")
    assert not (tmp_path / "elsewhere").exists()


def test_a_damaged_salts_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tokenid.salts").write_text("only-one\n")
    with pytest.raises(ConfigurationError, match="must hold two lines"):
        tokenid_salts(tmp_path, None, None)


def test_the_pkcs11_pin_comes_from_the_variable_or_its_file(tmp_path: Path) -> None:
    assert pkcs11_pin(Settings(pkcs11_pin="1234")) == "1234"
    pin_file = tmp_path / "pin"
    pin_file.write_text("5678\n")
    assert pkcs11_pin(Settings(pkcs11_pin_file=pin_file)) == "5678"
    with pytest.raises(ConfigurationError, match="needs PKCS11_TOKEN_PIN or PKCS11_TOKEN_PIN_FILE"):
        pkcs11_pin(Settings())
    pin_file.write_text("")
    with pytest.raises(ConfigurationError, match="PKCS11_TOKEN_PIN_FILE .* is empty"):
        pkcs11_pin(Settings(pkcs11_pin_file=pin_file))


def test_the_first_secret_written_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "secret"
    create_secret_file(path, "first")
    create_secret_file(path, "second")  # a process that lost the race keeps the winner's
    assert path.read_text() == "first\n"
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary left behind
