"""Secrets stay secret (issue 6): a sentinel value is used as plaintext, signing payload, keystore
password, PKCS#11 PIN and OIDC token; every log record (root and ``keymanager.*`` at DEBUG), every
response body and header, the audit trail and the files on disk are captured, and the sentinel must
appear in none of them, in any common encoding. Private keys of the keystore are checked the same way,
and error bodies of failed decryptions must not carry internal exception text.
"""
from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa

from domain.errors import KeyManagerError
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.oidc import AUDIENCE, ISSUER, JWKS_URL, KEYS, Idp, bearer

API = "/v1/keymanager"
APP, REF = "REGISTRATION", "10001_110011"
#: Distinctive enough never to occur by chance, long enough that its encodings are distinctive too.
SENTINEL = "S3NT1NEL-q7Zx-4f2b9c1e-never-leak-me"
SENTINEL_BYTES = SENTINEL.encode()
KEYMANAGER_LOGGERS = ("keymanager", "keymanager.http", "keymanager.auth", "keymanager.audit", "keymanager.pkcs11")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forms(secret: bytes) -> list[str]:
    """The secret as text and in the encodings a leak would likely take (long enough to be distinctive:
    a base64 form of a value shifted by one or two bytes changes, so the three alignments are covered)."""
    out = {secret.decode("latin-1"), secret.hex(), secret.hex().upper(), repr(secret)}
    for shift in range(3):
        chunk = secret[shift:]
        out.add(base64.b64encode(chunk).decode().rstrip("=")[4:-4])
        out.add(b64url(chunk)[4:-4])
    if len(secret) > 64:  # a long secret (a key) may leak wrapped into lines, as in PEM: look for pieces
        for encoded in (base64.b64encode(secret).decode(), secret.hex()):
            out.update(encoded[start:start + 32] for start in range(0, len(encoded) - 32, 32))
    return sorted(value for value in out if len(value) >= 16)


def wrap(request: Any) -> dict[str, Any]:
    return {"id": "mosip.test", "version": "1.0", "requesttime": "2025-01-15T09:30:00.000Z", "metadata": {},
            "request": request}


def crypto(data: str, app: str = APP, ref: str = REF) -> dict[str, Any]:
    return {"applicationId": app, "referenceId": ref, "timeStamp": "2025-01-15T09:30:00.000Z", "data": data,
            "salt": None, "aad": None}


class Recorder:
    """Every response that passes through: status, headers and body, as text."""

    def __init__(self, client) -> None:
        self.client = client
        self.texts: list[str] = []

    def call(self, method: str, path: str, *, scan: bool = True, **kwargs: Any):
        response = getattr(self.client, method)(API + path, **kwargs)
        if scan:
            self.texts.append(self.describe(response))
        return response

    @staticmethod
    def describe(response) -> str:
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
        return f"{response.status}\n{headers}\n{response.get_data(as_text=True)}"


