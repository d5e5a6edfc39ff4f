"""One contract for every key repository / unit-of-work adapter, observed through
the ports only. An adapter joins by adding a factory to FACTORIES (memory, SQLite
and PostgreSQL today); adapter-specific checks (the SQLite and PostgreSQL
schemas) are at the bottom."""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from adapters.memory.key_repository import MemoryUnitOfWorkFactory
from adapters.postgres.key_repository import PostgresDatabase, PostgresOptions, PostgresUnitOfWorkFactory
from adapters.postgres.schema import migrations as postgres_migrations
from adapters.sqlite.key_repository import SqliteDatabase, SqliteUnitOfWorkFactory
from adapters.sqlite.schema import MIGRATIONS as SQLITE_MIGRATIONS
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.keys import DEFAULT_POLICIES, KeyAlias, KeyPolicy, KeyTuple, StoredKey
from tests.support.required import adapter_params

T0 = datetime(2025, 1, 15, 9, 30, 0, 123456, tzinfo=UTC)
APP_TUPLE = KeyTuple("REGISTRATION", "10001_110011")
MASTER_TUPLE = KeyTuple("REGISTRATION")
#: Every migration of each store, in order (a new migration needs no edit here).
SQLITE_VERSIONS = [number for number, _ in SQLITE_MIGRATIONS]
PG_VERSIONS = [number for number, _ in postgres_migrations("keymgr")]


def _memory(request: pytest.FixtureRequest, tmp_path: Path) -> UnitOfWorkFactory:
    return MemoryUnitOfWorkFactory()


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> UnitOfWorkFactory:
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    database.upgrade()
    return SqliteUnitOfWorkFactory(database)


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> UnitOfWorkFactory:
    # An upgraded database on a fresh schema of the session's throwaway database
    # (conftest: fails under CI=true, skips elsewhere, when no server is running).
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    return PostgresUnitOfWorkFactory(database)


#: name -> factory(request, tmp_path); a factory may use other fixtures through ``request``.
FACTORIES: dict[str, Callable[[pytest.FixtureRequest, Path], UnitOfWorkFactory]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "postgres": _postgres,
}


@pytest.fixture(params=adapter_params(FACTORIES))
def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> UnitOfWorkFactory:
    return FACTORIES[request.param](request, tmp_path)


_counter = iter(range(10**6))


def make_alias(
    key_tuple: KeyTuple = APP_TUPLE,
    generated_at: datetime = T0,
    days: int = 1095,
    thumbprint: str | None = None,
    alias: str | None = None,
) -> KeyAlias:
    n = next(_counter)
    return KeyAlias(
        alias=alias or f"00000000-0000-4000-8000-{n:012d}",
        key_tuple=key_tuple,
        generated_at=generated_at,
        expires_at=generated_at + timedelta(days=days),
        thumbprint=thumbprint or f"{n:064X}",
        uni_ident=f"{n:040X}",
    )


def add(uow_factory: UnitOfWorkFactory, *aliases: KeyAlias) -> None:
    with uow_factory() as uow:
        for alias in aliases:
            uow.keys.add_alias(alias)
        uow.commit()


def read(uow_factory: UnitOfWorkFactory, key_tuple: KeyTuple = APP_TUPLE) -> list[KeyAlias]:
    with uow_factory() as uow:
        return uow.keys.aliases_for(key_tuple)


# -- policies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "app, validity, pre_expire",
    [("REGISTRATION", 1095, 60), ("ROOT", 2920, 1125), ("BASE", 730, 30), ("KERNEL", 1095, 60), ("PMS", 1460, 395)],
)
def test_default_policies_are_seeded(uow_factory: UnitOfWorkFactory, app: str, validity: int, pre_expire: int) -> None:
    with uow_factory() as uow:
        policy = uow.keys.policy(app)
    assert policy == KeyPolicy(app, validity, pre_expire, access_allowed="NA", is_active=True)


