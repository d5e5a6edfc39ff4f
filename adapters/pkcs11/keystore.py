"""Keystore over any PKCS#11 token (an HSM in production, SoftHSM2 in tests).

Object conventions follow the reference's SunPKCS11 tokens, so a token written
by the reference can be read: the private key carries CKA_ID = alias; the
certificate object carries CKA_LABEL = CKA_ID = alias; AES keys CKA_LABEL = alias.
Private keys are generated inside the token, sensitive and never extractable;
no public-key object is kept for RSA keys (the public key is read from the
private key's modulus and exponent); an EC or Ed25519 key keeps its token public-key
object (same CKA_ID), since such a private key object does not carry the point.

Sessions: the user logs in once per process, on a session kept only for that
(PKCS#11 login belongs to the process, and python-pkcs11 closes a session that
logged in with C_Logout: closing a worker session must not log everyone out);
each thread gets its own session, opened without the PIN. A session or token
error drops the session (a handle the token already invalidated is not closed:
its number may belong to another thread's new session by then), re-initialises
the library when the token went away, logs in again if the process was logged
out, and retries the operation once; if the token is really gone the caller
gets a KeystoreUnavailableError without the token's details. A look-up of
a key by alias that finds nothing first checks that the slot still holds our
token (a token that went away can leave a session that answers but finds
nothing) and that the process is still logged in (logged out, private objects
are merely invisible); either failing counts as a session error.
The PIN is never logged nor put into an exception.

Threads: python-pkcs11 initialises a module with C_Initialize(NULL), i.e. the
application promises never to call it from two threads at once, and SoftHSM2
then runs without its mutexes (concurrent calls, even on separate sessions,
corrupt its heap). Every call into a module therefore goes through one lock
per module and process (``library_lock``), which other code of the process
using the same module must take too.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.util.ec import (
    decode_ec_public_key,
    encode_ec_public_key,
    encode_ecdsa_signature,
    encode_named_curve_parameters,
)

from application.crypto.primitives import AES_KEY_LENGTHS, key_pair_for_import, require_whole_blocks
from application.ports.keystore import (
    KeyAlgorithm,
    KeystoreError,
    KeystoreHealth,
    PrivateKeyOperationError,
    SignatureScheme,
)
from domain.errors import KeystoreUnavailableError

from . import oaep

log = logging.getLogger("keymanager.pkcs11")
T = TypeVar("T")

#: Errors after which the session (or the library's view of the token) is unusable.
_SESSION_ERRORS: tuple[type[Exception], ...] = (
    p11.SessionHandleInvalid,
    p11.SessionClosed,
    p11.DeviceRemoved,
    p11.DeviceError,
    p11.TokenNotPresent,
    p11.UserNotLoggedIn,
    p11.GeneralError,
    p11.ObjectHandleInvalid,
    p11.KeyHandleInvalid,
)
#: What a slot's C_GetTokenInfo answers when there is no usable token in it (an empty slot, a
#: token pulled out, or SoftHSM2's token whose directory is gone).
_ABSENT_TOKEN_ERRORS: tuple[type[Exception], ...] = (
    p11.TokenNotPresent,
    p11.TokenNotRecognised,
    p11.DeviceRemoved,
    p11.DeviceError,
    p11.GeneralError,
    p11.SlotIDInvalid,
)
TOKEN_LOOKUP_ATTEMPTS = 4
_OAEP_SHA256 = (Mechanism.SHA256, pkcs11.MGF.SHA256, None)
_PSS_SHA256 = (Mechanism.SHA256, pkcs11.MGF.SHA256, 32)
_CURVES = {KeyAlgorithm.EC_P256: "secp256r1", KeyAlgorithm.EC_SECP256K1: "secp256k1"}
#: Ed25519 in a token (PKCS#11 3.0): the curve named by its OID in CKA_EC_PARAMS, and what the token must offer.
_ED25519_OID = "1.3.101.112"
_MECHANISMS_NEEDED = {
    KeyAlgorithm.ED25519: (
        ("CKM_EC_EDWARDS_KEY_PAIR_GEN", Mechanism.EC_EDWARDS_KEY_PAIR_GEN),
        ("CKM_EDDSA", Mechanism.EDDSA),
    ),
}

_LIBRARY_LOCKS: dict[str, threading.RLock] = {}
_LIBRARY_LOCKS_GUARD = threading.Lock()


def library_lock(module: str) -> threading.RLock:
    """The lock that serialises every call into the PKCS#11 ``module`` in this process."""
    with _LIBRARY_LOCKS_GUARD:
        lock = _LIBRARY_LOCKS.get(module)
        if lock is None:
            lock = _LIBRARY_LOCKS[module] = threading.RLock()
        return lock


