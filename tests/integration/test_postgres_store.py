"""The PostgreSQL store against the real server (127.0.0.1:5432), with the PKCS#12 keystore.

Every test works inside the session's throwaway database (tests/conftest.py:
``postgres_url``), each on its own schema; under CI=true a missing server fails
the run. Covered: the key lifecycle through the use cases, migrating a database
that looks like an older reference deployment, key creation interrupted at any
point (the process killed), killed connections and a real outage (a TCP proxy
in front of the server is stopped and started again), and several OS processes
racing for the same fresh tuples.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pg8000.native as pg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding

from adapters.clock import ManualClock
from adapters.postgres.key_repository import PostgresDatabase, PostgresOptions, PostgresUnitOfWorkFactory
from adapters.postgres.schema import migrations as postgres_migrations
from application.use_cases.cryptomanager.decrypt_data import DecryptCommand
from application.use_cases.cryptomanager.encrypt_data import EncryptCommand
from application.use_cases.keymanager.generate_master_key import GenerateMasterKeyCommand
from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from application.use_cases.keymanager.revoke_key import RevokeKeyCommand
from domain.current_key import current_aliases, pre_expire_days
from domain.identifiers import uni_ident, unique_value_for_generated
from domain.keys import DEFAULT_POLICIES, KeyPolicy, KeyTuple
from entrypoints.containers import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.lockstep import run_in_lockstep
from tests.support.repo import REPO_ROOT, child_process_env

API = "/v1/keymanager"
APP = "REGISTRATION"
REF = "10001_110011"
PASSWORD = "pw"
MASTER_SPECS = ("ROOT", "REGISTRATION", "KERNEL:SIGN")
#: How long one request may take while the database is unreachable (socket timeout is 10 s).
OUTAGE_ANSWER_SECONDS = 12.0
#: Every migration, in order (a new migration needs no edit here).
PG_VERSIONS = [number for number, _ in postgres_migrations("keymgr")]


# -- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def pg_settings(tmp_path: Path, postgres_schema_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", store="postgres", db_url=postgres_schema_url,
        keystore="pkcs12", keystore_password=PASSWORD,
    )


@pytest.fixture
def containers(make_container) -> Iterator[Callable[..., Container]]:
    """Builds containers and closes their connection pools at the end of the test."""
    built: list[Container] = []

    def build(settings: Settings, clock: ManualClock | None = None) -> Container:
        container = make_container(settings, clock)
        built.append(container)
        return container

    yield build
    for container in built:
        database = container.database()
        if database is not None:
            database.close()


@pytest.fixture
def admin(postgres_url: str) -> Iterator[pg.Connection]:
    """A connection of the test's own to the session's throwaway database (never another one)."""
    options = PostgresOptions.from_url(postgres_url)
    connection = pg.Connection(
        options.user, host=options.host, port=options.port, database=options.database,
        password=options.password, timeout=10, application_name="keymanager_test_admin",
    )
    try:
        yield connection
    finally:
        connection.close()


def schema_of(settings_or_url: Settings | str) -> str:
    url = settings_or_url if isinstance(settings_or_url, str) else settings_or_url.db_url
    assert url is not None
    return PostgresOptions.from_url(url).schema


def certificate_pem(container: Container, app: str, ref: str = "") -> str:
    result = container.get_certificate().execute(GetCertificateCommand(app, ref))
    assert result.certificate_pem is not None
    return result.certificate_pem


def current_of(container: Container, key_tuple: KeyTuple):
    now = container.hierarchy().clock.now()
    with container.uow_factory()() as uow:
        window = pre_expire_days(key_tuple, uow.keys.policy)
        all_rows = uow.keys.aliases_for(key_tuple)
        return all_rows, current_aliases(all_rows, now, window)


def pem_thumbprint(pem: str) -> str:
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    return hashlib.sha256(der).hexdigest().upper()


def is_keystore_tuple(app_id: str, ref_id: str | None) -> bool:
    """ROOT, module master keys and KERNEL/SIGN live in the keystore (no key_store row)."""
    return not ref_id or (app_id == "KERNEL" and ref_id == "SIGN")


def assert_store_consistent(admin: pg.Connection, schema: str, ignore: frozenset[str] = frozenset()) -> list[list[Any]]:
    """Every key of a base tuple has its key_store row and vice versa, each stored
    certificate matches its alias's thumbprint, and keystore-held keys have no row
    (``ignore``: aliases of hand-made legacy rows). Returns the key_alias rows
    (id, app_id, ref_id, cert_thumbprint, certificate_data)."""
    rows = admin.run(
        f"SELECT a.id, a.app_id, a.ref_id, a.cert_thumbprint, s.id, s.certificate_data"
        f" FROM {schema}.key_alias a LEFT JOIN {schema}.key_store s ON s.id = a.id"
    )
    for alias, app_id, ref_id, thumbprint, stored_id, certificate in rows:
        if alias in ignore:
            continue
        if is_keystore_tuple(app_id, ref_id):
            assert stored_id is None, f"keystore-held key {app_id}/{ref_id} has a key_store row"
            continue
        assert stored_id == alias, f"key_alias {alias} ({app_id}/{ref_id}) has no key_store row"
        assert thumbprint == pem_thumbprint(certificate), f"certificate of {alias} does not match its thumbprint"
    orphans = admin.run(
        f"SELECT s.id FROM {schema}.key_store s LEFT JOIN {schema}.key_alias a ON a.id = s.id WHERE a.id IS NULL"
    )
    assert orphans == [], f"key_store rows without a key_alias row: {orphans}"
    return [[alias, app_id, ref_id, thumbprint, certificate] for alias, app_id, ref_id, thumbprint, _, certificate
            in rows]


def aliases_of(admin: pg.Connection, schema: str, app: str, ref: str) -> list[list[Any]]:
    return admin.run(
        f"SELECT a.id, s.certificate_data FROM {schema}.key_alias a LEFT JOIN {schema}.key_store s ON s.id = a.id"
        " WHERE a.app_id = :app AND COALESCE(a.ref_id, '') = :ref ORDER BY a.key_gen_dtimes",
        app=app, ref=ref,
    )


def child_env(settings: Settings) -> dict[str, str]:
    return child_process_env(
        KEYMANAGER_DATA_DIR=str(settings.data_dir),
        KEYMANAGER_STORE="postgres",
        KEYMANAGER_DB_URL=settings.db_url or "",
        KEYMANAGER_KEYSTORE="pkcs12",
        KEYMANAGER_KEYSTORE_PASSWORD=PASSWORD,
    )


def verify_issued_by(pem: str, issuer_pem: str) -> None:
    certificate = x509.load_pem_x509_certificate(pem.encode())
    issuer = x509.load_pem_x509_certificate(issuer_pem.encode())
    assert certificate.issuer == issuer.subject
    issuer.public_key().verify(  # type: ignore[union-attr]
        certificate.signature, certificate.tbs_certificate_bytes, padding.PKCS1v15(),
        certificate.signature_hash_algorithm,  # type: ignore[arg-type]
    )


# -- the key lifecycle through the use cases ------------------------------------------------------


def test_key_lifecycle_on_postgres_and_pkcs12(
    pg_settings: Settings, containers: Callable[..., Container], clock: ManualClock, admin: pg.Connection
) -> None:
    schema = schema_of(pg_settings)
    container = containers(pg_settings, clock)
    init_master_keys(container, MASTER_SPECS)

    # The master keys live in the keystore: key_alias rows, no key_store rows.
    masters = admin.run(f"SELECT id, app_id, ref_id FROM {schema}.key_alias ORDER BY app_id, ref_id")
    assert [(app, ref) for _, app, ref in masters] == [("KERNEL", "SIGN"), ("REGISTRATION", ""), ("ROOT", "")]
    assert admin.run(f"SELECT count(*) FROM {schema}.key_store") == [[0]]
    assert sorted(container.keystore().aliases()) == sorted(alias for alias, _, _ in masters)

    # getCertificate creates the base key once, issued by the module key.
    first = certificate_pem(container, APP, REF)
    assert certificate_pem(container, APP, REF) == first
    verify_issued_by(first, certificate_pem(container, APP))
    ((alias, stored_pem),) = aliases_of(admin, schema, APP, REF)
    assert stored_pem == first
    (row,) = current_of(container, KeyTuple(APP, REF))[0]
    assert row.uni_ident == uni_ident(unique_value_for_generated(KeyTuple(APP, REF), clock.now()))

    # encrypt / decrypt round trip.
    encrypt, decrypt = container.encrypt_data(), container.decrypt_data()
    packets = [encrypt.execute(EncryptCommand(APP, REF, b"packet 0")).data]
    assert decrypt.execute(DecryptCommand(APP, REF, packets[0])).data == b"packet 0"

    # Revoke, then regenerate, twice on the same day.
    pems = [first]
    for number in (1, 2):
        clock.advance(timedelta(minutes=5))
        container.revoke_key().execute(RevokeKeyCommand(APP, REF))
        pems.append(certificate_pem(container, APP, REF))
        assert pems[-1] not in pems[:-1]
        packets.append(encrypt.execute(EncryptCommand(APP, REF, f"packet {number}".encode())).data)
    all_rows, current = current_of(container, KeyTuple(APP, REF))
    assert len(all_rows) == 3 and len({r.uni_ident for r in all_rows}) == 3
    assert {r.generated_at.date() for r in all_rows} == {clock.now().date()}
    assert [r.alias for r in current] == [all_rows[-1].alias]
    assert [pem for _, pem in aliases_of(admin, schema, APP, REF)] == pems
    for number, packet in enumerate(packets):  # revoked keys still decrypt
        assert decrypt.execute(DecryptCommand(APP, REF, packet)).data == f"packet {number}".encode()

    # Force-regenerate the module master key twice on the same day.
    master_pems = [certificate_pem(container, APP)]
    for _ in (1, 2):
        clock.advance(timedelta(minutes=5))
        result = container.generate_master_key().execute(GenerateMasterKeyCommand(APP, force=True))
        assert result.created and result.certificate_pem not in master_pems
        master_pems.append(result.certificate_pem)
    assert certificate_pem(container, APP) == master_pems[-1]
    master_rows, master_current = current_of(container, KeyTuple(APP))
    assert len(master_rows) == 3 and len({r.uni_ident for r in master_rows}) == 3
    assert [r.alias for r in master_current] == [master_rows[-1].alias]
    assert set(container.keystore().aliases()) >= {r.alias for r in master_rows}
    # The base key made under the first master still works; a new base key is issued by the newest master.
    assert certificate_pem(container, APP, REF) == pems[-1]
    after = encrypt.execute(EncryptCommand(APP, REF, b"after rotation")).data
    assert decrypt.execute(DecryptCommand(APP, REF, after)).data == b"after rotation"
    verify_issued_by(certificate_pem(container, APP, "fresh-after-rotation"), master_pems[-1])
    assert_store_consistent(admin, schema)

    # Another process's view (a new container on the same database and keystore) is the same.
    restarted = containers(pg_settings, clock)
    assert certificate_pem(restarted, APP, REF) == pems[-1]
    assert certificate_pem(restarted, APP) == master_pems[-1]
    for number, packet in enumerate(packets):
        assert restarted.decrypt_data().execute(DecryptCommand(APP, REF, packet)).data == f"packet {number}".encode()


# -- migrating an older reference deployment ------------------------------------------------------


def test_upgrade_of_an_older_reference_database(
    postgres_schema_url: str, admin: pg.Connection, containers: Callable[..., Container], tmp_path: Path
) -> None:
    schema = schema_of(postgres_schema_url)
    # The tables as a 1.1.x reference deployment has them: no cert_thumbprint / uni_ident,
    # no pre_expire_days / access_allowed, and some rows already there.
    admin.run(f"CREATE SCHEMA {schema}")
    admin.run(
        f"""CREATE TABLE {schema}.key_alias (
    id character varying(36) NOT NULL, app_id character varying(36) NOT NULL, ref_id character varying(128),
    key_gen_dtimes timestamp, key_expire_dtimes timestamp, status_code character varying(36),
    lang_code character varying(3), cr_by character varying(256) NOT NULL, cr_dtimes timestamp NOT NULL,
    upd_by character varying(256), upd_dtimes timestamp, is_deleted boolean DEFAULT FALSE, del_dtimes timestamp,
    CONSTRAINT pk_keymals_id PRIMARY KEY (id))"""
    )
    admin.run(
        f"""CREATE TABLE {schema}.key_policy_def (
    app_id character varying(36) NOT NULL, key_validity_duration smallint, is_active boolean NOT NULL,
    cr_by character varying(256) NOT NULL, cr_dtimes timestamp NOT NULL, upd_by character varying(256),
    upd_dtimes timestamp, is_deleted boolean DEFAULT FALSE, del_dtimes timestamp,
    CONSTRAINT pk_keypdef_id PRIMARY KEY (app_id))"""
    )
    existing_policies = [("REGISTRATION", 365, True), ("ROOT", 1826, True), ("IDA", 1095, True), ("PMS", 1460, False)]
    for app, validity, active in existing_policies:
        admin.run(
            f"INSERT INTO {schema}.key_policy_def (app_id, key_validity_duration, is_active, cr_by, cr_dtimes)"
            " VALUES (:app, :validity, :active, 'mosipadmin', '2020-06-01 10:00:00')",
            app=app, validity=validity, active=active,
        )
    legacy_keys = [
        ("aaaaaaaa-0000-4000-8000-000000000001", "REGISTRATION", None),
        ("aaaaaaaa-0000-4000-8000-000000000002", "REGISTRATION", "10001"),
    ]
    for alias, app, ref in legacy_keys:
        admin.run(
            f"INSERT INTO {schema}.key_alias (id, app_id, ref_id, key_gen_dtimes, key_expire_dtimes, cr_by, cr_dtimes)"
            " VALUES (:id, :app, :ref, '2021-01-01 00:00:00', '2024-01-01 00:00:00', 'SYSTEM', '2021-01-01 00:00:00')",
            id=alias, app=app, ref=ref,
        )

    database = PostgresDatabase(PostgresOptions.from_url(postgres_schema_url))
    try:
        assert database.upgrade() == PG_VERSIONS

        columns = {
            table: {name for (name,) in admin.run(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = :t",
                s=schema, t=table,
            )}
            for table in ("key_alias", "key_policy_def")
        }
        assert {"cert_thumbprint", "uni_ident"} <= columns["key_alias"]
        assert {"pre_expire_days", "access_allowed"} <= columns["key_policy_def"]
        tables = {name for (name,) in admin.run(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :s", s=schema
        )}
        assert {"key_store", "data_encrypt_keystore", "ca_cert_store", "partner_cert_store"} <= tables
        # As the reference's 1.2.0 upgrade does, uni_ident becomes unique.
        unique = admin.run(
            "SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_attribute a"
            " ON a.attrelid = t.oid AND a.attnum = ANY (c.conkey)"
            " WHERE n.nspname = :s AND t.relname = 'key_alias' AND c.contype = 'u' AND a.attname = 'uni_ident'",
            s=schema,
        )
        assert unique == [[1]]

        # Existing rows are kept as they were.
        kept = admin.run(
            f"SELECT id, app_id, ref_id, key_gen_dtimes::text, uni_ident, cert_thumbprint FROM {schema}.key_alias"
            " ORDER BY id"
        )
        assert kept == [[alias, app, ref, "2021-01-01 00:00:00", None, None] for alias, app, ref in legacy_keys]
        policies = {
            app: (validity, active, cr_by)
            for app, validity, active, cr_by in admin.run(
                f"SELECT app_id, key_validity_duration, is_active, cr_by FROM {schema}.key_policy_def"
            )
        }
        for app, validity, active in existing_policies:
            assert policies[app] == (validity, active, "mosipadmin"), app
        # Only the missing default policies were added.
        defaults = {policy.app_id for policy in DEFAULT_POLICIES}
        assert set(policies) == defaults | {"IDA"}
        with PostgresUnitOfWorkFactory(database)() as uow:
            for policy in DEFAULT_POLICIES:
                if policy.app_id not in {app for app, _, _ in existing_policies}:
                    assert uow.keys.policy(policy.app_id) == policy
            # The operator's validity stays; the columns the upgrade added get the reference's
            # defaults (its 1.2.0 upgrade sets them), else decryption would be refused for the app.
            assert uow.keys.policy("REGISTRATION") == KeyPolicy("REGISTRATION", 365, 60, "NA")
            assert uow.keys.policy("ROOT") == KeyPolicy("ROOT", 1826, 1125, "NA")
            assert uow.keys.policy("PMS") == KeyPolicy("PMS", 1460, 395, "NA", is_active=False)
            legacy_master = uow.keys.aliases_for(KeyTuple("REGISTRATION"))
            assert [a.alias for a in legacy_master] == [legacy_keys[0][0]]
            assert legacy_master[0].thumbprint is None and legacy_master[0].uni_ident is None

        assert database.upgrade() == []
        assert database.schema_version() == PG_VERSIONS[-1]
        assert admin.run(f"SELECT version FROM {schema}.km_schema_version ORDER BY version") == [
            [version] for version in PG_VERSIONS
        ]
        assert admin.run(f"SELECT count(*) FROM {schema}.key_alias") == [[len(legacy_keys)]]
    finally:
        database.close()

    # The service runs on the upgraded database: new keys beside the legacy rows, and
    # REGISTRATION data decrypts (its access_allowed was filled in by the upgrade).
    settings = Settings(data_dir=tmp_path / "data", store="postgres", db_url=postgres_schema_url,
                        keystore="pkcs12", keystore_password=PASSWORD)
    container = containers(settings)
    init_master_keys(container, MASTER_SPECS)
    packet = container.encrypt_data().execute(EncryptCommand(APP, REF, b"after the upgrade")).data
    assert container.decrypt_data().execute(DecryptCommand(APP, REF, packet)).data == b"after the upgrade"
    assert len(aliases_of(admin, schema, "REGISTRATION", "")) == 2  # the legacy master, expired, and the new one
    assert_store_consistent(admin, schema, ignore=frozenset(alias for alias, _, _ in legacy_keys))


# -- key creation interrupted ---------------------------------------------------------------------

DIE_INSIDE_CREATION = r"""
import json, os, sys
from adapters.sql import key_repository as sql_repository
from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from domain.keys import KeyTuple
from entrypoints.containers import build_container
from entrypoints.settings import Settings

