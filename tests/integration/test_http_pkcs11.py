"""The whole HTTP flow with the PKCS#11 keystore (SQLite + the SoftHSM2 token): key ceremony,
getCertificate, encrypt/decrypt (every variant), revoke, forced regeneration of a master key,
then a restart on the same data directory and token. Plus the real server process (gunicorn
forks its workers after the master process ran the key ceremony with the token open).

Master private keys live in the token (checked on the token's attributes); base keys live in
the database, their private keys wrapped by the module master key.
"""
from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11

from domain.keys import KeyTuple
from entrypoints.containers import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.conftest import init_master_keys, make_container

API = "/v1/keymanager"
REQUEST_TIME = "2024-05-01T10:15:30.123Z"
APP, REF = "REGISTRATION", "10001_110011"
PLAINTEXT = b'{"packet":"registration","seq":42}' + bytes(range(256))
VER_R2 = b"VER_R2"
SPLITTER = b"#KEY_SPLITTER#"

pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. 'pkcs11._pkcs11.OperationContext.__del__':pytest.PytestUnraisableExceptionWarning"
)


# -- helpers -----------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def wrap(request: Any) -> dict[str, Any]:
    return {"id": "mosip.crypto.service", "version": "1.0", "requesttime": REQUEST_TIME, "metadata": {},
            "request": request}


def ok(response) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["errors"] is None, body
    return body["response"]


def crypto_request(data: bytes | str, **extra: Any) -> dict[str, Any]:
    body = {"applicationId": APP, "referenceId": REF, "timeStamp": REQUEST_TIME,
            "data": data if isinstance(data, str) else b64url(data), "salt": None, "aad": None}
    body.update(extra)
    return body


def encrypt(client, data: bytes, **extra: Any) -> str:
    return ok(client.post(f"{API}/encrypt", json=wrap(crypto_request(data, **extra))))["data"]


def decrypt(client, wire: str, **extra: Any) -> bytes:
    return b64url_decode(ok(client.post(f"{API}/decrypt", json=wrap(crypto_request(wire, **extra))))["data"])


def certificate(client, app: str = APP, ref: str = REF) -> str:
    response = client.get(f"{API}/getCertificate", query_string={"applicationId": app, "referenceId": ref})
    return ok(response)["certificate"]


def generate_master(client, app: str, force: bool = False) -> str:
    request = {"applicationId": app, "referenceId": "", "force": force}
    return ok(client.post(f"{API}/generateMasterKey/CERTIFICATE", json=wrap(request)))["certificate"]


def der(pem: str) -> bytes:
    return x509.load_pem_x509_certificate(pem.encode("ascii")).public_bytes(serialization.Encoding.DER)


def aliases_of(container: Container, key_tuple: KeyTuple) -> list[str]:
    with container.uow_factory()() as uow:
        return [row.alias for row in uow.keys.aliases_for(key_tuple)]


def current_alias(container: Container, key_tuple: KeyTuple, pem: str) -> str:
    """The alias whose certificate is ``pem``."""
    hierarchy = container.hierarchy()
    with container.uow_factory()() as uow:
        for row in uow.keys.aliases_for(key_tuple):
            if hierarchy.certified(uow.keys, row).certificate.public_bytes(serialization.Encoding.DER) == der(pem):
                return row.alias
    raise AssertionError(f"no alias of {key_tuple} has that certificate")


def token_private_key_attributes(token: dict[str, str], alias: str) -> dict[str, Any] | None:
    """The token's own view of the private key under ``alias`` (None when the token has none)."""
    slot_token = pkcs11.lib(token["module"]).get_token(token_label=token["label"])
    try:
        session = slot_token.open(user_pin=token["pin"])
    except p11.UserAlreadyLoggedIn:  # login is per process: the keystore logged in already
        session = slot_token.open()
    keep_open = session.user_type != pkcs11.UserType.NOBODY  # closing it would log the process out
    try:
        found = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: alias.encode()}))
        if not found:
            return None
        (key,) = found
        try:
            key[Attribute.PRIVATE_EXPONENT]
            exponent_readable = True
        except p11.AttributeSensitive:
            exponent_readable = False
        return {
            "sensitive": key[Attribute.SENSITIVE],
            "extractable": key[Attribute.EXTRACTABLE],
            "always_sensitive": key[Attribute.ALWAYS_SENSITIVE],
            "never_extractable": key[Attribute.NEVER_EXTRACTABLE],
            "token": key[Attribute.TOKEN],
            "exponent_readable": exponent_readable,
            "modulus": int.from_bytes(key[Attribute.MODULUS], "big"),
        }
    finally:
        if not keep_open:
            session.close()


