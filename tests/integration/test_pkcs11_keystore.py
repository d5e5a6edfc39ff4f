"""What only the PKCS#11 keystore promises, on a real SoftHSM2 token: keys that cannot leave
the token (checked on the token's own attributes), the reference's object layout, client
input the token chokes on, recovery from dropped sessions, a logged-out process or a
re-initialised library (also under load), many threads on one keystore, fork(), a wrong PIN
that never leaks and is tried once, and several OS processes sharing one token.

PKCS#11 login is per application (process) and per token: python-pkcs11 keeps one library
object per module path, so the sessions this file opens itself share the adapter's login.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import random
import subprocess
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

from adapters.pkcs11.keystore import Pkcs11Keystore, library_lock
from application.crypto.primitives import OAEP_SHA256, generate_rsa_key
from application.ports.keystore import KeyAlgorithm, KeystoreError, PrivateKeyOperationError, SignatureScheme
from domain.errors import KeystoreUnavailableError
from tests.support.lockstep import run_in_lockstep
from tests.support.pkcs11 import own_session, public_key
from tests.support.repo import REPO_ROOT, child_process_env

# python-pkcs11 finalises a search whose C_FindObjectsInit failed on a dead session again in
# __del__, where the second SessionHandleInvalid can only be reported as "unraisable".
pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. 'pkcs11._pkcs11.OperationContext.__del__':pytest.PytestUnraisableExceptionWarning"
)


# -- helpers ------------------------------------------------------------------------------------


def new_alias() -> str:
    return str(uuid.uuid4())


def certificate_for(public: rsa.RSAPublicKey, common_name: str = "pkcs11-test") -> bytes:
    """A certificate of a token key's public key, issued by a throw-away CA key."""
    issuer_key = generate_rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(issuer_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def token(softhsm_token) -> dict[str, str]:
    return softhsm_token


@pytest.fixture
def keystore(token) -> Pkcs11Keystore:
    return Pkcs11Keystore(token["module"], token["label"], token["pin"])


@pytest.fixture
def caplog(caplog, monkeypatch):
    """caplog, with the adapter's logger enabled: import-linter's CLI (run by test_layers)
    calls logging.config.dictConfig, which disables every logger that existed before."""
    for name in ("keymanager", "keymanager.pkcs11"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    return caplog


def assert_works(keystore: Pkcs11Keystore, alias: str, key: rsa.RSAPublicKey, certificate: bytes | None = None) -> None:
    message = os.urandom(32)
    assert keystore.decrypt(alias, key.encrypt(message, OAEP_SHA256)) == message
    key.verify(keystore.sign(alias, b"data"), b"data", padding.PKCS1v15(), hashes.SHA256())
    assert alias in keystore.aliases()
    if certificate is not None:
        assert keystore.certificate(alias) == certificate


# -- keys never leave the token ----------------------------------------------------------------


def test_private_key_is_sensitive_and_never_extractable_on_the_token(keystore, token) -> None:
    alias = new_alias()
    key = public_key(keystore.generate_key_pair(alias))
    certificate = certificate_for(key)
    keystore.store_certificate(alias, certificate)

    with own_session(token) as session:
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=alias.encode())
        assert private[Attribute.KEY_TYPE] == KeyType.RSA
        assert private[Attribute.SENSITIVE] is True
        assert private[Attribute.EXTRACTABLE] is False
        assert private[Attribute.ALWAYS_SENSITIVE] is True  # sensitive since it was generated
        assert private[Attribute.NEVER_EXTRACTABLE] is True  # ...and never extractable
        assert private[Attribute.TOKEN] is True
        assert private[Attribute.PRIVATE] is True
        assert private[Attribute.LOCAL] is True  # generated in the token, not imported
        assert int.from_bytes(private[Attribute.MODULUS], "big") == key.public_numbers().n

        for secret in (
            Attribute.PRIVATE_EXPONENT,
            Attribute.PRIME_1,
            Attribute.PRIME_2,
            Attribute.EXPONENT_1,
            Attribute.EXPONENT_2,
            Attribute.COEFFICIENT,
        ):
            with pytest.raises(p11.AttributeSensitive):
                private[secret]

        # The flags cannot be turned back.
        with pytest.raises(p11.PKCS11Error):
            private[Attribute.EXTRACTABLE] = True
        with pytest.raises(p11.PKCS11Error):
            private[Attribute.SENSITIVE] = False
        assert private[Attribute.EXTRACTABLE] is False and private[Attribute.SENSITIVE] is True

        # Wrapping it out with a key of our own is refused by the token...
        wrapping = session.generate_key(KeyType.AES, 256, store=False, template={Attribute.WRAP: True})
        for mechanism in (Mechanism.AES_KEY_WRAP_PAD, Mechanism.AES_KEY_WRAP):
            with pytest.raises(p11.KeyUnextractable):
                wrapping.wrap_key(private, mechanism=mechanism)
        # ...although the same wrapping key and mechanism export an extractable key fine.
        _, extractable = session.generate_keypair(
            KeyType.RSA, 2048, store=False, private_template={Attribute.EXTRACTABLE: True, Attribute.SENSITIVE: True}
        )
        assert len(wrapping.wrap_key(extractable, mechanism=Mechanism.AES_KEY_WRAP_PAD)) > 1000

        # The certificate object: CKA_LABEL = alias, CKA_ID = alias (the reference's layout).
        (cert_object,) = session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: alias.encode()})
        assert cert_object[Attribute.LABEL] == alias
        assert cert_object[Attribute.ID] == alias.encode()
        assert cert_object[Attribute.VALUE] == certificate
        assert cert_object[Attribute.TOKEN] is True

        # No public-key object is kept on the token for that key (CKA_TOKEN true), nor left behind
        # as a session object of the adapter's session (visible here: same process).
        public_query = {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.ID: alias.encode()}
        assert list(session.get_objects({**public_query, Attribute.TOKEN: True})) == []
        assert list(session.get_objects(public_query)) == []

    assert_works(keystore, alias, key, certificate)


