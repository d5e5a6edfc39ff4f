"""Prometheus metrics (issue 13): names and labels, route templates only, keys from the store, who may scrape."""
from __future__ import annotations

import re

from entrypoints.http.app import create_app
from tests.support.oidc import bearer

API = "/v1/keymanager"


def scrape(client, headers=None) -> str:
    response = client.get(f"{API}/actuator/prometheus", headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return response.get_data(as_text=True)


def value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in:\n{text}"
    return float(match.group(1))


def test_request_histogram_by_route_template(client) -> None:
    before = scrape(client)
    for _ in range(3):
        assert client.get(f"{API}/tokenid/9876543210123/partnerx").status_code == 200
    text = scrape(client)
    series = (f'http_server_requests_seconds_count{{method="GET",outcome="SUCCESS",status="200",'
              f'uri="{API}/tokenid/{{uin}}/{{partnercode}}"}}')
    assert value(text, series) - (value(before, series) if series in before else 0) == 3
    assert "9876543210123" not in text and "partnerx" not in text  # templates, never the concrete path
    client.get(f"{API}/no/such/9876543210123")
    assert 'uri="<unmatched>"' in scrape(client)


def test_keys_from_the_store(client, container) -> None:
    client.get(f"{API}/getCertificate", query_string={"applicationId": "REGISTRATION", "referenceId": "m1"})
    text = scrape(client)
    expiry = value(text, 'keymanager_key_expiry_seconds{application_id="REGISTRATION",reference_id="m1"}')
    due = value(text, 'keymanager_key_rotation_due_seconds{application_id="REGISTRATION",reference_id="m1"}')
    assert 0 < due < expiry  # the pre-expiry window opens before the key expires
    with container.uow_factory()() as uow:
        assert value(text, "keymanager_keys_in_store") == len(uow.keys.all_aliases())


def test_process_counters_are_exported(client) -> None:
    text = scrape(client)
    for name in ("keymanager_audit_records_total", "keymanager_audit_failures_total",
                 "keymanager_decrypt_key_cache_hits_total", "keymanager_decrypt_key_cache_misses_total",
                 "keymanager_db_pool_connections_in_use", "keymanager_slow_work_in_flight"):
        assert re.search(rf"^{name} ", text, re.MULTILINE), name
    assert "_created" not in text


def test_metrics_are_open_by_default_and_for_admins_when_closed(oidc_settings, container, idp) -> None:  # noqa: F811
    assert create_app(oidc_settings, container).test_client().get(f"{API}/actuator/prometheus").status_code == 200
    closed = create_app(oidc_settings.with_overrides(metrics_public=False), container).test_client()
    assert closed.get(f"{API}/actuator/prometheus").status_code == 401
    assert closed.get(f"{API}/actuator/prometheus",
                      headers=bearer(idp.token(roles=["REGISTRATION_PROCESSOR"]))).status_code == 403
    scrape(closed, bearer(idp.token(roles=["GLOBAL_ADMIN"])))


def test_an_invented_method_is_not_a_label(client) -> None:
    client.open(f"{API}/tokenid/1/p", method="X9876543210123")
    text = scrape(client)
    assert "9876543210123" not in text and 'method="<other>"' in text