app, ref, method = sys.argv[1], sys.argv[2], sys.argv[3]
original = getattr(sql_repository.SqlKeyRepository, method)

def write_then_die(self, row):
    original(self, row)
    # The rows are written inside the still open transaction: say so, then die before the commit.
    print(json.dumps({
        "alias": getattr(row, "alias"),
        "visible": [a.alias for a in self.aliases_for(KeyTuple(app, ref))],
        "stored": self.stored_key(row.alias) is not None,
    }), flush=True)
    os._exit(1)

setattr(sql_repository.SqlKeyRepository, method, write_then_die)
container = build_container(Settings.from_env())
container.get_certificate().execute(GetCertificateCommand(app, ref))
print("committed", flush=True)
"""


@pytest.mark.parametrize("method", ["add_stored_key", "add_alias"])
def test_process_dying_inside_key_creation_leaves_no_half_written_key(
    pg_settings: Settings, containers: Callable[..., Container], admin: pg.Connection, method: str
) -> None:
    schema = schema_of(pg_settings)
    parent = containers(pg_settings)
    init_master_keys(parent, MASTER_SPECS)
    ref = f"dying-{uuid.uuid4().hex[:8]}"

    child = subprocess.run(
        [sys.executable, "-c", DIE_INSIDE_CREATION, APP, ref, method],
        cwd=REPO_ROOT, env=child_env(pg_settings), capture_output=True, timeout=120,
    )
    assert child.returncode == 1, child.stderr.decode(errors="replace")
    report = json.loads(child.stdout.decode().strip().splitlines()[-1])
    assert report["visible"] == [report["alias"]]  # the alias row was written before the process died
    assert report["stored"] is (method == "add_stored_key")

    assert aliases_of(admin, schema, APP, ref) == []
    assert admin.run(f"SELECT count(*) FROM {schema}.key_store WHERE id = :id", id=report["alias"]) == [[0]]
    assert_store_consistent(admin, schema)

    # The tuple's lock died with the process: a normal request creates exactly one key.
    pem = certificate_pem(parent, APP, ref)
    ((alias, stored_pem),) = aliases_of(admin, schema, APP, ref)
    assert stored_pem == pem and alias != report["alias"]
    assert certificate_pem(parent, APP, ref) == pem
    assert_store_consistent(admin, schema)


CREATE_MANY = r"""
import sys
from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from entrypoints.containers import build_container
from entrypoints.settings import Settings