#: Set in a forked child: modules the parent had initialised must be initialised again here.
_forked = False
_REINITIALISED_AFTER_FORK: set[str] = set()


def _after_fork_in_child() -> None:
    global _LIBRARY_LOCKS_GUARD, _forked
    _LIBRARY_LOCKS_GUARD = threading.Lock()  # a lock held by a thread of the parent would never be released
    _LIBRARY_LOCKS.clear()
    _forked = True
    _REINITIALISED_AFTER_FORK.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _open_library(module: str) -> Any:
    """python-pkcs11's library object for ``module`` (one per process), usable in this process.

    python-pkcs11 keeps that object across fork() and believes it initialised, but PKCS#11
    wants a child to call C_Initialize itself (SoftHSM2 with library.reset_on_fork, like many
    HSM clients, answers CKR_CRYPTOKI_NOT_INITIALIZED otherwise): the first use in a child
    finalises the inherited state (an error there is expected) and initialises the module.
    Caller holds ``library_lock(module)``.
    """
    library = pkcs11.lib(module)
    if _forked and module not in _REINITIALISED_AFTER_FORK:
        try:
            library.finalize()
        except p11.PKCS11Error:
            pass
        library.initialize()
        _REINITIALISED_AFTER_FORK.add(module)
    return library


class Pkcs11Keystore:
    def __init__(self, module: str, token_label: str, pin: str) -> None:
        if not module or not token_label:
            raise KeystoreError("PKCS11_MODULE and PKCS11_TOKEN_LABEL are required")
        if not pin:
            raise KeystoreError("a PKCS#11 user PIN is required")
        self._module = module
        self._token_label = token_label
        self.__pin = pin
        self._lock = threading.RLock()
        self._local = threading.local()
        self._generation = 0  # bumped on every library re-initialisation: sessions of older ones are dead
        self._pid: int | None = None
        self._lib: Any = None
        self._token: Any = None
        self._logged_in = False
        self._login_session: Any = None  # the session that logged in; used for nothing else
        self._pin_rejected = False  # the token refused the PIN: never try it again (HSMs lock PINs)
        self._oaep_in_token: bool | None = None

    def __repr__(self) -> str:
        return f"Pkcs11Keystore(module={self._module!r}, token={self._token_label!r})"

    # -- sessions -----------------------------------------------------------------------------

    def _ensure_library(self) -> None:
        with self._lock:
            if self._lib is not None and self._pid == os.getpid():
                return
            try:
                if self._lib is not None:  # used before a fork: the sessions are the parent's
                    self._generation += 1
                self._lib = _open_library(self._module)
                self._token = self._find_token()
            except (p11.PKCS11Error, RuntimeError, OSError) as error:
                # Nothing half-set: the next call looks the token up again (a token that went away
                # keeps no stale slot here, which the library may have dropped by now).
                self._lib = self._token = None
                log.error("PKCS#11 token '%s' cannot be opened: %s", self._token_label, type(error).__name__)
                raise KeystoreUnavailableError() from None
            self._pid = os.getpid()
            self._logged_in = False
            self._login_session = None

    def _find_token(self) -> Any:
        """The token by label. A token whose files another process is rewriting can be
        missing from one slot listing (seen with SoftHSM2 under concurrent writers), so a
        miss is retried a few times, re-reading the slot list, before it counts."""
        for attempt in range(TOKEN_LOOKUP_ATTEMPTS):
            try:
                return self._token_by_label()
            except p11.NoSuchToken:
                if attempt == TOKEN_LOOKUP_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
                self._lib.reinitialize()
        raise AssertionError("unreachable")

    def _token_by_label(self) -> Any:
        """The token labelled ours, reading each slot's token anew (C_GetTokenInfo). A slot whose
        token does not answer is passed over: SoftHSM2 answers CKR_GENERAL_ERROR for a token whose
        directory went away until the library is initialised again, and python-pkcs11's
        ``get_token`` would fail on such a slot even when ours is in another one."""
        found = []
        for slot in self._lib.get_slots():
            try:
                token = slot.get_token()
            except _ABSENT_TOKEN_ERRORS:
                continue
            if token.label == self._token_label:
                found.append(token)
        if not found:
            raise p11.NoSuchToken()
        if len(found) > 1:
            raise p11.MultipleTokensReturned()
        return found[0]

    def _login(self) -> None:
        """Log this process in (caller holds the lock) on a session kept open for that alone.

        A PIN the token refused is not tried again until a restart: every retry would count
        towards the token's lock-out of the user PIN."""
        if self._pin_rejected:
            raise KeystoreUnavailableError()
        try:
            self._login_session = self._token.open(rw=True, user_pin=self.__pin)
        except p11.UserAlreadyLoggedIn:  # this process is logged in already (another session did it)
            self._login_session = None
        except _SESSION_ERRORS:
            raise
        except p11.PKCS11Error as error:  # wrong PIN, locked PIN, no free session...
            if isinstance(error, (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange, p11.PinExpired, p11.PinLocked)):
                self._pin_rejected = True
                log.error("PKCS#11 token '%s' refused the user PIN (%s); not trying it again until restarted",
                          self._token_label, type(error).__name__)
            else:
                log.error("PKCS#11 login on '%s' failed: %s", self._token_label, type(error).__name__)
            raise KeystoreUnavailableError() from None
        self._logged_in = True

    def _session(self) -> Any:
        self._ensure_library()
        session = getattr(self._local, "session", None)
        if session is not None and getattr(self._local, "generation", None) == self._generation:
            return session
        with self._lock:
            if not self._logged_in:
                self._login()
            try:
                session = self._token.open(rw=True)  # no PIN: closing it never logs the process out
            except _SESSION_ERRORS:
                raise
            except p11.PKCS11Error as error:  # no free session...
                log.error("PKCS#11 session on '%s' cannot be opened: %s", self._token_label, type(error).__name__)
                raise KeystoreUnavailableError() from None
        self._local.session, self._local.generation, self._local.keys = session, self._generation, {}
        return session

    @staticmethod
    def _is_logged_in(session: Any) -> bool:
        """Whether this process is logged in: only then may a session create a private object."""
        try:
            probe = session.create_object(
                {
                    Attribute.CLASS: ObjectClass.DATA,
                    Attribute.TOKEN: False,
                    Attribute.PRIVATE: True,
                    Attribute.LABEL: "keymanager-login-probe",
                }
            )
        except p11.UserNotLoggedIn:
            return False
        except _SESSION_ERRORS:
            raise
        except p11.PKCS11Error:  # the token refuses such an object: cannot tell, assume logged in
            return True
        try:
            probe.destroy()
        except _SESSION_ERRORS:
            raise
        except p11.PKCS11Error:
            pass
        return True

    def _require_login(self, session: Any) -> None:
        """Raise a session error (so that _call logs in again and retries) when logged out."""
        if not self._is_logged_in(session):
            raise p11.UserNotLoggedIn()

    def _require_same_token(self) -> None:
        """Raise a token error (so that _call re-initialises the library, looks the token up by
        label again and retries) unless the slot still holds the token we logged in to, described
        anew (C_GetTokenInfo) rather than taken from the description cached at start.

        A token that went away can leave the library answering on an open session: SoftHSM2 2.6
        still hands out random bytes and runs C_FindObjects, which finds nothing, and it answers
        C_GetTokenInfo with CKR_GENERAL_ERROR from then on until C_Finalize/C_Initialize, even once
        the token's directory is back; an HSM answers CKR_TOKEN_NOT_PRESENT or CKR_DEVICE_REMOVED.
        One C_GetTokenInfo, no object created."""
        try:
            found = self._token.slot.get_token()
        except (p11.TokenNotRecognised, p11.SlotIDInvalid):  # absent-token answers _call would not retry
            raise p11.TokenNotPresent() from None
        if found.label != self._token_label or found.serial != self._token.serial:
            raise p11.TokenNotPresent()  # another token in the slot: look ours up by label again

    def _ensure_login(self, session: Any) -> None:
        if self._is_logged_in(session):
            return
        with self._lock:
            if self._is_logged_in(session):  # another thread logged in meanwhile
                return
            log.warning("PKCS#11 token '%s': this process was logged out; logging in again", self._token_label)
            # The old login session is dropped, not closed: if it still exists, closing it would
            # log out again; if it does not, its handle may be another thread's session by now.
            self._login_session = None
            self._login()

    def _reset(self, reinitialize: bool, close: bool = True) -> None:
        session = getattr(self._local, "session", None)
        self._local.session = None
        if session is not None and close:
            try:
                session.close()
            except Exception:  # already gone
                pass
        if reinitialize:
            with self._lock:
                try:
                    if self._lib is not None:
                        self._lib.reinitialize()
                    self._token = self._token_by_label() if self._lib else None
                except Exception:
                    self._lib = None
                self._generation += 1
                self._logged_in = False
                self._login_session = None

    def _call(self, operation: Callable[[Any], T]) -> T:
        for attempt in (1, 2):
            with library_lock(self._module):  # looked up each time: a forked child gets a fresh one
                try:
                    session = self._session()
                    if attempt == 2:
                        self._ensure_login(session)
                    return operation(session)
                except _SESSION_ERRORS as error:
                    log.warning("PKCS#11 %s; reopening the session (attempt %d)", type(error).__name__, attempt)
                    self._reset(
                        reinitialize=attempt == 1
                        and isinstance(error, (p11.DeviceRemoved, p11.TokenNotPresent, p11.GeneralError,
                                               p11.DeviceError)),
                        # A handle the token invalidated is not closed: it may be reused by now.
                        close=not isinstance(error, (p11.SessionHandleInvalid, p11.SessionClosed)),
                    )
                    if attempt == 2:
                        raise KeystoreUnavailableError() from None
        raise AssertionError("unreachable")

    # -- object look-ups ----------------------------------------------------------------------

    def _private_key(self, session: Any, alias: str) -> Any:
        cache: dict[str, Any] = self._local.keys
        key = cache.get(alias)
        if key is None:
            try:
                key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=alias.encode())
            except p11.NoSuchKey:
                # Only on a miss (the found path pays nothing): a token that went away answers
                # "nothing found" too, and is unavailable, not a missing alias; _call re-initialises
                # and retries once, which also finds the key again once the token is back.
                self._require_same_token()
                self._require_login(session)  # logged out, the key would only be invisible
                raise KeystoreError(f"No such alias: {alias}") from None
            except p11.MultipleObjectsReturned:
                raise KeystoreError(f"More than one key under alias: {alias}") from None
            cache[alias] = key
        return key

    @staticmethod
    def _certificates(session: Any, alias: str) -> list[Any]:
        return list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: alias}))

    # -- the Keystore port ----------------------------------------------------------------------

    def generate_key_pair(self, alias: str, algorithm: KeyAlgorithm = KeyAlgorithm.RSA_2048) -> bytes:
        algorithm = KeyAlgorithm(algorithm)
        private_template = {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
        }

        def generate(session: Any) -> bytes:
            for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.SECRET_KEY):
                if list(session.get_objects({Attribute.CLASS: cls, Attribute.ID: alias.encode()})):
                    raise KeystoreError(f"alias already exists: {alias}")
            if algorithm is KeyAlgorithm.ED25519:
                return _generate_ed25519(session, self._missing(algorithm), alias, private_template)
            if algorithm is KeyAlgorithm.RSA_2048:
                public, private = session.generate_keypair(
                    KeyType.RSA,
                    2048,
                    id=alias.encode(),
                    label=alias,
                    store=True,
                    public_template={Attribute.TOKEN: False, Attribute.PUBLIC_EXPONENT: b"\x01\x00\x01"},
                    private_template={**private_template, Attribute.DECRYPT: True},
                )
                spki = _spki(session, private)
                public.destroy()  # a session object: it would stay until the thread's session closes
                return spki
            return _curve_key_pair(session, KeyType.EC, _CURVES[algorithm], alias, private_template)

        return self._call(generate)

    def store_certificate(self, alias: str, certificate_der: bytes) -> None:
        try:
            certificate = x509.load_der_x509_certificate(certificate_der)
        except ValueError:
            raise KeystoreError("not a DER certificate") from None

        def store(session: Any) -> None:
            private = self._private_key(session, alias)
            if certificate.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ) != _spki(session, private):
                raise KeystoreError("the certificate is not for the key under this alias")
            for old in self._certificates(session, alias):
                old.destroy()
            session.create_object(_certificate_object(alias, certificate, certificate_der))

        self._call(store)

    def certificate(self, alias: str) -> bytes | None:
        def read(session: Any) -> bytes | None:
            found = self._certificates(session, alias)
            return bytes(found[0][Attribute.VALUE]) if found else None

        return self._call(read)

    def decrypt(self, alias: str, ciphertext: bytes) -> bytes:
        def run(session: Any) -> bytes:
            key = self._private_key(session, alias)
            if key.key_type != KeyType.RSA:  # an EC key has no CKA_MODULUS (AttributeTypeInvalid)
                raise PrivateKeyOperationError("not an RSA key")
            modulus = bytes(key[Attribute.MODULUS])
            # RSADP accepts 0 <= c < n only; the token reports a block >= n (anyone can send one
            # to /decrypt) as CKR_GENERAL_ERROR, which would otherwise re-initialise the library.
            if len(ciphertext) != len(modulus) or int.from_bytes(ciphertext, "big") >= int.from_bytes(modulus, "big"):
                raise PrivateKeyOperationError("decryption failed")
            if self._oaep_in_token is not False:
                try:
                    plain = key.decrypt(ciphertext, mechanism=Mechanism.RSA_PKCS_OAEP, mechanism_param=_OAEP_SHA256)
                    self._oaep_in_token = True
                    return bytes(plain)
                except (p11.MechanismInvalid, p11.MechanismParamInvalid, p11.ArgumentsBad, p11.FunctionNotSupported):
                    self._oaep_in_token = False  # e.g. SoftHSM2 2.6: OAEP with SHA-1 only
                except (p11.EncryptedDataInvalid, p11.EncryptedDataLenRange, p11.DataLenRange, p11.DataInvalid):
                    raise PrivateKeyOperationError("decryption failed") from None
            modulus_bytes = len(modulus)
            try:
                raw = bytes(key.decrypt(ciphertext, mechanism=Mechanism.RSA_X_509))
                return oaep.decode(raw, modulus_bytes)
            except (oaep.OaepDecodingError, p11.EncryptedDataInvalid, p11.EncryptedDataLenRange,
                    p11.DataLenRange, p11.DataInvalid):
                raise PrivateKeyOperationError("decryption failed") from None

        return self._call(run)

    def sign(self, alias: str, data: bytes, scheme: SignatureScheme = SignatureScheme.RSA_PKCS1_SHA256) -> bytes:
        scheme = SignatureScheme(scheme)

        def run(session: Any) -> bytes:
            key = self._private_key(session, alias)
            is_rsa = key.key_type == KeyType.RSA
            if is_rsa and scheme is SignatureScheme.RSA_PKCS1_SHA256:
                return bytes(key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
            if is_rsa and scheme is SignatureScheme.RSA_PSS_SHA256:
                return bytes(key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS_PSS, mechanism_param=_PSS_SHA256))
            if key.key_type == KeyType.EC and scheme is SignatureScheme.ECDSA_SHA256:
                # Hash here, sign the digest in the token (CKM_ECDSA is the widely supported form).
                raw = bytes(key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA))
                return encode_ecdsa_signature(raw)
            if key.key_type == KeyType.EC_EDWARDS and scheme is SignatureScheme.ED25519:
                return bytes(key.sign(data, mechanism=Mechanism.EDDSA))  # pure Ed25519 (no parameters)
            raise PrivateKeyOperationError("signature scheme does not fit the key")

        return self._call(run)

    def missing_mechanisms(self, algorithm: KeyAlgorithm) -> list[str]:
        """The PKCS#11 mechanisms the token lacks to make and use keys of ``algorithm`` (none for
        RSA and EC, which every token this service supports offers). For a start-up check."""
        return self._call(lambda session: self._missing(KeyAlgorithm(algorithm)))

    def _missing(self, algorithm: KeyAlgorithm) -> list[str]:
        needed = _MECHANISMS_NEEDED.get(algorithm, ())
        if not needed:
            return []
        offered = set(self._token.slot.get_mechanisms())
        return [name for name, mechanism in needed if mechanism not in offered]

    def delete(self, alias: str) -> None:
        def remove(session: Any) -> None:
            classes = (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY, ObjectClass.CERTIFICATE, ObjectClass.SECRET_KEY)
            for cls in classes:
                for obj in list(session.get_objects({Attribute.CLASS: cls, Attribute.ID: alias.encode()})):
                    obj.destroy()
            for obj in self._certificates(session, alias):
                obj.destroy()
            for obj in list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: alias})):
                obj.destroy()  # the reference's layout: CKA_LABEL only
            self._local.keys.pop(alias, None)
            self._local.keys.pop("secret:" + alias, None)

        self._call(remove)

    def aliases(self) -> list[str]:
        def list_ids(session: Any) -> list[str]:
            found = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
            secrets = list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}))
            if not found and not secrets:
                self._require_login(session)
            names = [bytes(obj[Attribute.ID]).decode("utf-8", "replace") for obj in found]
            # A secret key the reference stored (SunPKCS11) has CKA_LABEL = alias and no CKA_ID.
            names += [bytes(obj[Attribute.ID]).decode("utf-8", "replace") or obj[Attribute.LABEL] for obj in secrets]
            return sorted(names)

        return self._call(list_ids)

    def health(self) -> KeystoreHealth:
        """The token is still in its slot, gives randomness, and this process is logged in.

        The slot's token is described anew (C_GetTokenInfo) on every check, never taken from the
        description cached at start: a session that stays open can still answer C_GenerateRandom
        after the token went away (SoftHSM2 2.6 keeps a loaded token in memory: once its directory
        is gone it answers C_GetTokenInfo with CKR_GENERAL_ERROR, and keeps doing so after the
        directory is back, until C_Finalize/C_Initialize; an HSM answers CKR_TOKEN_NOT_PRESENT or
        CKR_DEVICE_REMOVED). Those errors make ``_call`` re-initialise the library and look the
        token up by label again: DOWN while it is missing, UP once it is back. The request path
        makes the same check only when a key look-up finds nothing (``_require_same_token``)."""
        def check(session: Any) -> None:
            self._require_same_token()
            session.generate_random(64)
            self._require_login(session)

        try:
            self._call(check)
        except (KeystoreError, KeystoreUnavailableError) as error:
            return KeystoreHealth(False, f"PKCS#11 token '{self._token_label}': {type(error).__name__}")
        return KeystoreHealth(True, f"PKCS#11 token '{self._token_label}' answers")

    # -- secret keys (generateSymmetricKey, the ZK master key) and token randomness ------------------

    def random_bytes(self, length: int) -> bytes:
        return self._call(lambda s: bytes(s.generate_random(length * 8)))

    def generate_secret_key(self, alias: str) -> None:
        def generate(session: Any) -> None:
            for cls in (ObjectClass.SECRET_KEY, ObjectClass.PRIVATE_KEY):
                if list(session.get_objects({Attribute.CLASS: cls, Attribute.ID: alias.encode()})):
                    raise KeystoreError(f"Alias already exists: {alias}")
            session.generate_key(
                KeyType.AES,
                256,
                label=alias,
                id=alias.encode(),
                store=True,
                template={
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.PRIVATE: True,
                    Attribute.ENCRYPT: True,
                    Attribute.DECRYPT: True,
                },
            )

        self._call(generate)

    # -- keys made elsewhere (keymanager keystore import) ---------------------------------------------

    def import_key_pair(self, alias: str, private_key_pkcs8: bytes, certificate_chain: Sequence[bytes]) -> None:
        """The key becomes a token object as sensitive and non-extractable as a generated one (it
        is not CKA_ALWAYS_SENSITIVE / CKA_NEVER_EXTRACTABLE: it did exist outside the token); an EC
        key gets its public-key object too, as generate_key_pair leaves one."""
        try:
            key, certificate_der = key_pair_for_import(private_key_pkcs8, certificate_chain)
        except ValueError as error:
            raise KeystoreError(f"Cannot import {alias}: {error}") from None
        certificate = x509.load_der_x509_certificate(certificate_der)
        objects = [_private_key_object(alias, key)]
        if isinstance(key, ec.EllipticCurvePrivateKey):
            spki = key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            objects.append({
                **decode_ec_public_key(spki, encode_ec_point=True),
                Attribute.CLASS: ObjectClass.PUBLIC_KEY,
                Attribute.TOKEN: True,
                Attribute.VERIFY: True,
                Attribute.ID: alias.encode(),
                Attribute.LABEL: alias,
            })
        objects.append(_certificate_object(alias, certificate, certificate_der))
        self._call(lambda session: self._create_all(session, alias, objects))

    def import_secret_key(self, alias: str, key: bytes) -> None:
        if len(key) not in AES_KEY_LENGTHS:
            raise KeystoreError(f"Cannot import {alias}: not an AES key")
        template = {
            Attribute.CLASS: ObjectClass.SECRET_KEY,
            Attribute.KEY_TYPE: KeyType.AES,
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.ENCRYPT: True,
            Attribute.DECRYPT: True,
            Attribute.LABEL: alias,
            Attribute.ID: alias.encode(),
            Attribute.VALUE: bytes(key),
        }
        self._call(lambda session: self._create_all(session, alias, [template]))

    @staticmethod
    def _create_all(session: Any, alias: str, templates: list[dict[Any, Any]]) -> None:
        """Create the objects of one key, all or none."""
        taken: list[dict[Any, Any]] = [{Attribute.CLASS: cls, Attribute.ID: alias.encode()}
                                       for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.SECRET_KEY)]
        taken.append({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: alias})  # the reference's layout
        if any(list(session.get_objects(template)) for template in taken):
            raise KeystoreError(f"Alias already exists: {alias}")
        created: list[Any] = []
        try:
            for template in templates:
                created.append(session.create_object(template))
        except BaseException:
            for obj in created:
                try:
                    obj.destroy()
                except p11.PKCS11Error:
                    pass
            raise

    def encrypt_blocks(self, alias: str, data: bytes) -> bytes:
        require_whole_blocks(data)
        return self._call(
            lambda session: bytes(self._secret_key(session, alias).encrypt(data, mechanism=Mechanism.AES_ECB))
        )

    def decrypt_blocks(self, alias: str, data: bytes) -> bytes:
        require_whole_blocks(data)
        return self._call(
            lambda session: bytes(self._secret_key(session, alias).decrypt(data, mechanism=Mechanism.AES_ECB))
        )

    def _secret_key(self, session: Any, alias: str) -> Any:
        cache: dict[str, Any] = self._local.keys
        key = cache.get("secret:" + alias)
        if key is None:
            try:
                try:
                    key = session.get_key(object_class=ObjectClass.SECRET_KEY, id=alias.encode())
                except p11.NoSuchKey:  # the reference's layout (SunPKCS11 storeSkey): CKA_LABEL only
                    key = session.get_key(object_class=ObjectClass.SECRET_KEY, label=alias)
            except p11.NoSuchKey:
                self._require_same_token()  # a token that went away finds nothing too (_private_key)
                self._require_login(session)
                raise KeystoreError(f"No such alias: {alias}") from None
            except p11.MultipleObjectsReturned:
                raise KeystoreError(f"More than one key under alias: {alias}") from None
            cache["secret:" + alias] = key
        return key


