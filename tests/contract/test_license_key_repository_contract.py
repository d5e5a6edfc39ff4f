"""One contract for every licence key repository (licensekey_list, tsp_licensekey_map,
licensekey_permission), observed through the LicenseKeyRepository port of a unit of work: memory,
SQLite and PostgreSQL. At the bottom, the SQL stores against rows as the reference writes them."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.memory.key_repository import MemoryUnitOfWorkFactory
from adapters.postgres.key_repository import PostgresDatabase, PostgresOptions, PostgresUnitOfWorkFactory
from adapters.sqlite.key_repository import SqliteDatabase, SqliteUnitOfWorkFactory
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.license_keys import LicenseKey
from tests.support.required import adapter_params

T0 = datetime(2025, 1, 15, 9, 30, 0, 123000, tzinfo=UTC)
TSP = "mpartner-default-auth"


@dataclass
class Backend:
    name: str
    factory: UnitOfWorkFactory
    #: runs SQL on the store's own tables (table names unqualified; None for memory)
    sql: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]] | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)


def _memory(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return Backend("memory", MemoryUnitOfWorkFactory())


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    database = SqliteDatabase(tmp_path / "licences.sqlite3")
    database.upgrade()

    def sql(statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        connection = sqlite3.connect(database.path, isolation_level=None)
        try:
            return connection.execute(statement, params).fetchall()
        finally:
            connection.close()

    return Backend("sqlite", SqliteUnitOfWorkFactory(database), sql)


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    url = request.getfixturevalue("postgres_schema_url")
    database = PostgresDatabase(PostgresOptions.from_url(url))
    database.upgrade()
    schema = database.schema

    def sql(statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        qualified = statement
        for table in ("licensekey_list", "licensekey_permission", "tsp_licensekey_map"):
            qualified = qualified.replace(f" {table}", f" {schema}.{table}")
        with PostgresUnitOfWorkFactory(database)() as unit:
            rows = unit.query(qualified, params)
            unit.commit()
            return rows

    return Backend("postgres", PostgresUnitOfWorkFactory(database), sql, [database.close])


FACTORIES: dict[str, Callable[[pytest.FixtureRequest, Path], Backend]] = {
    "memory": _memory, "sqlite": _sqlite, "postgres": _postgres,
}


@pytest.fixture(params=adapter_params(FACTORIES))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    built = FACTORIES[request.param](request, tmp_path)
    yield built
    for close in built.closers:
        close()


@pytest.fixture(params=adapter_params(["sqlite", "postgres"]))
def sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    built = FACTORIES[request.param](request, tmp_path)
    yield built
    for close in built.closers:
        close()


def add(factory: UnitOfWorkFactory, key: str, expires: datetime | None, tsp: str = TSP) -> None:
    with factory() as uow:
        uow.licenses.add_license(LicenseKey(key, expires, created_at=T0))
        uow.licenses.map_to_tsp(tsp, key, T0)
        uow.commit()


# -- the contract ---------------------------------------------------------------------------------


def test_a_licence_and_its_mapping_are_read_back(backend: Backend) -> None:
    add(backend.factory, "KEY0000000000001", T0 + timedelta(days=30))
    with backend.factory() as uow:
        assert uow.licenses.license("KEY0000000000001") == LicenseKey(
            "KEY0000000000001", T0 + timedelta(days=30), T0, True
        )
        assert uow.licenses.exists("KEY0000000000001")
        assert uow.licenses.is_mapped(TSP, "KEY0000000000001")
        assert not uow.licenses.is_mapped("other", "KEY0000000000001")
        assert not uow.licenses.is_mapped(TSP, "key0000000000001")  # keys are case-sensitive
        assert uow.licenses.license("unknown") is None and not uow.licenses.exists("unknown")
        assert uow.licenses.permissions("KEY0000000000001") is None


def test_one_licence_may_be_mapped_to_several_tsps(backend: Backend) -> None:
    add(backend.factory, "KEY0000000000002", T0, tsp="A")
    with backend.factory() as uow:
        uow.licenses.map_to_tsp("B", "KEY0000000000002", T0)
        uow.commit()
    with backend.factory() as uow:
        assert uow.licenses.is_mapped("A", "KEY0000000000002") and uow.licenses.is_mapped("B", "KEY0000000000002")


def test_nothing_is_kept_without_commit(backend: Backend) -> None:
    with backend.factory() as uow:
        uow.licenses.add_license(LicenseKey("KEY0000000000003", T0, created_at=T0))
        uow.licenses.map_to_tsp(TSP, "KEY0000000000003", T0)
        assert uow.licenses.exists("KEY0000000000003")  # the unit sees its own writes
        assert uow.licenses.is_mapped(TSP, "KEY0000000000003")
    with backend.factory() as uow:
        assert not uow.licenses.exists("KEY0000000000003")
        assert not uow.licenses.is_mapped(TSP, "KEY0000000000003")


def test_permissions_are_inserted_then_replaced(backend: Backend) -> None:
    add(backend.factory, "KEY0000000000004", T0)
    with backend.factory() as uow:
        uow.licenses.save_permissions("KEY0000000000004", "A,B", T0)
        uow.commit()
    with backend.factory() as uow:
        assert uow.licenses.permissions("KEY0000000000004") == "A,B"
        uow.licenses.save_permissions("KEY0000000000004", "C,A,B", T0 + timedelta(hours=1))
        assert uow.licenses.permissions("KEY0000000000004") == "C,A,B"
    with backend.factory() as uow:  # rolled back
        assert uow.licenses.permissions("KEY0000000000004") == "A,B"
        uow.licenses.save_permissions("KEY0000000000004", "C,A,B", T0 + timedelta(hours=1))
        uow.commit()
    with backend.factory() as uow:
        assert uow.licenses.permissions("KEY0000000000004") == "C,A,B"


def test_a_duplicate_licence_is_refused(backend: Backend) -> None:
    add(backend.factory, "KEY0000000000005", T0)
    with pytest.raises(Exception), backend.factory() as uow:  # noqa: B017 - each store's own error
        uow.licenses.add_license(LicenseKey("KEY0000000000005", T0, created_at=T0))
        uow.commit()


# -- the SQL stores: the reference's rows ---------------------------------------------------------


def test_rows_are_written_as_the_reference_writes_them(sql_backend: Backend) -> None:
    assert sql_backend.sql is not None
    add(sql_backend.factory, "KEY0000000000006", T0 + timedelta(days=1))
    with sql_backend.factory() as uow:
        uow.licenses.save_permissions("KEY0000000000006", "A", T0)
        uow.commit()
    with sql_backend.factory() as uow:
        uow.licenses.save_permissions("KEY0000000000006", "B,A", T0 + timedelta(minutes=5))
        uow.commit()
    listed = sql_backend.sql(
        "SELECT is_active, cr_by, is_deleted, upd_by FROM licensekey_list WHERE license_key = :k",
        {"k": "KEY0000000000006"},
    )
    assert [tuple(bool(v) if i in (0, 2) else v for i, v in enumerate(row)) for row in listed] == [
        (True, "defaultadmin@mosip.io", False, None)
    ]
    mapped = sql_backend.sql(
        "SELECT tsp_id, is_active, cr_by FROM tsp_licensekey_map WHERE license_key = :k", {"k": "KEY0000000000006"}
    )
    assert [(tsp, bool(active), by) for tsp, active, by in mapped] == [(TSP, True, "SYSTEM")]
    granted = sql_backend.sql(
        "SELECT permission, is_active, cr_by, upd_by FROM licensekey_permission WHERE license_key = :k",
        {"k": "KEY0000000000006"},
    )
    assert [(p, bool(a), c, u) for p, a, c, u in granted] == [
        ("B,A", True, "defaultadmin@mosip.io", "defaultadmin@mosip.io")
    ]


def test_rows_written_by_the_reference_are_read(sql_backend: Backend) -> None:
    """As the reference's LicenseKeyManagerServiceImpl leaves them (an operator's existing database)."""
    assert sql_backend.sql is not None
    sql_backend.sql(
        "INSERT INTO licensekey_list (license_key, created_dtime, expiry_dtime, is_active, cr_by, cr_dtimes)"
        " VALUES ('RefLicense000001', '2024-03-01 10:00:00.123', '2031-03-01 00:00:00', TRUE,"
        " 'defaultadmin@mosip.io', '2024-03-01 10:00:00.123')", {},
    )
    sql_backend.sql(
        "INSERT INTO tsp_licensekey_map (tsp_id, license_key, is_active, cr_by, cr_dtimes)"
        " VALUES ('TSP-REF', 'RefLicense000001', TRUE, 'SYSTEM', '2024-03-01 10:00:00.123')", {},
    )
    sql_backend.sql(
        "INSERT INTO licensekey_permission (license_key, permission, is_active, cr_by, cr_dtimes, upd_by,"
        " upd_dtimes) VALUES ('RefLicense000001', 'OTP Trigger,eKYC - Full', TRUE, 'defaultadmin@mosip.io',"
        " '2024-03-01 10:05:00', 'defaultadmin@mosip.io', '2024-03-02 08:00:00')", {},
    )
    # A hand-written row without an expiry, and one whose permission is NULL
    sql_backend.sql(
        "INSERT INTO licensekey_list (license_key, is_active, cr_by, cr_dtimes)"
        " VALUES ('RefLicense000002', FALSE, 'someone', '2024-03-01 10:00:00')", {},
    )
    sql_backend.sql(
        "INSERT INTO licensekey_permission (license_key, is_active, cr_by, cr_dtimes)"
        " VALUES ('RefLicense000002', TRUE, 'someone', '2024-03-01 10:00:00')", {},
    )
    with sql_backend.factory() as uow:
        assert uow.licenses.license("RefLicense000001") == LicenseKey(
            "RefLicense000001", datetime(2031, 3, 1, tzinfo=UTC), datetime(2024, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
        )
        assert uow.licenses.is_mapped("TSP-REF", "RefLicense000001")
        assert uow.licenses.permissions("RefLicense000001") == "OTP Trigger,eKYC - Full"
        assert uow.licenses.license("RefLicense000002") == LicenseKey("RefLicense000002", None, None, False)
        assert uow.licenses.permissions("RefLicense000002") is None


@pytest.mark.postgres
def test_the_upgrade_keeps_a_reference_databases_licence_tables(request: pytest.FixtureRequest) -> None:
    """The tables, constraints and a row as db_scripts/mosip_keymgr (ddl + keymgr-fk.sql) leave them:
    the migration creates nothing twice and the service reads the row."""
    url = request.getfixturevalue("postgres_schema_url")
    database = PostgresDatabase(PostgresOptions.from_url(url))
    s = database.schema
    audit = ("cr_by character varying(256) NOT NULL, cr_dtimes timestamp NOT NULL, upd_by character varying(256),"
             " upd_dtimes timestamp, is_deleted boolean DEFAULT FALSE, del_dtimes timestamp")
    statements = [
        f"CREATE SCHEMA {s}",
        f"CREATE TABLE {s}.licensekey_list (license_key character varying(255) NOT NULL, created_dtime timestamp,"
        f" expiry_dtime timestamp, is_active boolean NOT NULL, {audit},"
        " CONSTRAINT pk_lkeylst PRIMARY KEY (license_key))",
        f"CREATE TABLE {s}.licensekey_permission (license_key character varying(255) NOT NULL,"
        f" permission character varying(512), is_active boolean NOT NULL, {audit},"
        " CONSTRAINT pk_lkeyper PRIMARY KEY (license_key))",
        f"CREATE TABLE {s}.tsp_licensekey_map (tsp_id character varying(36) NOT NULL,"
        f" license_key character varying(255) NOT NULL, is_active boolean NOT NULL, {audit},"
        " CONSTRAINT pk_tsplkeym PRIMARY KEY (tsp_id, license_key))",
        f"ALTER TABLE {s}.tsp_licensekey_map ADD CONSTRAINT fk_tsplkeym FOREIGN KEY (license_key)"
        f" REFERENCES {s}.licensekey_list (license_key) MATCH SIMPLE ON DELETE NO ACTION ON UPDATE NO ACTION",
        f"ALTER TABLE {s}.licensekey_permission ADD CONSTRAINT fk_lkeyper FOREIGN KEY (license_key)"
        f" REFERENCES {s}.licensekey_list (license_key) MATCH SIMPLE ON DELETE NO ACTION ON UPDATE NO ACTION",
        f"INSERT INTO {s}.licensekey_list (license_key, created_dtime, expiry_dtime, is_active, cr_by, cr_dtimes)"
        " VALUES ('OldLicense000001', '2023-01-01 00:00:00', '2033-01-01 00:00:00', TRUE, 'defaultadmin@mosip.io',"
        " '2023-01-01 00:00:00')",
        f"INSERT INTO {s}.tsp_licensekey_map (tsp_id, license_key, is_active, cr_by, cr_dtimes)"
        " VALUES ('TSP-OLD', 'OldLicense000001', TRUE, 'SYSTEM', '2023-01-01 00:00:00')",
    ]
    try:
        with PostgresUnitOfWorkFactory(database)() as unit:
            for statement in statements:
                unit.write(statement, {})
            unit.commit()
        assert database.upgrade()[-1] >= 6
        with PostgresUnitOfWorkFactory(database)() as uow:
            assert uow.licenses.is_mapped("TSP-OLD", "OldLicense000001")
            assert uow.licenses.license("OldLicense000001") == LicenseKey(
                "OldLicense000001", datetime(2033, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC)
            )
            foreign_keys = uow.query(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' AND connamespace = :ns::regnamespace"
                " ORDER BY conname", {"ns": s},
            )
        assert [name for (name,) in foreign_keys] == ["fk_lkeyper", "fk_tsplkeym"]  # not added twice
    finally:
        database.close()


@pytest.mark.postgres
def test_a_fresh_database_gets_the_references_foreign_keys(request: pytest.FixtureRequest) -> None:
    database = PostgresDatabase(PostgresOptions.from_url(request.getfixturevalue("postgres_schema_url")))
    try:
        database.upgrade()
        with PostgresUnitOfWorkFactory(database)() as uow:
            rows = uow.query(
                "SELECT conname, conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
                " WHERE contype = 'f' AND connamespace = :ns::regnamespace ORDER BY conname", {"ns": database.schema},
            )
            # a permission or mapping of an unknown licence is refused by the database itself
            with pytest.raises(Exception):  # noqa: B017 - pg8000's DatabaseError
                uow.licenses.map_to_tsp("TSP", "NoSuchLicence000", T0)
        s = database.schema
        assert [tuple(row) for row in rows] == [
            ("fk_lkeyper", f"{s}.licensekey_permission", f"{s}.licensekey_list"),
            ("fk_tsplkeym", f"{s}.tsp_licensekey_map", f"{s}.licensekey_list"),
        ]
    finally:
        database.close()
