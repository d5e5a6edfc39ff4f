"""LicenseKeyController over HTTP (mosip-api.md §10) through Flask's test client, on the memory,
SQLite and PostgreSQL stores with a manual clock: every endpoint and error code, the lists of
validation errors, append and substring semantics, expiry, rows written by the reference, the roles,
the audit trail, and that neither licence keys nor TSP ids reach the logs."""
from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.clock import ManualClock
from domain.audit import SUCCESS
from domain.license_keys import DEFAULT_PERMISSIONS
from entrypoints.containers import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.oidc import bearer
from tests.support.repo import START
from tests.support.required import adapter_params

API = "/v1/keymanager"
TSP = "mpartner-default-auth"
STATUS = "Mapped License with the permissions"
KEY_FORM = re.compile(r"^[A-Za-z0-9]{16}$")
FUTURE = "2025-02-14T09:30:00.000Z"  # 30 days after START
PAST = "2025-01-15T09:29:59.999Z"  # 1 ms before START


def wrap(request: Any) -> dict[str, Any]:
    return {"id": "mosip.licensekey", "version": "1.0", "requesttime": "2025-01-15T09:30:00.000Z",
            "metadata": {}, "request": request}


@dataclass
class Service:
    store: str
    settings: Settings
    container: Container
    clock: ManualClock
    client: Any
    headers: dict[str, str]

    def post(self, path: str, request: Any, **kwargs: Any) -> dict[str, Any]:
        response = self.client.post(API + path, json=wrap(request), headers=self.headers, **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def get(self, **params: str) -> dict[str, Any]:
        response = self.client.get(f"{API}/license/permission?{urlencode(params)}", headers=self.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def generate(self, tsp: Any = TSP, expiry: Any = FUTURE) -> dict[str, Any]:
        return self.post("/license/generate", {"tspId": tsp, "licenseExpiryTime": expiry})

    def new_licence(self, tsp: str = TSP, expiry: str = FUTURE) -> str:
        return ok(self.generate(tsp, expiry))["licenseKey"]

    def grant(self, key: Any, permissions: Any, tsp: Any = TSP) -> dict[str, Any]:
        return self.post("/license/permission", {"tspId": tsp, "licenseKey": key, "permissions": permissions})

    def read(self, key: str, tsp: str = TSP) -> dict[str, Any]:
        return self.get(tspId=tsp, licenseKey=key)

    def audit(self) -> list[Any]:
        return list(self.container.audit_log().records())


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert body["errors"] is None, body
    return body["response"]


def errors(body: dict[str, Any]) -> list[str]:
    """The error codes, in order; the envelope of a failure has no response."""
    assert body["response"] is None and body["errors"], body
    return [error["errorCode"] for error in body["errors"]]


def store_settings(store: str, data_dir: Path, request: pytest.FixtureRequest, **overrides: Any) -> Settings:
    if store == "postgres":
        url = request.getfixturevalue("postgres_schema_url")
        return Settings(data_dir=data_dir, store="postgres", db_url=url, keystore="memory", **overrides)
    return Settings(data_dir=data_dir, store=store, keystore="memory", **overrides)


def make_service(store: str, tmp_path: Path, request: pytest.FixtureRequest, make_container,
                 **overrides: Any) -> Service:
    settings = store_settings(store, tmp_path / "data", request, **overrides)
    clock = ManualClock(START)
    container = make_container(settings, clock)
    return Service(store, settings, container, clock, create_app(settings, container).test_client(), {})


@pytest.fixture(params=adapter_params(["memory", "sqlite", "postgres"]))
def service(request: pytest.FixtureRequest, tmp_path: Path, make_container) -> Iterator[Service]:
    built = make_service(request.param, tmp_path, request, make_container)
    yield built
    if request.param == "postgres":
        built.container.database().close()


@pytest.fixture(params=adapter_params(["sqlite", "postgres"]))
def sql_service(request: pytest.FixtureRequest, tmp_path: Path, make_container) -> Iterator[Service]:
    built = make_service(request.param, tmp_path, request, make_container)
    yield built
    if request.param == "postgres":
        built.container.database().close()


# -- POST /license/generate ----------------------------------------------------------------------


def test_generate_answers_a_random_alphanumeric_key(service: Service) -> None:
    body = service.generate()
    assert set(body) == {"id", "version", "responsetime", "metadata", "response", "errors"}
    assert body["id"] == "mosip.licensekey" and body["version"] == "1.0"
    first = ok(body)["licenseKey"]
    second = service.new_licence()
    assert KEY_FORM.match(first) and KEY_FORM.match(second) and first != second
    assert service.new_licence(expiry="2025-01-15T09:30:00.000Z")  # expiring now: not before now


@pytest.mark.parametrize("tsp", [None, "", "   ", "\t"])
def test_generate_with_a_blank_tsp_is_ker_lkm_001(service: Service, tsp: Any) -> None:
    body = service.generate(tsp=tsp)
    assert errors(body) == ["KER-LKM-001"]
    assert body["errors"][0]["message"] == "TSP entered is null or empty."


def test_generate_without_a_tsp_field_is_ker_lkm_001(service: Service) -> None:
    assert errors(service.post("/license/generate", {"licenseExpiryTime": FUTURE})) == ["KER-LKM-001"]


def test_generate_with_a_past_expiry_is_ker_lkm_008_and_the_clock_decides(service: Service) -> None:
    body = service.generate(expiry=PAST)
    assert errors(body) == ["KER-LKM-008"]
    assert body["errors"][0]["message"] == "Expiry DateTime should be ahead of current DateTime."
    service.clock.set(START - timedelta(days=1))
    assert KEY_FORM.match(service.new_licence(expiry=PAST))


@pytest.mark.parametrize("expiry", [
    None, "", "2030-01-01", "2030-01-01T00:00:00Z", "2030-01-01T00:00:00.000", "2030-01-01T00:00:00.000+05:30",
    "2030-13-01T00:00:00.000Z", "2030-02-30T00:00:00.000Z", "0000-01-01T00:00:00.000Z", 1893456000000, ["x"],
])
def test_generate_with_a_null_or_malformed_expiry_is_ker_kms_005(service: Service, expiry: Any) -> None:
    """Deliberate: the reference answers a null expiry with HTTP 500."""
    body = service.generate(expiry=expiry)
    assert errors(body) == ["KER-KMS-005"]
    assert "licenseExpiryTime" in body["errors"][0]["message"]


def test_generate_without_the_expiry_field_is_ker_kms_005(service: Service) -> None:
    assert errors(service.post("/license/generate", {"tspId": TSP})) == ["KER-KMS-005"]


@pytest.mark.parametrize("tsp", [12345, ["TSP"], {"id": "TSP"}, "T" * 37])
def test_generate_with_a_tsp_that_is_no_string_or_too_long_is_ker_kms_005(service: Service, tsp: Any) -> None:
    assert errors(service.generate(tsp=tsp)) == ["KER-KMS-005"]


def test_generate_accepts_a_tsp_of_the_columns_width(service: Service) -> None:
    key = service.new_licence(tsp="T" * 36)
    assert ok(service.grant(key, ["eKYC - No"], tsp="T" * 36)) == {"status": STATUS}


def test_generate_without_a_request_object_is_ker_kms_005(service: Service) -> None:
    response = service.client.post(f"{API}/license/generate", json={"id": "x", "version": "1.0"})
    assert response.status_code == 200 and errors(response.get_json()) == ["KER-KMS-005"]


def test_a_nul_character_anywhere_is_ker_kms_005(service: Service) -> None:
    """PostgreSQL text cannot hold it: refused before the store is asked (entrypoints/http/envelope.py)."""
    assert errors(service.generate(tsp="a\x00b")) == ["KER-KMS-005"]
    assert errors(service.grant("K", ["OTP Trigger\x00"])) == ["KER-KMS-005"]
    response = service.client.get(f"{API}/license/permission?tspId=a%00b&licenseKey=K")
    assert response.status_code == 200 and errors(response.get_json()) == ["KER-KMS-005"]


# -- POST /license/permission --------------------------------------------------------------------


def test_permissions_are_mapped_and_a_second_call_puts_its_own_first(service: Service) -> None:
    key = service.new_licence()
    body = service.grant(key, ["OTP Trigger", "eKYC - Full"])
    assert ok(body) == {"status": STATUS}
    assert ok(service.read(key)) == {"permissions": ["OTP Trigger", "eKYC - Full"]}
    assert ok(service.grant(key, ["Static Pin Authentication"])) == {"status": STATUS}
    assert ok(service.read(key)) == {"permissions": ["Static Pin Authentication", "OTP Trigger", "eKYC - Full"]}


def test_a_permission_containing_a_configured_one_is_accepted(service: Service) -> None:
    key = service.new_licence()
    assert ok(service.grant(key, ["Biometric Authentication - FID Data Match (face)", "x eKYC - limited x"]))
    assert ok(service.read(key))["permissions"] == [
        "Biometric Authentication - FID Data Match (face)", "x eKYC - limited x"
    ]


@pytest.mark.parametrize("permissions", [["Unknown"], ["OTP Trigger", "otp authentication"], ["OTP"]])
def test_a_permission_containing_none_is_ker_lkm_003(service: Service, permissions: list[str]) -> None:
    key = service.new_licence()
    body = service.grant(key, permissions)
    assert errors(body) == ["KER-LKM-003"]
    assert body["errors"][0]["message"] == "Permission value entered is not accepted."
    assert errors(service.read(key)) == ["KER-LKM-009"]  # nothing was stored


def test_permissions_of_an_unknown_pair_are_ker_lkm_004(service: Service) -> None:
    key = service.new_licence()
    other = service.new_licence(tsp="other-tsp")
    for tsp, licence in ((TSP, other), ("other-tsp", key), (TSP, "NoSuchLicence000"), ("x" * 40, key)):
        body = service.grant(licence, ["OTP Trigger"], tsp=tsp)
        assert errors(body) == ["KER-LKM-004"], (tsp, licence)
        assert body["errors"][0]["message"] == "LicenseKey Not Found."
    assert errors(service.grant("NoSuchLicence000", ["Unknown"])) == ["KER-LKM-004"]  # 004 before 003


def test_permission_validation_errors_come_together(service: Service) -> None:
    body = service.grant(" ", ["OTP Trigger", "", "  "], tsp="")
    assert errors(body) == ["KER-LKM-001", "KER-LKM-006", "KER-LKM-007"]
    assert [error["message"] for error in body["errors"]] == [
        "TSP entered is null or empty.", "License Key entered is null or empty.",
        "Permission entered is an empty string.",
    ]
    assert errors(service.grant(None, ["OTP Trigger"], tsp=None)) == ["KER-LKM-001", "KER-LKM-006"]
    assert errors(service.grant("K", [""], tsp=None)) == ["KER-LKM-001", "KER-LKM-007"]
    assert errors(service.post("/license/permission", {})) == ["KER-LKM-001", "KER-LKM-006", "KER-LKM-007"]


@pytest.mark.parametrize("permissions", [None, [], [None], ["OTP Trigger", None]])
def test_null_or_empty_permissions_are_ker_lkm_007(service: Service, permissions: Any) -> None:
    """Deliberate: the reference answers nulls with HTTP 500 and stores an empty permission for []."""
    key = service.new_licence()
    assert errors(service.grant(key, permissions)) == ["KER-LKM-007"]


@pytest.mark.parametrize("permissions", ["OTP Trigger", [1], [["OTP Trigger"]], {"p": "OTP Trigger"}, 7])
def test_permissions_that_are_no_list_of_strings_are_ker_kms_005(service: Service, permissions: Any) -> None:
    key = service.new_licence()
    assert errors(service.grant(key, permissions)) == ["KER-KMS-005"]


@pytest.mark.parametrize(("field", "value"), [("tspId", 5), ("licenseKey", ["K"])])
def test_ids_that_are_no_strings_are_ker_kms_005(service: Service, field: str, value: Any) -> None:
    request = {"tspId": TSP, "licenseKey": "K", "permissions": ["OTP Trigger"], field: value}
    assert errors(service.post("/license/permission", request)) == ["KER-KMS-005"]


def test_permissions_beyond_the_columns_512_characters_are_ker_kms_005(service: Service) -> None:
    key = service.new_licence()
    long_permission = "OTP Trigger " + "y" * 240
    assert ok(service.grant(key, [long_permission, long_permission]))  # 505 characters
    assert errors(service.grant(key, ["eKYC - No"])) == ["KER-KMS-005"]
    assert ok(service.read(key))["permissions"] == [long_permission, long_permission]


def test_an_expired_licence_may_still_be_given_permissions(service: Service) -> None:
    key = service.new_licence()
    service.clock.advance(timedelta(days=365))
    assert ok(service.grant(key, ["OTP Trigger"]))  # the reference checks expiry when reading only
    assert errors(service.read(key)) == ["KER-LKM-005"]


# -- GET /license/permission ----------------------------------------------------------------------


def test_reading_an_expired_licence_is_ker_lkm_005(service: Service) -> None:
    key = service.new_licence(expiry="2025-01-16T09:30:00.000Z")
    assert ok(service.grant(key, ["OTP Authentication"]))
    service.clock.set(START + timedelta(days=1))  # exactly the expiry: still valid
    assert ok(service.read(key)) == {"permissions": ["OTP Authentication"]}
    service.clock.advance(timedelta(milliseconds=1))
    body = service.read(key)
    assert errors(body) == ["KER-LKM-005"] and body["errors"][0]["message"] == "LicenseKey Expired."
    service.clock.set(START)  # back before the expiry (the clock decides, not the wall clock)
    assert ok(service.read(key)) == {"permissions": ["OTP Authentication"]}


def test_reading_a_licence_without_permissions_is_ker_lkm_009(service: Service) -> None:
    key = service.new_licence()
    body = service.read(key)
    assert errors(body) == ["KER-LKM-009"]
    assert body["errors"][0]["message"] == "No Permissions has been mapped to the entered TSP-LicenseKey Pair."


def test_reading_an_unknown_pair_is_ker_lkm_004(service: Service) -> None:
    key = service.new_licence()
    assert errors(service.read(key, tsp="other")) == ["KER-LKM-004"]
    assert errors(service.read("NoSuchLicence000")) == ["KER-LKM-004"]


def test_reading_with_blank_parameters_reports_them_together(service: Service) -> None:
    body = service.get(tspId="", licenseKey=" ")
    assert errors(body) == ["KER-LKM-001", "KER-LKM-006"]
    assert errors(service.get(tspId=" ", licenseKey="K")) == ["KER-LKM-001"]
    assert errors(service.get(tspId=TSP, licenseKey="")) == ["KER-LKM-006"]


@pytest.mark.parametrize("params", [{}, {"tspId": TSP}, {"licenseKey": "K"}])
def test_reading_without_a_parameter_is_ker_kms_005(service: Service, params: dict[str, str]) -> None:
    body = service.get(**params)
    assert errors(body) == ["KER-KMS-005"]
    assert "Required request parameter" in body["errors"][0]["message"]


def test_the_permissions_of_one_licence_are_its_own(service: Service) -> None:
    first, second = service.new_licence(), service.new_licence()
    assert ok(service.grant(first, ["OTP Trigger"]))
    assert ok(service.grant(second, ["eKYC - Full"]))
    assert ok(service.read(first))["permissions"] == ["OTP Trigger"]
    assert ok(service.read(second))["permissions"] == ["eKYC - Full"]


def test_concurrent_mappings_lose_no_permission(service: Service) -> None:
    """Each mapping reads, appends and writes under the unit of work's lock on the licence."""
    key = service.new_licence()
    permissions = [f"OTP Trigger {n}" for n in range(8)]
    start = threading.Barrier(len(permissions))
    failures: list[BaseException] = []

    def grant(permission: str) -> None:
        try:
            client = create_app(service.settings, service.container).test_client()
            start.wait(timeout=10)
            body = client.post(f"{API}/license/permission",
                               json=wrap({"tspId": TSP, "licenseKey": key, "permissions": [permission]})).get_json()
            assert body["errors"] is None, body
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=grant, args=(permission,)) for permission in permissions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert sorted(ok(service.read(key))["permissions"]) == sorted(permissions)


# -- an operator's existing database ---------------------------------------------------------------


def _run_sql(service: Service, statements: list[str]) -> None:
    if service.store == "sqlite":
        connection = sqlite3.connect(service.settings.sqlite_path, isolation_level=None)
        try:
            for statement in statements:
                connection.execute(statement)
        finally:
            connection.close()
        return
    database = service.container.database()
    with service.container.uow_factory()() as unit:
        for statement in statements:
            for table in ("licensekey_list", "licensekey_permission", "tsp_licensekey_map"):
                statement = statement.replace(f"INTO {table}", f"INTO {database.schema}.{table}")
            unit.write(statement, {})
        unit.commit()


def test_licences_the_reference_wrote_keep_working(sql_service: Service) -> None:
    _run_sql(sql_service, [
        "INSERT INTO licensekey_list (license_key, created_dtime, expiry_dtime, is_active, cr_by, cr_dtimes)"
        " VALUES ('RefLicense000001', '2024-03-01 10:00:00.123', '2025-06-01 00:00:00', TRUE,"
        " 'defaultadmin@mosip.io', '2024-03-01 10:00:00.123')",
        "INSERT INTO tsp_licensekey_map (tsp_id, license_key, is_active, cr_by, cr_dtimes)"
        " VALUES ('TSP-REF', 'RefLicense000001', TRUE, 'SYSTEM', '2024-03-01 10:00:00.123')",
        "INSERT INTO licensekey_permission (license_key, permission, is_active, cr_by, cr_dtimes)"
        " VALUES ('RefLicense000001', 'OTP Trigger,eKYC - Full,', TRUE, 'defaultadmin@mosip.io',"
        " '2024-03-01 10:05:00')",
        # An older licence, mapped, with no permission row yet
        "INSERT INTO licensekey_list (license_key, created_dtime, expiry_dtime, is_active, cr_by, cr_dtimes)"
        " VALUES ('RefLicense000002', '2020-01-01 00:00:00', '2024-01-01 00:00:00', TRUE,"
        " 'defaultadmin@mosip.io', '2020-01-01 00:00:00')",
        "INSERT INTO tsp_licensekey_map (tsp_id, license_key, is_active, cr_by, cr_dtimes)"
        " VALUES ('TSP-REF', 'RefLicense000002', TRUE, 'SYSTEM', '2020-01-01 00:00:00')",
        # Written by hand: no expiry
        "INSERT INTO licensekey_list (license_key, is_active, cr_by, cr_dtimes)"
        " VALUES ('RefLicense000003', TRUE, 'operator', '2024-01-01 00:00:00')",
        "INSERT INTO tsp_licensekey_map (tsp_id, license_key, is_active, cr_by, cr_dtimes)"
        " VALUES ('TSP-REF', 'RefLicense000003', TRUE, 'operator', '2024-01-01 00:00:00')",
    ])
    # the trailing separator the reference's own writes may leave is dropped, as Java's split drops it
    assert ok(sql_service.read("RefLicense000001", tsp="TSP-REF")) == {"permissions": ["OTP Trigger", "eKYC - Full"]}
    assert ok(sql_service.grant("RefLicense000001", ["Static Pin Authentication"], tsp="TSP-REF"))
    assert ok(sql_service.read("RefLicense000001", tsp="TSP-REF"))["permissions"] == [
        "Static Pin Authentication", "OTP Trigger", "eKYC - Full"
    ]
    assert errors(sql_service.read("RefLicense000001", tsp="TSP-OTHER")) == ["KER-LKM-004"]
    assert errors(sql_service.read("RefLicense000002", tsp="TSP-REF")) == ["KER-LKM-005"]  # expired in 2024
    assert ok(sql_service.grant("RefLicense000002", ["eKYC - No"], tsp="TSP-REF"))  # its first permission row
    # Deliberate: the reference answers HTTP 500 to a licence without an expiry; here it counts as expired
    assert errors(sql_service.read("RefLicense000003", tsp="TSP-REF")) == ["KER-LKM-005"]
    sql_service.clock.set(START.replace(year=2025, month=6, day=1, hour=0, minute=0))
    assert ok(sql_service.read("RefLicense000001", tsp="TSP-REF"))  # valid up to its expiry instant


# -- settings ---------------------------------------------------------------------------------------


def test_the_length_and_permissions_come_from_the_settings(tmp_path: Path, request, make_container) -> None:
    settings = Settings.from_env({
        "KEYMANAGER_LICENSEKEY_LENGTH": "40", "KEYMANAGER_LICENSEKEY_PERMISSIONS": "READ, WRITE ,,",
    })
    assert settings.licensekey_length == 40 and settings.licensekey_permissions == ("READ", "WRITE")
    service = make_service("memory", tmp_path, request, make_container, licensekey_length=40,
                           licensekey_permissions=("READ", "WRITE"))
    key = service.new_licence()
    assert re.fullmatch(r"[A-Za-z0-9]{40}", key)
    assert ok(service.grant(key, ["READ_ALL", "WRITE"]))
    assert errors(service.grant(key, ["OTP Trigger"])) == ["KER-LKM-003"]


def test_the_default_settings_are_the_references() -> None:
    settings = Settings.from_env({})
    assert settings.licensekey_length == 16
    assert settings.licensekey_permissions == DEFAULT_PERMISSIONS
    assert Settings.from_env({"KEYMANAGER_LICENSEKEY_LENGTH": "0"}).licensekey_length == 1
    assert Settings.from_env({"KEYMANAGER_LICENSEKEY_LENGTH": "999"}).licensekey_length == 255  # the column


# -- audit and logs ---------------------------------------------------------------------------------


def test_generate_and_mapping_are_audited_without_the_tsp_or_the_key(service: Service) -> None:
    tsp = "tsp-sentinel-7c41"
    key = service.new_licence(tsp=tsp)
    assert errors(service.generate(tsp=tsp, expiry=PAST)) == ["KER-LKM-008"]
    assert ok(service.grant(key, ["OTP Trigger"], tsp=tsp))
    assert errors(service.grant(key, ["Unknown"], tsp=tsp)) == ["KER-LKM-003"]
    assert errors(service.grant(" ", [""], tsp=None)) == ["KER-LKM-001", "KER-LKM-006", "KER-LKM-007"]
    assert ok(service.read(key, tsp=tsp))  # reading is not audited
    records = [r for r in service.audit() if r.operation.startswith("license/")]
    assert [(r.operation, r.outcome) for r in records] == [
        ("license/generate", SUCCESS), ("license/generate", "KER-LKM-008"),
        ("license/permission", SUCCESS), ("license/permission", "KER-LKM-003"),
        ("license/permission", "KER-LKM-001"),
    ]
    for record in records:
        assert record.subject == "dev"
        assert (record.app_id, record.ref_id, record.key_alias, record.thumbprint) == (None, None, None, None)
        assert tsp not in repr(record) and key not in repr(record)


def test_neither_the_licence_key_nor_the_tsp_is_logged(service: Service, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="keymanager")
    tsp = "tsp-sentinel-5e0a"
    key = service.new_licence(tsp=tsp)
    ok(service.grant(key, ["OTP Trigger"], tsp=tsp))
    ok(service.read(key, tsp=tsp))
    errors(service.read(key, tsp="other-sentinel-tsp"))
    errors(service.get(tspId=tsp))
    text = "\n".join(caplog.handler.format(record) for record in caplog.records)
    assert "/license/" in text  # the access log did write its lines
    for secret in (key, tsp, "other-sentinel-tsp"):
        assert secret not in text


# -- roles (OIDC) -------------------------------------------------------------------------------------


def test_generate_needs_its_role_and_the_permission_endpoints_any_token(oidc_client, idp) -> None:
    def call(method: str, path: str, token: str | None, body: Any = None):
        headers = bearer(token) if token else {}
        if method == "get":
            return oidc_client.get(f"{API}{path}", headers=headers)
        return oidc_client.post(f"{API}{path}", json=wrap(body), headers=headers)

    generate = {"tspId": TSP, "licenseExpiryTime": "2099-01-01T00:00:00.000Z"}
    outsider = idp.token(roles=["SOMEONE_ELSE"])
    assert call("post", "/license/generate", None, generate).status_code == 401
    assert call("post", "/license/generate", outsider, generate).status_code == 403
    admin = idp.token(roles=["ZONAL_ADMIN"])
    answer = call("post", "/license/generate", admin, generate)
    assert answer.status_code == 200
    key = ok(answer.get_json())["licenseKey"]
    mapping = {"tspId": TSP, "licenseKey": key, "permissions": ["OTP Trigger"]}
    assert call("post", "/license/permission", None, mapping).status_code == 401
    assert call("get", f"/license/permission?tspId={TSP}&licenseKey={key}", None).status_code == 401
    assert ok(call("post", "/license/permission", outsider, mapping).get_json()) == {"status": STATUS}
    read = call("get", f"/license/permission?tspId={TSP}&licenseKey={key}", outsider)
    assert ok(read.get_json()) == {"permissions": ["OTP Trigger"]}


def test_the_api_document_describes_the_three_operations(client) -> None:
    document = client.get(f"{API}/v3/api-docs").get_json()
    generate = document["paths"][f"{API}/license/generate"]["post"]
    assert generate["x-mosip-role-key"] == "postlicensegenerate" and generate["x-audited"] == "license/generate"
    mapping = document["paths"][f"{API}/license/permission"]["post"]
    reading = document["paths"][f"{API}/license/permission"]["get"]
    assert "x-mosip-role-key" not in mapping and "x-mosip-role-key" not in reading
    assert mapping["x-audited"] == "license/permission" and "x-audited" not in reading
    assert {(p["name"], p["required"]) for p in reading["parameters"]} == {("tspId", True), ("licenseKey", True)}
    schemas = document["components"]["schemas"]
    assert schemas["LicenseGenerateRequest"]["required"] == ["licenseExpiryTime"]
    assert set(schemas["LicensePermissionRequest"]["properties"]) == {"tspId", "licenseKey", "permissions"}
    assert set(schemas["LicenseKeyFetchResponse"]["properties"]) == {"permissions"}
