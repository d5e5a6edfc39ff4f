"""Shared fixtures: known-answer vectors, a controllable clock, containers and apps."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from adapters.clock import ManualClock
from entrypoints.containers import Container, build_container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
VECTORS_DIR = Path(os.environ.get("KEYMANAGER_VECTORS_DIR", REPO_ROOT.parent / "shared" / "spec" / "vectors"))
#: A fixed start for lifecycle tests (the day of the uni_ident vector).
START = datetime(2025, 1, 15, 9, 30, tzinfo=timezone.utc)


def read_vectors() -> dict[str, str]:
    values = {}
    for line in (VECTORS_DIR / "jdk_jose4j_vectors.txt").read_text().splitlines():
        if "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


@pytest.fixture(scope="session")
def vectors() -> dict[str, str]:
    if not VECTORS_DIR.exists():
        pytest.fail(f"known-answer vectors not found at {VECTORS_DIR} (set KEYMANAGER_VECTORS_DIR)")
    return read_vectors()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def make_container(settings: Settings, clock: ManualClock | None = None) -> Container:
    container = build_container(settings)
    if clock is not None:
        container.clock.override(clock)
    return container


def init_master_keys(container: Container, keys: tuple[str, ...] = ("ROOT", "REGISTRATION", "KERNEL:SIGN")) -> None:
    from application.use_cases.generate_master_key import GenerateMasterKeyCommand

    use_case = container.generate_master_key()
    for spec in keys:
        app, _, ref = spec.partition(":")
        use_case.execute(GenerateMasterKeyCommand(app_id=app, ref_id=ref))


@pytest.fixture
def memory_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", store="memory", keystore="memory")


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", store="sqlite", keystore="pkcs12", keystore_password="test-password")


@pytest.fixture
def container(memory_settings: Settings, clock: ManualClock) -> Container:
    """In-memory store and keystore, controllable clock, ROOT + REGISTRATION + KERNEL/SIGN made."""
    built = make_container(memory_settings, clock)
    init_master_keys(built)
    return built


@pytest.fixture
def app(memory_settings: Settings, container: Container):
    return create_app(memory_settings, container)


@pytest.fixture
def client(app):
    return app.test_client()