PROTECTED = {
    "sensitive": True,
    "extractable": False,
    "always_sensitive": True,
    "never_extractable": True,
    "token": True,
    "exponent_readable": False,
}


def assert_in_token(token: dict[str, str], alias: str, pem: str) -> None:
    attributes = token_private_key_attributes(token, alias)
    assert attributes is not None, f"no private key for {alias} in the token"
    modulus = attributes.pop("modulus")
    assert attributes == PROTECTED
    assert modulus == x509.load_pem_x509_certificate(pem.encode()).public_key().public_numbers().n


# -- the flow ------------------------------------------------------------------------------------


def test_http_flow_with_pkcs11_keystore_and_restart(pkcs11_settings: Settings, softhsm_token, clock) -> None:
    token = softhsm_token
    container = make_container(pkcs11_settings, clock)
    init_master_keys(container)
    client = create_app(pkcs11_settings, container).test_client()

    # init: the key ceremony made ROOT, REGISTRATION and KERNEL/SIGN in the token; asking again is idempotent.
    root, master = certificate(client, "ROOT", ""), certificate(client, APP, "")
    assert generate_master(client, APP) == master
    for key_tuple, pem in ((KeyTuple("ROOT"), root), (KeyTuple(APP), master),
                           (KeyTuple("KERNEL", "SIGN"), certificate(client, "KERNEL", "SIGN"))):
        (alias,) = aliases_of(container, key_tuple)
        assert_in_token(token, alias, pem)
        assert container.keystore().certificate(alias) == der(pem)  # the certificate object of the token
    master_alias = aliases_of(container, KeyTuple(APP))[0]

    # getCertificate makes the base key: in the database, wrapped by the master whose private key is in the token.
    base = certificate(client)
    assert base != master
    (base_alias,) = aliases_of(container, KeyTuple(APP, REF))
    assert token_private_key_attributes(token, base_alias) is None
    with container.uow_factory()() as uow:
        stored = uow.keys.stored_key(base_alias)
    assert stored is not None and stored.master_alias == master_alias
    unwrapped = container.hierarchy().unwrap_private_key(stored)  # through the token's master key
    assert unwrapped.public_key().public_numbers() == x509.load_pem_x509_certificate(
        base.encode()).public_key().public_numbers()
    connection = sqlite3.connect(pkcs11_settings.sqlite_path)
    try:
        in_table = {row[0] for row in connection.execute("SELECT id FROM key_store")}
    finally:
        connection.close()
    assert base_alias in in_table
    assert not in_table & {master_alias, *aliases_of(container, KeyTuple("ROOT"))}

    # encrypt / decrypt: VER_R2 (thumbprint of the base certificate), salt + aad, aad only.
    wires: dict[str, tuple[str, dict[str, str]]] = {}
    wire = encrypt(client, PLAINTEXT)
    raw = b64url_decode(wire)
    assert raw.startswith(VER_R2) and raw.index(SPLITTER) == 294
    assert raw[6:38] == hashlib.sha256(der(base)).digest()
    wires["ver_r2"] = (wire, {})
    salted = {"salt": b64url(os.urandom(12)), "aad": b64url(b"additional data")}
    wires["salt_aad"] = (encrypt(client, PLAINTEXT, **salted), salted)
    aad_only = {"aad": b64url(os.urandom(20))}
    wires["aad"] = (encrypt(client, PLAINTEXT, **aad_only), aad_only)
    for wire, extra in wires.values():
        assert decrypt(client, wire, **extra) == PLAINTEXT

    # revoke: a new base key; old data still decrypts.
    clock.advance(timedelta(hours=1))
    revoked = ok(client.put(f"{API}/revokeKey", json=wrap({"applicationId": APP, "referenceId": REF})))
    assert revoked["status"] == "Key Revoked"
    clock.advance(timedelta(minutes=1))
    new_base = certificate(client)
    assert new_base != base
    wires["after_revoke"] = (encrypt(client, PLAINTEXT), {})
    assert b64url_decode(wires["after_revoke"][0])[6:38] == hashlib.sha256(der(new_base)).digest()
    for wire, extra in wires.values():
        assert decrypt(client, wire, **extra) == PLAINTEXT

    # force=true: a new REGISTRATION master in the token; the old one stays there for old data.
    clock.advance(timedelta(hours=1))
    new_master = generate_master(client, APP, force=True)
    assert new_master != master
    new_master_alias = current_alias(container, KeyTuple(APP), new_master)
    assert new_master_alias != master_alias
    assert_in_token(token, new_master_alias, new_master)
    assert_in_token(token, master_alias, master)
    assert certificate(client, APP, "") == new_master
    clock.advance(timedelta(minutes=1))
    wires["after_master"] = (encrypt(client, PLAINTEXT), {})
    for wire, extra in wires.values():
        assert decrypt(client, wire, **extra) == PLAINTEXT
    latest_base = certificate(client)

    certificates = {
        ("ROOT", ""): root,
        (APP, ""): new_master,
        (APP, REF): latest_base,
        ("KERNEL", "SIGN"): certificate(client, "KERNEL", "SIGN"),
    }
    all_before = ok(client.get(f"{API}/getAllCertificates", query_string={"applicationId": APP, "referenceId": REF}))
    keystore_aliases = container.keystore().aliases()
    rows_before = {key_tuple: aliases_of(container, KeyTuple(*key_tuple)) for key_tuple in certificates}

    # restart: a new container and app on the same data directory and token.
    restarted = make_container(pkcs11_settings, clock)
    init_master_keys(restarted)  # the ceremony again: nothing new
    client = create_app(pkcs11_settings, restarted).test_client()
    for (app, ref), pem in certificates.items():
        assert certificate(client, app, ref) == pem
    assert {key_tuple: aliases_of(restarted, KeyTuple(*key_tuple)) for key_tuple in certificates} == rows_before
    assert ok(client.get(f"{API}/getAllCertificates",
                         query_string={"applicationId": APP, "referenceId": REF})) == all_before
    assert set(keystore_aliases) <= set(restarted.keystore().aliases())
    for wire, extra in wires.values():
        assert decrypt(client, wire, **extra) == PLAINTEXT
    assert decrypt(client, encrypt(client, PLAINTEXT)) == PLAINTEXT
    assert restarted.keystore().health().ok