def test_keys_survive_a_new_keystore_and_are_visible_in_a_fresh_process(keystore, token) -> None:
    """Token objects (CKA_TOKEN) persist: another process logging in on its own finds them
    with the same protection attributes."""
    alias = new_alias()
    key = public_key(keystore.generate_key_pair(alias))
    script = r"""
import json, os, sys
import pkcs11
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11
token = pkcs11.lib(os.environ["PKCS11_MODULE"]).get_token(token_label=os.environ["PKCS11_TOKEN_LABEL"])
with token.open(user_pin=os.environ["PKCS11_TOKEN_PIN"]) as session:
    key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=sys.argv[1].encode())
    try:
        key[Attribute.PRIVATE_EXPONENT]
        exponent = "READABLE"
    except p11.AttributeSensitive:
        exponent = "sensitive"
    public = list(session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.ID: sys.argv[1].encode()}))
    print(json.dumps({
        "sensitive": key[Attribute.SENSITIVE], "extractable": key[Attribute.EXTRACTABLE],
        "never_extractable": key[Attribute.NEVER_EXTRACTABLE], "exponent": exponent,
        "modulus": key[Attribute.MODULUS].hex(), "public_objects": len(public),
    }))
"""
    result = subprocess.run(
        [sys.executable, "-c", script, alias], cwd=REPO_ROOT, env=child_env(token), capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    seen = json.loads(result.stdout)
    assert seen == {
        "sensitive": True,
        "extractable": False,
        "never_extractable": True,
        "exponent": "sensitive",
        "modulus": key.public_numbers().n.to_bytes(256, "big").hex(),
        "public_objects": 0,  # not even a session object: that process never saw one
    }
    again = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    assert_works(again, alias, key)


# -- the reference's token layout ---------------------------------------------------------------


def test_key_and_certificate_made_by_hand_in_the_reference_layout_are_usable(keystore, token) -> None:
    """A token written by the reference (SunPKCS11): private key with CKA_ID = alias and no
    label, certificate with CKA_LABEL = CKA_ID = alias, no public-key object."""
    alias = new_alias()
    with own_session(token) as session:
        public_object, private_object = session.generate_keypair(
            KeyType.RSA,
            2048,
            id=alias.encode(),
            store=True,
            public_template={Attribute.TOKEN: False, Attribute.PUBLIC_EXPONENT: b"\x01\x00\x01"},
            private_template={
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.DECRYPT: True,
                Attribute.SIGN: True,
            },
        )
        public_object.destroy()
        try:
            label = private_object[Attribute.LABEL]
        except p11.PKCS11Error:
            label = ""
        assert not label  # the reference leaves the private key without a label
        key = rsa.RSAPublicNumbers(
            int.from_bytes(private_object[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(private_object[Attribute.MODULUS], "big"),
        ).public_key()
        certificate = certificate_for(key, "made-by-hand")
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.LABEL: alias,
                Attribute.ID: alias.encode(),
                Attribute.SUBJECT: x509.load_der_x509_certificate(certificate).subject.public_bytes(),
                Attribute.VALUE: certificate,
            }
        )

    fresh = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    assert fresh.certificate(alias) == certificate
    assert_works(fresh, alias, key, certificate)
    # Replacing the certificate through the adapter keeps the hand-made key.
    second = certificate_for(key, "replaced")
    fresh.store_certificate(alias, second)
    assert_works(fresh, alias, key, second)
    fresh.delete(alias)
    assert alias not in fresh.aliases() and fresh.certificate(alias) is None


def test_secret_key_made_by_hand_in_the_reference_layout_is_usable(keystore, token) -> None:
    """A secret key the reference stored (SunPKCS11 P11KeyStore.storeSkey: CKA_LABEL = alias, no
    CKA_ID), e.g. the ZK master key: listed, usable, not overwritten by an import, deleted."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    alias, value = new_alias(), bytes(range(32))
    with own_session(token) as session:
        made = session.create_object({
            Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES, Attribute.VALUE: value,
            Attribute.LABEL: alias, Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
            Attribute.ENCRYPT: True, Attribute.DECRYPT: True,
        })
        assert bytes(made[Attribute.ID]) == b""

    fresh = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    assert alias in fresh.aliases()
    encryptor = Cipher(algorithms.AES(value), modes.ECB()).encryptor()
    blocks = bytes(range(200, 232))
    assert fresh.encrypt_blocks(alias, blocks) == encryptor.update(blocks) + encryptor.finalize()
    assert fresh.decrypt_blocks(alias, fresh.encrypt_blocks(alias, blocks)) == blocks
    with pytest.raises(KeystoreError, match="Alias already exists"):
        fresh.import_secret_key(alias, bytes(32))
    fresh.delete(alias)
    assert alias not in fresh.aliases()
    with pytest.raises(KeystoreError, match="No such alias"):
        Pkcs11Keystore(token["module"], token["label"], token["pin"]).encrypt_blocks(alias, blocks)


# -- input the token refuses -------------------------------------------------------------------


def test_block_at_or_above_the_modulus_is_a_decryption_error_not_a_token_failure(keystore, caplog) -> None:
    """SoftHSM2 answers CKR_GENERAL_ERROR to a raw RSA block >= n. Anyone can put such a block
    into a /decrypt envelope: it must fail that request only, without re-initialising the
    library (which drops every session of the process) or answering 'keystore unavailable'."""
    caplog.set_level(logging.WARNING, logger="keymanager.pkcs11")
    alias = new_alias()
    key = public_key(keystore.generate_key_pair(alias))
    assert_works(keystore, alias, key)
    session = keystore._local.session
    modulus = key.public_numbers().n
    for value in (modulus, modulus + 1, 2**2048 - 1):
        with pytest.raises(PrivateKeyOperationError):
            keystore.decrypt(alias, value.to_bytes(256, "big"))
    assert keystore._local.session is session  # no recovery happened
    assert [r for r in caplog.records if r.name == "keymanager.pkcs11"] == []
    assert_works(keystore, alias, key)


# -- recovery -----------------------------------------------------------------------------------


def test_session_closed_behind_its_back_is_reopened(keystore) -> None:
    alias = new_alias()
    key = public_key(keystore.generate_key_pair(alias))
    certificate = certificate_for(key)
    keystore.store_certificate(alias, certificate)
    assert_works(keystore, alias, key, certificate)

    for _ in range(3):
        keystore._local.session.close()  # whatever that session is (it may be the one that logged in)
        assert_works(keystore, alias, key, certificate)
    assert keystore.health().ok


def test_library_reinitialized_behind_its_back(keystore, token) -> None:
    """C_Finalize + C_Initialize: every session is gone and the process is logged out."""
    alias = new_alias()
    key = public_key(keystore.generate_key_pair(alias))
    certificate = certificate_for(key)
    keystore.store_certificate(alias, certificate)

    for operation in ("decrypt", "aliases", "certificate", "sign", "generate"):
        pkcs11.lib(token["module"]).reinitialize()
        if operation == "decrypt":
            message = os.urandom(32)
            assert keystore.decrypt(alias, key.encrypt(message, OAEP_SHA256)) == message
        elif operation == "aliases":
            assert alias in keystore.aliases()  # not an empty list because private objects went invisible
        elif operation == "certificate":
            assert keystore.certificate(alias) == certificate
        elif operation == "sign":
            key.verify(keystore.sign(alias, b"x"), b"x", padding.PKCS1v15(), hashes.SHA256())
        else:
            other = new_alias()
            public_key(keystore.generate_key_pair(other))
            assert other in keystore.aliases()
        assert_works(keystore, alias, key, certificate)


def test_process_logged_out_by_someone_else_logs_in_again(keystore, token) -> None:
    """Another user of the library in this process logs in and out (python-pkcs11 closes a
    logged-in session with C_Logout): the adapter sees its private keys again afterwards."""
    alias = new_alias()
    key = public_key(keystore.generate_key_pair(alias))
    pkcs11.lib(token["module"]).reinitialize()  # everyone logged out: the next login is ours
    slot_token = pkcs11.lib(token["module"]).get_token(token_label=token["label"])
    intruder = slot_token.open(user_pin=token["pin"])
    assert_works(keystore, alias, key)  # the adapter rides on the intruder's login
    intruder.close()  # C_Logout: the process is logged out, private objects turn invisible
    assert_works(keystore, alias, key)
    assert keystore.sign(alias, b"x")


def test_sessions_dropped_under_load_are_recovered(keystore, token, caplog) -> None:
    """8 threads decrypt (a few hundred operations) while another thread keeps closing their
    sessions. A session is closed only between two operations of its thread (closing it during
    another thread's call would be a use after free in the module, not a dropped session) and
    under the adapter's library lock (the module runs without its own mutexes), and the next
    victim is chosen once the last one has recovered, so a closed handle is not reused by
    another thread meanwhile."""
    caplog.set_level(logging.WARNING, logger="keymanager.pkcs11")
    aliases = [new_alias() for _ in range(2)]
    keys = {alias: public_key(keystore.generate_key_pair(alias)) for alias in aliases}
    threads_count, per_thread = 8, 40
    locks = [threading.Lock() for _ in range(threads_count)]
    sessions: list[Any] = [None] * threads_count
    done_ops = [0] * threads_count
    failures: list[str] = []
    wrong: list[str] = []
    unavailable: list[int] = []
    finished = threading.Event()
    start = threading.Barrier(threads_count + 1)

    def worker(number: int) -> None:
        rng = random.Random(number)
        start.wait()
        for _ in range(per_thread):
            alias = rng.choice(aliases)
            message = os.urandom(rng.randint(1, 190))
            ciphertext = keys[alias].encrypt(message, OAEP_SHA256)
            with locks[number]:
                try:
                    plain = keystore.decrypt(alias, ciphertext)
                except KeystoreUnavailableError:
                    unavailable.append(number)
                    continue
                except Exception:  # noqa: BLE001 - recorded and asserted on below
                    failures.append(traceback.format_exc())
                    continue
                finally:
                    sessions[number] = getattr(keystore._local, "session", None)
                    done_ops[number] += 1
            if plain != message:
                wrong.append(alias)

    kills = 0

    def killer() -> None:
        nonlocal kills
        rng = random.Random(99)
        start.wait()
        while not finished.is_set():
            victim = rng.randrange(threads_count)
            with locks[victim], library_lock(token["module"]):
                session, before = sessions[victim], done_ops[victim]
                if session is None or before >= per_thread:
                    continue
                session.close()  # dropped: the thread does not know
                kills += 1
            deadline = time.monotonic() + 30
            while done_ops[victim] == before and not finished.is_set() and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.01))

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads_count)]
    killing = threading.Thread(target=killer)
    for thread in [*workers, killing]:
        thread.start()
    for thread in workers:
        thread.join(timeout=300)
    finished.set()
    killing.join(timeout=60)

    assert not any(thread.is_alive() for thread in [*workers, killing])
    assert failures == [], failures[0]
    assert wrong == []
    assert unavailable == []
    assert sum(done_ops) == threads_count * per_thread
    assert kills >= 10, f"only {kills} sessions were dropped: the test did not exercise recovery"
    recoveries = [r for r in caplog.records if r.name == "keymanager.pkcs11" and r.levelno == logging.WARNING]
    assert len(recoveries) >= kills
    for alias in aliases:
        assert_works(keystore, alias, keys[alias])


def test_one_keystore_many_threads_without_interference(keystore) -> None:
    """8 threads at once on one keystore: decrypt with a shared key, generate / certify / use /
    delete keys of their own. (python-pkcs11 initialises the module with C_Initialize(NULL),
    so SoftHSM2 has no mutexes: unserialised calls from several threads corrupt its heap.)"""
    shared = new_alias()
    shared_key = public_key(keystore.generate_key_pair(shared))
    errors: list[str] = []
    start = threading.Barrier(8)

    def work() -> None:
        try:
            start.wait()
            for round_number in range(2):
                alias = new_alias()
                key = public_key(keystore.generate_key_pair(alias))
                certificate = certificate_for(key)
                keystore.store_certificate(alias, certificate)
                for _ in range(15):
                    message = os.urandom(32)
                    assert keystore.decrypt(shared, shared_key.encrypt(message, OAEP_SHA256)) == message
                    assert keystore.certificate(alias) == certificate
                assert_works(keystore, alias, key, certificate)
                keystore.delete(alias)
                assert alias not in keystore.aliases()
        except Exception:  # noqa: BLE001
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == [], errors[0]
    assert_works(keystore, shared, shared_key)


def test_forked_child_uses_the_token(keystore, token) -> None:
    """fork() after the keystore was used (gunicorn forks its workers after the key ceremony):
    the child re-initialises the module (SoftHSM2 with library.reset_on_fork answers
    CKR_CRYPTOKI_NOT_INITIALIZED otherwise) with the inherited keystore or a new one, and the
    parent carries on."""
    alias = new_alias()
    key = public_key(keystore.generate_key_pair(alias))
    certificate = certificate_for(key)
    keystore.store_certificate(alias, certificate)
    assert_works(keystore, alias, key, certificate)

    for which in ("inherited", "new"):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report through the pipe, never return into pytest
            status = b"ok"
            try:
                os.close(read_end)
                if which == "inherited":
                    used = keystore
                else:
                    used = Pkcs11Keystore(token["module"], token["label"], token["pin"])
                assert_works(used, alias, key, certificate)
                child_alias = new_alias()
                assert_works(used, child_alias, public_key(used.generate_key_pair(child_alias)))
                status += b" " + child_alias.encode()
            except BaseException:  # noqa: BLE001
                status = traceback.format_exc().encode()
            finally:
                os.write(write_end, status)
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            reported = pipe.read().decode(errors="replace")
        os.waitpid(pid, 0)
        assert reported.startswith("ok "), f"{which}: {reported}"
        assert reported.split()[1] in keystore.aliases()  # made by the child, seen by the parent
        assert_works(keystore, alias, key, certificate)


# -- the PIN --------------------------------------------------------------------------------------


def _exception_texts(error: BaseException) -> str:
    texts, seen, current = [], set(), [error]
    while current:
        item = current.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        texts += [str(item), repr(item), *map(str, item.args)]
        texts += traceback.format_exception(type(item), item, item.__traceback__)
        current += [item.__cause__, item.__context__]
    return "\n".join(texts)


def _log_texts(records: list[logging.LogRecord]) -> str:
    texts = []
    for record in records:
        texts += [record.getMessage(), repr(record.args), record.exc_text or "", str(record.msg)]
        if record.exc_info and record.exc_info[1] is not None:
            texts.append(_exception_texts(record.exc_info[1]))
    return "\n".join(texts)


def test_wrong_pin_is_unavailable_and_never_shows(token, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    # Login is per process: log this process out first, or C_Login would answer
    # "already logged in" (through earlier tests' sessions) without looking at the PIN.
    pkcs11.lib(token["module"]).reinitialize()
    wrong_pin = "wrong-" + uuid.uuid4().hex
    keystore = Pkcs11Keystore(token["module"], token["label"], wrong_pin)
    operations = {
        "decrypt": lambda: keystore.decrypt(new_alias(), b"\x00" * 256),
        "sign": lambda: keystore.sign(new_alias(), b"data"),
        "generate": lambda: keystore.generate_key_pair(new_alias()),
        "aliases": keystore.aliases,
        "certificate": lambda: keystore.certificate(new_alias()),
        "random": lambda: keystore.random_bytes(16),
    }
    texts = []
    for name, operation in operations.items():
        with pytest.raises(KeystoreUnavailableError) as caught:
            operation()
        assert caught.value.code == "KER-KMA-003", name
        texts.append(_exception_texts(caught.value))

    health = keystore.health()
    assert health.ok is False
    # One login attempt only: every retry would count towards the token locking the user PIN.
    refused = [r for r in caplog.records if r.name == "keymanager.pkcs11" and "refused the user PIN" in r.getMessage()]
    assert len(refused) == 1
    texts += [health.detail, repr(health), repr(keystore), str(keystore)]
    texts.append(_log_texts(caplog.records))
    assert caplog.records, "the failure is logged (without the PIN)"
    everything = "\n".join(texts)
    assert wrong_pin not in everything
    assert token["pin"] not in everything

    # The right PIN still logs in afterwards (no lock-out from the failures above).
    good = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    alias = new_alias()
    assert_works(good, alias, public_key(good.generate_key_pair(alias)))


def test_right_pin_is_never_logged_even_through_recovery(keystore, token, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    alias = new_alias()
    key = public_key(keystore.generate_key_pair(alias))
    keystore._local.session.close()
    assert_works(keystore, alias, key)
    pkcs11.lib(token["module"]).reinitialize()
    assert_works(keystore, alias, key)
    with pytest.raises(KeystoreError) as caught:
        keystore.decrypt(new_alias(), b"\x00" * 256)
    text = _log_texts(caplog.records) + _exception_texts(caught.value) + repr(keystore) + keystore.health().detail
    assert token["pin"] not in text


# -- several OS processes on one token ---------------------------------------------------------------

CHILD = r"""
import json, os, sys, time
from pathlib import Path
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from adapters.pkcs11.keystore import Pkcs11Keystore
from application.crypto.primitives import OAEP_SHA256

ready, go, prefix, shared_alias, shared_ciphertext = Path(sys.argv[1]), Path(sys.argv[2]), *sys.argv[3:6]
keystore = Pkcs11Keystore(os.environ["PKCS11_MODULE"], os.environ["PKCS11_TOKEN_LABEL"], os.environ["PKCS11_TOKEN_PIN"])
keystore.health()
ready.write_text("ready")
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("no start signal")
    time.sleep(0.002)
made, decrypted = {}, 0
for n in range(3):
    alias = f"{prefix}-{n}"
    key = serialization.load_der_public_key(keystore.generate_key_pair(alias))
    made[alias] = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo).hex()
    for _ in range(10):
        message = os.urandom(48)
        assert keystore.decrypt(alias, key.encrypt(message, OAEP_SHA256)) == message
        assert keystore.decrypt(shared_alias, bytes.fromhex(shared_ciphertext)) == b"shared secret"
        decrypted += 2
    key.verify(keystore.sign(alias, b"data"), b"data", padding.PKCS1v15(), hashes.SHA256())
print(json.dumps({"made": made, "decrypted": decrypted, "aliases": keystore.aliases()}))
"""


def child_env(token: dict[str, str]) -> dict[str, str]:
    return child_process_env(
        SOFTHSM2_CONF=token["conf"],
        PKCS11_MODULE=token["module"],
        PKCS11_TOKEN_LABEL=token["label"],
        PKCS11_TOKEN_PIN=token["pin"],  # in the environment, not on the command line
    )


def test_several_processes_share_the_token(keystore, token, tmp_path: Path) -> None:
    shared = new_alias()
    shared_key = public_key(keystore.generate_key_pair(shared))
    shared_ciphertext = shared_key.encrypt(b"shared secret", OAEP_SHA256).hex()
    arguments = [[f"proc{number}-{uuid.uuid4().hex[:8]}", shared, shared_ciphertext] for number in range(3)]
    results = run_in_lockstep(tmp_path, CHILD, arguments, child_env(token), run_timeout=240)

    made = {alias: spki for result in results for alias, spki in result["made"].items()}
    assert len(made) == 9
    assert all(result["decrypted"] == 60 for result in results)
    for result in results:
        assert shared in result["aliases"] and set(result["made"]) <= set(result["aliases"])
    # This process sees every key the children made, and can use them.
    listed = keystore.aliases()
    for alias, spki in made.items():
        assert alias in listed
        assert_works(keystore, alias, public_key(bytes.fromhex(spki)))


# -- EC signing keys -----------------------------------------------------------------------------------

EC_KEYS = {KeyAlgorithm.EC_P256: ("secp256r1", ec.SECP256R1), KeyAlgorithm.EC_SECP256K1: ("secp256k1", ec.SECP256K1)}
ec_algorithms = pytest.mark.parametrize("algorithm", list(EC_KEYS), ids=[a.value for a in EC_KEYS])

EC_SIGN_CHILD = r"""
import os, sys
from adapters.pkcs11.keystore import Pkcs11Keystore
from application.ports.keystore import SignatureScheme
keystore = Pkcs11Keystore(os.environ["PKCS11_MODULE"], os.environ["PKCS11_TOKEN_LABEL"], os.environ["PKCS11_TOKEN_PIN"])
print(keystore.sign(sys.argv[1], sys.argv[2].encode(), SignatureScheme.ECDSA_SHA256).hex())
"""


def ec_public_key(spki: bytes, algorithm: KeyAlgorithm) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(spki)
    assert isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, EC_KEYS[algorithm][1])
    return key


def assert_ec_signs(keystore: Pkcs11Keystore, alias: str, key: ec.EllipticCurvePublicKey) -> None:
    data = os.urandom(40)
    key.verify(keystore.sign(alias, data, SignatureScheme.ECDSA_SHA256), data, ec.ECDSA(hashes.SHA256()))


@ec_algorithms
def test_ec_private_key_is_sensitive_never_extractable_with_a_token_public_key(
    keystore, token, algorithm: KeyAlgorithm
) -> None:
    alias = new_alias()
    spki = keystore.generate_key_pair(alias, algorithm)
    key = ec_public_key(spki, algorithm)
    curve_name = EC_KEYS[algorithm][0]

    with own_session(token) as session:
        (private,) = session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: alias.encode()})
        assert private[Attribute.KEY_TYPE] == KeyType.EC
        assert private[Attribute.SENSITIVE] is True
        assert private[Attribute.EXTRACTABLE] is False
        assert private[Attribute.ALWAYS_SENSITIVE] is True
        assert private[Attribute.NEVER_EXTRACTABLE] is True
        assert private[Attribute.TOKEN] is True
        assert private[Attribute.PRIVATE] is True
        assert private[Attribute.LOCAL] is True  # generated in the token, not imported
        assert private[Attribute.SIGN] is True
        assert private[Attribute.EC_PARAMS] == encode_named_curve_parameters(curve_name)
        with pytest.raises(p11.AttributeSensitive):
            private[Attribute.VALUE]  # the private scalar
        with pytest.raises(p11.PKCS11Error):
            private[Attribute.EXTRACTABLE] = True
        with pytest.raises(p11.PKCS11Error):
            private[Attribute.SENSITIVE] = False
        wrapping = session.generate_key(KeyType.AES, 256, store=False, template={Attribute.WRAP: True})
        with pytest.raises(p11.KeyUnextractable):
            wrapping.wrap_key(private, mechanism=Mechanism.AES_KEY_WRAP_PAD)

        # The public key lives beside it as a token object with the same CKA_ID (the private EC
        # object holds no point), and it is the key generate_key_pair reported.
        (public,) = session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.ID: alias.encode()})
        assert public[Attribute.TOKEN] is True
        assert public[Attribute.KEY_TYPE] == KeyType.EC
        assert public[Attribute.ID] == private[Attribute.ID] == alias.encode()
        assert public[Attribute.EC_PARAMS] == encode_named_curve_parameters(curve_name)
        assert serialization.load_der_public_key(encode_ec_public_key(public)).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) == spki

    assert_ec_signs(keystore, alias, key)
    assert alias in keystore.aliases()  # listed once: the public-key object is not a second alias
    assert keystore.aliases().count(alias) == 1


@ec_algorithms
def test_ec_key_signs_after_a_restart_and_in_a_fresh_process(keystore, token, algorithm: KeyAlgorithm) -> None:
    alias = new_alias()
    spki = keystore.generate_key_pair(alias, algorithm)
    key = ec_public_key(spki, algorithm)
    assert_ec_signs(keystore, alias, key)

    # A new keystore instance (the server restarting in this process): nothing cached.
    restarted = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    assert alias in restarted.aliases()
    assert_ec_signs(restarted, alias, key)
    certificate = certificate_for(key)  # its SPKI is read from the token public-key object again
    restarted.store_certificate(alias, certificate)
    assert restarted.certificate(alias) == certificate
    with pytest.raises(PrivateKeyOperationError):
        restarted.sign(alias, b"data")  # PKCS#1 does not fit an EC key

    # Another OS process with its own login and library.
    result = subprocess.run(
        [sys.executable, "-c", EC_SIGN_CHILD, alias, "from another process"],
        cwd=REPO_ROOT, env=child_env(token), capture_output=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    key.verify(bytes.fromhex(result.stdout.decode().strip()), b"from another process", ec.ECDSA(hashes.SHA256()))


@ec_algorithms
def test_delete_removes_the_ec_private_and_public_key_objects(keystore, token, algorithm: KeyAlgorithm) -> None:
    alias = new_alias()
    spki = keystore.generate_key_pair(alias, algorithm)
    keystore.store_certificate(alias, certificate_for(ec_public_key(spki, algorithm)))
    keystore.delete(alias)
    with own_session(token) as session:
        for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY, ObjectClass.CERTIFICATE):
            assert list(session.get_objects({Attribute.CLASS: cls, Attribute.ID: alias.encode()})) == [], cls
    assert alias not in keystore.aliases()
    with pytest.raises(KeystoreError, match="No such alias"):
        keystore.sign(alias, b"data", SignatureScheme.ECDSA_SHA256)
