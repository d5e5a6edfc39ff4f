"""The admin console's API (issue 17): key inventory, key policies, the audit trail, through Flask's test client.

In the dev mode (every role), on the in-memory store with the clock injected; the policy change also across two
app instances sharing one SQLite or PostgreSQL store, and through the CLI."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from adapters.clock import ManualClock
from entrypoints.cli import main
from entrypoints.http.app import create_app
from entrypoints.http.audit import pem_thumbprint
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.http_api import ok, wrap
from tests.support.repo import START
from tests.support.required import adapter_params

API = "/v1/keymanager"
ADMIN = f"{API}/admin/api"


def error_codes(response, status: int = 200) -> list[str]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"id", "version", "responsetime", "metadata", "response", "errors"}
    assert body["response"] is None and body["errors"], body
    return [error["errorCode"] for error in body["errors"]]


def keys(client, **filters: str) -> list[dict[str, Any]]:
    return ok(client.get(f"{ADMIN}/keys", query_string=filters))["keys"]


def certificate(client, app: str, ref: str) -> str:
    return ok(client.get(f"{API}/getCertificate", query_string={"applicationId": app, "referenceId": ref}))[
        "certificate"]


def revoke(client, app: str, ref: str) -> None:
    ok(client.put(f"{API}/revokeKey", json=wrap({"applicationId": app, "referenceId": ref})))


def put_policy(client, app: str, **body: Any):
    return client.put(f"{ADMIN}/policies/{app}", json=wrap(body))


def validity_days(pem: str) -> float:
    parsed = x509.load_pem_x509_certificate(pem.encode())
    return (parsed.not_valid_after_utc - parsed.not_valid_before_utc) / timedelta(days=1)


def by_tuple(listed: list[dict[str, Any]], app: str, ref: str = "") -> list[dict[str, Any]]:
    return [key for key in listed if key["applicationId"] == app and key["referenceId"] == ref]


# -- key inventory ----------------------------------------------------------------------------------


def test_the_inventory_lists_every_key_with_its_facts(client) -> None:
    pem = certificate(client, "REGISTRATION", "10001")
    ok(client.post(f"{API}/generateSymmetricKey", json=wrap({"applicationId": "TEST", "referenceId": "AES"})))
    ok(client.post(f"{API}/generateECSignKey/CERTIFICATE",
                   json=wrap({"applicationId": "REGISTRATION", "referenceId": "EC_SECP256R1_SIGN"})))
    listed = keys(client)
    [root] = by_tuple(listed, "ROOT")
    assert (root["kind"], root["algorithm"], root["status"], root["location"]) == ("root", "RSA_2048", "current",
                                                                                    "memory")
    assert root["subject"] == root["issuer"] and "CN=" in root["subject"]
    [module] = by_tuple(listed, "REGISTRATION")
    assert module["kind"] == "module" and module["issuer"] == root["subject"]
    [signing] = by_tuple(listed, "KERNEL", "SIGN")
    assert signing["kind"] == "signing"
    [ec] = by_tuple(listed, "REGISTRATION", "EC_SECP256R1_SIGN")
    assert (ec["kind"], ec["algorithm"]) == ("signing", "EC_P256")
    [aes] = by_tuple(listed, "TEST", "AES")
    assert (aes["kind"], aes["algorithm"], aes["thumbprint"], aes["subject"]) == ("symmetric", "AES_256", None, None)
    [base] = by_tuple(listed, "REGISTRATION", "10001")
    assert (base["kind"], base["location"], base["status"]) == ("base", "database", "current")
    assert base["thumbprint"] == pem_thumbprint(pem)
    assert base["keyId"] and base["superseded"] is False
    assert base["issued"] == "2025-01-15T09:30:00.000Z"  # the injected clock
    assert base["expires"] == "2028-01-15T09:30:00.000Z"  # REGISTRATION's policy: 1095 days
    assert base["preExpiryStart"] == "2027-12-16T09:30:00.000Z"  # BASE: 30 days before


def test_status_follows_revocation_and_the_clock(client, clock: ManualClock) -> None:
    certificate(client, "REGISTRATION", "r1")
    revoke(client, "REGISTRATION", "r1")
    certificate(client, "REGISTRATION", "r1")  # its successor
    old, new = by_tuple(keys(client), "REGISTRATION", "r1")
    assert (old["status"], old["superseded"]) == ("revoked", True)
    assert (new["status"], new["superseded"]) == ("current", False)

    clock.advance(timedelta(days=1070))  # in the base key's window (1095 - 30) and the module's (1095 - 60)
    listed = keys(client)
    assert [key["status"] for key in by_tuple(listed, "REGISTRATION", "r1")] == ["revoked", "due"]
    assert by_tuple(listed, "REGISTRATION")[0]["status"] == "due"
    assert by_tuple(listed, "ROOT")[0]["status"] == "current"  # 2920 days, window 1125

    clock.advance(timedelta(days=40))
    assert [key["status"] for key in by_tuple(keys(client), "REGISTRATION", "r1")] == ["revoked", "expired"]


def test_the_inventory_filters(client) -> None:
    certificate(client, "REGISTRATION", "f1")
    certificate(client, "REGISTRATION", "f2")
    revoke(client, "REGISTRATION", "f2")
    assert {key["referenceId"] for key in keys(client, app="registration")} == {"", "f1", "f2"}
    assert [key["referenceId"] for key in keys(client, app="REGISTRATION", ref="f1")] == ["f1"]
    assert [(key["referenceId"], key["status"]) for key in keys(client, status="revoked")] == [("f2", "revoked")]
    [f1] = keys(client, ref="f1")
    assert [key["alias"] for key in keys(client, q=f1["thumbprint"][:16].lower())] == [f1["alias"]]
    assert {key["applicationId"] for key in keys(client, q="kernel")} == {"KERNEL"}
    assert keys(client, q="no such thing") == []
    assert error_codes(client.get(f"{ADMIN}/keys", query_string={"status": "alive"})) == ["KER-KMS-005"]


def test_the_certificate_of_a_key_with_its_details(client) -> None:
    pem = certificate(client, "REGISTRATION", "c1")
    [base] = keys(client, ref="c1")
    answer = ok(client.get(f"{ADMIN}/keys/{base['alias']}/certificate"))
    assert answer["certificate"] == pem
    details = answer["details"]
    assert details["subject"] == base["subject"] and details["issuer"] == base["issuer"]
    assert details["notBefore"] == "2025-01-15T09:30:00.000Z" and details["notAfter"] == "2028-01-15T09:30:00.000Z"
    assert details["thumbprint"] == base["thumbprint"] and details["publicKey"] == "RSA_2048"
    assert details["basicConstraints"] == "CA:FALSE"
    assert int(details["serial"], 16) == x509.load_pem_x509_certificate(pem.encode()).serial_number
    [root] = keys(client, app="ROOT")
    assert "key_cert_sign" in ok(client.get(f"{ADMIN}/keys/{root['alias']}/certificate"))["details"]["keyUsage"]
    assert error_codes(client.get(f"{ADMIN}/keys/no-such-alias/certificate")) == ["KER-KMA-004"]


# -- the audit trail ----------------------------------------------------------------------------------


def test_audit_records_filters_and_verification(client) -> None:
    certificate(client, "REGISTRATION", "a1")
    revoke(client, "REGISTRATION", "a1")
    client.put(f"{API}/revokeKey", json=wrap({"applicationId": "REGISTRATION", "referenceId": "none"}))
    records = ok(client.get(f"{ADMIN}/audit"))["records"]
    assert records[0]["sequence"] > records[-1]["sequence"]  # newest first
    assert {"generateKey", "revokeKey"} <= {record["operation"] for record in records}
    revoked = ok(client.get(f"{ADMIN}/audit", query_string={"operation": "revokeKey"}))["records"]
    assert [(r["referenceId"], r["outcome"]) for r in revoked] == [("none", "KER-KMS-003"), ("a1", "success")]
    assert [r["referenceId"] for r in ok(client.get(f"{ADMIN}/audit", query_string={
        "operation": "revokeKey", "outcome": "failure"}))["records"]] == ["none"]
    assert len(ok(client.get(f"{ADMIN}/audit", query_string={"limit": "1"}))["records"]) == 1
    assert all(r["subject"] == "dev" for r in ok(client.get(f"{ADMIN}/audit", query_string={"subject": "dev"}))[
        "records"])
    assert error_codes(client.get(f"{ADMIN}/audit", query_string={"limit": "many"})) == ["KER-KMS-005"]
    verdict = ok(client.get(f"{ADMIN}/audit/verify"))
    assert verdict["intact"] is True and verdict["firstBroken"] is None
    assert verdict["headSequence"] == verdict["records"] == records[0]["sequence"]
    assert verdict["headHash"] == records[0]["hash"]


def test_reads_are_not_audited(client) -> None:
    before = ok(client.get(f"{ADMIN}/audit/verify"))["records"]
    keys(client)
    ok(client.get(f"{ADMIN}/policies"))
    ok(client.get(f"{ADMIN}/audit"))
    assert ok(client.get(f"{ADMIN}/audit/verify"))["records"] == before


# -- key policies ---------------------------------------------------------------------------------------


def test_policies_are_listed(client) -> None:
    policies = {p["applicationId"]: p for p in ok(client.get(f"{ADMIN}/policies"))["policies"]}
    assert policies["ROOT"] == {"applicationId": "ROOT", "validityDays": 2920, "preExpireDays": 1125,
                                "accessAllowed": ["NA"], "active": True}


def test_a_policy_change_governs_the_next_key_and_is_audited(client) -> None:
    assert validity_days(certificate(client, "REGISTRATION", "before")) == 1095
    answer = ok(put_policy(client, "REGISTRATION", validityDays=10, preExpireDays=2, accessAllowed=["NA"]))
    assert answer == {"applicationId": "REGISTRATION", "validityDays": 10, "preExpireDays": 2,
                      "accessAllowed": ["NA"], "active": True, "created": False}
    assert validity_days(certificate(client, "REGISTRATION", "after")) == 10  # no restart, no cache wait
    assert validity_days(certificate(client, "REGISTRATION", "before")) == 1095  # existing keys keep theirs
    records = ok(client.get(f"{ADMIN}/audit"))["records"]
    changes = [(r["operation"], r["applicationId"], r["subject"], r["outcome"]) for r in records
               if r["operation"] in ("updateKeyPolicy", "setKeyPolicy")]
    assert changes == [("updateKeyPolicy", "REGISTRATION", "dev", "success"),
                       ("setKeyPolicy", "REGISTRATION", "dev", "success")]


def test_a_policy_for_a_new_application_allows_its_keys(client) -> None:
    body = {"applicationId": "CONSOLE_APP", "referenceId": ""}
    assert error_codes(client.post(f"{API}/generateMasterKey/CERTIFICATE", json=wrap(body))) == ["KER-KMS-002"]
    answer = ok(put_policy(client, "CONSOLE_APP", validityDays=30, preExpireDays=5, accessAllowed=["alice", "bob"]))
    assert answer["created"] is True and answer["accessAllowed"] == ["alice", "bob"]
    master = ok(client.post(f"{API}/generateMasterKey/CERTIFICATE", json=wrap(body)))["certificate"]
    assert validity_days(master) == 30


INVALID_POLICIES = {
    "pre-expiry as long as validity": ({"validityDays": 30, "preExpireDays": 30}, "shorter than validityDays"),
    "pre-expiry longer": ({"validityDays": 30, "preExpireDays": 31}, "shorter than validityDays"),
    "zero validity": ({"validityDays": 0, "preExpireDays": 1}, "validityDays"),
    "negative pre-expiry": ({"validityDays": 30, "preExpireDays": -1}, "preExpireDays"),
    "zero pre-expiry": ({"validityDays": 30, "preExpireDays": 0}, "preExpireDays"),
    "text": ({"validityDays": "30", "preExpireDays": 3}, "validityDays"),
    "fraction": ({"validityDays": 30.5, "preExpireDays": 3}, "validityDays"),
    "missing": ({"preExpireDays": 3}, "validityDays"),
    "no user": ({"validityDays": 30, "preExpireDays": 3, "accessAllowed": []}, "accessAllowed"),
    "NA and a name": ({"validityDays": 30, "preExpireDays": 3, "accessAllowed": ["NA", "bob"]}, "accessAllowed"),
    "comma in a name": ({"validityDays": 30, "preExpireDays": 3, "accessAllowed": ["a,b"]}, "accessAllowed"),
    "a century and more": ({"validityDays": 36501, "preExpireDays": 3}, "validityDays"),
}


@pytest.mark.parametrize(("body", "named"), INVALID_POLICIES.values(), ids=INVALID_POLICIES.keys())
def test_invalid_policies_are_refused_and_change_nothing(client, body: dict[str, Any], named: str) -> None:
    response = put_policy(client, "REGISTRATION", **body)
    assert error_codes(response) == ["KER-KMS-005"] * len(response.get_json()["errors"])
    assert named in " ".join(error["message"] for error in response.get_json()["errors"])
    policies = {p["applicationId"]: p for p in ok(client.get(f"{ADMIN}/policies"))["policies"]}
    assert (policies["REGISTRATION"]["validityDays"], policies["REGISTRATION"]["preExpireDays"]) == (1095, 60)
    refused = ok(client.get(f"{ADMIN}/audit", query_string={"operation": "updateKeyPolicy"}))["records"]
    assert [(r["applicationId"], r["outcome"]) for r in refused] == [("REGISTRATION", "KER-KMS-005")]
    assert ok(client.get(f"{ADMIN}/audit", query_string={"operation": "setKeyPolicy"}))["records"] == []


def test_an_unusable_application_id_is_refused(client) -> None:
    assert error_codes(put_policy(client, "x" * 37, validityDays=30, preExpireDays=3)) == ["KER-KMS-005"]
    assert error_codes(put_policy(client, "A B", validityDays=30, preExpireDays=3)) == ["KER-KMS-005"]


# -- two instances sharing one store --------------------------------------------------------------------


def shared_settings(store: str, data_dir: Path, request: pytest.FixtureRequest) -> Settings:
    common = {"data_dir": data_dir, "keystore": "pkcs12", "keystore_password": "test-password"}
    if store == "postgres":
        return Settings(store="postgres", db_url=request.getfixturevalue("postgres_schema_url"), **common)
    return Settings(store="sqlite", **common)


@pytest.mark.parametrize("store", adapter_params(["sqlite", "postgres"]))
def test_the_other_instance_follows_a_changed_policy_for_its_next_key(
    store: str, tmp_path: Path, request: pytest.FixtureRequest, make_container
) -> None:
    settings = shared_settings(store, tmp_path / "data", request)
    first = make_container(settings, ManualClock(START))
    init_master_keys(first, ("ROOT", "REGISTRATION"))
    second = make_container(settings, ManualClock(START))
    one, two = create_app(settings, first).test_client(), create_app(settings, second).test_client()
    try:
        assert validity_days(certificate(two, "REGISTRATION", "warm")) == 1095  # the second caches the policy
        ok(put_policy(one, "REGISTRATION", validityDays=20, preExpireDays=4, accessAllowed=["NA"]))
        assert validity_days(certificate(two, "REGISTRATION", "next")) == 20
        assert [p["validityDays"] for p in ok(two.get(f"{ADMIN}/policies"))["policies"]
                if p["applicationId"] == "REGISTRATION"] == [20]
    finally:
        for container in (first, second):
            if store == "postgres":
                container.database().close()


# -- the command line --------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch, tmp_path: Path):
    for name in list(os.environ):
        if name.startswith(("KEYMANAGER_", "PKCS11_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEYMANAGER_INIT_KEYS", "ROOT,REGISTRATION")
    monkeypatch.setenv("KEYMANAGER_ZK_POOL_SIZE", "0")
    monkeypatch.setenv("KEYMANAGER_KEYSTORE_PASSWORD", "test-password")
    monkeypatch.setenv("USER", "operator")
    return tmp_path


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_policy_commands(cli_env: Path, capsys) -> None:
    code, _, err = cli(capsys, "policy", "list")
    assert code == 2 and "no key store" in err  # read-only where there is none: nothing created
    assert not (cli_env / "var").exists()
    assert cli(capsys, "init")[0] == 0
    code, out, _ = cli(capsys, "policy", "list")
    assert code == 0
    assert out.splitlines()[0].split() == ["APP", "VALIDITY", "DAYS", "PRE-EXPIRE", "DAYS", "ACCESS", "ALLOWED",
                                           "ACTIVE"]
    assert any(line.split()[:4] == ["ROOT", "2920", "1125", "NA"] for line in out.splitlines())

    code, out, err = cli(capsys, "policy", "set", "REGISTRATION", "--validity-days", "30", "--pre-expire-days", "30")
    assert code == 1 and "preExpireDays must be shorter than validityDays" in err
    code, out, _ = cli(capsys, "policy", "set", "REGISTRATION", "--validity-days", "40", "--pre-expire-days", "7",
                       "--access-allowed", "alice, bob")
    assert code == 0 and out.startswith("REGISTRATION: updated; validity 40 days, pre-expiry 7 days")
    assert any(line.split()[:4] == ["REGISTRATION", "40", "7", "alice,bob"]
               for line in cli(capsys, "policy", "list")[1].splitlines())
    code, out, _ = cli(capsys, "audit", "list")
    assert any("cli:operator" in line and "setKeyPolicy" in line and "REGISTRATION" in line
               for line in out.splitlines())
    assert cli(capsys, "audit", "verify")[0] == 0

    # the next key follows it: a served instance reads the store's row
    settings = Settings.from_env()
    client = create_app(settings).test_client()
    assert validity_days(certificate(client, "REGISTRATION", "cli")) == 40