def _generate_ed25519(session: Any, missing: list[str], alias: str, private_template: dict[Any, Any]) -> bytes:
    """An Ed25519 pair made in the token (CKM_EC_EDWARDS_KEY_PAIR_GEN); like an EC key, the public
    key stays on the token beside the private one (same CKA_ID)."""
    if missing:
        log.error("PKCS#11 token lacks %s: it cannot hold Ed25519 keys", ", ".join(missing))
        raise KeystoreError(f"the PKCS#11 token lacks {', '.join(missing)} (Ed25519 keys)")
    return _curve_key_pair(
        session, KeyType.EC_EDWARDS, _ED25519_OID, alias, private_template, Mechanism.EC_EDWARDS_KEY_PAIR_GEN
    )


def _curve_key_pair(
    session: Any, key_type: Any, curve_oid: Any, alias: str, private_template: dict[Any, Any], mechanism: Any = None
) -> bytes:
    """An EC or Edwards pair on a named curve. The private key object holds no point, so the public key
    stays on the token beside the private one (same CKA_ID)."""
    parameters = session.create_domain_parameters(
        key_type, {Attribute.EC_PARAMS: encode_named_curve_parameters(curve_oid)}, local=True
    )
    _, private = parameters.generate_keypair(
        mechanism=mechanism,
        id=alias.encode(),
        label=alias,
        store=True,
        public_template={Attribute.TOKEN: True, Attribute.VERIFY: True},
        private_template=private_template,
    )
    return _spki(session, private)


