"""KEYMANAGER_LOG_FORMAT=json and KEYMANAGER_CORS_ORIGINS (issue 13)."""
from __future__ import annotations

import io
import json
import logging

import pytest

from entrypoints.http.app import create_app
from entrypoints.log_format import JsonFormatter, RequestIdFilter, configure_logging

API = "/v1/keymanager"


@pytest.fixture
def json_lines():
    """Every record of the test as the JSON formatter writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_json_access_line_has_the_fields_and_no_path_data(client, json_lines) -> None:
    response = client.get(f"{API}/tokenid/9876543210123/partner42", headers={"X-Request-ID": "req-7"})
    assert response.status_code == 200
    (line,) = [entry for entry in json_lines() if entry["logger"] == "keymanager.access"]
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")
    assert (line["method"], line["route"], line["status"], line["request_id"]) == (
        "GET", f"{API}/tokenid/{{uin}}/{{partnercode}}", 200, "req-7")
    assert isinstance(line["latency_ms"], float)
    assert "9876543210123" not in json.dumps(json_lines()) and "partner42" not in json.dumps(json_lines())


def test_other_records_of_a_request_carry_its_id_and_tracebacks_stay_in_one_record(client, container,
                                                                                   json_lines) -> None:
    class Broken:
        def execute(self, uin, partner):
            raise RuntimeError(f"internal detail {uin}")  # an exception message quoting caller data

    container.generate_token_id.override(Broken())
    try:
        assert client.get(f"{API}/tokenid/5501/p", headers={"X-Request-ID": "req-9"}).status_code == 500
    finally:
        container.generate_token_id.reset_override()
    (error,) = [entry for entry in json_lines() if entry["level"] == "ERROR"]
    assert error["request_id"] == "req-9" and "RuntimeError" in error["message"]
    assert "5501" not in json.dumps(error) and "message withheld" in error["message"]
    outside = logging.getLogger("keymanager.test")
    outside.info("no request here")
    assert json_lines()[-1]["message"] == "no request here" and "request_id" not in json_lines()[-1]


def test_configure_logging_switches_the_format_and_back() -> None:
    root = logging.getLogger()
    configure_logging("json")
    try:
        assert all(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    finally:
        configure_logging("text")
    assert not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)


def test_cors_is_off_by_default(client) -> None:
    response = client.get(f"{API}/getCertificate?applicationId=ROOT", headers={"Origin": "https://ui.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allows_the_configured_origins_and_preflight_needs_no_token(oidc_settings, container) -> None:  # noqa: F811
    settings = oidc_settings.with_overrides(cors_origins=("https://ui.example",))
    client = create_app(settings, container).test_client()
    preflight = client.options(f"{API}/encrypt", headers={
        "Origin": "https://ui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://ui.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    refused = client.get(f"{API}/getCertificate?applicationId=ROOT", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 401 and "Access-Control-Allow-Origin" not in refused.headers
    # the real call still needs its token: CORS opens the browser's door, not ours
    assert client.post(f"{API}/encrypt", json={}, headers={"Origin": "https://ui.example"}).status_code == 401


def test_without_cors_a_preflight_is_authenticated_like_any_options(oidc_settings, container) -> None:  # noqa: F811
    client = create_app(oidc_settings, container).test_client()
    preflight = client.options(f"{API}/encrypt", headers={
        "Origin": "https://ui.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 401
