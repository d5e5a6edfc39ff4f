"""Hostile request bodies get a clean KER-KMS-005, never a 500 or a traceback (issue 12):
JSON nested too deep, text that is not valid Unicode (lone surrogates), a ``requesttime``
that is not a date-time, and paging numbers beyond a Java int.
"""
from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest

from domain.keys import KeyTuple
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

API = "/v1/keymanager"
REQUEST_TIME = "2024-05-01T10:15:30.123Z"
APP, REF = "REGISTRATION", "10001_110011"
DATA = base64.urlsafe_b64encode(b"hello").rstrip(b"=").decode()
LONE = "\ud800"  # json.dumps writes it as the escape \ud800, as a hostile client would


def wrap(request: Any, **envelope: Any) -> dict[str, Any]:
    return {"id": "mosip.test", "version": "1.0", "requesttime": REQUEST_TIME, "metadata": {}, "request": request,
            **envelope}


def send(client, path: str, body: Any, method: str = "post"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return getattr(client, method)(API + path, data=data, content_type="application/json")


def refused(response, caplog, *, mentions: str = "", prefix: str = "Invalid request") -> str:
    """HTTP 200, KER-KMS-005 only, nothing logged at ERROR (no traceback); the messages."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["response"] is None, body
    assert {e["errorCode"] for e in body["errors"]} == {"KER-KMS-005"}, body["errors"]
    message = "; ".join(e["message"] for e in body["errors"])
    assert message.startswith(prefix) and mentions in message, message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    return message


def ok(response) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == 200 and body["errors"] is None, body
    return body["response"]


def crypto(ref: str = REF, **extra: Any) -> dict[str, Any]:
    return {"applicationId": APP, "referenceId": ref, "data": DATA, **extra}


# -- nesting depth --------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize("shape", ["object", "array"])
@pytest.mark.parametrize("path", ["/decrypt", "/encrypt", "/getCaCertificates"])
def test_deeply_nested_json(client, caplog, depth: int, shape: str, path: str) -> None:
    text = '{"request":' * depth + "1" + "}" * depth if shape == "object" else "[" * depth + "]" * depth
    refused(send(client, path, text), caplog)


def test_nesting_below_the_recursion_limit_is_still_refused(client, caplog) -> None:
    nested: Any = 1
    for _ in range(100):
        nested = {"a": [nested]}
    refused(send(client, "/encrypt", wrap(crypto(), metadata=nested)), caplog, mentions="deep")


def test_ordinary_nesting_is_accepted(client) -> None:
    headers = {"jwk": {"kty": "RSA", "x": {"y": [1, {"z": [2, 3]}]}}}
    request = {"dataToSign": base64.urlsafe_b64encode(b'{"a":1}').rstrip(b"=").decode(), "additionalHeaders": headers}
    assert ok(send(client, "/jwtSign/v2", wrap(request, metadata={"a": [[[{"b": [[1]]}]]]})))["jwtSignedData"]


# -- text that is not valid Unicode ---------------------------------------------------------------


def encrypted(client) -> str:
    return ok(send(client, "/encrypt", wrap(crypto())))["data"]


def test_lone_surrogate_in_decrypt_reference_id(client, caplog) -> None:
    request = crypto(data=encrypted(client), referenceId=LONE)
    refused(send(client, "/decrypt", wrap(request)), caplog, mentions="Unicode")


@pytest.mark.parametrize("raw", [False, True], ids=["escaped", "utf8-bytes"])
def test_lone_surrogate_in_encrypt_reference_id(client, caplog, raw: bool) -> None:
    text = json.dumps(wrap(crypto(ref=LONE)))
    if raw:  # the surrogate's UTF-8-style bytes (ED A0 80) instead of its escape
        text = text.replace("\\ud800", "\ud800").encode("utf-8", "surrogatepass")
    refused(send(client, "/encrypt", text), caplog, mentions="Unicode")


def test_lone_surrogate_in_an_ignored_field(client, caplog) -> None:
    pin = {"data": DATA, "userPin": "1234", "applicationId": "x" + LONE}
    refused(send(client, "/decryptWithPin", wrap(pin)), caplog)
    refused(send(client, "/encryptWithPin", wrap(pin)), caplog)
    refused(send(client, "/sign", wrap({"data": DATA, "applicationId": LONE})), caplog)


@pytest.mark.parametrize("where", ["key", "metadata", "id", "list"])
def test_lone_surrogate_anywhere_refuses_before_any_work(client, container, caplog, where: str) -> None:
    fresh = "fresh_ref_" + where
    request = crypto(ref=fresh)
    body = wrap(request)
    if where == "key":
        request["\udc00"] = 1
    elif where == "metadata":
        body["metadata"] = {"a": [{"b": "ok\udfff"}]}
    elif where == "id":
        body["id"] = LONE
    else:
        body["metadata"] = ["x", ["y", LONE]]
    refused(send(client, "/encrypt", body), caplog)
    with container.uow_factory()() as uow:
        assert uow.keys.aliases_for(KeyTuple(APP, fresh)) == []  # no base key made for the refused call


def test_valid_surrogate_pairs_are_text(client) -> None:
    assert ok(send(client, "/encrypt", wrap(crypto(), metadata={"emoji": "\U0001F600 é"})))["data"]


# -- requesttime ----------------------------------------------------------------------------------


BODY_PATHS = [
    ("post", "/encrypt"), ("post", "/decrypt"), ("post", "/jwtSign"), ("post", "/jwtVerify"), ("post", "/sign"),
    ("post", "/encryptWithPin"), ("post", "/generateMasterKey/CERTIFICATE"), ("put", "/revokeKey"),
    ("post", "/getCaCertificates"), ("post", "/uploadCACertificate"), ("post", "/zkEncrypt"),
    ("post", "/generateArgon2Hash"),
]


@pytest.mark.parametrize("method,path", BODY_PATHS)
def test_unparsable_requesttime_on_every_body_endpoint(client, caplog, method: str, path: str) -> None:
    body = wrap(crypto(), requesttime="INVALID-TIMESTAMP-FORMAT")
    refused(send(client, path, body, method), caplog, mentions="requesttime")


@pytest.mark.parametrize("stamp", [
    "2024-05-01", "2024-05-01 10:15:30", "2024-13-01T10:15:30Z", "2024-02-30T10:15:30.000Z", "2024-05-01T24:00:00",
    "2024-05-01T10:15:30.Z", "2024-05-01T10:15:30.1234567890Z", "2024-05-01T10:15:30ZZ", "T10:15:30",
    "\u0662\u0660\u0662\u0664-05-01T10:15:30Z", "now", 1714558530123, True, [2024, 5, 1], {},
])
def test_requesttime_garbage(client, caplog, stamp: Any) -> None:
    refused(send(client, "/encrypt", wrap(crypto(), requesttime=stamp)), caplog, mentions="requesttime")


@pytest.mark.parametrize("stamp", [
    "2024-05-01T10:15:30.123Z", "2024-05-01T10:15:30Z", "2024-05-01T10:15:30.123", "2024-05-01T10:15:30",
    "2024-05-01T10:15", "2024-05-01T10:15:30.123456789Z", "2024-05-01T10:15:30.1", "2024-05-01T10:15:30+05:30",
    " 2024-05-01T10:15:30.123Z ", "", None,
])
def test_requesttime_accepted(client, stamp: Any) -> None:
    assert ok(send(client, "/encrypt", wrap(crypto(), requesttime=stamp)))["data"]


def test_requesttime_absent_is_accepted(client) -> None:
    body = wrap(crypto())
    del body["requesttime"]
    assert ok(send(client, "/encrypt", body))["data"]


def test_requesttime_error_echoes_id_and_version(client) -> None:
    body = send(client, "/encrypt", wrap(crypto(), requesttime="INVALID-TIMESTAMP-FORMAT")).get_json()
    assert body["errors"] and (body["id"], body["version"]) == ("mosip.test", "1.0"), body


# -- paging numbers -------------------------------------------------------------------------------


@pytest.fixture
def sqlite_client(make_container, sqlite_settings, clock):
    """SQLite is where an out-of-range page number used to crash (OverflowError binding OFFSET)."""
    return create_app(sqlite_settings, make_container(sqlite_settings, clock)).test_client()


HUGE = 99999999999999999999999


@pytest.mark.parametrize("paging", [
    {"pageNumber": HUGE}, {"pageSize": HUGE}, {"pageNumber": HUGE, "pageSize": HUGE}, {"pageNumber": 2**31},
    {"pageSize": 2**31}, {"pageNumber": -(2**31) - 1}, {"pageSize": -HUGE},
])
def test_paging_beyond_a_java_int(sqlite_client, caplog, paging: dict[str, int]) -> None:
    message = refused(send(sqlite_client, "/getCaCertificates", wrap(paging)), caplog, prefix="request.page")
    assert all(f"request.{name} must be an integer from -2147483648 to 2147483647" in message for name in paging)


@pytest.mark.parametrize("paging,expected", [
    ({"pageNumber": 2**31 - 1, "pageSize": 2**31 - 1}, (2**31 - 1, 2**31 - 1)),
    ({"pageNumber": 0, "pageSize": 0}, (1, 10)),
    ({"pageNumber": -(2**31), "pageSize": -5}, (1, 10)),
])
def test_paging_within_a_java_int(sqlite_client, paging: dict[str, int], expected: tuple[int, int]) -> None:
    page = ok(send(sqlite_client, "/getCaCertificates", wrap(paging)))
    assert (page["pageNumber"], page["pageSize"]) == expected and page["allPartnerCertificates"] == []


# -- URLs: the path and the query string must be UTF-8 too ------------------------------------------


@pytest.mark.parametrize("url", [
    "/v1/keymanager/getCertificate?applicationId=REGISTRATION&referenceId=%ED%A0%80",  # a lone surrogate
    "/v1/keymanager/getCertificate?applicationId=REGISTRATION&referenceId=%FF%FE",
    "/v1/keymanager/tokenid/x/partner?extra=%C3%28",
])  # (Werkzeug's test client mangles invalid bytes in a path itself: tests/e2e/test_http_hardening.py sends them)
def test_a_url_that_is_not_utf8_is_refused_before_anything_runs(make_container, url, caplog) -> None:
    from tests.support.containers import init_master_keys

    settings = Settings(store="memory", keystore="memory")
    container = make_container(settings)
    init_master_keys(container)
    client = create_app(settings, container).test_client()
    with container.uow_factory()() as uow:
        before = len(uow.keys.all_aliases())
    with caplog.at_level("ERROR"):
        response = client.get(url)
    assert response.status_code == 200
    body = response.get_json()
    assert [e["errorCode"] for e in body["errors"]] == ["KER-KMS-005"] and body["response"] is None
    assert "UTF-8" in body["errors"][0]["message"]
    with container.uow_factory()() as uow:
        assert len(uow.keys.all_aliases()) == before  # no key for a mangled reference id
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_utf8_text_in_a_url_is_accepted() -> None:
    settings = Settings(store="memory", keystore="memory")
    client = create_app(settings).test_client()
    response = client.get("/v1/keymanager/tokenid/%C3%A9t%C3%A9/partner")
    assert response.status_code == 200 and response.get_json()["errors"] is None


# -- NUL characters: Java strings hold them, PostgreSQL text cannot ---------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("method,url,body", [
    ("get", "/getCertificate?applicationId=REGISTRATION&referenceId=a%00b", None),
    ("get", "/tokenid/12%0034/partner", None),
    ("post", "/encrypt", wrap(crypto(ref="a\u0000b"))),
    ("post", "/generateMasterKey/CERTIFICATE", wrap({"applicationId": "REGIS\u0000TRATION", "force": False})),
    ("post", "/uploadCACertificate", wrap({"certificateData": "x", "partnerDomain": "FT\u0000M"})),
])
def test_a_nul_character_is_refused_before_it_reaches_postgresql(
    make_container, postgres_schema_url, method, url, body, caplog
) -> None:
    from tests.support.containers import init_master_keys

    settings = Settings(store="postgres", keystore="memory", db_url=postgres_schema_url)
    container = make_container(settings)
    init_master_keys(container)
    client = create_app(settings, container).test_client()
    with caplog.at_level("ERROR"):
        if body is None:
            response = client.get(API + url)
        else:
            response = send(client, url, body, method)
    message = refused(response, caplog, mentions="NUL character")
    assert "URL" in message if body is None else "body" in message
