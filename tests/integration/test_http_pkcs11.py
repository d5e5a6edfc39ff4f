"""The whole HTTP flow with the PKCS#11 keystore (SQLite + the SoftHSM2 token): key ceremony,
getCertificate, encrypt/decrypt (every variant), revoke, forced regeneration of a master key,
then a restart on the same data directory and token. Plus the real server process (granian
forks its workers after the master process ran the key ceremony with the token open).

Master private keys live in the token (checked on the token's attributes); base keys live in
the database, their private keys wrapped by the module master key.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

from domain.keys import KeyTuple
from entrypoints.containers import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.pkcs11 import PROTECTED, aliases_of, token_private_key_attributes

API = "/v1/keymanager"
REQUEST_TIME = "2024-05-01T10:15:30.123Z"
APP, REF = "REGISTRATION", "10001_110011"
PLAINTEXT = b'{"packet":"registration","seq":42}' + bytes(range(256))
VER_R2 = b"VER_R2"
SPLITTER = b"#KEY_SPLITTER#"

pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. 'pkcs11._pkcs11.OperationContext.__del__':pytest.PytestUnraisableExceptionWarning"
    ),
    # joserfc (the service's verifier) warns that "EdDSA" is superseded by "Ed25519"; MOSIP uses "EdDSA".
    pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning"),
]


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


def current_alias(container: Container, key_tuple: KeyTuple, pem: str) -> str:
    """The alias whose certificate is ``pem``."""
    hierarchy = container.hierarchy()
    with container.uow_factory()() as uow:
        for row in uow.keys.aliases_for(key_tuple):
            if hierarchy.certified(uow.keys, row).certificate.public_bytes(serialization.Encoding.DER) == der(pem):
                return row.alias
    raise AssertionError(f"no alias of {key_tuple} has that certificate")


def assert_in_token(token: dict[str, str], alias: str, pem: str) -> None:
    attributes = token_private_key_attributes(token, alias)
    assert attributes is not None, f"no private key for {alias} in the token"
    modulus = attributes.pop("modulus")
    assert attributes == PROTECTED
    assert modulus == x509.load_pem_x509_certificate(pem.encode()).public_key().public_numbers().n


# -- the flow ------------------------------------------------------------------------------------


def test_http_flow_with_pkcs11_keystore_and_restart(
    make_container, pkcs11_settings: Settings, softhsm_token, clock
) -> None:
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


def test_health_and_status_do_not_show_the_pin(
    make_container, pkcs11_settings: Settings, softhsm_token, caplog, monkeypatch
) -> None:
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
    from tests.support.server import b64url_decode as wire_decode
    from tests.support.server import server_factory

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


# -- signing keys and JWT/JWS signatures with the token ---------------------------------------------

P256, K1, ED = "EC_SECP256R1_SIGN", "EC_SECP256K1_SIGN", "ED25519_SIGN"
#: referenceId -> (the JWT algorithm jwtSign uses, the curve of an EC key held in the token)
SIGN_KEYS = {P256: ("ES256", "secp256r1"), K1: ("ES256K", "secp256k1"), ED: ("EdDSA", None)}
JWT_PAYLOAD = b'{"iss":"pkcs11-test","n":42,"text":"caf\xc3\xa9"}'
PSS_SHA256 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def token_objects(token: dict[str, str], alias: str) -> dict[str, list[dict[str, Any]]]:
    """Every private-key, public-key, secret-key and certificate object with CKA_ID = alias,
    as the token describes them, read through a session of our own."""
    slot_token = pkcs11.lib(token["module"]).get_token(token_label=token["label"])
    try:
        session = slot_token.open(user_pin=token["pin"])
    except p11.UserAlreadyLoggedIn:  # login is per process: the keystore logged in already
        session = slot_token.open()
    keep_open = session.user_type != pkcs11.UserType.NOBODY  # closing it would log the process out
    try:
        found: dict[str, list[dict[str, Any]]] = {}
        for name, cls in (("private", ObjectClass.PRIVATE_KEY), ("public", ObjectClass.PUBLIC_KEY),
                          ("secret", ObjectClass.SECRET_KEY), ("certificate", ObjectClass.CERTIFICATE)):
            found[name] = []
            for obj in session.get_objects({Attribute.CLASS: cls, Attribute.ID: alias.encode()}):
                described: dict[str, Any] = {"token": obj[Attribute.TOKEN]}
                if cls == ObjectClass.PRIVATE_KEY:
                    described.update(
                        key_type=obj[Attribute.KEY_TYPE], ec_params=bytes(obj[Attribute.EC_PARAMS]),
                        sensitive=obj[Attribute.SENSITIVE], extractable=obj[Attribute.EXTRACTABLE],
                        always_sensitive=obj[Attribute.ALWAYS_SENSITIVE],
                        never_extractable=obj[Attribute.NEVER_EXTRACTABLE],
                    )
                    try:
                        obj[Attribute.VALUE]
                        described["value_readable"] = True
                    except p11.AttributeSensitive:
                        described["value_readable"] = False
                elif cls == ObjectClass.PUBLIC_KEY:
                    described["spki"] = serialization.load_der_public_key(encode_ec_public_key(obj)).public_bytes(
                        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
                found[name].append(described)
        return found
    finally:
        if not keep_open:
            session.close()


def key_store_rows(settings: Settings) -> dict[str, str]:
    """id -> master_key of the database's key_store table."""
    connection = sqlite3.connect(settings.sqlite_path)
    try:
        return dict(connection.execute("SELECT id, master_key FROM key_store"))
    finally:
        connection.close()


