"""The service started from a deployment's own ``application-local.properties`` (issue 16): the
fixture is modelled on the reference's, role lines included, and ends by narrowing
``mosip.role.keymanager.getgetcertificate``. Its roles govern access, its certificate subject names
the keys, and none of its secrets is shown or logged."""
from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from entrypoints.cli import main
from entrypoints.http.app import create_app
from entrypoints.reference_config import read_reference, run_config_check
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.oidc import AUDIENCE, ISSUER, JWKS_URL, Idp, bearer

FIXTURE = Path(__file__).resolve().parents[1] / "support" / "spring" / "application-local.properties"
API = "/v1/keymanager"
FIXTURE_SECRETS = ("hsm-pin-Zq81xT", "db-pass-Vw42qP", "pdf-owner-Hn63rK", "uin-salt-Jd27mB", "partner-salt-Lk94vC")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The deployment's file, with our own choices on top: an in-memory store and keystore (so the
    file's HSM and database are overridden) and OIDC."""
    return {
        "KEYMANAGER_SPRING_PROPERTIES": str(FIXTURE),
        "KEYMANAGER_DATA_DIR": str(tmp_path / "data"),
        "KEYMANAGER_STORE": "memory",
        "KEYMANAGER_KEYSTORE": "memory",
        "KEYMANAGER_AUTH": "oidc",
        "KEYMANAGER_OIDC_ISSUER": ISSUER,
        "KEYMANAGER_OIDC_JWKS_URL": JWKS_URL,
        "KEYMANAGER_OIDC_AUDIENCE": AUDIENCE,
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return Settings.from_env(env)


@pytest.fixture
def client(settings: Settings, make_container):
    container = make_container(settings)
    init_master_keys(container)
    return create_app(settings, container).test_client()


def wrap(request: dict) -> dict:
    return {"id": "mosip.crypto.service", "version": "1.0", "requesttime": "2024-05-01T10:15:30.123Z",
            "metadata": {}, "request": request}


def get_certificate(client, token: str):
    return client.get(f"{API}/getCertificate", query_string={"applicationId": "REGISTRATION"},
                      headers=bearer(token))


def test_the_files_values_become_the_settings(settings: Settings) -> None:
    assert (settings.store, settings.keystore) == ("memory", "memory")  # ours win
    assert settings.pkcs11_pin is None and settings.db_url is None  # the overridden HSM and database: unread
    assert (settings.cert_organization, settings.cert_organizational_unit) == ("mosip", "IIITB")
    assert settings.pin_hash_iterations == 10
    assert (settings.cwt_issuer, settings.cwt_expire_days, settings.cwt_not_before_days) == ("mosip.io", 365, 1)
    assert settings.licensekey_permissions[-1] == "eKYC - No"  # a continued line
    assert (settings.tokenid_uin_salt, settings.pdf_owner_password) == ("uin-salt-Jd27mB", "pdf-owner-Hn63rK")
    roles = dict(settings.role_overrides)
    assert roles["getgetcertificate"] == ("ZONAL_ADMIN", "GLOBAL_ADMIN")  # the later line won
    assert "CREDENTIAL_ISSUANCE" in roles["postjwssign"]
    assert "postencryptdt" not in roles  # no endpoint of ours uses it: ignored, not refused


def test_the_files_roles_govern_access(client, idp: Idp) -> None:
    processor = idp.token(roles=["REGISTRATION_PROCESSOR"])
    refused = get_certificate(client, processor)
    assert refused.status_code == 403
    assert refused.get_json()["errors"] == [{"errorCode": "KER-ATH-403", "message": "Forbidden"}]

    admin = get_certificate(client, idp.token(roles=["ZONAL_ADMIN"]))
    assert admin.status_code == 200, admin.get_data(as_text=True)
    pem = admin.get_json()["response"]["certificate"]
    subject = x509.load_pem_x509_certificate(pem.encode()).subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "mosip"  # the file's subject

    # postencrypt keeps the file's STD list: the processor may encrypt
    encrypted = client.post(f"{API}/encrypt", headers=bearer(processor),
                            json=wrap({"applicationId": "REGISTRATION", "referenceId": "x", "data": "aGVsbG8"}))
    assert encrypted.status_code == 200 and encrypted.get_json()["errors"] is None, encrypted.get_data(as_text=True)


def test_the_file_is_checked_with_nothing_invalid_and_nothing_secret_shown(env: dict[str, str], caplog) -> None:
    out = io.StringIO()
    with caplog.at_level(logging.DEBUG):
        assert run_config_check(env, out=out) == 0
    text = out.getvalue()
    assert "invalid (0):" in text and "settings: ok (store=memory, keystore=memory, auth=oidc)" in text
    assert "mosip.role.keymanager.getgetcertificate -> KEYMANAGER_ROLES_GETGETCERTIFICATE = ZONAL_ADMIN,GLOBAL_ADMIN" \
        in text
    assert "mosip.kernel.keymanager.hsm.config-path: KEYMANAGER_KEYSTORE=memory is set (ours win)" in text
    assert "mosip.kernel.tokenid.uin.salt -> KEYMANAGER_TOKENID_UIN_SALT = (secret, set)" in text
    assert "mosip.role.keymanager.postencryptdt: no endpoint here is guarded by this role key" in text
    for secret in FIXTURE_SECRETS:
        assert secret not in text and secret not in caplog.text


def test_without_our_overrides_the_files_hsm_file_must_exist(env: dict[str, str]) -> None:
    del env["KEYMANAGER_KEYSTORE"]
    reading = read_reference(env)
    assert [(entry.name, entry.text) for entry in reading.invalid] == [(
        "mosip.kernel.keymanager.hsm.config-path",
        "cannot read the SunPKCS11 configuration /hsm-files/pkcs11-softhsm.cfg (No such file or directory); or set "
        "PKCS11_MODULE",
    )]
    assert reading.values["KEYMANAGER_KEYSTORE"] == "pkcs11" and "PKCS11_TOKEN_PIN" in reading.values


def test_the_cli_checks_the_file(env: dict[str, str], monkeypatch, capsys) -> None:
    for name in list(__import__("os").environ):
        if name.startswith(("KEYMANAGER_", "MOSIP_", "PKCS11_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["config", "check"]) == 0
    captured = capsys.readouterr()
    assert f"read: {FIXTURE} (" in captured.out
    for secret in FIXTURE_SECRETS:
        assert secret not in captured.out + captured.err