@pytest.fixture
def capture(caplog, monkeypatch) -> Iterator[pytest.LogCaptureFixture]:
    """DEBUG for the root logger and every keymanager logger, re-enabled if a dictConfig disabled them."""
    for name in KEYMANAGER_LOGGERS:
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="keymanager")
    yield caplog


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Messages, arguments, formatted exceptions and stack info of every captured record."""
    handler = caplog.handler
    parts = []
    for record in caplog.records:
        parts.append(handler.format(record))
        parts.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


def assert_absent(secrets: Iterable[bytes], texts: Iterable[str], where: str) -> None:
    haystack = "\n".join(texts)
    for secret in secrets:
        for form in forms(secret):
            assert form not in haystack, f"a secret leaked into {where} as {form!r}"


def assert_clean_error(response) -> None:
    """An error body in the MOSIP envelope with nothing of an internal exception."""
    text = response.get_data(as_text=True)
    body = response.get_json()
    assert body is not None and body["response"] is None and body["errors"], text
    assert "Traceback" not in text
    assert not re.search(r"\b[A-Z][A-Za-z]*(Error|Exception)\(", text), text
    assert 'File "' not in text and ".py" not in text and "/site-packages/" not in text, text
    assert os.sep + "tmp" + os.sep not in text and str(Path.cwd()) not in text, text


def keystore_private_keys(container) -> list[bytes]:
    """The private parts (RSA d, p, q; an EC scalar) of every key in the (software) keystore, as bytes:
    none may ever leave it. (Not the PKCS#8 DER as a whole: it also holds the public modulus.)"""
    keystore = container.keystore()
    secrets = []
    for alias in keystore.aliases():
        key = keystore._key(alias)
        if isinstance(key, rsa.RSAPrivateKey):
            numbers = key.private_numbers()
            values = (numbers.d, numbers.p, numbers.q)
        else:
            values = (key.private_numbers().private_value,)
        secrets += [value.to_bytes((value.bit_length() + 7) // 8, "big") for value in values]
    return secrets


# -- sqlite + pkcs12, dev authentication ----------------------------------------------------------


def test_plaintext_payload_password_and_keys_never_leak(make_container, tmp_path: Path, clock, capture) -> None:
    settings = Settings(data_dir=tmp_path / "data", store="sqlite", keystore="pkcs12", keystore_password=SENTINEL)
    container = make_container(settings, clock)
    init_master_keys(container)
    app = create_app(settings, container)
    capture.set_level(logging.DEBUG, logger="keymanager")  # create_app sets INFO
    recorder = Recorder(app.test_client())
    plaintext = SENTINEL_BYTES + b"|plaintext"
    payload = ('{"secret":"' + SENTINEL + '","n":1}').encode()

    # encrypt, decrypt: only the decrypt response may carry the plaintext, in its data field
    encrypted = recorder.call("post", "/encrypt", json=wrap(crypto(b64url(plaintext))))
    wire = encrypted.get_json()["response"]["data"]
    decrypted = recorder.call("post", "/decrypt", json=wrap(crypto(wire)), scan=False)
    assert b64url_decode(decrypted.get_json()["response"]["data"]) == plaintext
    assert set(decrypted.get_json()["response"]) == {"data"}
    # the same with salt and aad
    salted = crypto(b64url(plaintext)) | {"salt": b64url(b"0123456789ab"), "aad": b64url(b"a" * 32)}
    wire2 = recorder.call("post", "/encrypt", json=wrap(salted)).get_json()["response"]["data"]
    again = recorder.call("post", "/decrypt", json=wrap(salted | {"data": wire2}), scan=False)
    assert b64url_decode(again.get_json()["response"]["data"]) == plaintext

    # signing: detached payload, so the signature response must not carry it
    signed = recorder.call("post", "/jwtSign", json=wrap({"dataToSign": b64url(payload), "applicationId": "KERNEL",
                                                          "referenceId": "SIGN", "includePayload": False}))
    jwt_ = signed.get_json()["response"]["jwtSignedData"]
    verified = recorder.call("post", "/jwtVerify", json=wrap({"jwtSignatureData": jwt_, "actualData": b64url(payload),
                                                              "applicationId": "KERNEL", "referenceId": "SIGN"}))
    assert verified.get_json()["errors"] is None, verified.get_json()
    recorder.call("post", "/jwsSign", json=wrap({"dataToSign": b64url(payload), "applicationId": "KERNEL",
                                                 "referenceId": "SIGN", "includePayload": False}))
    # payloads that fail validation: the error must not echo them
    for bad in (b64url(b"not json " + SENTINEL_BYTES), SENTINEL + "!!"):
        refused = recorder.call("post", "/jwsSign", json=wrap({"dataToSign": bad, "applicationId": "KERNEL",
                                                               "referenceId": "SIGN", "validateJson": True}))
        assert_clean_error(refused)
    refused = recorder.call("post", "/encrypt", json=wrap(crypto(SENTINEL + "%%not-base64")))
    assert_clean_error(refused)
    refused = recorder.call("post", "/decrypt", json=wrap(crypto(SENTINEL + "%%not-base64")))
    assert_clean_error(refused)

    # the sentinel where a key should be, and garbage keys in an envelope
    raw = b64url_decode(wire)
    header, thumbprint, rest = raw[:6], raw[6:38], raw[38:]
    for bad_wire in (
        header + thumbprint + rest[:100] + bytes([rest[100] ^ 1]) + rest[101:],    # flipped RSA block
        raw[:-1] + bytes([raw[-1] ^ 1]),                                           # flipped GCM tag
        header + os.urandom(32) + rest,                                            # unknown key
        header + thumbprint + os.urandom(256) + rest[256:],                         # bad session key
        SENTINEL_BYTES * 9 + b"#KEY_SPLITTER#" + SENTINEL_BYTES,                   # sentinel as the key
        header + thumbprint + SENTINEL_BYTES * 8 + b"#KEY_SPLITTER#" + b"\0" * 40,
    ):
        failed = recorder.call("post", "/decrypt", json=wrap(crypto(b64url(bad_wire))))
        assert failed.status_code == 200
        assert_clean_error(failed)

    # every key lifecycle step too
    recorder.call("post", "/generateMasterKey/CERTIFICATE", json=wrap({"applicationId": APP, "referenceId": "",
                                                                      "force": True}))
    recorder.call("put", "/revokeKey", json=wrap({"applicationId": APP, "referenceId": REF}))
    recorder.call("get", "/getCertificate", query_string={"applicationId": APP, "referenceId": REF})

    logs = log_text(capture)
    secrets = [plaintext, payload, SENTINEL_BYTES]
    assert_absent(secrets, recorder.texts, "a response")
    assert_absent(secrets, [logs], "the logs")
    private_keys = keystore_private_keys(container)
    assert len(private_keys) >= 3
    assert_absent(private_keys, recorder.texts + [logs], "responses or logs (a private key)")

    # the audit trail: never data, never the password
    records = list(container.audit_log().records())
    assert records
    assert_absent(secrets + private_keys, [repr(record) for record in records], "the audit trail")

    # on disk: neither plaintext nor payload nor password, nor an unencrypted private key
    files = [path for path in (tmp_path / "data").rglob("*") if path.is_file()]
    assert any(path.suffix in (".db", ".sqlite", ".sqlite3") for path in files), files
    disk = "\n".join(path.read_bytes().decode("latin-1") for path in files)
    assert_absent(secrets + private_keys, [disk], "the data directory")


def test_wrong_keystore_password_fails_without_showing_it(make_container, tmp_path: Path, clock, capture) -> None:
    settings = Settings(data_dir=tmp_path / "data", store="sqlite", keystore="pkcs12",
                        keystore_password="the-right-password")
    init_master_keys(make_container(settings, clock))
    wrong = settings.with_overrides(keystore_password=SENTINEL)
    texts = [repr(wrong), str(wrong)]
    try:
        container = make_container(wrong, clock)
        app = create_app(wrong, container)
        capture.set_level(logging.DEBUG, logger="keymanager")
        recorder = Recorder(app.test_client())
        response = recorder.call("get", "/getCertificate", query_string={"applicationId": APP, "referenceId": ""})
        assert response.get_json()["errors"], response.get_data(as_text=True)
        assert_clean_error(response)
        response = recorder.call("post", "/encrypt", json=wrap(crypto(b64url(b"x"))))
        assert response.get_json()["errors"], response.get_data(as_text=True)
        assert_clean_error(response)
        texts += recorder.texts
    except Exception as error:  # refusing at start is fine too, if the error is clean
        texts += [str(error), repr(error)]
    assert_absent([SENTINEL_BYTES, b"the-right-password"], texts + [log_text(capture)], "the wrong-password path")


# -- PKCS#11 --------------------------------------------------------------------------------------


def test_the_pkcs11_pin_never_leaks(make_container, pkcs11_settings: Settings, softhsm_token, clock, capture) -> None:
    container = make_container(pkcs11_settings, clock)
    init_master_keys(container)
    app = create_app(pkcs11_settings, container)
    capture.set_level(logging.DEBUG, logger="keymanager")
    recorder = Recorder(app.test_client())
    wire = recorder.call("post", "/encrypt", json=wrap(crypto(b64url(SENTINEL_BYTES)))).get_json()["response"]["data"]
    assert b64url_decode(recorder.call("post", "/decrypt", json=wrap(crypto(wire)), scan=False)
                         .get_json()["response"]["data"]) == SENTINEL_BYTES
    raw = b64url_decode(wire)
    failed = recorder.call("post", "/decrypt", json=wrap(crypto(b64url(raw[:-1] + bytes([raw[-1] ^ 1])))))
    assert_clean_error(failed)
    recorder.call("post", "/jwtSign", json=wrap({"dataToSign": b64url(b'{"a":1}'), "applicationId": "KERNEL",
                                                 "referenceId": "SIGN"}))
    texts = recorder.texts + [log_text(capture), repr(pkcs11_settings), repr(container.keystore())]
    pin = softhsm_token["pin"].encode()
    assert_absent([pin, SENTINEL_BYTES], texts, "the PKCS#11 flow")
    assert softhsm_token["pin"] not in "\n".join(texts)  # short: not covered by forms()'s length floor


def test_a_wrong_pkcs11_pin_fails_cleanly_without_showing_it(
    make_container, pkcs11_settings: Settings, softhsm_token, clock, capture
) -> None:
    import pkcs11

    pkcs11.lib(softhsm_token["module"]).reinitialize()  # log this process out: else C_Login is skipped
    wrong = pkcs11_settings.with_overrides(pkcs11_pin=SENTINEL)
    texts = [repr(wrong), str(wrong)]
    try:
        container = make_container(wrong, clock)
        with pytest.raises(KeyManagerError) as caught:
            init_master_keys(container)
        texts += [str(caught.value), repr(caught.value), caught.value.message]
        app = create_app(wrong, container)
        capture.set_level(logging.DEBUG, logger="keymanager")
        recorder = Recorder(app.test_client())
        for response in (
            recorder.call("get", "/getCertificate", query_string={"applicationId": APP, "referenceId": ""}),
            recorder.call("post", "/encrypt", json=wrap(crypto(b64url(b"x")))),
        ):
            assert response.status_code in (200, 503)
            assert_clean_error(response)
        texts += recorder.texts + [repr(container.keystore())]
    finally:
        pkcs11.lib(softhsm_token["module"]).reinitialize()
    texts.append(log_text(capture))
    assert any("refused the user PIN" in record.getMessage() for record in capture.records)
    assert_absent([SENTINEL_BYTES, softhsm_token["pin"].encode()], texts, "the wrong-PIN path")
    assert softhsm_token["pin"] not in "\n".join(texts)


# -- OIDC tokens ----------------------------------------------------------------------------------


@pytest.fixture
def idp() -> Iterator[Idp]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        provider = Idp(mock)
        provider.publish("k1")
        yield provider


def test_tokens_never_leak(memory_settings: Settings, container, idp: Idp, capture) -> None:
    settings = memory_settings.with_overrides(auth_mode="oidc", oidc_issuer=ISSUER, oidc_jwks_url=JWKS_URL,
                                              oidc_audience=(AUDIENCE,))
    app = create_app(settings, container)
    capture.set_level(logging.DEBUG, logger="keymanager")
    recorder = Recorder(app.test_client())
    good = idp.token(roles=["REGISTRATION_PROCESSOR", "KEY_MAKER"], user="alice")
    forged_payload = b64url(b'{"sub":"' + SENTINEL_BYTES + b'"}')
    bogus = [
        SENTINEL,
        "eyJhbGciOiJSUzI1NiJ9." + b64url(SENTINEL_BYTES) + "." + b64url(SENTINEL_BYTES),
        good.split(".")[0] + "." + forged_payload + "." + good.split(".")[2],          # bad signature
        idp.token(iss="https://evil.example/" + SENTINEL),                               # wrong issuer
        idp.token(aud=SENTINEL),                                                         # wrong audience
        idp.token(exp=1, sub=SENTINEL),                                                  # expired
        idp.token(kid=SENTINEL, key=KEYS["rogue"]),                                                       # unknown kid
    ]
    for token in bogus:
        for headers in (bearer(token), {"Authorization": token}):
            response = recorder.call("post", "/encrypt", json=wrap(crypto(b64url(b"x"))), headers=headers)
            assert response.status_code == 401, response.get_data(as_text=True)
            assert_clean_error(response)
        recorder.client.set_cookie("Authorization", token)
        response = recorder.call("get", "/getCertificate", query_string={"applicationId": APP, "referenceId": REF})
        assert response.status_code == 401
        recorder.client.delete_cookie("Authorization")

    # a valid token works and is echoed nowhere (neither in full nor its signature)
    ok = recorder.call("post", "/encrypt", json=wrap(crypto(b64url(SENTINEL_BYTES))), headers=bearer(good))
    assert ok.status_code == 200 and ok.get_json()["errors"] is None
    wire = ok.get_json()["response"]["data"]
    assert recorder.call("post", "/decrypt", json=wrap(crypto(wire)), headers=bearer(good),
                         scan=False).get_json()["errors"] is None
    forbidden = recorder.call("post", "/encrypt", json=wrap(crypto(b64url(b"x"))),
                              headers=bearer(idp.token(roles=[], sub=SENTINEL)))
    assert forbidden.status_code == 403
    assert_clean_error(forbidden)

    texts = recorder.texts + [log_text(capture)]
    records = list(container.audit_log().records())
    texts += [repr(record) for record in records]
    haystack = "\n".join(texts)
    for token in bogus + [good]:
        signature = token.split(".")[-1]
        assert token not in haystack
        assert len(signature) < 16 or signature not in haystack
    assert_absent([SENTINEL_BYTES], texts, "responses, logs or the audit trail (token content)")
    assert {record.subject for record in records} >= {"alice"}