app, prefix = sys.argv[1], sys.argv[2]
use_case = build_container(Settings.from_env()).get_certificate()
print("ready", flush=True)
for number in range(100000):
    use_case.execute(GetCertificateCommand(app, f"{prefix}-{number}"))
    print(number, flush=True)
"""


def test_sigkill_at_a_random_moment_leaves_every_key_whole(
    pg_settings: Settings, containers: Callable[..., Container], admin: pg.Connection
) -> None:
    schema = schema_of(pg_settings)
    parent = containers(pg_settings)
    init_master_keys(parent, MASTER_SPECS)
    rng = random.Random()

    for round_number in range(3):
        prefix = f"kill{round_number}-{uuid.uuid4().hex[:6]}"
        child = subprocess.Popen(
            [sys.executable, "-c", CREATE_MANY, APP, prefix],
            cwd=REPO_ROOT, env=child_env(pg_settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        watchdog = threading.Timer(120, child.kill)
        watchdog.start()
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == b"ready", child.stderr.read() if child.stderr else ""
            for _ in range(rng.randint(1, 5)):
                assert child.stdout.readline().strip(), "the child stopped creating keys"
            time.sleep(rng.uniform(0, 0.25))
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            watchdog.cancel()
        assert child.returncode == -signal.SIGKILL
        confirmed = [int(line) for line in child.stdout.read().split()]  # type: ignore[union-attr]

        rows = assert_store_consistent(admin, schema)
        made = sorted(int(ref.rsplit("-", 1)[1]) for _, app, ref, _, _ in rows if ref and ref.startswith(prefix + "-"))
        assert made == list(range(len(made)))  # one key per ref, in order, none missing
        assert len(made) >= (confirmed[-1] + 1 if confirmed else 0)

        # Service goes on: the keys that were made are returned as they are, the interrupted one is made once.
        for number in range(len(made) + 1):
            ref = f"{prefix}-{number}"
            before = aliases_of(admin, schema, APP, ref)
            pem = certificate_pem(parent, APP, ref)
            after = aliases_of(admin, schema, APP, ref)
            assert len(after) == 1 and after[0][1] == pem
            if before:
                assert before == after
        assert_store_consistent(admin, schema)


# -- outages --------------------------------------------------------------------------------------


def envelope_of(response) -> dict[str, Any]:
    body = response.get_json()
    assert isinstance(body, dict), response.get_data(as_text=True)
    return body


def assert_success(response) -> dict[str, Any]:
    body = envelope_of(response)
    assert response.status_code == 200 and body["errors"] in (None, []), body
    return body["response"]


def assert_store_unavailable(response) -> None:
    text = response.get_data(as_text=True)
    body = envelope_of(response)
    assert response.status_code == 503, text
    assert {"id", "version", "responsetime", "response", "errors"} <= set(body)
    assert body["response"] is None
    assert [error["errorCode"] for error in body["errors"]] == ["KER-KMS-500"]
    for leak in ("Traceback", "pg8000", "InterfaceError", "Error:", "File \""):
        assert leak not in text


def crypto_body(data: str, ref: str = REF) -> dict[str, Any]:
    return {
        "id": "mosip.crypto.service", "version": "1.0", "requesttime": "2025-01-15T09:30:00.000Z", "metadata": {},
        "request": {"applicationId": APP, "referenceId": ref, "timeStamp": "2025-01-15T09:30:00.000Z",
                    "data": data, "salt": None, "aad": None},
    }


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Service:
    """The HTTP service (Flask test client) over a container, with the calls the tests use."""

    def __init__(self, settings: Settings, container: Container) -> None:
        self.app = create_app(settings, container)

    def client(self):
        return self.app.test_client()

    def get_certificate(self, app: str = APP, ref: str = REF):
        return self.client().get(f"{API}/getCertificate", query_string={"applicationId": app, "referenceId": ref})

    def get_all_certificates(self, app: str = APP, ref: str = REF):
        return self.client().get(f"{API}/getAllCertificates", query_string={"applicationId": app, "referenceId": ref})

    def encrypt(self, plaintext: bytes, ref: str = REF):
        return self.client().post(f"{API}/encrypt", json=crypto_body(b64url(plaintext), ref))

    def decrypt(self, ciphertext: str, ref: str = REF):
        return self.client().post(f"{API}/decrypt", json=crypto_body(ciphertext, ref))

    def revoke(self, ref: str):
        body = {"id": "x", "version": "1.0", "requesttime": "2025-01-15T09:30:00.000Z", "metadata": {},
                "request": {"applicationId": APP, "referenceId": ref, "disableAutoGen": False}}
        return self.client().put(f"{API}/revokeKey", json=body)

    def generate_master(self):
        body = {"id": "x", "version": "1.0", "requesttime": "2025-01-15T09:30:00.000Z", "metadata": {},
                "request": {"applicationId": APP, "referenceId": "", "force": False, "commonName": None,
                            "organizationUnit": None, "organization": None, "location": None, "state": None,
                            "country": None}}
        return self.client().post(f"{API}/generateMasterKey/CERTIFICATE", json=body)


def test_killed_connections_are_replaced(
    pg_settings: Settings, containers: Callable[..., Container], admin: pg.Connection
) -> None:
    schema = schema_of(pg_settings)
    container = containers(pg_settings)
    init_master_keys(container, MASTER_SPECS)
    service = Service(pg_settings, container)
    pem = assert_success(service.get_certificate())["certificate"]
    packet = assert_success(service.encrypt(b"before the kill"))["data"]

    def kill_connections() -> int:
        rows = admin.run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'keymanager' AND datname = current_database()"
        )
        return sum(1 for (killed,) in rows if killed)

    stop = threading.Event()
    outcomes: list[tuple[str, int, float]] = []
    failures: list[str] = []

    def hammer(worker: int) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            for name, call in (
                ("get", lambda: service.get_certificate()),
                ("fresh", lambda: service.get_certificate(ref=f"kill-{worker}-{number}")),
                ("decrypt", lambda: service.decrypt(packet)),
                ("encrypt", lambda: service.encrypt(b"during")),
            ):
                started = time.monotonic()
                response = call()
                elapsed = time.monotonic() - started
                outcomes.append((name, response.status_code, elapsed))
                try:
                    if response.status_code == 200:
                        assert_success(response)
                    else:
                        assert_store_unavailable(response)
                except AssertionError as error:
                    failures.append(f"{name}: {error}")

    workers = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    killed = 0
    try:
        time.sleep(0.5)
        for _ in range(5):
            killed += kill_connections()
            time.sleep(0.3)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    assert killed > 0
    assert not failures, failures[:5]
    assert all(elapsed < OUTAGE_ANSWER_SECONDS for _, _, elapsed in outcomes)
    assert any(status == 200 for _, status, _ in outcomes)

    # Kill every (now idle) pooled connection: the very next requests still succeed.
    for _ in range(2):
        assert kill_connections() > 0
        assert assert_success(service.get_certificate())["certificate"] == pem
        assert b64url_decode(assert_success(service.decrypt(packet))["data"]) == b"before the kill"
        fresh = assert_success(service.encrypt(b"after the kill"))["data"]
        assert b64url_decode(assert_success(service.decrypt(fresh))["data"]) == b"after the kill"
        assert_success(service.get_certificate(ref=f"after-kill-{uuid.uuid4().hex[:6]}"))

    rows = assert_store_consistent(admin, schema)
    refs = [ref for _, app, ref, _, _ in rows if app == APP and ref]
    assert len(refs) == len(set(refs)), "a tuple got two keys"


class TcpProxy:
    """Forwards a local port to the PostgreSQL server. ``stop()`` closes the listener and
    every forwarded connection (the server is gone); ``start()`` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = list(self._connections), set()
        if listener is not None:
            listener.close()
        for connection in connections:
            self._close(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            with self._lock:
                if self._listener is not listener:
                    return
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                self._close(client)
                continue
            with self._lock:
                if self._listener is not listener:
                    self._close(client)
                    self._close(upstream)
                    return
                self._connections.update((client, upstream))
            for source, destination in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, destination), daemon=True).start()

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                destination.sendall(data)
        except OSError:
            pass
        finally:
            self._close(source)
            self._close(destination)

    def _close(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)
        try:
            connection.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv()
        except OSError:
            pass
        connection.close()


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:
    options = PostgresOptions.from_url(postgres_url)
    forwarder = TcpProxy((options.host, options.port))
    forwarder.start()
    try:
        yield forwarder
    finally:
        forwarder.stop()


