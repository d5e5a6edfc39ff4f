"""One contract for every ML-KEM key repository (km_pq_key, issue 18, ADR 0023), observed through the
PqKeyRepository port of a unit of work: memory, SQLite and PostgreSQL."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.memory.key_repository import MemoryUnitOfWorkFactory
from adapters.postgres.key_repository import PostgresDatabase, PostgresOptions, PostgresUnitOfWorkFactory
from adapters.sqlite.key_repository import SqliteDatabase, SqliteUnitOfWorkFactory
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.pq_envelope import PqKey
from tests.support.required import adapter_params


def _memory(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[UnitOfWorkFactory, list[Callable[[], None]]]:
    return MemoryUnitOfWorkFactory(), []


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[UnitOfWorkFactory, list[Callable[[], None]]]:
    database = SqliteDatabase(tmp_path / "pq.sqlite3")
    database.upgrade()
    return SqliteUnitOfWorkFactory(database), []


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[UnitOfWorkFactory, list[Callable[[], None]]]:
    database = PostgresDatabase(PostgresOptions.from_url(request.getfixturevalue("postgres_schema_url")))
    database.upgrade()
    return PostgresUnitOfWorkFactory(database), [database.close]


FACTORIES = {"memory": _memory, "sqlite": _sqlite, "postgres": _postgres}


@pytest.fixture(params=adapter_params(FACTORIES))
def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    factory, closers = FACTORIES[request.param](request, tmp_path)
    yield factory
    for close in closers:
        close()


def key(rsa_alias: str = "rsa-alias-1") -> PqKey:
    public_key = os.urandom(1184)
    return PqKey(os.urandom(32).hex().upper(), rsa_alias, "master-alias", public_key, "wrapped-seed_" + "A" * 400)


def test_added_key_is_found_by_both_ways_after_commit(uow_factory) -> None:
    stored = key()
    with uow_factory() as uow:
        uow.pq.add(stored)
        assert uow.pq.by_key_id(stored.key_id) == stored  # visible inside its own unit
        uow.commit()
    with uow_factory() as uow:
        assert uow.pq.by_key_id(stored.key_id) == stored
        assert uow.pq.for_rsa_alias(stored.rsa_alias) == stored
        assert uow.pq.for_rsa_alias("another") is None
        assert uow.pq.by_key_id("0" * 64) is None


def test_rollback_leaves_nothing(uow_factory) -> None:
    stored = key()
    with uow_factory() as uow:
        uow.pq.add(stored)  # never committed
    with uow_factory() as uow:
        assert uow.pq.by_key_id(stored.key_id) is None


def test_one_key_per_rsa_key(uow_factory) -> None:
    with uow_factory() as uow:
        uow.pq.add(key("twin"))
        uow.commit()
    with pytest.raises(Exception):  # noqa: B017, PT011 - each store's own integrity error
        with uow_factory() as uow:
            uow.pq.add(key("twin"))
            uow.commit()
