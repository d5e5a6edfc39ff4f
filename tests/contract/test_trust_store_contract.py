"""One contract for every partner trust store (ca_cert_store / partner_cert_store), observed
through the TrustStoreRepository port of a unit of work. A store joins by adding a factory
to FACTORIES (memory, SQLite and PostgreSQL today), as in test_key_repository_contract.

The listing (search_ca) is checked against hand-computed id lists over a fixed data set,
and the three stores are also compared with one another directly.
"""
from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from adapters.memory.key_repository import MemoryUnitOfWorkFactory
from adapters.postgres.key_repository import PostgresDatabase, PostgresOptions, PostgresUnitOfWorkFactory
from adapters.sqlite.key_repository import SqliteDatabase, SqliteUnitOfWorkFactory
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.partner_trust import (
    INTERMEDIATE_CA,
    ROOT_CA,
    SORT_FIELDS,
    CaCertificatePage,
    CaCertificateQuery,
    CaCertificateRecord,
    PartnerCertificateRecord,
)
from tests.support.required import adapter_params

UTC = UTC


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- backends ------------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    factory: UnitOfWorkFactory
    #: a factory over a second database object on the same store (another connection / pool,
    #: as another process would have); the memory store has only the one.
    second: Callable[[], UnitOfWorkFactory]
    closers: list[Callable[[], None]] = field(default_factory=list)


