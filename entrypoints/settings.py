"""Configuration from environment variables (documented in the README).

Read once by whoever builds the application (the CLI, the WSGI factory, a
test) and passed down explicitly: no global settings object.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

DEFAULT_INIT_KEYS = (
    "ROOT",
    "KERNEL:SIGN",
    "KERNEL",
    "PRE_REGISTRATION",
    "REGISTRATION",
    "REGISTRATION_PROCESSOR",
    "ID_REPO",
    "RESIDENT",
    "PMS",
)
STORES = ("sqlite", "memory", "postgres")
KEYSTORES = ("pkcs12", "memory", "pkcs11")


class ConfigurationError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8088
    workers: int = 2
    store: str = "sqlite"
    db_url: str | None = field(default=None, repr=False)
    db_pool_size: int = 8
    db_timeout_seconds: float = 10.0
    db_auto_upgrade: bool = True
    keystore_directory: Path | None = None
    keystore: str = "pkcs12"
    keystore_password: str | None = field(default=None, repr=False)
    keystore_password_file: Path | None = None
    pkcs11_module: str = "/usr/lib/softhsm/libsofthsm2.so"
    pkcs11_token_label: str | None = None
    pkcs11_pin: str | None = field(default=None, repr=False)
    pkcs11_pin_file: Path | None = None
    key_cache_size: int = 1024
    key_cache_ttl_seconds: float = 900.0
    policy_cache_ttl_seconds: float = 60.0
    max_body_bytes: int = 20 * 1024 * 1024
    auto_init: bool = True
    init_keys: tuple[str, ...] = DEFAULT_INIT_KEYS
    cert_common_name: str = "www.mosip.io"
    cert_organizational_unit: str = "MOSIP-TECH-CENTER"
    cert_organization: str = "IITB"
    cert_location: str = "BANGALORE"
    cert_state: str = "KA"
    cert_country: str = "IN"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "keymanager.sqlite3"

    @property
    def keystore_dir(self) -> Path:
        return self.keystore_directory or self.data_dir / "keystore"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        base = cls()

        def text(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        def number(name: str, default: float, kind: type = int) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
            if value < 0:
                raise ConfigurationError(f"{name} must not be negative")
            return value

        def choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
            value = text(name, default).lower()
            if value not in allowed:
                raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
            return value

        def flag(name: str, default: bool) -> bool:
            raw = env.get(name, "").strip().lower()
            if not raw:
                return default
            if raw in ("1", "true", "yes", "on"):
                return True
            if raw in ("0", "false", "no", "off"):
                return False
            raise ConfigurationError(f"{name} must be true or false, got {raw!r}")

        password_file = env.get("KEYMANAGER_KEYSTORE_PASSWORD_FILE", "").strip()
        keystore_directory = env.get("KEYMANAGER_KEYSTORE_DIR", "").strip()
        pin_file = env.get("PKCS11_TOKEN_PIN_FILE", "").strip()
        init_keys = tuple(k.strip() for k in env.get("KEYMANAGER_INIT_KEYS", "").split(",") if k.strip())
        return cls(
            data_dir=Path(text("KEYMANAGER_DATA_DIR", str(base.data_dir))),
            host=text("KEYMANAGER_HOST", base.host),
            port=int(number("KEYMANAGER_PORT", base.port)),
            workers=max(1, int(number("KEYMANAGER_WORKERS", base.workers))),
            store=choice("KEYMANAGER_STORE", base.store, STORES),
            db_url=env.get("KEYMANAGER_DB_URL") or None,
            db_pool_size=max(1, int(number("KEYMANAGER_DB_POOL_SIZE", base.db_pool_size))),
            db_timeout_seconds=max(1.0, float(number("KEYMANAGER_DB_TIMEOUT_SECONDS", base.db_timeout_seconds, float))),
            db_auto_upgrade=flag("KEYMANAGER_DB_AUTO_UPGRADE", base.db_auto_upgrade),
            keystore_directory=Path(keystore_directory) if keystore_directory else None,
            keystore=choice("KEYMANAGER_KEYSTORE", base.keystore, KEYSTORES),
            keystore_password=env.get("KEYMANAGER_KEYSTORE_PASSWORD") or None,
            keystore_password_file=Path(password_file) if password_file else None,
            pkcs11_module=text("PKCS11_MODULE", base.pkcs11_module),
            pkcs11_token_label=env.get("PKCS11_TOKEN_LABEL", "").strip() or None,
            pkcs11_pin=env.get("PKCS11_TOKEN_PIN") or None,
            pkcs11_pin_file=Path(pin_file) if pin_file else None,
            key_cache_size=int(number("KEYMANAGER_KEY_CACHE_SIZE", base.key_cache_size)),
            key_cache_ttl_seconds=float(number("KEYMANAGER_KEY_CACHE_TTL_SECONDS", base.key_cache_ttl_seconds, float)),
            policy_cache_ttl_seconds=float(
                number("KEYMANAGER_POLICY_CACHE_TTL_SECONDS", base.policy_cache_ttl_seconds, float)
            ),
            max_body_bytes=int(number("KEYMANAGER_MAX_BODY_BYTES", base.max_body_bytes)),
            auto_init=flag("KEYMANAGER_AUTO_INIT", base.auto_init),
            init_keys=init_keys or base.init_keys,
            cert_common_name=text("KEYMANAGER_CERT_COMMON_NAME", base.cert_common_name),
            cert_organizational_unit=text("KEYMANAGER_CERT_ORGANIZATIONAL_UNIT", base.cert_organizational_unit),
            cert_organization=text("KEYMANAGER_CERT_ORGANIZATION", base.cert_organization),
            cert_location=text("KEYMANAGER_CERT_LOCATION", base.cert_location),
            cert_state=text("KEYMANAGER_CERT_STATE", base.cert_state),
            cert_country=text("KEYMANAGER_CERT_COUNTRY", base.cert_country),
        )

    def with_overrides(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]


def keystore_password(settings: Settings) -> bytes:
    """The PKCS#12 keystore password: from the environment, from a file, or (embedded
    default, first start) a random one generated into <data dir>/keystore.password (0600)."""
    if settings.keystore_password:
        return settings.keystore_password.encode("utf-8")
    path = settings.keystore_password_file or settings.data_dir / "keystore.password"
    if settings.keystore_password_file is None and not path.exists():
        _create_secret_file(path, secrets.token_urlsafe(32))
    try:
        password = path.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigurationError(f"cannot read the keystore password file {path}") from None
    if not password:
        raise ConfigurationError(f"the keystore password file {path} is empty")
    return password.encode("utf-8")


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


def _create_secret_file(path: Path, secret: str) -> None:
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
