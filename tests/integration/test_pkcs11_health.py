"""The PKCS#11 keystore's health check on a real SoftHSM2 token that goes away and comes back (issue 13).

SoftHSM2 (2.6) keeps a token it loaded in memory: once the token's directory is gone, C_GetTokenInfo on
its slot answers CKR_GENERAL_ERROR while an open session still hands out random bytes, and it keeps
answering so after the directory is back, until the library is finalised and initialised again. The
check must therefore describe the token anew each time and re-initialise the library to see it back.

The token here is one of our own, made beside the session's token (same SOFTHSM2_CONF, so the library
this process already initialised keeps its configuration): removing it leaves the session's token alone.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pkcs11
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from adapters.pkcs11.keystore import Pkcs11Keystore, library_lock
from application.ports.keystore import KeystoreError
from domain.errors import KeystoreUnavailableError
from tests.support.pkcs11 import public_key

pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. 'pkcs11._pkcs11.OperationContext.__del__':pytest.PytestUnraisableExceptionWarning"
)

#: The actuator gives a check this long (entrypoints/http/actuator.py CHECK_TIMEOUT_SECONDS).
CHECK_DEADLINE = 2.0


def token_dir(conf: str) -> Path:
    for line in Path(conf).read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "directories.tokendir":
            return Path(value.strip())
    raise AssertionError(f"no directories.tokendir in {conf}")


@pytest.fixture
def removable_token(softhsm_token, tmp_path: Path) -> Iterator[dict]:
    """A token of its own in the session's token directory; yields label, pin, its directory and
    where to move it out of the token directory ("unplugged")."""
    tokens = token_dir(softhsm_token["conf"])
    before = set(tokens.iterdir())
    label, pin = f"km-health-{secrets.token_hex(4)}", secrets.token_hex(8)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", secrets.token_hex(8)],
        check=True, capture_output=True, env={**os.environ, "SOFTHSM2_CONF": softhsm_token["conf"]},
    )
    (directory,) = set(tokens.iterdir()) - before
    aside = tmp_path / "unplugged"
    made = {"module": softhsm_token["module"], "label": label, "pin": pin, "conf": softhsm_token["conf"],
            "dir": directory, "aside": aside, "replacements": []}
    try:
        yield made
    finally:
        for path in (directory, aside, *made["replacements"]):
            shutil.rmtree(path, ignore_errors=True)
        # The library of this process still holds the removed tokens in memory and would answer
        # CKR_GENERAL_ERROR for their slots (python-pkcs11's get_token fails on such a slot even
        # when looking for another token): start it afresh, as the adapter does when its token goes.
        with library_lock(softhsm_token["module"]):
            pkcs11.lib(softhsm_token["module"]).reinitialize()


def timed_health(keystore: Pkcs11Keystore):
    started = time.monotonic()
    health = keystore.health()
    elapsed = time.monotonic() - started
    assert elapsed < CHECK_DEADLINE, f"health took {elapsed:.2f} s"
    return health


def test_down_while_the_token_directory_is_gone_and_up_once_it_is_back(removable_token) -> None:
    token = removable_token
    keystore = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    key = public_key(keystore.generate_key_pair("health-key"))
    assert timed_health(keystore).ok

    shutil.move(token["dir"], token["aside"])  # the operator unplugs the token
    for _ in range(3):  # DOWN on the first check after the removal, and it stays DOWN
        health = timed_health(keystore)
        assert not health.ok
        assert token["label"] in health.detail and token["pin"] not in health.detail
    with pytest.raises((KeystoreUnavailableError, KeystoreError)):  # and the keys cannot be used
        keystore.sign("health-key", b"data")

    shutil.move(token["aside"], token["dir"])  # ... and plugs it back in
    assert timed_health(keystore).ok
    assert timed_health(keystore).ok
    key.verify(keystore.sign("health-key", b"data"), b"data", padding.PKCS1v15(), hashes.SHA256())


def test_down_before_any_use_after_the_removal(removable_token) -> None:
    """The first thing the keystore does after the removal is the health check (nothing else
    touched the token to make the library notice): still DOWN."""
    token = removable_token
    keystore = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    assert timed_health(keystore).ok
    shutil.move(token["dir"], token["aside"])
    assert not timed_health(keystore).ok
    shutil.move(token["aside"], token["dir"])
    assert timed_health(keystore).ok


def test_deleted_token_is_down_and_a_new_token_under_the_label_is_up(removable_token) -> None:
    """``softhsm2-util --delete-token``: DOWN; a token initialised again under the same label
    (a replacement HSM partition) is found by label: UP."""
    token = removable_token
    keystore = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    assert timed_health(keystore).ok
    env = {**os.environ, "SOFTHSM2_CONF": token["conf"]}
    subprocess.run(["softhsm2-util", "--delete-token", "--token", token["label"]], check=True, capture_output=True,
                   env=env)
    assert not token["dir"].exists()
    assert not timed_health(keystore).ok

    tokens = token["dir"].parent
    before = set(tokens.iterdir())
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", token["label"], "--pin", token["pin"],
         "--so-pin", secrets.token_hex(8)],
        check=True, capture_output=True, env=env,
    )
    token["replacements"].extend(set(tokens.iterdir()) - before)
    assert timed_health(keystore).ok


def test_other_keystores_of_the_process_recover_after_the_check_reinitialised_the_library(
    removable_token, softhsm_token
) -> None:
    """The check re-initialises the library (one per process) when its token went away: a keystore
    on another token of the same module loses its sessions and login, and carries on."""
    token = removable_token
    other = Pkcs11Keystore(softhsm_token["module"], softhsm_token["label"], softhsm_token["pin"])
    alias = "health-other-" + secrets.token_hex(4)
    key = public_key(other.generate_key_pair(alias))
    keystore = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    assert timed_health(keystore).ok
    shutil.move(token["dir"], token["aside"])
    assert not timed_health(keystore).ok
    try:
        key.verify(other.sign(alias, b"data"), b"data", padding.PKCS1v15(), hashes.SHA256())
        assert other.health().ok
    finally:
        shutil.move(token["aside"], token["dir"])
        other.delete(alias)
    assert timed_health(keystore).ok


# -- the request path recovers by itself (no probe needed) -----------------------------------------
# While the token is gone (and after it is back, until the library is initialised again) an open
# session still answers, but a key looked up by ID is not found: without a check the caller would get
# "No such alias", and a worker that receives no probe would keep answering so after the token is back.


def test_a_key_of_a_removed_token_is_unavailable_not_missing_and_usable_again_without_a_probe(
    removable_token,
) -> None:
    token = removable_token
    keystore = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    key = public_key(keystore.generate_key_pair("gone-key"))
    keystore.generate_secret_key("gone-secret")
    block = bytes(16)
    encrypted = keystore.encrypt_blocks("gone-secret", block)
    ciphertext = key.encrypt(b"secret", padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))

    shutil.move(token["dir"], token["aside"])  # unplugged: no health() call anywhere in this test
    for call in (lambda: keystore.sign("gone-key", b"data"), lambda: keystore.decrypt("gone-key", ciphertext),
                 lambda: keystore.decrypt_blocks("gone-secret", encrypted)):
        with pytest.raises(KeystoreUnavailableError):
            call()

    shutil.move(token["aside"], token["dir"])  # plugged back in: the very next calls succeed
    key.verify(keystore.sign("gone-key", b"data"), b"data", padding.PKCS1v15(), hashes.SHA256())
    assert keystore.decrypt("gone-key", ciphertext) == b"secret"
    assert keystore.decrypt_blocks("gone-secret", encrypted) == block


def test_a_key_used_before_the_removal_is_usable_again_without_a_probe(removable_token) -> None:
    """The thread's session has the key's handle cached from before the removal."""
    token = removable_token
    keystore = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    key = public_key(keystore.generate_key_pair("cached-key"))
    keystore.sign("cached-key", b"data")
    shutil.move(token["dir"], token["aside"])
    try:
        keystore.sign("cached-key", b"data")  # the token still holds the loaded key in memory: may answer
    except KeystoreUnavailableError:
        pass
    shutil.move(token["aside"], token["dir"])
    key.verify(keystore.sign("cached-key", b"data"), b"data", padding.PKCS1v15(), hashes.SHA256())


def test_an_absent_alias_on_a_healthy_token_is_still_no_such_alias(removable_token) -> None:
    token = removable_token
    keystore = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    keystore.generate_key_pair("present-key")  # the token is in use and logged in
    for call in (lambda: keystore.sign("absent-key", b"data"), lambda: keystore.decrypt("absent-key", bytes(256)),
                 lambda: keystore.decrypt_blocks("absent-secret", bytes(16))):
        with pytest.raises(KeystoreError, match="^No such alias: absent-"):
            call()
    assert keystore.health().ok  # and nothing was re-initialised for it: still the same, usable token
    keystore.sign("present-key", b"data")
