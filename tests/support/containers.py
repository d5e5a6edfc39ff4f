"""Settings for each back-end combination, and containers built from them (the tests' fixtures
in tests/conftest.py and the benchmark, ``python -m bench``, both use these)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dependency_injector import providers

from adapters.clock import ManualClock
from application.crypto.primitives import RsaKeySource
from application.use_cases.keymanager.generate_master_key import GenerateMasterKeyCommand
from entrypoints.containers import Container, build_container
from entrypoints.settings import Settings

#: The master keys most tests start from.
MASTER_KEYS = ("ROOT", "REGISTRATION", "KERNEL:SIGN")
TEST_KEYSTORE_PASSWORD = "test-password"


def memory_settings(data_dir: Path, **overrides: Any) -> Settings:
    """In-memory store and keystore."""
    return Settings(data_dir=data_dir, store="memory", keystore="memory", **overrides)


def sqlite_settings(data_dir: Path, password: str = TEST_KEYSTORE_PASSWORD, **overrides: Any) -> Settings:
    """The embedded default: SQLite store and PKCS#12 keystore under ``data_dir``."""
    return Settings(data_dir=data_dir, store="sqlite", keystore="pkcs12", keystore_password=password, **overrides)


def postgres_settings(data_dir: Path, db_url: str, password: str = TEST_KEYSTORE_PASSWORD,
                      **overrides: Any) -> Settings:
    """PostgreSQL store (``db_url``) and PKCS#12 keystore under ``data_dir``."""
    return Settings(data_dir=data_dir, store="postgres", db_url=db_url, keystore="pkcs12",
                    keystore_password=password, **overrides)


def pkcs11_settings(data_dir: Path, token: Mapping[str, str], store: str = "sqlite", **overrides: Any) -> Settings:
    """The PKCS#11 keystore on ``token`` (as tests/support/backends.py makes it) with ``store``."""
    return Settings(data_dir=data_dir, store=store, keystore="pkcs11", pkcs11_module=token["module"],
                    pkcs11_token_label=token["label"], pkcs11_pin=token["pin"], **overrides)


def make_container(settings: Settings, clock: ManualClock | None = None,
                   rsa_keys: RsaKeySource | None = None) -> Container:
    """The service's container for ``settings``; ``clock`` and ``rsa_keys`` (where new RSA-2048
    private keys come from) replace the real ones when given."""
    container = build_container(settings)
    if rsa_keys is not None:
        container.rsa_key_source.override(providers.Object(rsa_keys))
    if clock is not None:
        container.clock.override(clock)
    return container


def init_master_keys(container: Container, keys: tuple[str, ...] = MASTER_KEYS) -> None:
    """Make each ``APP`` or ``APP:REF`` master key, in order."""
    use_case = container.generate_master_key()
    for spec in keys:
        app, _, ref = spec.partition(":")
        use_case.execute(GenerateMasterKeyCommand(app_id=app, ref_id=ref))