def through(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}"))


def test_outage_answers_503_quickly_and_service_resumes(
    pg_settings: Settings, containers: Callable[..., Container], admin: pg.Connection, proxy: TcpProxy
) -> None:
    settings = pg_settings.with_overrides(db_url=through(pg_settings.db_url or "", proxy))
    schema = schema_of(settings)
    container = containers(settings)
    init_master_keys(container, MASTER_SPECS)
    service = Service(settings, container)

    # It works through the proxy.
    pem = assert_success(service.get_certificate())["certificate"]
    master_pem = assert_success(service.get_certificate(ref=""))["certificate"]
    packet = assert_success(service.encrypt(b"before the outage"))["data"]
    assert b64url_decode(assert_success(service.decrypt(packet))["data"]) == b"before the outage"
    assert admin.run(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'keymanager' AND datname = current_database()"
    )[0][0] > 0
    rows_before = assert_store_consistent(admin, schema)

    proxy.stop()
    calls = {
        "getCertificate": lambda: service.get_certificate(),
        "getCertificate master": lambda: service.get_certificate(ref=""),
        "getCertificate fresh": lambda: service.get_certificate(ref="during-outage"),
        "getAllCertificates": lambda: service.get_all_certificates(),
        "encrypt": lambda: service.encrypt(b"during the outage"),
        "revokeKey": lambda: service.revoke("during-outage"),
        "generateMasterKey": lambda: service.generate_master(),
    }
    for _ in range(2):
        for name, call in calls.items():
            started = time.monotonic()
            response = call()
            elapsed = time.monotonic() - started
            assert elapsed < OUTAGE_ANSWER_SECONDS, f"{name} took {elapsed:.1f}s"
            assert_store_unavailable(response)
        # decrypt may be answered from the unwrapped-key cache without the database; if not, a clean 503.
        started = time.monotonic()
        response = service.decrypt(packet)
        assert time.monotonic() - started < OUTAGE_ANSWER_SECONDS
        if response.status_code == 200:
            assert b64url_decode(assert_success(response)["data"]) == b"before the outage"
        else:
            assert_store_unavailable(response)

    proxy.start()
    # The same app, not rebuilt: the pool reconnects by itself and nothing was lost.
    assert assert_success(service.get_certificate())["certificate"] == pem
    assert assert_success(service.get_certificate(ref=""))["certificate"] == master_pem
    assert b64url_decode(assert_success(service.decrypt(packet))["data"]) == b"before the outage"
    fresh = assert_success(service.encrypt(b"after the outage"))["data"]
    assert b64url_decode(assert_success(service.decrypt(fresh))["data"]) == b"after the outage"
    made = assert_success(service.get_certificate(ref="during-outage"))["certificate"]
    rows_after = assert_store_consistent(admin, schema)
    assert [r for r in rows_after if r[2] != "during-outage"] == rows_before
    assert [r[4] for r in rows_after if r[2] == "during-outage"] == [made]


