"""Secrets kept in files: the PKCS#12 keystore password, the token-ID salts and the PKCS#11 PIN.

Read from the file a setting names, or (the embedded defaults, first start) generated once into the
data directory, readable by the owner only (0600). Called while the container is configured, so a
missing or unreadable secret fails at start with a ``ConfigurationError`` naming the file.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from .settings import ConfigurationError, Settings

KEYSTORE_PASSWORD_FILE = "keystore.password"
TOKENID_SALTS_FILE = "tokenid.salts"


def keystore_password(settings: Settings) -> bytes:
    """The PKCS#12 keystore password: from the environment, from a file, or (embedded
    default, first start) a random one generated into <data dir>/keystore.password (0600)."""
    if settings.keystore_password:
        return settings.keystore_password.encode("utf-8")
    path = settings.keystore_password_file or settings.data_dir / KEYSTORE_PASSWORD_FILE
    if settings.keystore_password_file is None and not path.exists():
        create_secret_file(path, secrets.token_urlsafe(32))
    try:
        password = path.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigurationError(f"cannot read the keystore password file {path}") from None
    if not password:
        raise ConfigurationError(f"the keystore password file {path} is empty")
    return password.encode("utf-8")


def tokenid_salts(data_dir: Path, uin_salt: str | None, partner_code_salt: str | None) -> tuple[str, str]:
    """The token-ID salts: from the environment, else random ones generated once into
    <data dir>/tokenid.salts (0600). Instances sharing a database must share the salts."""
    if uin_salt and partner_code_salt:
        return uin_salt, partner_code_salt
    path = Path(data_dir) / TOKENID_SALTS_FILE
    if not path.exists():
        create_secret_file(path, secrets.token_urlsafe(36) + "\n" + secrets.token_urlsafe(36))
    try:
        lines = path.read_text(encoding="utf-8").split()
    except OSError:
        raise ConfigurationError(f"cannot read the token ID salts file {path}") from None
    if len(lines) != 2:
        raise ConfigurationError(f"the token ID salts file {path} must hold two lines")
    return uin_salt or lines[0], partner_code_salt or lines[1]


def pkcs11_pin(settings: Settings) -> str:
    """The token's user PIN: PKCS11_TOKEN_PIN, or the first line of PKCS11_TOKEN_PIN_FILE."""
    if settings.pkcs11_pin:
        return settings.pkcs11_pin
    if settings.pkcs11_pin_file is None:
        raise ConfigurationError("KEYMANAGER_KEYSTORE=pkcs11 needs PKCS11_TOKEN_PIN or PKCS11_TOKEN_PIN_FILE")
    try:
        pin = settings.pkcs11_pin_file.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigurationError(f"cannot read PKCS11_TOKEN_PIN_FILE {settings.pkcs11_pin_file}") from None
    if not pin:
        raise ConfigurationError(f"PKCS11_TOKEN_PIN_FILE {settings.pkcs11_pin_file} is empty")
    return pin


def create_secret_file(path: Path, secret: str) -> None:
    """Write a 0600 file atomically: a concurrent reader sees no file or the whole secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # fails if another process got there first: keep theirs
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
