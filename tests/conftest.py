"""Shared fixtures: known-answer vectors, a controllable clock, containers and apps, real back-ends.

The helpers behind them live in tests/support/ (shared with the benchmark, ``python -m bench``);
test modules import helpers from there, never from each other or from this file.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from hypothesis import settings as _hypothesis_settings

from adapters.clock import ManualClock
from application.crypto.primitives import RsaKeySource
from entrypoints.containers import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support import containers as support
from tests.support.backends import (
    POSTGRES_ADMIN_URL,
    BackendUnavailable,
    throwaway_database,
    throwaway_softhsm_token,
)
from tests.support.key_pool import RsaKeyPool
from tests.support.repo import IN_CI, START, VECTORS_DIR, read_vectors
from tests.support.required import missing_backend, require_marker

# Property tests explore new random inputs on developers' machines; under CI they replay a
# fixed sequence, so a landing never hinges on the draw (a failure found locally gets a test).
_hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if IN_CI:
    _hypothesis_settings.load_profile("ci")

#: A test using one of these fixtures (directly or through another fixture) gets the marker.
BACKEND_MARKERS = {"postgres_url": "postgres", "softhsm_token": "softhsm"}


def pytest_sessionstart(session: pytest.Session) -> None:
    if not (VECTORS_DIR / "jdk_jose4j_vectors.txt").exists():
        raise pytest.UsageError(
            f"known-answer vectors not found at {VECTORS_DIR}: the suite expects the shared spec beside the "
            "repository (../shared/spec/vectors) or KEYMANAGER_VECTORS_DIR pointing at it"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``postgres`` / ``softhsm`` on every test whose fixtures reach that back-end. Tests that
    reach it only through ``request.getfixturevalue`` carry the marker explicitly (the back-end
    fixtures fail a test that uses them without it, so none is missed)."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marker in BACKEND_MARKERS.items():
            if fixture in names and item.get_closest_marker(marker) is None:
                item.add_marker(marker)


@pytest.fixture(scope="session")
def vectors() -> dict[str, str]:
    if not VECTORS_DIR.exists():
        pytest.fail(f"known-answer vectors not found at {VECTORS_DIR} (set KEYMANAGER_VECTORS_DIR)")
    return read_vectors()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


# -- containers -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rsa_key_pool() -> RsaKeyPool:
    """RSA-2048 keys made once per session (tests/support/key_pool.py)."""
    return RsaKeyPool()


@pytest.fixture
def rsa_keys(rsa_key_pool: RsaKeyPool) -> RsaKeySource:
    """This test's source of RSA-2048 keys: every container of the test draws from it, so no two
    keys of one test are the same."""
    return rsa_key_pool.source()


@pytest.fixture
def make_container(rsa_keys: RsaKeySource) -> Callable[..., Container]:
    """``make_container(settings, clock=None)``: the service's container, its keys from ``rsa_keys``."""

    def make(settings: Settings, clock: ManualClock | None = None) -> Container:
        return support.make_container(settings, clock, rsa_keys)

    return make


@pytest.fixture
def memory_settings(tmp_path: Path) -> Settings:
    return support.memory_settings(tmp_path / "data")


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return support.sqlite_settings(tmp_path / "data")


@pytest.fixture
def container(memory_settings: Settings, clock: ManualClock, make_container) -> Container:
    """In-memory store and keystore, controllable clock, ROOT + REGISTRATION + KERNEL/SIGN made."""
    built = make_container(memory_settings, clock)
    support.init_master_keys(built)
    return built


@pytest.fixture
def app(memory_settings: Settings, container: Container):
    return create_app(memory_settings, container)


@pytest.fixture
def client(app):
    return app.test_client()


# -- real backends ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_session_url():
    """A throwaway database on the real server, dropped at the end of the session."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_database(POSTGRES_ADMIN_URL, prefix="km_test"))
        except BackendUnavailable as error:
            missing_backend(str(error))
        yield url


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, postgres_session_url: str) -> str:
    """The session's throwaway database (tests using it are marked ``postgres``)."""
    require_marker(request, "postgres", "PostgreSQL")
    return postgres_session_url


@pytest.fixture
def postgres_schema_url(postgres_url):
    """The session's database with a fresh schema for this test."""
    import uuid

    return f"{postgres_url}?schema=t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def postgres_database(postgres_schema_url):
    from adapters.postgres.key_repository import PostgresDatabase, PostgresOptions

    database = PostgresDatabase(PostgresOptions.from_url(postgres_schema_url))
    database.upgrade()
    try:
        yield database
    finally:
        database.close()


@pytest.fixture(scope="session")
def softhsm_session_token(tmp_path_factory):
    """A throwaway SoftHSM2 token in a temporary directory, removed at the end of the session.

    Sets SOFTHSM2_CONF for this process and the server processes tests start (the
    library reads it when first initialised). Yields module, label, pin and conf path.
    """
    with ExitStack() as stack:
        try:
            token = stack.enter_context(throwaway_softhsm_token(tmp_path_factory.mktemp("softhsm") / "token"))
        except BackendUnavailable as error:
            missing_backend(str(error))
        yield token


@pytest.fixture
def softhsm_token(request: pytest.FixtureRequest, softhsm_session_token: dict[str, str]) -> dict[str, str]:
    """The session's SoftHSM2 token (tests using it are marked ``softhsm``)."""
    require_marker(request, "softhsm", "SoftHSM2")
    return softhsm_session_token


@pytest.fixture
def pkcs11_settings(tmp_path: Path, softhsm_token) -> Settings:
    """SQLite store + the SoftHSM2 token as keystore."""
    return support.pkcs11_settings(tmp_path / "data", softhsm_token)
