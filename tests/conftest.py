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

# Property tests explore new random inputs on developers' machines; under CI they replay a
# fixed sequence, so a landing never hinges on the draw (a failure found locally gets a test).
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    _hypothesis_settings.load_profile("ci")
VECTORS_DIR = Path(os.environ.get("KEYMANAGER_VECTORS_DIR", REPO_ROOT.parent / "shared" / "spec" / "vectors"))
#: A fixed start for lifecycle tests (the day of the uni_ident vector).
START = datetime(2025, 1, 15, 9, 30, tzinfo=timezone.utc)


def pytest_sessionstart(session: pytest.Session) -> None:
    if not (VECTORS_DIR / "jdk_jose4j_vectors.txt").exists():
        raise pytest.UsageError(
            f"known-answer vectors not found at {VECTORS_DIR}: the suite expects the shared spec beside the "
            "repository (../shared/spec/vectors) or KEYMANAGER_VECTORS_DIR pointing at it"
        )


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


# -- real backends ------------------------------------------------------------------------------

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_ADMIN_URL = os.environ.get("KEYMANAGER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def missing_backend(what: str) -> None:
    """Under CI a missing backend fails the run; on a developer's machine it skips, saying why."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} not available on this machine")


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway database on the real server, dropped at the end of the session."""
    import uuid

    import pg8000.native as pg

    from adapters.postgres.key_repository import PostgresOptions

    admin = PostgresOptions.from_url(POSTGRES_ADMIN_URL)
    try:
        connection = pg.Connection(admin.user, host=admin.host, port=admin.port, database=admin.database,
                                   password=admin.password, timeout=5)
    except Exception as error:  # noqa: BLE001 - any failure means "no server here"
        missing_backend(f"PostgreSQL at {admin.host}:{admin.port} ({type(error).__name__})")
    name = f"km_test_{uuid.uuid4().hex[:12]}"
    connection.run(f"CREATE DATABASE {name}")
    auth = admin.user + (f":{admin.password}" if admin.password else "")
    try:
        yield f"postgresql://{auth}@{admin.host}:{admin.port}/{name}"
    finally:
        connection.run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.close()


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
def softhsm_token(tmp_path_factory):
    """A throwaway SoftHSM2 token in a temporary directory, removed at the end of the session.

    Sets SOFTHSM2_CONF for this process and the server processes tests start (the
    library reads it when first initialised). Yields module, label, pin and conf path.
    """
    import secrets
    import shutil
    import subprocess

    module = os.environ.get("PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
    if not Path(module).exists() or shutil.which("softhsm2-util") is None:
        missing_backend(f"SoftHSM2 (module {module} and softhsm2-util)")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n"
        "library.reset_on_fork = true\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    label, pin = f"km-test-{secrets.token_hex(4)}", secrets.token_hex(8)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", secrets.token_hex(8)],
        check=True, capture_output=True,
    )
    try:
        yield {"module": module, "label": label, "pin": pin, "conf": str(conf)}
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def pkcs11_settings(tmp_path: Path, softhsm_token) -> Settings:
    """SQLite store + the SoftHSM2 token as keystore."""
    return Settings(
        data_dir=tmp_path / "data",
        store="sqlite",
        keystore="pkcs11",
        pkcs11_module=softhsm_token["module"],
        pkcs11_token_label=softhsm_token["label"],
        pkcs11_pin=softhsm_token["pin"],
    )
