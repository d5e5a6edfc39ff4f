"""Where the service's client-crypto key pairs live: in the PKCS#11 token (KEYMANAGER_KEYSTORE=pkcs11),
non-extractable like every key the service makes there; in the PKCS#12 directory across restarts;
and one pair per alias however many processes race for them on a fresh data directory."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.keys.client_keys import ENCRYPTION_ALIAS, SIGNING_ALIAS
from entrypoints.containers import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.http_api import b64url, b64url_decode, ok, post
from tests.support.lockstep import run_in_lockstep
from tests.support.pkcs11 import PROTECTED, token_private_key_attributes
from tests.support.repo import sqlite_pkcs12_env

DATA = b"client crypto data" * 10
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def public_keys(client) -> dict[str, rsa.RSAPublicKey]:
    keys = {}
    for alias, path in ((SIGNING_ALIAS, "/tpmsigning/publickey"), (ENCRYPTION_ALIAS, "/tpmencryption/publickey")):
        key = serialization.load_der_public_key(b64url_decode(ok(post(client, path, {"serverProfile": "x"}))
                                                              ["publicKey"]))
        assert isinstance(key, rsa.RSAPublicKey)
        keys[alias] = key
    return keys


def signed_and_opened(client, keys: dict[str, rsa.RSAPublicKey]) -> None:
    """/cssign verifies with the signing key given; /tpmdecrypt opens what is sealed to the encryption key given."""
    signature = b64url_decode(ok(post(client, "/cssign", {"data": b64url(DATA)}))["data"])
    keys[SIGNING_ALIAS].verify(signature, DATA, padding.PKCS1v15(), hashes.SHA256())
    secret, iv, aad = os.urandom(32), os.urandom(12), os.urandom(32)
    wire = keys[ENCRYPTION_ALIAS].encrypt(secret, OAEP) + iv + aad + AESGCM(secret).encrypt(iv, DATA, aad)
    assert b64url_decode(ok(post(client, "/tpmdecrypt", {"value": b64url(wire)}))["value"]) == DATA


def test_the_pairs_live_in_the_pkcs11_token(make_container, pkcs11_settings: Settings, softhsm_token, clock) -> None:
    container = make_container(pkcs11_settings, clock)
    for alias in (SIGNING_ALIAS, ENCRYPTION_ALIAS):  # the session's token may hold them from another test
        container.keystore().delete(alias)
        assert token_private_key_attributes(softhsm_token, alias) is None
    keys = public_keys(create_app(pkcs11_settings, container).test_client())

    for alias, key in keys.items():
        attributes = token_private_key_attributes(softhsm_token, alias)
        assert attributes is not None, f"{alias} is not in the token"
        assert attributes.pop("modulus") == key.public_numbers().n
        assert attributes == PROTECTED

    # A restart on the same token (and a new data directory: the store holds nothing of them) finds them.
    restarted_settings = pkcs11_settings.with_overrides(data_dir=pkcs11_settings.data_dir.parent / "other")
    restarted = create_app(restarted_settings, make_container(restarted_settings, clock)).test_client()
    assert {a: k.public_numbers() for a, k in public_keys(restarted).items()} == {
        a: k.public_numbers() for a, k in keys.items()}
    signed_and_opened(restarted, keys)


def test_the_pairs_persist_in_the_pkcs12_directory(make_container, sqlite_settings: Settings, clock) -> None:
    first = make_container(sqlite_settings, clock)
    keys = public_keys(create_app(sqlite_settings, first).test_client())
    assert {SIGNING_ALIAS, ENCRYPTION_ALIAS} <= set(first.keystore().aliases())

    again = make_container(sqlite_settings, clock)  # a new process on the same data directory
    client = create_app(sqlite_settings, again).test_client()
    assert {a: k.public_numbers() for a, k in public_keys(client).items()} == {
        a: k.public_numbers() for a, k in keys.items()}
    signed_and_opened(client, keys)


CHILD = r"""
import json, sys, time
from pathlib import Path
from application.use_cases.client_crypto.service_keys import KeyPurpose
from entrypoints.containers import build_container
from entrypoints.settings import Settings

ready, go, first = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
use_case = build_container(Settings.from_env()).service_public_key()
ready.write_text("ready")
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("no start signal")
    time.sleep(0.002)
order = [KeyPurpose(first)] + [p for p in KeyPurpose if p.value != first]
print(json.dumps({p.value: use_case.execute(p).spki.hex() for p in order}))
"""


@pytest.mark.slow
def test_processes_racing_on_a_fresh_data_directory_agree_on_one_pair_each(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    env = sqlite_pkcs12_env(sqlite_settings.data_dir, sqlite_settings.keystore_password)
    results = run_in_lockstep(tmp_path, CHILD, [["signing"], ["encryption"], ["signing"], ["encryption"]], env)

    for purpose in ("signing", "encryption"):
        assert len({result[purpose] for result in results}) == 1, f"processes got different {purpose} keys"
    checker = build_container(sqlite_settings)
    assert sorted(checker.keystore().aliases()) == sorted([ENCRYPTION_ALIAS, SIGNING_ALIAS])
    created = [r.key_alias for r in checker.audit_log().records() if r.operation == "generateKey"]
    assert sorted(created) == sorted([ENCRYPTION_ALIAS, SIGNING_ALIAS])