def generate_sign_key(client, ref: str) -> x509.Certificate:
    response = ok(client.post(f"{API}/generateECSignKey/CERTIFICATE",
                              json=wrap({"applicationId": APP, "referenceId": ref, "force": False})))
    assert response["certSignRequest"] is None
    return x509.load_pem_x509_certificate(response["certificate"].encode("ascii"))


def spki_of(certificate: x509.Certificate) -> bytes:
    return certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def sign_request(app: str | None, ref: str | None, **flags: Any) -> dict[str, Any]:
    return {"dataToSign": b64url(JWT_PAYLOAD), "applicationId": app, "referenceId": ref, **flags}


def jwt_verify(client, token: str, **extra: Any) -> bool:
    response = ok(client.post(f"{API}/jwtVerify", json=wrap({"jwtSignatureData": token, **extra})))
    return response["signatureValid"]


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(b64url_decode(signature))
    raw[len(raw) // 2] ^= 0x01
    return f"{header}.{payload}.{b64url(bytes(raw))}"


def pyjwt_verify(token: str, public_key: Any, algorithm: str) -> bytes:
    """The payload, verified by PyJWT with ``algorithm`` as the only algorithm allowed."""
    return jwt.api_jws.PyJWS().decode(token, key=public_key, algorithms=[algorithm])


def assert_jwt_signs(client, ref: str, issued: x509.Certificate) -> None:
    """jwtSign with the key of (APP, ref): /jwtVerify and PyJWT both accept it; tampered, neither."""
    algorithm, _ = SIGN_KEYS[ref]
    token = ok(client.post(f"{API}/jwtSign", json=wrap(sign_request(APP, ref, includePayload=True))))["jwtSignedData"]
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header["alg"] == algorithm
    assert b64url_decode(token.split(".")[1]) == JWT_PAYLOAD
    assert pyjwt_verify(token, issued.public_key(), algorithm) == JWT_PAYLOAD
    assert jwt_verify(client, token, applicationId=APP, referenceId=ref)
    assert jwt_verify(client, token, certificateData=issued.public_bytes(serialization.Encoding.PEM).decode())
    if algorithm in ("ES256", "ES256K"):  # a JWS ECDSA signature is raw r || s, 64 bytes (not DER)
        assert len(b64url_decode(token.split(".")[2])) == 64
    bad = tampered(token)
    assert not jwt_verify(client, bad, applicationId=APP, referenceId=ref)
    with pytest.raises(jwt.InvalidSignatureError):
        pyjwt_verify(bad, issued.public_key(), algorithm)

    # Detached (the default) with the certificate in the header: /jwtVerify takes the payload as actualData.
    detached = ok(client.post(f"{API}/jwtSign", json=wrap(sign_request(APP, ref, includeCertificate=True))))
    detached_token = detached["jwtSignedData"]
    assert detached_token.split(".")[1] == ""
    assert jwt_verify(client, detached_token, actualData=b64url(JWT_PAYLOAD))
    assert not jwt_verify(client, detached_token, actualData=b64url(JWT_PAYLOAD + b" "))
    head, _, signature = detached_token.split(".")
    assert pyjwt_verify(f"{head}.{b64url(JWT_PAYLOAD)}.{signature}", issued.public_key(), algorithm) == JWT_PAYLOAD


def test_signing_keys_in_the_token_and_jwt_signatures(
    make_container, pkcs11_settings: Settings, softhsm_token, clock
) -> None:
    token = softhsm_token
    container = make_container(pkcs11_settings, clock)
    init_master_keys(container)
    client = create_app(pkcs11_settings, container).test_client()
    (master_alias,) = aliases_of(container, KeyTuple(APP))
    (root_alias,) = aliases_of(container, KeyTuple("ROOT"))
    root = x509.load_der_x509_certificate(container.keystore().certificate(root_alias))
    master = x509.load_der_x509_certificate(container.keystore().certificate(master_alias))

    certificates = {ref: generate_sign_key(client, ref) for ref in SIGN_KEYS}
    assert {ref: generate_sign_key(client, ref) for ref in SIGN_KEYS} == certificates  # idempotent
    rows = key_store_rows(pkcs11_settings)

    for ref, (_, curve) in SIGN_KEYS.items():
        issued = certificates[ref]
        (alias,) = aliases_of(container, KeyTuple(APP, ref))
        objects = token_objects(token, alias)
        if curve is None:
            # Ed25519: in the database, wrapped by the REGISTRATION master key (whose private key
            # is in the token) and issued by it; nothing of it in the token.
            assert isinstance(issued.public_key(), ed25519.Ed25519PublicKey)
            assert objects == {"private": [], "public": [], "secret": [], "certificate": []}
            assert alias not in container.keystore().aliases()
            assert rows.get(alias) == master_alias
            issued.verify_directly_issued_by(master)
            continue
        # EC: generated in the token, sensitive and never extractable, its public key kept as a
        # token object with the same CKA_ID; the certificate (issued by ROOT) stored there too.
        public = issued.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == curve
        assert objects["private"] == [{
            "token": True, "key_type": KeyType.EC, "ec_params": encode_named_curve_parameters(curve),
            "sensitive": True, "extractable": False, "always_sensitive": True, "never_extractable": True,
            "value_readable": False,
        }]
        assert objects["public"] == [{"token": True, "spki": spki_of(issued)}]
        assert objects["certificate"] == [{"token": True}]
        assert container.keystore().certificate(alias) == issued.public_bytes(serialization.Encoding.DER)
        assert alias in container.keystore().aliases()
        assert alias not in rows  # no key_store row: the private key never left the token
        issued.verify_directly_issued_by(root)

    for ref, issued in certificates.items():
        assert_jwt_signs(client, ref, issued)

    # KERNEL/SIGN (in the token) signs jwsSign with PS256.
    kernel = x509.load_pem_x509_certificate(certificate(client, "KERNEL", "SIGN").encode("ascii"))
    (kernel_alias,) = aliases_of(container, KeyTuple("KERNEL", "SIGN"))
    assert_in_token(token, kernel_alias, kernel.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    jws = ok(client.post(f"{API}/jwsSign", json=wrap(sign_request(
        None, None, signAlgorithm="PS256", b64JWSHeaderParam=True, includePayload=True, validateJson=True))))
    jws_token = jws["jwtSignedData"]
    assert json.loads(b64url_decode(jws_token.split(".")[0]))["alg"] == "PS256"
    assert pyjwt_verify(jws_token, kernel.public_key(), "PS256") == JWT_PAYLOAD
    head, payload_segment, signature = jws_token.split(".")
    kernel.public_key().verify(b64url_decode(signature), f"{head}.{payload_segment}".encode(), PSS_SHA256,
                               hashes.SHA256())
    assert jwt_verify(client, jws_token, applicationId="KERNEL", referenceId="SIGN")
    assert not jwt_verify(client, tampered(jws_token), applicationId="KERNEL", referenceId="SIGN")
    with pytest.raises(jwt.InvalidSignatureError):
        pyjwt_verify(tampered(jws_token), kernel.public_key(), "PS256")
    # The default jwsSign (RFC 7797 b64=false, detached): the signature covers the raw payload.
    unencoded = ok(client.post(f"{API}/jwsSign", json=wrap(sign_request(None, None))))["jwtSignedData"]
    head, empty, signature = unencoded.split(".")
    assert empty == "" and json.loads(b64url_decode(head))["b64"] is False
    kernel.public_key().verify(b64url_decode(signature), head.encode() + b"." + JWT_PAYLOAD, PSS_SHA256,
                               hashes.SHA256())

    # Restart: a new container and app on the same data directory and token; the same keys sign.
    restarted = make_container(pkcs11_settings, clock)
    init_master_keys(restarted)
    client = create_app(pkcs11_settings, restarted).test_client()
    assert {ref: generate_sign_key(client, ref) for ref in SIGN_KEYS} == certificates
    for ref, issued in certificates.items():
        assert_jwt_signs(client, ref, issued)