def test_health_and_status_do_not_show_the_pin(pkcs11_settings: Settings, softhsm_token, caplog, monkeypatch) -> None:
    import io
    import logging

    from entrypoints.cli import run_status

    for name in ("keymanager", "keymanager.pkcs11", "keymanager.http"):  # import-linter's dictConfig disables them
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    caplog.set_level("DEBUG")
    container = make_container(pkcs11_settings)
    init_master_keys(container)
    out = io.StringIO()
    assert run_status(container, out) == 0
    text = out.getvalue() + repr(pkcs11_settings) + "\n".join(r.getMessage() for r in caplog.records)
    assert "keystore: ok" in text
    assert softhsm_token["pin"] not in text


# -- the real server process ---------------------------------------------------------------------


@pytest.mark.slow
def test_server_process_with_pkcs11_forked_workers_and_restart(softhsm_token, tmp_path: Path) -> None:
    from tests.e2e.server import b64url_decode as wire_decode
    from tests.e2e.server import server_factory

    token = softhsm_token
    pin_file = tmp_path / "pin"
    pin_file.write_text(token["pin"] + "\n")
    pin_file.chmod(0o600)
    env = {
        "KEYMANAGER_KEYSTORE": "pkcs11",
        "KEYMANAGER_STORE": "sqlite",
        "KEYMANAGER_WORKERS": "2",
        "PKCS11_MODULE": token["module"],
        "PKCS11_TOKEN_LABEL": token["label"],
        "PKCS11_TOKEN_PIN_FILE": str(pin_file),
        "SOFTHSM2_CONF": token["conf"],
    }
    with server_factory(tmp_path) as make:
        server = make("pkcs11", **env).start()
        root, master, base = server.certificate("ROOT"), server.certificate(APP), server.certificate(APP, REF)
        ciphertext = server.encrypt(PLAINTEXT)
        assert wire_decode(ciphertext).startswith(VER_R2)

        # Concurrent requests: both workers (4 threads each) decrypt with the token.
        def round_trip(number: int) -> bool:
            data = PLAINTEXT + str(number).encode()
            return server.decrypt(ciphertext) == PLAINTEXT and server.decrypt(server.encrypt(data)) == data

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(pool.map(round_trip, range(48)))

        revoked = server.ok("PUT", "/revokeKey", {"applicationId": APP, "referenceId": REF})
        assert revoked["status"] == "Key Revoked"
        new_base = server.certificate(APP, REF)
        assert new_base != base
        new_ciphertext = server.encrypt(PLAINTEXT)
        for _ in range(4):
            assert server.decrypt(ciphertext) == PLAINTEXT

        server.stop()
        server.start()  # same data directory and token

        assert server.certificate("ROOT") == root
        assert server.certificate(APP) == master
        assert server.certificate(APP, REF) == new_base
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(pool.map(lambda _: server.decrypt(ciphertext) == PLAINTEXT
                                and server.decrypt(new_ciphertext) == PLAINTEXT, range(24)))
        assert server.decrypt(server.encrypt(PLAINTEXT)) == PLAINTEXT
        output = server.output()
        assert token["pin"] not in output
        assert "Traceback" not in output