def _memory(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    factory = MemoryUnitOfWorkFactory()
    return Backend("memory", factory, lambda: factory)


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    path = tmp_path / "trust.sqlite3"
    database = SqliteDatabase(path)
    database.upgrade()
    return Backend("sqlite", SqliteUnitOfWorkFactory(database), lambda: SqliteUnitOfWorkFactory(SqliteDatabase(path)))


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    # A fresh schema of the session's throwaway database (conftest: fails under CI=true,
    # skips elsewhere, when no server is running).
    url = request.getfixturevalue("postgres_schema_url")
    database = PostgresDatabase(PostgresOptions.from_url(url))
    database.upgrade()
    backend = Backend("postgres", PostgresUnitOfWorkFactory(database), lambda: None)  # type: ignore[arg-type]
    backend.closers.append(database.close)

    def second() -> UnitOfWorkFactory:
        other = PostgresDatabase(PostgresOptions.from_url(url))
        backend.closers.append(other.close)
        return PostgresUnitOfWorkFactory(other)

    backend.second = second
    return backend


#: name -> factory(request, tmp_path); a factory may use other fixtures through ``request``.
FACTORIES: dict[str, Callable[[pytest.FixtureRequest, Path], Backend]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "postgres": _postgres,
}


def _open(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    backend = FACTORIES[name](request, tmp_path / name)
    request.addfinalizer(lambda: [close() for close in backend.closers])
    return backend


@pytest.fixture(params=adapter_params(FACTORIES))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return _open(request.param, request, tmp_path)


@pytest.fixture
def uow_factory(backend: Backend) -> UnitOfWorkFactory:
    return backend.factory


# -- records -------------------------------------------------------------------------------------

_counter = itertools.count(1)


def make_ca(
    cert_id: str | None = None,
    *,
    domain: str = "AUTH",
    thumbprint: str | None = None,
    created_at: datetime | None = None,
    **changes: Any,
) -> CaCertificateRecord:
    n = next(_counter)
    cert_id = cert_id or f"00000000-0000-4000-8000-{n:012d}"
    record = CaCertificateRecord(
        cert_id=cert_id,
        subject=f"CN=CA {n},O=MOSIP,C=IN",
        issuer=f"CN=CA {n},O=MOSIP,C=IN",
        issuer_id=cert_id,
        not_before=utc(2024, 1, 1, 0, 0, 0),
        not_after=utc(2034, 1, 1, 0, 0, 0),
        certificate_pem=f"-----BEGIN CERTIFICATE-----\nDUMMY{n}\n-----END CERTIFICATE-----\n",
        # "ca" + the counter: never one of ROWS' thumbprints, whichever tests ran before in this process
        thumbprint=thumbprint or f"ca{n:038x}",
        serial_number=str(1000 + n),
        domain=domain,
        ca_type=ROOT_CA,
        created_at=created_at or utc(2025, 1, 15, 9, 30) + timedelta(seconds=n),
        crl_uri=None,
    )
    return replace(record, **changes)


def make_partner(cert_id: str | None = None, **changes: Any) -> PartnerCertificateRecord:
    n = next(_counter)
    record = PartnerCertificateRecord(
        cert_id=cert_id or f"10000000-0000-4000-8000-{n:012d}",
        subject="CN=Partner,O=Partner Org,C=IN",
        issuer="CN=Auth Int A1,O=MOSIP,C=IN",
        issuer_id="auth-int-a1",
        not_before=utc(2025, 1, 1, 0, 0, 0),
        not_after=utc(2026, 1, 1, 0, 0, 0),
        domain="AUTH",
        certificate_pem="-----BEGIN CERTIFICATE-----\nPARTNER\n-----END CERTIFICATE-----\n",
        signed_certificate_pem="-----BEGIN CERTIFICATE-----\nRESIGNED\n-----END CERTIFICATE-----\n",
        organization="Partner Org",
        thumbprint=f"{n:040x}",
        serial_number="123456789012345678901234567890",
        created_at=utc(2025, 1, 15, 9, 30, 0, 654321),
        key_usage="digitalSignature,keyEncipherment",
    )
    return replace(record, **changes)


def add_cas(factory: UnitOfWorkFactory, *records: CaCertificateRecord) -> None:
    with factory() as uow:
        for record in records:
            uow.trust.add_ca(record)
        uow.commit()


def in_thread(function: Callable[[], Any]) -> Any:
    """Run in another thread (SQLite gives each thread its own connection)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = function()
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller
            box["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "reader thread hung"
    if "error" in box:
        raise box["error"]
    return box["value"]


def assert_utc(instant: datetime) -> None:
    assert instant.tzinfo is not None and instant.utcoffset() == timedelta(0), instant


# -- add_ca / ca_certificate / ca_certificates -----------------------------------------------------


def test_ca_round_trip_keeps_every_field(uow_factory: UnitOfWorkFactory) -> None:
    root = make_ca(
        "3c9c6d0e-5f2a-4b7e-9a51-0123456789ab",
        subject="CN=Doe\\, John+OU=x,O=\"Quoted\" <Org>;=,L=Bengaluru,ST=KA,C=IN",
        issuer="CN=Doe\\, John+OU=x,O=\"Quoted\" <Org>;=,L=Bengaluru,ST=KA,C=IN",
        not_before=utc(2024, 2, 29, 23, 59, 59, 999999),
        not_after=utc(2034, 2, 28, 0, 0, 0, 1),
        certificate_pem="-----BEGIN CERTIFICATE-----\nMIIB" + "A" * 2000 + "\n-----END CERTIFICATE-----\n",
        thumbprint="0123456789abcdef0123456789abcdef01234567",
        serial_number="340282366920938463463374607431768211455",
        domain="FTM",
        created_at=utc(2025, 1, 15, 9, 30, 0, 123456),
        crl_uri="http://crl.example.org/root.crl",
    )
    intermediate = make_ca(
        issuer=root.subject, issuer_id=root.cert_id, ca_type=INTERMEDIATE_CA, domain="FTM",
        created_at=root.created_at + timedelta(microseconds=1), crl_uri=None, serial_number="",
    )
    add_cas(uow_factory, root, intermediate)
    with uow_factory() as uow:
        loaded = uow.trust.ca_certificate(root.cert_id)
        assert loaded == root
        assert uow.trust.ca_certificate(intermediate.cert_id) == intermediate
        assert uow.trust.ca_certificate("no-such-id") is None
        assert uow.trust.ca_certificates("FTM") == [root, intermediate]
        assert uow.trust.ca_certificates("AUTH") == []
    assert loaded is not None
    for instant in (loaded.not_before, loaded.not_after, loaded.created_at):
        assert_utc(instant)
    assert loaded.not_before.microsecond == 999999 and loaded.not_after.microsecond == 1
    assert loaded.created_at.microsecond == 123456


def test_ca_certificates_are_the_domains_rows_oldest_upload_first(uow_factory: UnitOfWorkFactory) -> None:
    t = utc(2025, 3, 1, 12, 0, 0)
    late = make_ca("ca-late", created_at=t + timedelta(days=2))
    early = make_ca("ca-early", created_at=t - timedelta(days=400))
    middle = make_ca("ca-middle", created_at=t + timedelta(microseconds=1))
    first = make_ca("ca-first", created_at=t)
    expired = make_ca("ca-expired", created_at=t + timedelta(days=1), not_after=utc(2001, 1, 1, 0, 0, 0),
                      not_before=utc(2000, 1, 1, 0, 0, 0))
    elsewhere = make_ca("ca-elsewhere", domain="DEVICE", created_at=t - timedelta(days=500))
    add_cas(uow_factory, late, early, elsewhere)
    add_cas(uow_factory, middle, expired, first)
    with uow_factory() as uow:
        assert [r.cert_id for r in uow.trust.ca_certificates("AUTH")] == [
            "ca-early", "ca-first", "ca-middle", "ca-expired", "ca-late"]
        assert uow.trust.ca_certificates("DEVICE") == [elsewhere]
        assert uow.trust.ca_certificates("FTM") == []
        assert uow.trust.ca_certificates("auth") == []  # domains are stored upper-case: exact match
        for record in uow.trust.ca_certificates("AUTH"):
            assert_utc(record.created_at)


def test_ca_exists_is_per_thumbprint_and_domain(uow_factory: UnitOfWorkFactory) -> None:
    record = make_ca(thumbprint="ab" * 20, domain="AUTH")
    add_cas(uow_factory, record)
    with uow_factory() as uow:
        assert uow.trust.ca_exists("ab" * 20, "AUTH")
        assert not uow.trust.ca_exists("ab" * 20, "FTM")
        assert not uow.trust.ca_exists("cd" * 20, "AUTH")
        assert not uow.trust.ca_exists("AB" * 20, "AUTH")  # thumbprints are stored lower-case


def test_a_duplicate_thumbprint_in_one_domain_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    original = make_ca(thumbprint="ef" * 20, domain="AUTH")
    add_cas(uow_factory, original)
    copy = make_ca(thumbprint="ef" * 20, domain="AUTH")
    with pytest.raises(Exception):
        with uow_factory() as uow:
            uow.trust.add_ca(copy)
            uow.commit()
    with uow_factory() as uow:
        assert uow.trust.ca_certificate(copy.cert_id) is None
        assert uow.trust.ca_certificates("AUTH") == [original]


def test_the_same_thumbprint_in_another_domain_is_fine(uow_factory: UnitOfWorkFactory) -> None:
    auth = make_ca(thumbprint="ef" * 20, domain="AUTH")
    ftm = make_ca(thumbprint="ef" * 20, domain="FTM")
    device = make_ca(thumbprint="ef" * 20, domain="DEVICE")
    add_cas(uow_factory, auth)
    add_cas(uow_factory, ftm, device)  # one committed before, one in the same unit
    with uow_factory() as uow:
        assert uow.trust.ca_certificates("AUTH") == [auth]
        assert uow.trust.ca_certificates("FTM") == [ftm]
        assert uow.trust.ca_certificates("DEVICE") == [device]
        assert all(uow.trust.ca_exists("ef" * 20, d) for d in ("AUTH", "FTM", "DEVICE"))


def test_a_duplicate_within_one_unit_is_refused_too(uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(Exception):
        with uow_factory() as uow:
            uow.trust.add_ca(make_ca(thumbprint="12" * 20))
            uow.trust.add_ca(make_ca(thumbprint="12" * 20))
            uow.commit()
    with uow_factory() as uow:
        assert not uow.trust.ca_exists("12" * 20, "AUTH")


# -- units of work: isolation, rollback -----------------------------------------------------------


def _sees(factory: UnitOfWorkFactory, ca: CaCertificateRecord, partner: PartnerCertificateRecord) -> dict[str, Any]:
    with factory() as uow:
        return {
            "ca": uow.trust.ca_certificate(ca.cert_id),
            "exists": uow.trust.ca_exists(ca.thumbprint, ca.domain),
            "list": uow.trust.ca_certificates(ca.domain),
            "total": uow.trust.search_ca(CaCertificateQuery(domain=ca.domain)).total,
            "partner": uow.trust.partner_certificate(partner.cert_id),
        }


NOTHING = {"ca": None, "exists": False, "list": [], "total": 0, "partner": None}


def test_nothing_is_visible_to_another_unit_before_commit(backend: Backend) -> None:
    ca, partner = make_ca(), make_partner()
    other = backend.second()
    with backend.factory() as uow:
        uow.trust.add_ca(ca)
        uow.trust.add_partner(partner)
        # the writing unit reads its own writes
        assert uow.trust.ca_certificate(ca.cert_id) == ca
        assert uow.trust.ca_exists(ca.thumbprint, ca.domain)
        assert uow.trust.ca_certificates(ca.domain) == [ca]
        assert uow.trust.partner_certificate(partner.cert_id) == partner
        # ...which no other unit sees: another thread, and another database object
        assert in_thread(lambda: _sees(backend.factory, ca, partner)) == NOTHING
        assert in_thread(lambda: _sees(other, ca, partner)) == NOTHING
        uow.commit()
    seen = {"ca": ca, "exists": True, "list": [ca], "total": 1, "partner": partner}
    assert _sees(backend.factory, ca, partner) == seen
    assert in_thread(lambda: _sees(other, ca, partner)) == seen


def test_a_unit_exited_without_commit_leaves_nothing(backend: Backend) -> None:
    kept = make_ca(created_at=utc(2025, 1, 1, 0, 0, 0))
    add_cas(backend.factory, kept)
    ca, partner = make_ca(), make_partner()
    with backend.factory() as uow:
        uow.trust.add_ca(ca)
        uow.trust.add_partner(partner)
    for factory in (backend.factory, backend.second()):
        with factory() as uow:
            assert uow.trust.ca_certificate(ca.cert_id) is None
            assert not uow.trust.ca_exists(ca.thumbprint, ca.domain)
            assert uow.trust.ca_certificates(ca.domain) == [kept]
            assert uow.trust.search_ca(CaCertificateQuery()).records == [kept]
            assert uow.trust.partner_certificate(partner.cert_id) is None


def test_a_unit_left_by_an_exception_leaves_nothing(backend: Backend) -> None:
    ca, partner = make_ca(), make_partner()
    with pytest.raises(RuntimeError):
        with backend.factory() as uow:
            uow.trust.add_ca(ca)
            uow.trust.add_partner(partner)
            raise RuntimeError("upload failed half-way")
    assert _sees(backend.factory, ca, partner) == NOTHING


# -- domain_stamp --------------------------------------------------------------------------------


def _stamp(factory: UnitOfWorkFactory, domain: str) -> Any:
    with factory() as uow:
        return uow.trust.domain_stamp(domain)


def test_domain_stamp_changes_after_a_committed_add(backend: Backend) -> None:
    before = _stamp(backend.factory, "AUTH")
    hash(before)
    assert _stamp(backend.factory, "AUTH") == before  # stable while nothing changes
    add_cas(backend.factory, make_ca(domain="AUTH"))
    after = _stamp(backend.factory, "AUTH")
    assert after != before
    add_cas(backend.factory, make_ca(domain="AUTH", created_at=utc(2000, 1, 1, 0, 0, 0), cert_id="0-old-first"))
    assert _stamp(backend.factory, "AUTH") not in (before, after)  # an older upload with a smaller id, too


def test_domain_stamp_does_not_change_for_an_uncommitted_add(backend: Backend) -> None:
    add_cas(backend.factory, make_ca(domain="AUTH"))
    before = _stamp(backend.factory, "AUTH")
    with backend.factory() as uow:
        uow.trust.add_ca(make_ca(domain="AUTH"))
    assert _stamp(backend.factory, "AUTH") == before
    assert _stamp(backend.second(), "AUTH") == before


@pytest.mark.parametrize("name", adapter_params(["sqlite", "postgres"]))
def test_sql_domain_stamp_is_seen_by_another_database_object_and_is_per_domain(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend = _open(name, request, tmp_path)
    other = backend.second()
    add_cas(backend.factory, make_ca(domain="FTM"))
    auth_before, ftm_before = _stamp(other, "AUTH"), _stamp(other, "FTM")
    empty_before = _stamp(other, "DEVICE")

    add_cas(backend.factory, make_ca(domain="AUTH"))
    auth_after = _stamp(other, "AUTH")
    assert auth_after != auth_before
    assert _stamp(other, "FTM") == ftm_before
    assert _stamp(other, "DEVICE") == empty_before

    add_cas(other, make_ca(domain="FTM"))  # and the other way round
    assert _stamp(backend.factory, "FTM") != ftm_before
    assert _stamp(backend.factory, "AUTH") == auth_after


# -- partner_cert_store --------------------------------------------------------------------------


def test_partner_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    partner = make_partner()
    plain = make_partner(key_usage="", domain="FTM", organization="", subject="CN=No Org",
                         created_at=utc(2025, 12, 31, 23, 59, 59, 999999))
    with uow_factory() as uow:
        uow.trust.add_partner(partner)
        uow.trust.add_partner(plain)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.trust.partner_certificate(partner.cert_id)
        assert loaded == partner
        assert uow.trust.partner_certificate(plain.cert_id) == plain
        assert uow.trust.partner_certificate("no-such-id") is None
        # partner rows are not CA rows
        assert uow.trust.ca_certificate(partner.cert_id) is None
        assert uow.trust.ca_certificates("AUTH") == []
    assert loaded is not None
    for instant in (loaded.not_before, loaded.not_after, loaded.created_at):
        assert_utc(instant)
    assert loaded.created_at.microsecond == 654321


# -- search_ca -----------------------------------------------------------------------------------
#
#  #  cert_id       domain type  subject (CN)      issuer (CN)    nb (date)   na (date)   tp    serial created
#  1  Auth-Root-A   AUTH   ROOT  Auth Root A       Auth Root A    2020-01-01  2030-01-01  70    1001   01-10 09:00
#  2  auth-int-a1   AUTH   INT   Auth Int A1       Auth Root A    2021-06-15  2026-06-15  20    20     01-10 09:00:00.000001
#  3  AUTH-INT-A2   AUTH   INT   Auth Int A2       Auth Root A    2021-06-15  2026-06-15  a0    3      01-11 00:00
#  4  auth_root_b   AUTH   ROOT  100% Root         100% Root      2019-03-10  2029-03-10  10    1000   01-09 23:59:59.999999
#  5  authXroot-c   AUTH   ROOT  1000 Root         1000 Root      2022-11-30  2027-11-30  f0    999    02-01 12:00
#  6  auth-int-b1   AUTH   INT   Doe\, John        100% Root      2021-06-16  2026-06-16  50    20     01-10 23:59:59
#  7  auth-int-c1   AUTH   INT   Int C1            1000 Root      2023-02-01  2026-12-31  30    45     02-01 12:00:01
#  8  ftm-root-a    FTM    ROOT  FTM Root A        FTM Root A     2020-01-01  2035-01-01  e0    7      01-05 08:00
#  9  FTM-INT-A1    FTM    INT   FTM Int A1        FTM Root A     2021-07-01  2026-07-01  40    100    01-06 08:00
# 10  ftm-int-a2    FTM    INT   FTM Int A2        FTM Root A     2022-02-28  2027-02-28  90    8      01-10 10:00
# 11  ftm-root-b    FTM    ROOT  Auth Root A       Auth Root A    2020-01-01  2030-01-01  70    1001   01-12 08:00
# 12  ftm-int-b1    FTM    INT   FTM Int B1        Auth Root A    2024-05-05  2026-06-15  60    55     01-06 07:00
#
# (#11 is #1's certificate uploaded to FTM too.) Text sorts are by code point (mixed case on
# purpose: 'A..Z' < 'a..z', '-' < 'X' < '_').

MOSIP_ROOT = "CN=Auth Root A,O=MOSIP,C=IN"
ACME_ROOT = "CN=100% Root,O=Acme_Labs,C=FR"
ACMEX_ROOT = "CN=1000 Root,O=AcmeXLabs,C=FR"
FTM_ROOT = "CN=FTM Root A,O=Chipmaker,C=US"


def tp(n: int) -> str:
    return f"{n:040x}"


def _row(
    cert_id: str, domain: str, ca_type: str, subject: str, issuer: str, issuer_id: str,
    not_before: datetime, not_after: datetime, thumbprint: int, serial: str, created_at: datetime,
) -> CaCertificateRecord:
    return CaCertificateRecord(
        cert_id=cert_id, subject=subject, issuer=issuer, issuer_id=issuer_id, not_before=not_before,
        not_after=not_after, certificate_pem=f"-----BEGIN CERTIFICATE-----\n{cert_id}\n-----END CERTIFICATE-----",
        thumbprint=tp(thumbprint), serial_number=serial, domain=domain, ca_type=ca_type, created_at=created_at,
        crl_uri=f"http://crl.example/{cert_id}.crl" if ca_type == ROOT_CA else None,
    )


R, I = ROOT_CA, INTERMEDIATE_CA
ROWS: dict[int, CaCertificateRecord] = {
    1: _row("Auth-Root-A", "AUTH", R, MOSIP_ROOT, MOSIP_ROOT, "Auth-Root-A",
            utc(2020, 1, 1, 0, 0, 0), utc(2030, 1, 1, 0, 0, 0), 0x70, "1001", utc(2025, 1, 10, 9, 0, 0)),
    2: _row("auth-int-a1", "AUTH", I, "CN=Auth Int A1,O=MOSIP,C=IN", MOSIP_ROOT, "Auth-Root-A",
            utc(2021, 6, 15, 8, 0, 0), utc(2026, 6, 15, 8, 0, 0), 0x20, "20", utc(2025, 1, 10, 9, 0, 0, 1)),
    3: _row("AUTH-INT-A2", "AUTH", I, "CN=Auth Int A2,OU=Ops,O=MOSIP,C=IN", MOSIP_ROOT, "Auth-Root-A",
            utc(2021, 6, 15, 23, 59, 59, 999999), utc(2026, 6, 15, 23, 59, 59, 999999), 0xA0, "3",
            utc(2025, 1, 11, 0, 0, 0)),
    4: _row("auth_root_b", "AUTH", R, ACME_ROOT, ACME_ROOT, "auth_root_b",
            utc(2019, 3, 10, 12, 0, 0), utc(2029, 3, 10, 12, 0, 0), 0x10, "1000", utc(2025, 1, 9, 23, 59, 59, 999999)),
    5: _row("authXroot-c", "AUTH", R, ACMEX_ROOT, ACMEX_ROOT, "authXroot-c",
            utc(2022, 11, 30, 0, 0, 0), utc(2027, 11, 30, 0, 0, 0), 0xF0, "999", utc(2025, 2, 1, 12, 0, 0)),
    6: _row("auth-int-b1", "AUTH", I, "CN=Doe\\, John,O=Acme_Labs,C=FR", ACME_ROOT, "auth_root_b",
            utc(2021, 6, 16, 0, 0, 0), utc(2026, 6, 16, 0, 0, 0), 0x50, "20", utc(2025, 1, 10, 23, 59, 59)),
    7: _row("auth-int-c1", "AUTH", I, "CN=Int C1,O=AcmeXLabs,C=FR", ACMEX_ROOT, "authXroot-c",
            utc(2023, 2, 1, 10, 0, 0), utc(2026, 12, 31, 23, 59, 59), 0x30, "45", utc(2025, 2, 1, 12, 0, 1)),
    8: _row("ftm-root-a", "FTM", R, FTM_ROOT, FTM_ROOT, "ftm-root-a",
            utc(2020, 1, 1, 0, 0, 0), utc(2035, 1, 1, 0, 0, 0), 0xE0, "7", utc(2025, 1, 5, 8, 0, 0)),
    9: _row("FTM-INT-A1", "FTM", I, "CN=FTM Int A1,O=Chipmaker,C=US", FTM_ROOT, "ftm-root-a",
            utc(2021, 7, 1, 9, 0, 0), utc(2026, 7, 1, 9, 0, 0), 0x40, "100", utc(2025, 1, 6, 8, 0, 0)),
    10: _row("ftm-int-a2", "FTM", I, "CN=FTM Int A2,O=Chipmaker,C=US", FTM_ROOT, "ftm-root-a",
             utc(2022, 2, 28, 12, 0, 0), utc(2027, 2, 28, 12, 0, 0), 0x90, "8", utc(2025, 1, 10, 10, 0, 0)),
    11: _row("ftm-root-b", "FTM", R, MOSIP_ROOT, MOSIP_ROOT, "ftm-root-b",
             utc(2020, 1, 1, 0, 0, 0), utc(2030, 1, 1, 0, 0, 0), 0x70, "1001", utc(2025, 1, 12, 8, 0, 0)),
    12: _row("ftm-int-b1", "FTM", I, "CN=FTM Int B1,O=Chipmaker,C=US", MOSIP_ROOT, "ftm-root-b",
             utc(2024, 5, 5, 5, 5, 0), utc(2026, 6, 15, 0, 0, 0), 0x60, "55", utc(2025, 1, 6, 7, 0, 0)),
}
ID = {n: record.cert_id for n, record in ROWS.items()}
#: Upload order (the default sort): the order filter results are listed in below.
BY_CREATED = [8, 12, 9, 4, 1, 2, 10, 6, 3, 11, 5, 7]

#: Each sortable attribute, ascending (ties broken by cert_id ascending).
ASCENDING: dict[str, list[int]] = {
    "cert_id": [3, 1, 9, 2, 6, 7, 5, 4, 10, 12, 8, 11],
    "subject": [4, 5, 2, 3, 1, 11, 6, 9, 10, 12, 8, 7],
    "issuer": [6, 4, 7, 5, 3, 1, 2, 12, 11, 9, 10, 8],
    "issuer_id": [3, 1, 2, 7, 5, 6, 4, 9, 10, 8, 12, 11],
    "not_before": [4, 1, 8, 11, 2, 3, 6, 9, 10, 5, 7, 12],
    "not_after": [12, 2, 3, 6, 9, 7, 10, 5, 4, 1, 11, 8],
    "thumbprint": [4, 2, 7, 9, 6, 12, 1, 11, 10, 3, 8, 5],
    "serial_number": [9, 4, 1, 11, 2, 6, 3, 7, 12, 8, 10, 5],
    "domain": [3, 1, 2, 6, 7, 5, 4, 9, 10, 12, 8, 11],
    "ca_type": [3, 9, 2, 6, 7, 10, 12, 1, 5, 4, 8, 11],
    "created_at": BY_CREATED,
}
ALL = CaCertificateQuery(page_size=100)


def ids(*numbers: int) -> list[str]:
    return [ID[n] for n in numbers]


def _load(factory: UnitOfWorkFactory) -> None:
    # inserted out of every order, over several units
    order = [5, 11, 2, 8, 12, 1, 7, 3, 10, 4, 9, 6]
    for chunk in (order[:4], order[4:9], order[9:]):
        add_cas(factory, *(ROWS[n] for n in chunk))


@pytest.fixture
def loaded(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    _load(uow_factory)
    return uow_factory


def search(factory: UnitOfWorkFactory, query: CaCertificateQuery) -> CaCertificatePage:
    with factory() as uow:
        return uow.trust.search_ca(query)


def found(factory: UnitOfWorkFactory, **filters: Any) -> list[str]:
    page = search(factory, replace(ALL, **filters))
    assert page.total == len(page.records)
    return [r.cert_id for r in page.records]


def test_the_sort_table_covers_every_sort_field() -> None:
    assert set(ASCENDING) == set(SORT_FIELDS.values())
    for order in ASCENDING.values():
        assert sorted(order) == list(range(1, 13))
    assert len({r.created_at for r in ROWS.values()}) == 12


def test_search_without_filters_lists_everything_by_upload_time(loaded: UnitOfWorkFactory) -> None:
    page = search(loaded, CaCertificateQuery(page_size=100))
    assert page.total == 12
    assert page.records == [ROWS[n] for n in BY_CREATED]  # whole records, every field
    for record in page.records:
        assert_utc(record.created_at)
        assert_utc(record.not_before)
        assert_utc(record.not_after)


# Each filter alone: (filters, expected rows in upload order).
SINGLE_FILTERS: list[tuple[str, dict[str, Any], list[int]]] = [
    ("domain AUTH", {"domain": "AUTH"}, [4, 1, 2, 6, 3, 5, 7]),
    ("domain FTM", {"domain": "FTM"}, [8, 12, 9, 10, 11]),
    ("domain is exact", {"domain": "auth"}, []),
    ("unknown domain", {"domain": "DEVICE"}, []),
    ("type ROOT", {"ca_type": ROOT_CA}, [8, 4, 1, 11, 5]),
    ("type INTERMEDIATE", {"ca_type": INTERMEDIATE_CA}, [12, 9, 2, 10, 6, 3, 7]),
    ("cert_id substring, any case", {"cert_id": "ROOT"}, [8, 4, 1, 11, 5]),
    ("cert_id substring, mixed case", {"cert_id": "Int-A"}, [9, 2, 10, 3]),
    ("cert_id whole id", {"cert_id": "auth-int-a1"}, [2]),
    ("cert_id '_' is literal", {"cert_id": "h_r"}, [4]),
    ("cert_id no match", {"cert_id": "nothing"}, []),
    ("issued_to any case", {"issued_to": "auth int"}, [2, 3]),
    ("issued_to 'root a'", {"issued_to": "ROOT A"}, [8, 1, 11]),
    ("issued_to RDN text", {"issued_to": "ou=ops"}, [3]),
    ("issued_to '%' is literal", {"issued_to": "100%"}, [4]),
    ("issued_to '_' is literal", {"issued_to": "acme_"}, [4, 6]),
    ("issued_to backslash is literal", {"issued_to": "\\,"}, [6]),
    ("issued_by any case", {"issued_by": "chipMAKER"}, [8, 9, 10]),
    ("issued_by", {"issued_by": "CN=Auth Root"}, [12, 1, 2, 3, 11]),
    ("issued_by '%' is literal", {"issued_by": "0% r"}, [4, 6]),
    ("valid_from date", {"valid_from": date(2021, 6, 15)}, [2, 3]),
    ("valid_from midnight", {"valid_from": date(2021, 6, 16)}, [6]),
    ("valid_from shared date", {"valid_from": date(2020, 1, 1)}, [8, 1, 11]),
    ("valid_from no match", {"valid_from": date(2021, 6, 14)}, []),
    ("valid_till date", {"valid_till": date(2026, 6, 15)}, [12, 2, 3]),
    ("valid_till last second", {"valid_till": date(2026, 12, 31)}, [7]),
    ("uploaded date", {"uploaded": date(2025, 1, 10)}, [1, 2, 10, 6]),
    ("uploaded day before", {"uploaded": date(2025, 1, 9)}, [4]),
    ("uploaded day after", {"uploaded": date(2025, 1, 11)}, [3]),
    ("expiring_between inclusive", {"expiring_between": (date(2026, 6, 15), date(2026, 7, 1))}, [12, 9, 2, 6, 3]),
    ("expiring_between one day", {"expiring_between": (date(2026, 6, 16), date(2026, 6, 16))}, [6]),
    ("expiring_between gap", {"expiring_between": (date(2026, 6, 17), date(2026, 6, 30))}, []),
    ("expiring_between wide", {"expiring_between": (date(2027, 1, 1), date(2031, 1, 1))}, [4, 1, 10, 11, 5]),
    ("excluded thumbprint (two rows share it)", {"excluded_thumbprints": frozenset({tp(0x70)})},
     [8, 12, 9, 4, 2, 10, 6, 3, 5, 7]),
    ("excluded thumbprints", {"excluded_thumbprints": frozenset({tp(0x10), tp(0xE0), tp(0x99)})},
     [12, 9, 1, 2, 10, 6, 3, 11, 5, 7]),
    ("excluded nothing", {"excluded_thumbprints": frozenset()}, BY_CREATED),
]


@pytest.mark.parametrize("filters, expected", [(f, e) for _, f, e in SINGLE_FILTERS],
                         ids=[name for name, _, _ in SINGLE_FILTERS])
def test_search_each_filter_alone(loaded: UnitOfWorkFactory, filters: dict[str, Any], expected: list[int]) -> None:
    assert found(loaded, **filters) == ids(*expected)


COMBINED_FILTERS: list[tuple[str, dict[str, Any], list[int]]] = [
    ("domain + type", {"domain": "AUTH", "ca_type": ROOT_CA}, [4, 1, 5]),
    ("domain + issued_to", {"domain": "FTM", "issued_to": "auth root"}, [11]),
    ("domain + expiring_between", {"domain": "AUTH", "expiring_between": (date(2026, 6, 1), date(2026, 12, 31))},
     [2, 6, 3, 7]),
    ("type + issued_by + excluded", {"ca_type": INTERMEDIATE_CA, "issued_by": "acme",
                                     "excluded_thumbprints": frozenset({tp(0x50)})}, [7]),
    ("uploaded + domain", {"uploaded": date(2025, 1, 10), "domain": "FTM"}, [10]),
    ("cert_id + issued_by", {"cert_id": "int", "issued_by": "auth root a"}, [12, 2, 3]),
    ("valid_from + valid_till", {"valid_from": date(2021, 6, 15), "valid_till": date(2026, 6, 15)}, [2, 3]),
    ("every filter", {"domain": "AUTH", "ca_type": INTERMEDIATE_CA, "cert_id": "INT", "issued_to": "mosip",
                      "issued_by": "root", "valid_from": date(2021, 6, 15), "valid_till": date(2026, 6, 15),
                      "uploaded": date(2025, 1, 10), "expiring_between": (date(2026, 1, 1), date(2026, 12, 31)),
                      "excluded_thumbprints": frozenset({tp(0xA0)})}, [2]),
    ("contradicting filters", {"domain": "FTM", "cert_id": "auth-"}, []),
]


@pytest.mark.parametrize("filters, expected", [(f, e) for _, f, e in COMBINED_FILTERS],
                         ids=[name for name, _, _ in COMBINED_FILTERS])
def test_search_combined_filters(loaded: UnitOfWorkFactory, filters: dict[str, Any], expected: list[int]) -> None:
    assert found(loaded, **filters) == ids(*expected)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("api_name", list(SORT_FIELDS))
def test_search_sorts_by_every_field(loaded: UnitOfWorkFactory, api_name: str, descending: bool) -> None:
    attribute = SORT_FIELDS[api_name]
    expected = ASCENDING[attribute]
    if descending:
        # ties are broken by cert_id in the same direction, so the order is exactly reversed
        expected = list(reversed(expected))
    page = search(loaded, replace(ALL, sort_by=attribute, descending=descending))
    assert page.total == 12
    assert [r.cert_id for r in page.records] == ids(*expected)


def test_search_sorts_a_filtered_set(loaded: UnitOfWorkFactory) -> None:
    page = search(loaded, CaCertificateQuery(domain="AUTH", sort_by="not_after", descending=True,
                                             page_number=2, page_size=3))
    assert page.total == 7
    assert [r.cert_id for r in page.records] == ids(7, 6, 3)
    page = search(loaded, CaCertificateQuery(ca_type=ROOT_CA, sort_by="serial_number"))
    assert [r.cert_id for r in page.records] == ids(4, 1, 11, 8, 5)


def test_search_pages(loaded: UnitOfWorkFactory) -> None:
    def page(number: int, size: int, **changes: Any) -> tuple[int, list[str]]:
        result = search(loaded, CaCertificateQuery(page_number=number, page_size=size, **changes))
        return result.total, [r.cert_id for r in result.records]

    assert page(1, 5) == (12, ids(8, 12, 9, 4, 1))
    assert page(2, 5) == (12, ids(2, 10, 6, 3, 11))
    assert page(3, 5) == (12, ids(5, 7))  # the last, partial page
    assert page(4, 5) == (12, [])  # beyond the end
    assert page(100, 5) == (12, [])
    assert page(1, 12) == (12, ids(*BY_CREATED))
    assert page(2, 12) == (12, [])
    assert page(1, 10) == (12, ids(*BY_CREATED[:10]))  # the default page size
    assert search(loaded, CaCertificateQuery()).total == 12
    assert [r.cert_id for r in search(loaded, CaCertificateQuery()).records] == ids(*BY_CREATED[:10])
    # paging a sorted, filtered listing
    assert page(2, 2, domain="FTM", sort_by="cert_id", descending=True) == (5, ids(12, 10))
    assert page(3, 2, domain="FTM", sort_by="cert_id", descending=True) == (5, ids(9))
    assert page(1, 3, domain="FTM", sort_by="thumbprint") == (5, ids(9, 12, 11))
    assert page(2, 3, domain="FTM", sort_by="thumbprint") == (5, ids(10, 8))
    assert page(2, 3, domain="NOBODY") == (0, [])


def test_search_pages_concatenate_to_the_whole_listing(loaded: UnitOfWorkFactory) -> None:
    for attribute in ASCENDING:
        for descending in (False, True):
            pages = []
            for number in (1, 2, 3, 4, 5):
                pages += search(loaded, CaCertificateQuery(sort_by=attribute, descending=descending,
                                                           page_number=number, page_size=3)).records
            expected = ASCENDING[attribute][::-1] if descending else ASCENDING[attribute]
            assert [r.cert_id for r in pages] == ids(*expected), (attribute, descending)


@pytest.mark.parametrize(
    "needle, expected",
    [("%", ["pct-100%"]), ("_", ["under_score"]), ("0%", ["pct-100%"]), ("r_s", ["under_score"]),
     ("\\", ["back\\slash"]), ("%%", []), ("__", []), ("\\%", []), ("k\\s", ["back\\slash"])],
)
def test_like_metacharacters_in_cert_id_are_matched_literally(uow_factory: UnitOfWorkFactory, needle: str,
                                                              expected: list[str]) -> None:
    rows = [make_ca(cert_id) for cert_id in ("pct-100%", "pct-1000", "under_score", "underXscore", "back\\slash",
                                              "backslash")]
    add_cas(uow_factory, *rows)
    page = search(uow_factory, CaCertificateQuery(cert_id=needle, page_size=100))
    assert sorted(r.cert_id for r in page.records) == sorted(expected)
    assert page.total == len(expected)


@pytest.mark.parametrize(
    "needle, subjects, issuers",
    [("100%", [4], [4, 6]), ("100_", [], []), ("acme_", [4, 6], [4, 6]), ("acme%", [], []), ("0% r", [4], [4, 6]),
     ("e\\, j", [6], []), ("e\\_", [], [])],
)
def test_like_metacharacters_in_subject_and_issuer(loaded: UnitOfWorkFactory, needle: str, subjects: list[int],
                                                    issuers: list[int]) -> None:
    assert found(loaded, issued_to=needle) == ids(*subjects)
    assert found(loaded, issued_by=needle) == ids(*issuers)


def test_search_sees_its_own_unit_writes_and_others_see_committed_rows_only(loaded: UnitOfWorkFactory) -> None:
    with loaded() as uow:
        uow.trust.add_ca(make_ca("zz-uncommitted", created_at=utc(2024, 1, 1, 0, 0, 0)))
        inside = uow.trust.search_ca(ALL)
        assert inside.total == 13 and inside.records[0].cert_id == "zz-uncommitted"
    assert search(loaded, ALL).total == 12


# -- the three stores agree ----------------------------------------------------------------------


def _queries() -> list[CaCertificateQuery]:
    filters: list[dict[str, Any]] = [f for _, f, _ in SINGLE_FILTERS] + [f for _, f, _ in COMBINED_FILTERS]
    queries = [replace(ALL, **f) for f in filters]
    for attribute, descending in itertools.product(ASCENDING, (False, True)):
        for number, size in ((1, 4), (2, 4), (3, 4), (4, 4), (2, 5), (1, 1), (12, 1), (13, 1)):
            queries.append(CaCertificateQuery(sort_by=attribute, descending=descending,
                                              page_number=number, page_size=size))
        for f in filters[::3]:
            queries.append(CaCertificateQuery(sort_by=attribute, descending=descending, page_size=3, **f))
    return queries


@pytest.mark.postgres
def test_the_three_stores_return_identical_results(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    backends = [_open(name, request, tmp_path) for name in FACTORIES]
    for backend in backends:
        _load(backend.factory)
    queries = _queries()
    assert len(queries) > 300
    for query in queries:
        pages = {b.name: search(b.factory, query) for b in backends}
        reference = pages["memory"]
        for name, page in pages.items():
            assert page == reference, (name, query)
    for backend in backends:
        with backend.factory() as uow:
            for domain in ("AUTH", "FTM", "DEVICE"):
                assert uow.trust.ca_certificates(domain) == [ROWS[n] for n in BY_CREATED if ROWS[n].domain == domain]
            for record in ROWS.values():
                assert uow.trust.ca_certificate(record.cert_id) == record
                assert uow.trust.ca_exists(record.thumbprint, record.domain)


NON_ASCII_ROWS = [
    make_ca("école-root", subject="CN=École Racine,O=Société Générale,C=FR", created_at=utc(2025, 1, 1, 0, 0, 0)),
    make_ca("ÉCOLE-INT", subject="CN=ÉCOLE INTERMÉDIAIRE,O=SOCIÉTÉ,C=FR", created_at=utc(2025, 1, 2, 0, 0, 0)),
    make_ca("plain", subject="CN=Ecole,O=Societe,C=FR", created_at=utc(2025, 1, 3, 0, 0, 0)),
]


def _non_ascii_results(factory: UnitOfWorkFactory) -> dict[str, list[str]]:
    add_cas(factory, *NON_ASCII_ROWS)

    def listed(**filters: Any) -> list[str]:
        return [r.cert_id for r in search(factory, CaCertificateQuery(**filters)).records]

    return {
        "issued_to=école": listed(issued_to="école"),
        "issued_to=ÉCOLE": listed(issued_to="ÉCOLE"),
        "issued_to=École": listed(issued_to="École"),  # the exact text of the first subject
        "issued_to=société": listed(issued_to="société"),
        "issued_to=Ecole": listed(issued_to="Ecole"),
        "cert_id=école": listed(cert_id="école"),
        "sort=subject": listed(sort_by="subject"),
        "sort=cert_id desc": listed(sort_by="cert_id", descending=True),
    }


NON_ASCII_EXPECTED = {
    "issued_to=école": ["école-root", "ÉCOLE-INT"],
    "issued_to=ÉCOLE": ["école-root", "ÉCOLE-INT"],
    "issued_to=École": ["école-root", "ÉCOLE-INT"],
    "issued_to=société": ["école-root", "ÉCOLE-INT"],
    "issued_to=Ecole": ["plain"],
    "cert_id=école": ["école-root", "ÉCOLE-INT"],
    "sort=subject": ["plain", "ÉCOLE-INT", "école-root"],  # code point order: E < É, 'C' < 'c'
    "sort=cert_id desc": ["école-root", "ÉCOLE-INT", "plain"],  # é > É > p
}


def test_non_ascii_text_is_searched_case_insensitively(backend: Backend) -> None:
    """Subjects of partner CAs carry accented names (Société Générale...): the text filters are
    case-insensitive for them too, in every store alike (SQLite's own LOWER() folds ASCII only)."""
    assert _non_ascii_results(backend.factory) == NON_ASCII_EXPECTED


def test_date_filters_use_the_utc_date_of_instants_given_in_another_zone(backend: Backend) -> None:
    """CaCertificateQuery: "date filters match the UTC date" (the SQL stores keep UTC)."""
    india = timezone(timedelta(hours=5, minutes=30))
    # 2025-03-01 02:00 +05:30 is 2025-02-28 20:30 UTC
    record = make_ca("ist-upload", created_at=datetime(2025, 3, 1, 2, 0, tzinfo=india),
                     not_before=datetime(2024, 3, 1, 2, 0, tzinfo=india),
                     not_after=datetime(2030, 3, 1, 2, 0, tzinfo=india))
    add_cas(backend.factory, record)
    with backend.factory() as uow:
        loaded = uow.trust.ca_certificate(record.cert_id)
    assert loaded == record  # the same instants
    assert found(backend.factory, uploaded=date(2025, 2, 28)) == ["ist-upload"]
    assert found(backend.factory, uploaded=date(2025, 3, 1)) == []
    assert found(backend.factory, valid_from=date(2024, 2, 29)) == ["ist-upload"]
    assert found(backend.factory, valid_till=date(2030, 2, 28)) == ["ist-upload"]
    assert found(backend.factory, expiring_between=(date(2030, 2, 28), date(2030, 2, 28))) == ["ist-upload"]
