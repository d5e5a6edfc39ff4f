"""The application's access log and error log carry no request data (issue 12).

Every request leaves one ``keymanager.access`` line with the method, the route *template*, the status,
the duration and a request id, never the concrete path nor the query string; an unknown path is
``<unmatched>``. A marker UIN, partner code and encryptedKey sent in paths, query strings and form
fields must appear in no log record, including the error log of an unexpected failure whose exception
message quotes the UIN. ``X-Request-ID`` is taken from the caller when short and plain, else generated,
and echoed.
"""
from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from dependency_injector import providers

from entrypoints.http.app import create_app

API = "/v1/keymanager"
MARKER_UIN = "9876543210123"
MARKER_PARTNER = "mrkpartner7391"
MARKER_KEY = "Zm9vYmFyOTg3NjU0MzIxMDEyMw-marker-key-5521"
MARKERS = (MARKER_UIN, MARKER_PARTNER, MARKER_KEY)
TOKEN_TEMPLATE = f"{API}/tokenid/{{uin}}/{{partnercode}}"
ZK_TEMPLATE = f"{API}/zkReEncryptRandomKey"
HEX32 = re.compile(r"[0-9a-f]{32}")
LOGGERS = ("keymanager", "keymanager.access", "keymanager.http", "keymanager.auth", "keymanager.audit", "werkzeug")
ACCESS_LINE = re.compile(r"^(?P<method>\S+) (?P<route>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms rid=(?P<rid>\S+)$")


@pytest.fixture
def logs(caplog, monkeypatch):
    # import-linter's dictConfig (run by the layer tests in the same session) disables existing loggers.
    for name in LOGGERS:
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="keymanager")
    return caplog


def everything_logged(caplog) -> str:
    parts: list[str] = []
    for record in caplog.records:
        parts.append(caplog.handler.format(record))
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


def access_lines(caplog) -> list[dict[str, Any]]:
    lines = []
    for record in caplog.records:
        if record.name == "keymanager.access":
            assert record.levelno == logging.INFO
            match = ACCESS_LINE.match(record.getMessage())
            assert match, record.getMessage()
            lines.append(match.groupdict())
    return lines


def assert_no_marker(caplog) -> None:
    logged = everything_logged(caplog)
    for marker in MARKERS:
        assert marker not in logged, f"{marker!r} reached the log:\n{logged}"


def test_access_lines_name_templates_never_values(client, logs) -> None:
    responses = [
        client.get(f"{API}/tokenid/{MARKER_UIN}/{MARKER_PARTNER}"),
        client.post(f"{API}/zkReEncryptRandomKey", query_string={"encryptedKey": MARKER_KEY}),
        client.post(f"{API}/zkReEncryptRandomKey", data={"encryptedKey": MARKER_KEY}),
        client.get(f"{API}/getCertificate", query_string={"applicationId": MARKER_UIN, "referenceId": MARKER_PARTNER}),
        client.get(f"{API}/no-such-thing/{MARKER_UIN}?uin={MARKER_UIN}"),  # 404: the path itself is caller text
        client.post(f"{API}/tokenid/{MARKER_UIN}/{MARKER_PARTNER}"),  # 405
        client.open(f"{API}/tokenid/{MARKER_UIN}/{MARKER_PARTNER}", method=MARKER_UIN),  # an extension method
    ]
    assert responses[0].status_code == 200 and responses[0].get_json()["errors"] is None
    assert [r.status_code for r in responses[4:6]] == [404, 405]

    lines = access_lines(logs)
    assert [(line["method"], line["route"], int(line["status"])) for line in lines] == [
        ("GET", TOKEN_TEMPLATE, 200),
        ("POST", ZK_TEMPLATE, responses[1].status_code),
        ("POST", ZK_TEMPLATE, responses[2].status_code),
        ("GET", f"{API}/getCertificate", responses[3].status_code),
        ("GET", "<unmatched>", 404),
        ("POST", "<unmatched>", 405),
        ("<other>", "<unmatched>", responses[6].status_code),
    ]
    for line, response in zip(lines, responses):
        assert line["rid"] == response.headers["X-Request-ID"]
    assert_no_marker(logs)


def test_request_id_is_echoed_when_safe_else_generated(client, logs) -> None:
    given = "req-42.abc_DEF"
    assert client.get(f"{API}/tokenid/{MARKER_UIN}/p", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given
    longest = "a" * 64
    assert client.get(f"{API}/tokenid/1/p", headers={"X-Request-ID": longest}).headers["X-Request-ID"] == longest

    generated = []
    for unsafe in ("a" * 65, f"uin {MARKER_UIN}", f"{MARKER_UIN}\u00e9", "", None):
        headers = {} if unsafe is None else {"X-Request-ID": unsafe}
        rid = client.get(f"{API}/tokenid/{MARKER_UIN}/p", headers=headers).headers["X-Request-ID"]
        assert HEX32.fullmatch(rid), rid
        generated.append(rid)
    assert len(set(generated)) == len(generated)  # a fresh one each time

    lines = access_lines(logs)
    assert [line["rid"] for line in lines] == [given, longest, *generated]
    assert {line["route"] for line in lines} == {TOKEN_TEMPLATE}
    assert_no_marker(logs)


def test_unauthenticated_request_is_logged_with_its_template(memory_settings, container, logs) -> None:
    settings = memory_settings.with_overrides(
        auth_mode="oidc", oidc_issuer="https://idp.example/realms/mosip",
        oidc_jwks_url="https://idp.example/realms/mosip/certs", oidc_audience=("keymanager",),
    )
    client = create_app(settings, container).test_client()
    response = client.get(f"{API}/tokenid/{MARKER_UIN}/{MARKER_PARTNER}", headers={"X-Request-ID": "r401"})
    assert response.status_code == 401 and response.headers["X-Request-ID"] == "r401"
    assert [(line["route"], line["status"], line["rid"]) for line in access_lines(logs)] == [
        (TOKEN_TEMPLATE, "401", "r401")
    ]
    assert_no_marker(logs)


class _Exploding:
    """A token-id use case failing the way library code does: the message quotes the input."""

    def execute(self, uin: str, partner_code: str) -> str:
        try:
            int(uin + "x")  # ValueError: invalid literal for int() with base 10: '<uin>x'
        except ValueError as error:
            raise RuntimeError(f"token for {uin}/{partner_code} failed") from error
        raise AssertionError("unreachable")


def test_unexpected_error_log_has_type_template_and_request_id_but_no_message(client, container, logs) -> None:
    with container.generate_token_id.override(providers.Object(_Exploding())):
        response = client.get(f"{API}/tokenid/{MARKER_UIN}/{MARKER_PARTNER}", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert MARKER_UIN not in response.get_data(as_text=True)

    errors = [record for record in logs.records if record.name == "keymanager.http" and record.levelno >= logging.ERROR]
    assert len(errors) == 1
    record = errors[0]
    assert record.exc_info is None  # logging would print the message of an exc_info
    text = logs.handler.format(record)
    assert f"unhandled RuntimeError on GET {TOKEN_TEMPLATE} rid=boom-1" in text
    assert "Traceback (most recent call last):" in text
    assert "ValueError (message withheld" in text and "RuntimeError (message withheld" in text
    assert "in execute" in text  # the frames are kept: the failure can still be located
    assert [(line["route"], line["status"], line["rid"]) for line in access_lines(logs)] == [
        (TOKEN_TEMPLATE, "500", "boom-1")
    ]
    assert_no_marker(logs)