def _ed25519_point(public: Any) -> bytes:
    """The 32-byte key from CKA_EC_POINT: a DER OCTET STRING (PKCS#11 3.0, SoftHSM2) or, on some
    tokens, the bare bytes."""
    point = bytes(public[Attribute.EC_POINT])
    if len(point) == 34 and point[:2] == b"\x04\x20":
        return point[2:]
    return point


def _certificate_object(alias: str, certificate: x509.Certificate, certificate_der: bytes) -> dict[Any, Any]:
    """The certificate object of the reference's layout: CKA_LABEL = CKA_ID = alias."""
    return {
        Attribute.CLASS: ObjectClass.CERTIFICATE,
        Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: False,
        Attribute.LABEL: alias,
        Attribute.ID: alias.encode(),
        Attribute.SUBJECT: certificate.subject.public_bytes(),
        Attribute.VALUE: certificate_der,
    }


def _private_key_object(alias: str, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> dict[Any, Any]:
    """A private key object for a key made elsewhere, protected as generated ones are."""
    template: dict[Any, Any] = {
        Attribute.CLASS: ObjectClass.PRIVATE_KEY,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.SIGN: True,
        Attribute.ID: alias.encode(),
        Attribute.LABEL: alias,
    }
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()

        def big(value: int) -> bytes:
            return value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")

        return template | {
            Attribute.KEY_TYPE: KeyType.RSA,
            Attribute.DECRYPT: True,
            Attribute.MODULUS: big(numbers.public_numbers.n),
            Attribute.PUBLIC_EXPONENT: big(numbers.public_numbers.e),
            Attribute.PRIVATE_EXPONENT: big(numbers.d),
            Attribute.PRIME_1: big(numbers.p),
            Attribute.PRIME_2: big(numbers.q),
            Attribute.EXPONENT_1: big(numbers.dmp1),
            Attribute.EXPONENT_2: big(numbers.dmq1),
            Attribute.COEFFICIENT: big(numbers.iqmp),
        }
    size = (key.curve.key_size + 7) // 8
    return template | {
        Attribute.KEY_TYPE: KeyType.EC,
        Attribute.EC_PARAMS: encode_named_curve_parameters(key.curve.name),
        Attribute.VALUE: key.private_numbers().private_value.to_bytes(size, "big"),
    }


def _spki(session: Any, private_key: Any) -> bytes:
    """SubjectPublicKeyInfo of a token key: RSA from the private key's modulus and
    exponent, EC and Ed25519 from the public-key object kept beside it (same CKA_ID)."""
    if private_key.key_type == KeyType.RSA:
        public_key: Any = rsa.RSAPublicNumbers(
            int.from_bytes(bytes(private_key[Attribute.PUBLIC_EXPONENT]), "big"),
            int.from_bytes(bytes(private_key[Attribute.MODULUS]), "big"),
        ).public_key()
    elif private_key.key_type == KeyType.EC_EDWARDS:
        public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, id=bytes(private_key[Attribute.ID]))
        try:
            public_key = ed25519.Ed25519PublicKey.from_public_bytes(_ed25519_point(public))
        except ValueError:
            raise KeystoreError("the token's Edwards-curve key is not an Ed25519 key") from None
    else:
        public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, id=bytes(private_key[Attribute.ID]))
        public_key = serialization.load_der_public_key(encode_ec_public_key(public))
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
