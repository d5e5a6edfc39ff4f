"""Throwaway real back-ends, shared by the test fixtures (tests/conftest.py) and the benchmark
(``python -m bench``): a PostgreSQL database made for the run and dropped after it, and a
SoftHSM2 token in a directory of its own. Neither imports pytest: when a back-end cannot be had,
they raise ``BackendUnavailable`` saying why, and the caller decides (the tests skip, or fail
under CI=true; the benchmark prints a note and leaves those rows out)."""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
#: The test suite's server (KEYMANAGER_TEST_PG_URL overrides the default).
POSTGRES_ADMIN_URL = os.environ.get("KEYMANAGER_TEST_PG_URL", "").strip() or DEFAULT_POSTGRES_ADMIN_URL
DEFAULT_PKCS11_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
#: Seconds to wait for the PostgreSQL server to accept a connection, and then for each statement.
PROBE_TIMEOUT, STATEMENT_TIMEOUT = 5, 120


class BackendUnavailable(Exception):
    """The back-end is not installed, not reachable, or could not be set up here."""


def postgres_url(user: str, password: str | None, host: str, port: int, database: str) -> str:
    """A ``postgresql://`` URL; the credentials are URL-quoted (PostgresOptions.from_url unquotes them)."""
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"postgresql://{auth}@{host}:{port}/{database}"


@contextmanager
def throwaway_database(admin_url: str, prefix: str = "km_test") -> Iterator[str]:
    """The URL of a new database ``<prefix>_<random>`` on the server of ``admin_url``, dropped
    (connections and all) on the way out."""
    import pg8000.native as pg

    from adapters.postgres.key_repository import PostgresOptions

    try:
        admin = PostgresOptions.from_url(admin_url)
    except ValueError as error:
        raise BackendUnavailable(f"PostgreSQL admin URL not usable ({error})") from None
    try:
        # Is anything listening? Answered within seconds (the connection below may wait much longer: a
        # DROP DATABASE on a busy server, at the end of a parallel run, can take more than a few seconds).
        socket.create_connection((admin.host, admin.port), timeout=PROBE_TIMEOUT).close()
        connection = pg.Connection(admin.user, host=admin.host, port=admin.port, database=admin.database,
                                   password=admin.password, timeout=STATEMENT_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - any failure means "no server here"
        raise BackendUnavailable(
            f"PostgreSQL at {admin.host}:{admin.port} ({type(error).__name__}: {error})"
        ) from None
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        connection.run(f"CREATE DATABASE {name}")
        yield postgres_url(admin.user, admin.password, admin.host, admin.port, name)
    finally:
        try:
            connection.run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            connection.close()


def pkcs11_module() -> str:
    return os.environ.get("PKCS11_MODULE", "").strip() or DEFAULT_PKCS11_MODULE


def init_softhsm_token(directory: Path, label_prefix: str = "km-test") -> dict[str, str]:
    """A SoftHSM2 configuration of its own in ``directory`` (a token directory nothing else uses)
    with one new token: its module, label, pin and the path of the configuration. This process's
    environment is left alone: pass SOFTHSM2_CONF=<conf> to whatever should see the token."""
    module = pkcs11_module()
    if not Path(module).exists() or shutil.which("softhsm2-util") is None:
        raise BackendUnavailable(f"SoftHSM2 (module {module} and softhsm2-util)")
    (directory / "tokens").mkdir(parents=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {directory / 'tokens'}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n"
        "library.reset_on_fork = true\n"
    )
    label, pin = f"{label_prefix}-{secrets.token_hex(4)}", secrets.token_hex(8)
    try:
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin,
             "--so-pin", secrets.token_hex(8)],
            check=True, capture_output=True, timeout=60, env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        )
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", None) or b""
        raise BackendUnavailable(
            f"SoftHSM2 token could not be made ({type(error).__name__} {detail.decode(errors='replace').strip()})"
        ) from None
    return {"module": module, "label": label, "pin": pin, "conf": str(conf)}


@contextmanager
def throwaway_softhsm_token(directory: Path, label_prefix: str = "km-test") -> Iterator[dict[str, str]]:
    """``init_softhsm_token`` in ``directory`` (removed on the way out), with SOFTHSM2_CONF pointing
    at it meanwhile for this process and the processes it starts (the PKCS#11 library reads it when
    first initialised)."""
    try:
        token = init_softhsm_token(directory, label_prefix)
    except BackendUnavailable:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = token["conf"]
    try:
        yield token
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous
        shutil.rmtree(directory, ignore_errors=True)