def test_outage_in_the_middle_of_requests_loses_nothing(
    pg_settings: Settings, containers: Callable[..., Container], admin: pg.Connection, proxy: TcpProxy
) -> None:
    settings = pg_settings.with_overrides(db_url=through(pg_settings.db_url or "", proxy))
    schema = schema_of(settings)
    container = containers(settings)
    init_master_keys(container, MASTER_SPECS)
    service = Service(settings, container)
    packet = assert_success(service.encrypt(b"before"))["data"]

    stop = threading.Event()
    lock = threading.Lock()
    answers: dict[str, list[tuple[int, str | None, float]]] = {}
    failures: list[str] = []

    def create_keys(worker: int) -> None:
        # A client that retries a failed request (same tuple) a little later, then moves on.
        number = 0
        while not stop.is_set():
            number += 1
            ref = f"mid-{worker}-{number}"
            while not stop.is_set():
                started = time.monotonic()
                response = service.get_certificate(ref=ref)
                elapsed = time.monotonic() - started
                try:
                    certificate = assert_success(response)["certificate"] if response.status_code == 200 else None
                    if certificate is None:
                        assert_store_unavailable(response)
                except AssertionError as error:
                    failures.append(str(error))
                    certificate = None
                with lock:
                    answers.setdefault(ref, []).append((response.status_code, certificate, elapsed))
                if response.status_code == 200:
                    break
                time.sleep(0.02)

    def successes() -> int:
        with lock:
            return sum(1 for results in answers.values() for status, _, _ in results if status == 200)

    workers = [threading.Thread(target=create_keys, args=(n,)) for n in range(3)]
    for worker in workers:
        worker.start()
    try:
        for cycle in range(2):
            deadline = time.monotonic() + 60
            target = successes() + 3
            while successes() < target:
                assert time.monotonic() < deadline, "no progress with the database up"
                time.sleep(0.05)
            proxy.stop()
            time.sleep(1.0)
            proxy.start()
        deadline = time.monotonic() + 60
        target = successes() + 3
        while successes() < target:
            assert time.monotonic() < deadline, "no progress after the database came back"
            time.sleep(0.05)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)

    assert not failures, failures[:5]
    assert all(elapsed < OUTAGE_ANSWER_SECONDS for results in answers.values() for _, _, elapsed in results)
    assert any(status == 503 for results in answers.values() for status, _, _ in results), "no request saw the outage"

    rows = assert_store_consistent(admin, schema)
    for ref, results in answers.items():
        stored = [r[4] for r in rows if r[1] == APP and r[2] == ref]
        assert len(stored) <= 1, f"{ref} has {len(stored)} keys"
        for status, certificate, _ in results:
            if status == 200:
                assert stored == [certificate], ref
        # Whatever happened, asking again now gives the tuple's one key.
        again = assert_success(service.get_certificate(ref=ref))["certificate"]
        assert stored in ([], [again])
        assert [pem for _, pem in aliases_of(admin, schema, APP, ref)] == [again]
    assert b64url_decode(assert_success(service.decrypt(packet))["data"]) == b"before"