def test_unknown_policy_is_none(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.keys.policy("IDA") is None
        assert uow.keys.policy("") is None


def test_save_policy_inserts_and_updates(uow_factory: UnitOfWorkFactory) -> None:
    inserted = KeyPolicy("TEST", 365, 10, access_allowed="alice,bob")
    with uow_factory() as uow:
        uow.keys.save_policy(inserted)
        uow.commit()
    with uow_factory() as uow:
        assert uow.keys.policy("TEST") == inserted

    updated = KeyPolicy("TEST", 100, 5, access_allowed=None, is_active=False)
    with uow_factory() as uow:
        uow.keys.save_policy(updated)
        uow.commit()
    with uow_factory() as uow:
        assert uow.keys.policy("TEST") == updated

    changed_default = KeyPolicy("REGISTRATION", 10, 1, access_allowed="regproc")
    with uow_factory() as uow:
        uow.keys.save_policy(changed_default)
        uow.commit()
    with uow_factory() as uow:
        assert uow.keys.policy("REGISTRATION") == changed_default


# -- key_alias -----------------------------------------------------------------------------------


def test_aliases_are_ordered_by_generation_time(uow_factory: UnitOfWorkFactory) -> None:
    late = make_alias(generated_at=T0 + timedelta(days=700))
    early = make_alias(generated_at=T0 - timedelta(days=3))
    middle = make_alias(generated_at=T0 + timedelta(microseconds=1))
    first = make_alias(generated_at=T0)
    add(uow_factory, late, early)
    add(uow_factory, middle, first)
    assert read(uow_factory) == [early, first, middle, late]


def test_empty_tuple_has_no_aliases(uow_factory: UnitOfWorkFactory) -> None:
    assert read(uow_factory, KeyTuple("NOBODY", "nothing")) == []


def test_master_ref_and_base_ref_are_separate(uow_factory: UnitOfWorkFactory) -> None:
    master = make_alias(MASTER_TUPLE)
    base = make_alias(APP_TUPLE)
    other_app = make_alias(KeyTuple("ID_REPO"))
    add(uow_factory, master, base, other_app)
    assert read(uow_factory, MASTER_TUPLE) == [master]
    assert read(uow_factory, KeyTuple("REGISTRATION", "")) == [master]
    assert read(uow_factory, APP_TUPLE) == [base]
    assert read(uow_factory, KeyTuple("REGISTRATION", "10001")) == []
    assert read(uow_factory, KeyTuple("ID_REPO")) == [other_app]


def test_all_aliases_lists_everything(uow_factory: UnitOfWorkFactory) -> None:
    rows = [make_alias(MASTER_TUPLE), make_alias(APP_TUPLE), make_alias(KeyTuple("ROOT"))]
    add(uow_factory, *rows)
    with uow_factory() as uow:
        listed = uow.keys.all_aliases()
    assert sorted(listed, key=lambda a: a.alias) == sorted(rows, key=lambda a: a.alias)


def test_aliases_with_thumbprint(uow_factory: UnitOfWorkFactory) -> None:
    shared = "AB" * 32
    one = make_alias(APP_TUPLE, thumbprint=shared)
    two = make_alias(KeyTuple("ID_REPO", "x"), thumbprint=shared)
    other = make_alias(APP_TUPLE, generated_at=T0 + timedelta(days=1))
    add(uow_factory, one, two, other)
    with uow_factory() as uow:
        found = uow.keys.aliases_with_thumbprint(shared)
        assert uow.keys.aliases_with_thumbprint(other.thumbprint) == [other]
        assert uow.keys.aliases_with_thumbprint("CD" * 32) == []
    assert sorted(found, key=lambda a: a.alias) == sorted([one, two], key=lambda a: a.alias)


def test_retired_thumbprints_still_name_their_key(uow_factory: UnitOfWorkFactory) -> None:
    old, new = "0A" * 32, "0B" * 32
    key = make_alias(APP_TUPLE, thumbprint=old)
    add(uow_factory, key)
    with uow_factory() as uow:
        uow.keys.retire_thumbprint(old, key.alias)
        uow.keys.update_alias(replace(key, thumbprint=new))
        # not committed: nothing retired
    with uow_factory() as uow:
        assert uow.keys.alias_with_retired_thumbprint(old) is None
        uow.keys.retire_thumbprint(old, key.alias)
        uow.keys.update_alias(replace(key, thumbprint=new))
        uow.commit()
    with uow_factory() as uow:
        assert uow.keys.aliases_with_thumbprint(old) == []
        assert uow.keys.alias_with_retired_thumbprint(old) == replace(key, thumbprint=new)
        assert uow.keys.alias_with_retired_thumbprint("0C" * 32) is None


def test_set_expiry(uow_factory: UnitOfWorkFactory) -> None:
    row = make_alias()
    untouched = make_alias(generated_at=T0 + timedelta(days=1))
    add(uow_factory, row, untouched)
    new_expiry = T0 + timedelta(days=2, minutes=-1, microseconds=654321)
    with uow_factory() as uow:
        uow.keys.set_expiry(row.alias, new_expiry)
        uow.commit()
    stored = read(uow_factory)
    assert stored[0].expires_at == new_expiry
    assert (stored[0].thumbprint, stored[0].uni_ident, stored[0].generated_at) == (
        row.thumbprint, row.uni_ident, row.generated_at
    )
    assert stored[1] == untouched


def test_uni_ident_exists(uow_factory: UnitOfWorkFactory) -> None:
    row = make_alias()
    with uow_factory() as uow:
        assert not uow.keys.uni_ident_exists(row.uni_ident)
    add(uow_factory, row)
    with uow_factory() as uow:
        assert uow.keys.uni_ident_exists(row.uni_ident)
        assert not uow.keys.uni_ident_exists("F" * 40)


def test_duplicate_uni_ident_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    row = make_alias()
    add(uow_factory, row)
    clash = KeyAlias("ffffffff-0000-4000-8000-000000000000", APP_TUPLE, T0 + timedelta(days=1),
                     T0 + timedelta(days=2), "EE" * 32, row.uni_ident)
    with pytest.raises(Exception):
        add(uow_factory, clash)
    assert read(uow_factory) == [row]


def test_timestamps_round_trip_as_aware_utc_with_microseconds(uow_factory: UnitOfWorkFactory) -> None:
    row = make_alias(generated_at=datetime(2025, 1, 15, 23, 59, 59, 999999, tzinfo=UTC))
    add(uow_factory, row)
    (stored,) = read(uow_factory)
    for value, original in ((stored.generated_at, row.generated_at), (stored.expires_at, row.expires_at)):
        assert value == original
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
        assert value.microsecond == 999999


def test_timestamps_in_another_zone_keep_their_instant(uow_factory: UnitOfWorkFactory) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    row = make_alias(generated_at=datetime(2025, 1, 16, 3, 0, 0, 5, tzinfo=india))
    add(uow_factory, row)
    (stored,) = read(uow_factory)
    assert stored.generated_at == datetime(2025, 1, 15, 21, 30, 0, 5, tzinfo=UTC)
    assert stored.expires_at == row.expires_at


# -- key_store -----------------------------------------------------------------------------------


def test_stored_key_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    wrapped = StoredKey("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
                        "x" * 2000, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    other_domain = StoredKey("33333333-3333-4333-8333-333333333333", "33333333-3333-4333-8333-333333333333",
                             "NA", "pem")
    with uow_factory() as uow:
        assert uow.keys.stored_key(wrapped.alias) is None
        uow.keys.add_stored_key(wrapped)
        uow.keys.add_stored_key(other_domain)
        uow.commit()
    with uow_factory() as uow:
        assert uow.keys.stored_key(wrapped.alias) == wrapped
        assert uow.keys.stored_key(other_domain.alias) == other_domain
        assert uow.keys.stored_key(other_domain.alias).is_other_domain
        assert uow.keys.stored_key("44444444-4444-4444-8444-444444444444") is None


# -- units of work -------------------------------------------------------------------------------


def test_writes_are_visible_inside_the_unit_before_commit(uow_factory: UnitOfWorkFactory) -> None:
    row = make_alias()
    with uow_factory() as uow:
        uow.keys.add_alias(row)
        assert uow.keys.aliases_for(APP_TUPLE) == [row]
        assert uow.keys.uni_ident_exists(row.uni_ident)
        uow.commit()


def test_a_unit_exited_without_commit_leaves_nothing(uow_factory: UnitOfWorkFactory) -> None:
    existing = make_alias(generated_at=T0 - timedelta(days=1))
    add(uow_factory, existing)
    row = make_alias()
    stored = StoredKey(row.alias, "master", "wrapped", "pem")
    with uow_factory() as uow:
        uow.keys.add_alias(row)
        uow.keys.add_stored_key(stored)
        uow.keys.save_policy(KeyPolicy("UNCOMMITTED", 1, 0))
        uow.keys.save_policy(KeyPolicy("REGISTRATION", 1, 0))
        uow.keys.set_expiry(existing.alias, T0)
    with uow_factory() as uow:
        assert uow.keys.aliases_for(APP_TUPLE) == [existing]
        assert not uow.keys.uni_ident_exists(row.uni_ident)
        assert uow.keys.stored_key(row.alias) is None
        assert uow.keys.policy("UNCOMMITTED") is None
        assert uow.keys.policy("REGISTRATION") == KeyPolicy("REGISTRATION", 1095, 60)


def test_a_unit_left_by_an_exception_leaves_nothing(uow_factory: UnitOfWorkFactory) -> None:
    row = make_alias()
    with pytest.raises(RuntimeError):
        with uow_factory() as uow:
            uow.lock(APP_TUPLE)
            uow.keys.add_alias(row)
            uow.keys.add_stored_key(StoredKey(row.alias, "master", "wrapped", "pem"))
            raise RuntimeError("key generation failed")
    assert read(uow_factory) == []
    with uow_factory() as uow:
        assert uow.keys.stored_key(row.alias) is None


def test_commit_makes_writes_visible_to_a_new_unit(uow_factory: UnitOfWorkFactory) -> None:
    row = make_alias()
    stored = StoredKey(row.alias, "master", "wrapped", "pem")
    with uow_factory() as uow:
        uow.lock(APP_TUPLE)
        uow.keys.add_alias(row)
        uow.keys.add_stored_key(stored)
        uow.commit()
    with uow_factory() as uow:
        assert uow.keys.aliases_for(APP_TUPLE) == [row]
        assert uow.keys.stored_key(row.alias) == stored


def test_a_unit_can_be_used_again_after_commit(uow_factory: UnitOfWorkFactory) -> None:
    first, second = make_alias(), make_alias(generated_at=T0 + timedelta(days=1))
    uow = uow_factory()
    with uow:
        uow.keys.add_alias(first)
        uow.commit()
    with uow:
        uow.keys.add_alias(second)
        uow.commit()
    assert read(uow_factory) == [first, second]


def test_lock_serialises_check_then_create(uow_factory: UnitOfWorkFactory) -> None:
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def create_if_none() -> None:
        try:
            start.wait(timeout=10)
            with uow_factory() as uow:
                uow.lock(APP_TUPLE)
                count = len(uow.keys.aliases_for(APP_TUPLE))
                time.sleep(0.2)  # widen the window between check and create
                if count == 0:
                    uow.keys.add_alias(make_alias())
                uow.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=create_if_none) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(read(uow_factory)) == 1


def test_lock_is_released_when_the_unit_ends(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.lock(APP_TUPLE)
    done = threading.Event()

    def lock_again() -> None:
        with uow_factory() as other:
            other.lock(APP_TUPLE)
            other.keys.add_alias(make_alias())
            other.commit()
        done.set()

    thread = threading.Thread(target=lock_again)
    thread.start()
    thread.join(timeout=10)
    assert done.is_set()
    assert len(read(uow_factory)) == 1


# -- SQLite only: the reference's schema (expectations shared with PostgreSQL below) -----------------------

REFERENCE_COLUMNS = {
    "key_alias": {
        "id", "app_id", "ref_id", "key_gen_dtimes", "key_expire_dtimes", "status_code", "lang_code", "cr_by",
        "cr_dtimes", "upd_by", "upd_dtimes", "is_deleted", "del_dtimes", "cert_thumbprint", "uni_ident",
    },
    "key_store": {
        "id", "master_key", "private_key", "certificate_data", "cr_by", "cr_dtimes", "upd_by", "upd_dtimes",
        "is_deleted", "del_dtimes",
    },
    "key_policy_def": {
        "app_id", "key_validity_duration", "is_active", "pre_expire_days", "access_allowed", "cr_by", "cr_dtimes",
        "upd_by", "upd_dtimes", "is_deleted", "del_dtimes",
    },
    "data_encrypt_keystore": {"id", "key", "key_status", "cr_by", "cr_dtimes", "upd_by", "upd_dtimes"},
    "ca_cert_store": {
        "cert_id", "cert_subject", "cert_issuer", "issuer_id", "cert_not_before", "cert_not_after", "crl_uri",
        "cert_data", "cert_thumbprint", "cert_serial_no", "partner_domain", "cr_by", "cr_dtimes", "upd_by",
        "upd_dtimes", "is_deleted", "del_dtimes", "ca_cert_type",
    },
    "partner_cert_store": {
        "cert_id", "cert_subject", "cert_issuer", "issuer_id", "cert_not_before", "cert_not_after",
        "partner_domain", "cert_data", "signed_cert_data", "key_usage", "organization_name", "cert_thumbprint",
        "cert_serial_no", "cr_by", "cr_dtimes", "upd_by", "upd_dtimes", "is_deleted", "del_dtimes",
    },
    # The licence key tables (LicenseKeyController)
    "licensekey_list": {
        "license_key", "created_dtime", "expiry_dtime", "is_active", "cr_by", "cr_dtimes", "upd_by", "upd_dtimes",
        "is_deleted", "del_dtimes",
    },
    "licensekey_permission": {
        "license_key", "permission", "is_active", "cr_by", "cr_dtimes", "upd_by", "upd_dtimes", "is_deleted",
        "del_dtimes",
    },
    "tsp_licensekey_map": {
        "tsp_id", "license_key", "is_active", "cr_by", "cr_dtimes", "upd_by", "upd_dtimes", "is_deleted",
        "del_dtimes",
    },
}
PRIMARY_KEYS = {
    "key_alias": ["id"], "key_store": ["id"], "key_policy_def": ["app_id"], "data_encrypt_keystore": ["id"],
    "ca_cert_store": ["cert_id"], "partner_cert_store": ["cert_id"],
    "licensekey_list": ["license_key"], "licensekey_permission": ["license_key"],
    "tsp_licensekey_map": ["tsp_id", "license_key"],
}
NOT_NULL = {
    "key_alias": {"id", "app_id", "cr_by", "cr_dtimes"},
    "key_store": {"id", "master_key", "private_key", "certificate_data", "cr_by", "cr_dtimes"},
    "key_policy_def": {"app_id", "is_active", "cr_by", "cr_dtimes"},
    "licensekey_list": {"license_key", "is_active", "cr_by", "cr_dtimes"},
    "licensekey_permission": {"license_key", "is_active", "cr_by", "cr_dtimes"},
    "tsp_licensekey_map": {"tsp_id", "license_key", "is_active", "cr_by", "cr_dtimes"},
}


@pytest.fixture
def sqlite_database(tmp_path: Path) -> SqliteDatabase:
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    database.upgrade()
    return database


def _columns(connection: sqlite3.Connection, table: str) -> dict[str, tuple]:
    return {row[1]: row for row in connection.execute(f"PRAGMA table_info({table})")}


def _unique_column_sets(connection: sqlite3.Connection, table: str) -> list[list[str]]:
    result = []
    for index in connection.execute(f"PRAGMA index_list({table})"):
        if index[2]:  # unique
            result.append([row[2] for row in connection.execute(f"PRAGMA index_info('{index[1]}')")])
    return result


@pytest.mark.parametrize("table", list(REFERENCE_COLUMNS))
def test_sqlite_schema_has_the_reference_tables_and_columns(sqlite_database: SqliteDatabase, table: str) -> None:
    connection = sqlite3.connect(sqlite_database.path)
    try:
        columns = _columns(connection, table)
        assert REFERENCE_COLUMNS[table] <= set(columns), REFERENCE_COLUMNS[table] - set(columns)
        primary = [name for name, row in sorted(columns.items(), key=lambda item: item[1][5]) if row[5]]
        assert primary == PRIMARY_KEYS[table]
        for name in NOT_NULL.get(table, ()):
            assert columns[name][3] == 1 or columns[name][5], f"{table}.{name} should be NOT NULL"
    finally:
        connection.close()


def test_sqlite_schema_unique_constraints(sqlite_database: SqliteDatabase) -> None:
    connection = sqlite3.connect(sqlite_database.path)
    try:
        assert ["uni_ident"] in _unique_column_sets(connection, "key_alias")
        assert ["cert_thumbprint", "partner_domain"] in _unique_column_sets(connection, "ca_cert_store")
        insert = (
            "INSERT INTO key_alias (id, app_id, ref_id, cr_by, cr_dtimes, uni_ident)"
            " VALUES (?, 'APP', '', 'SYSTEM', '2025-01-15 00:00:00.000000', 'SAME')"
        )
        connection.execute(insert, ("a1",))
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute(insert, ("a2",))
    finally:
        connection.rollback()
        connection.close()


def test_sqlite_master_ref_is_stored_as_empty_string_not_null(sqlite_database: SqliteDatabase) -> None:
    factory = SqliteUnitOfWorkFactory(sqlite_database)
    add(factory, make_alias(MASTER_TUPLE, alias="55555555-5555-4555-8555-555555555555"))
    connection = sqlite3.connect(sqlite_database.path)
    try:
        row = connection.execute(
            "SELECT ref_id, cr_by, is_deleted FROM key_alias WHERE id = '55555555-5555-4555-8555-555555555555'"
        ).fetchone()
    finally:
        connection.close()
    assert row == ("", "SYSTEM", 0)


def test_sqlite_upgrade_is_idempotent(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "fresh.sqlite3")
    assert database.upgrade() == SQLITE_VERSIONS
    assert database.upgrade() == []
    assert database.schema_version() == SQLITE_VERSIONS[-1]
    again = SqliteDatabase(tmp_path / "fresh.sqlite3")
    assert again.upgrade() == []
    with SqliteUnitOfWorkFactory(again)() as uow:
        assert uow.keys.policy("BASE") == KeyPolicy("BASE", 730, 30)


# -- PostgreSQL only: the reference's schema -----------------------------------------------------


def _pg(database: PostgresDatabase, sql: str, **params: object) -> list[tuple]:
    """A read on the database's own pool (the test's schema, in the throwaway database)."""
    with PostgresUnitOfWorkFactory(database)() as unit:
        return unit.query(sql, dict(params))


def _pg_columns(database: PostgresDatabase, table: str) -> dict[str, str]:
    """column name -> is_nullable ('YES' / 'NO') of a table in the database's schema."""
    rows = _pg(
        database,
        "SELECT column_name, is_nullable FROM information_schema.columns"
        " WHERE table_schema = :schema AND table_name = :table",
        schema=database.schema, table=table,
    )
    return {name: nullable for name, nullable in rows}


def _pg_constraint_columns(database: PostgresDatabase, table: str, kind: str) -> list[list[str]]:
    """Column lists (in key order) of the table's constraints of one kind ('p' primary, 'u' unique)."""
    rows = _pg(
        database,
        "SELECT c.conname, a.attname, k.ord FROM pg_constraint c"
        " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum"
        " WHERE n.nspname = :schema AND t.relname = :table AND c.contype = :kind ORDER BY c.conname, k.ord",
        schema=database.schema, table=table, kind=kind,
    )
    constraints: dict[str, list[str]] = {}
    for name, column, _ in rows:
        constraints.setdefault(name, []).append(column)
    return list(constraints.values())


def test_postgres_options_default_to_the_keymgr_schema(postgres_url: str) -> None:
    assert PostgresOptions.from_url(postgres_url).schema == "keymgr"
    assert PostgresOptions.from_url(postgres_url + "?schema=other_1").schema == "other_1"


def test_postgres_tables_live_in_the_configured_schema(postgres_database: PostgresDatabase) -> None:
    tables = {
        row[0]
        for row in _pg(
            postgres_database,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema",
            schema=postgres_database.schema,
        )
    }
    assert set(REFERENCE_COLUMNS) | {"km_schema_version"} <= tables
    public = _pg(
        postgres_database,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'key_alias'",
    )
    assert public == [(0,)]


@pytest.mark.parametrize("table", list(REFERENCE_COLUMNS))
def test_postgres_schema_has_the_reference_tables_and_columns(
    postgres_database: PostgresDatabase, table: str
) -> None:
    columns = _pg_columns(postgres_database, table)
    assert REFERENCE_COLUMNS[table] <= set(columns), REFERENCE_COLUMNS[table] - set(columns)
    assert _pg_constraint_columns(postgres_database, table, "p") == [PRIMARY_KEYS[table]]
    for name in NOT_NULL.get(table, ()):
        assert columns[name] == "NO", f"{table}.{name} should be NOT NULL"


def test_postgres_schema_unique_constraints(postgres_database: PostgresDatabase) -> None:
    assert ["uni_ident"] in _pg_constraint_columns(postgres_database, "key_alias", "u")
    assert ["cert_thumbprint", "partner_domain"] in _pg_constraint_columns(postgres_database, "ca_cert_store", "u")


def test_postgres_master_ref_is_stored_as_empty_string_not_null(postgres_database: PostgresDatabase) -> None:
    factory = PostgresUnitOfWorkFactory(postgres_database)
    add(factory, make_alias(MASTER_TUPLE, alias="55555555-5555-4555-8555-555555555555"))
    rows = _pg(
        postgres_database,
        f"SELECT ref_id, cr_by, is_deleted FROM {postgres_database.schema}.key_alias WHERE id = :id",
        id="55555555-5555-4555-8555-555555555555",
    )
    assert rows == [("", "SYSTEM", False)]


def test_postgres_upgrade_is_idempotent_and_records_its_version(postgres_schema_url: str) -> None:
    database = PostgresDatabase(PostgresOptions.from_url(postgres_schema_url))
    again = PostgresDatabase(PostgresOptions.from_url(postgres_schema_url))
    try:
        assert database.schema_version() == 0
        assert database.upgrade() == PG_VERSIONS
        assert database.upgrade() == []
        assert database.schema_version() == PG_VERSIONS[-1]
        assert again.upgrade() == []
        assert again.schema_version() == PG_VERSIONS[-1]
        versions = _pg(database, f"SELECT version, applied_dtimes FROM {database.schema}.km_schema_version")
        assert [version for version, _ in versions] == PG_VERSIONS
        assert versions[0][1] is not None
        # Seeding ran once: one row per default policy, nothing duplicated by the second upgrade.
        count = len(DEFAULT_POLICIES)
        assert _pg(database, f"SELECT count(*), count(DISTINCT app_id) FROM {database.schema}.key_policy_def") == [
            (count, count)
        ]
        with PostgresUnitOfWorkFactory(again)() as uow:
            assert uow.keys.policy("BASE") == KeyPolicy("BASE", 730, 30)
    finally:
        database.close()
        again.close()


def test_postgres_concurrent_upgrades_migrate_once(postgres_schema_url: str) -> None:
    databases = [PostgresDatabase(PostgresOptions.from_url(postgres_schema_url)) for _ in range(4)]
    start = threading.Barrier(len(databases))
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def upgrade(database: PostgresDatabase) -> None:
        try:
            start.wait(timeout=10)
            results.append(database.upgrade())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=upgrade, args=(database,)) for database in databases]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors
        assert sorted(results) == [[], [], [], PG_VERSIONS]
        assert _pg(databases[0], f"SELECT version FROM {databases[0].schema}.km_schema_version ORDER BY version") == [
            (version,) for version in PG_VERSIONS
        ]
    finally:
        for database in databases:
            database.close()


# -- admin console (issue 17) --


def test_policies_lists_every_row_by_app_id(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.keys.save_policy(KeyPolicy("AAA_CONSOLE", 400, 40, access_allowed="alice"))
        uow.commit()
    with uow_factory() as uow:
        listed = uow.keys.policies()
    names = [policy.app_id for policy in listed]
    assert names == sorted(names)
    assert KeyPolicy("AAA_CONSOLE", 400, 40, access_allowed="alice") in listed
    assert KeyPolicy("ROOT", 2920, 1125, access_allowed="NA") in listed