# -- several processes ----------------------------------------------------------------------------

RACER = r"""
import json, random, sys, time
from pathlib import Path
from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from entrypoints.containers import build_container
from entrypoints.settings import Settings

ready, go, app, refs = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4:]
use_case = build_container(Settings.from_env()).get_certificate()
ready.write_text("ready")
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("no start signal")
    time.sleep(0.002)
race, others = refs[0], refs[1:]
random.shuffle(others)
out = {}
for ref in [race, *others]:
    out[ref] = use_case.execute(GetCertificateCommand(app, ref)).certificate_pem
print(json.dumps(out))
"""


@pytest.mark.parametrize("round_number", range(3))
def test_processes_racing_for_fresh_keys_agree_on_one_key_per_tuple(
    pg_settings: Settings, containers: Callable[..., Container], admin: pg.Connection, tmp_path: Path,
    round_number: int,
) -> None:
    schema = schema_of(pg_settings)
    parent = containers(pg_settings)
    init_master_keys(parent, MASTER_SPECS)
    masters_before = admin.run(f"SELECT id FROM {schema}.key_alias ORDER BY id")
    keystore_before = sorted(parent.keystore().aliases())

    tag = uuid.uuid4().hex[:6]
    refs = [f"race-{round_number}-{tag}", *(f"many-{round_number}-{tag}-{n}" for n in range(10))]
    results = run_in_lockstep(tmp_path, RACER, [[APP, *refs]] * 4, child_env(pg_settings))

    for ref in refs:
        pems = {result[ref] for result in results}
        assert len(pems) == 1, f"processes got {len(pems)} different certificates for {ref}"
        stored = aliases_of(admin, schema, APP, ref)
        assert [pem for _, pem in stored] == [pems.pop()], f"{ref} has {len(stored)} keys"
        all_rows, now_current = current_of(parent, KeyTuple(APP, ref))
        assert len(all_rows) == 1 and len(now_current) == 1
        assert certificate_pem(parent, APP, ref) == stored[0][1]
    assert_store_consistent(admin, schema)
    # Nothing else was made: no second master, no stray keystore entries.
    masters_after = admin.run(
        f"SELECT id FROM {schema}.key_alias WHERE COALESCE(ref_id, '') = '' OR ref_id = 'SIGN' ORDER BY id"
    )
    assert masters_after == masters_before
    assert sorted(parent.keystore().aliases()) == keystore_before
