"""Keystore over any PKCS#11 token (an HSM in production, SoftHSM2 in tests).

Object conventions follow the reference's SunPKCS11 tokens, so a token written
by the reference can be read: the private key carries CKA_ID = alias; the
certificate object carries CKA_LABEL = CKA_ID = alias; AES keys CKA_LABEL = alias.
Private keys are generated inside the token, sensitive and never extractable;
no public-key object is kept (the public key is read from the private key's
modulus and exponent).

Sessions: the user logs in once per process; each thread gets its own session.
A session or token error closes the session, re-initialises the library when
the token went away, logs in again and retries the operation once; if the token
is really gone the caller gets a KeystoreError without the token's details.
The PIN is never logged nor put into an exception.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable, TypeVar

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11

from application.ports.keystore import KeystoreError, KeystoreHealth, PrivateKeyOperationError
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
_OAEP_SHA256 = (Mechanism.SHA256, pkcs11.MGF.SHA256, None)


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
        self._oaep_in_token: bool | None = None

    def __repr__(self) -> str:
        return f"Pkcs11Keystore(module={self._module!r}, token={self._token_label!r})"

    # -- sessions -----------------------------------------------------------------------------

    def _ensure_library(self) -> None:
        with self._lock:
            if self._lib is not None and self._pid == os.getpid():
                return
            try:
                if self._lib is None:
                    self._lib = pkcs11.lib(self._module)
                else:  # a forked child must not use its parent's library state
                    self._lib.reinitialize()
                    self._generation += 1
                self._token = self._lib.get_token(token_label=self._token_label)
            except (p11.PKCS11Error, RuntimeError, OSError) as error:
                log.error("PKCS#11 token '%s' cannot be opened: %s", self._token_label, type(error).__name__)
                raise KeystoreUnavailableError() from None
            self._pid = os.getpid()
            self._logged_in = False

    def _session(self) -> Any:
        self._ensure_library()
        session = getattr(self._local, "session", None)
        if session is not None and getattr(self._local, "generation", None) == self._generation:
            return session
        with self._lock:
            try:
                if not self._logged_in:
                    try:
                        session = self._token.open(rw=True, user_pin=self.__pin)
                    except p11.UserAlreadyLoggedIn:  # another session of this process logged in
                        session = self._token.open(rw=True)
                    self._logged_in = True
                else:
                    session = self._token.open(rw=True)
            except _SESSION_ERRORS:
                raise
            except p11.PKCS11Error as error:  # wrong PIN, locked PIN, no free session...
                log.error("PKCS#11 session on '%s' cannot be opened: %s", self._token_label, type(error).__name__)
                raise KeystoreUnavailableError() from None
        self._local.session, self._local.generation, self._local.keys = session, self._generation, {}
        return session

    def _reset(self, reinitialize: bool) -> None:
        session = getattr(self._local, "session", None)
        self._local.session = None
        if session is not None:
            try:
                session.close()
            except Exception:  # already gone
                pass
        if reinitialize:
            with self._lock:
                try:
                    if self._lib is not None:
                        self._lib.reinitialize()
                    self._token = self._lib.get_token(token_label=self._token_label) if self._lib else None
                except Exception:
                    self._lib = None
                self._generation += 1
                self._logged_in = False

    def _call(self, operation: Callable[[Any], T]) -> T:
        for attempt in (1, 2):
            try:
                return operation(self._session())
            except _SESSION_ERRORS as error:
                log.warning("PKCS#11 %s; reopening the session (attempt %d)", type(error).__name__, attempt)
                self._reset(reinitialize=attempt == 1 and isinstance(error, (p11.DeviceRemoved,
                            p11.TokenNotPresent, p11.GeneralError, p11.DeviceError)))
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
                raise KeystoreError(f"No such alias: {alias}") from None
            except p11.MultipleObjectsReturned:
                raise KeystoreError(f"More than one key under alias: {alias}") from None
            cache[alias] = key
        return key

    @staticmethod
    def _certificates(session: Any, alias: str) -> list[Any]:
        return list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: alias}))

    # -- the Keystore port ----------------------------------------------------------------------

    def generate_key_pair(self, alias: str) -> bytes:
        def generate(session: Any) -> bytes:
            if list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: alias.encode()})):
                raise KeystoreError(f"alias already exists: {alias}")
            public, private = session.generate_keypair(
                KeyType.RSA,
                2048,
                id=alias.encode(),
                label=alias,
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
            return _spki(private)

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
            ) != _spki(private):
                raise KeystoreError("the certificate is not for the key under this alias")
            for old in self._certificates(session, alias):
                old.destroy()
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: False,
                    Attribute.LABEL: alias,
                    Attribute.ID: alias.encode(),
                    Attribute.SUBJECT: certificate.subject.public_bytes(),
                    Attribute.VALUE: certificate_der,
                }
            )

        self._call(store)

    def certificate(self, alias: str) -> bytes | None:
        def read(session: Any) -> bytes | None:
            found = self._certificates(session, alias)
            return bytes(found[0][Attribute.VALUE]) if found else None

        return self._call(read)

    def decrypt(self, alias: str, ciphertext: bytes) -> bytes:
        def run(session: Any) -> bytes:
            key = self._private_key(session, alias)
            if self._oaep_in_token is not False:
                try:
                    plain = key.decrypt(ciphertext, mechanism=Mechanism.RSA_PKCS_OAEP, mechanism_param=_OAEP_SHA256)
                    self._oaep_in_token = True
                    return bytes(plain)
                except (p11.MechanismInvalid, p11.MechanismParamInvalid, p11.ArgumentsBad, p11.FunctionNotSupported):
                    self._oaep_in_token = False  # e.g. SoftHSM2 2.6: OAEP with SHA-1 only
                except (p11.EncryptedDataInvalid, p11.EncryptedDataLenRange, p11.DataLenRange, p11.DataInvalid):
                    raise PrivateKeyOperationError("decryption failed") from None
            modulus_bytes = len(key[Attribute.MODULUS])
            if len(ciphertext) != modulus_bytes:
                raise PrivateKeyOperationError("decryption failed")
            try:
                raw = bytes(key.decrypt(ciphertext, mechanism=Mechanism.RSA_X_509))
                return oaep.decode(raw, modulus_bytes)
            except (oaep.OaepDecodingError, p11.EncryptedDataInvalid, p11.EncryptedDataLenRange,
                    p11.DataLenRange, p11.DataInvalid):
                raise PrivateKeyOperationError("decryption failed") from None

        return self._call(run)

    def sign(self, alias: str, data: bytes) -> bytes:
        return self._call(lambda s: bytes(self._private_key(s, alias).sign(data, mechanism=Mechanism.SHA256_RSA_PKCS)))

    def delete(self, alias: str) -> None:
        def remove(session: Any) -> None:
            for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY, ObjectClass.CERTIFICATE):
                for obj in list(session.get_objects({Attribute.CLASS: cls, Attribute.ID: alias.encode()})):
                    obj.destroy()
            for obj in self._certificates(session, alias):
                obj.destroy()
            self._local.keys.pop(alias, None)

        self._call(remove)

    def aliases(self) -> list[str]:
        def list_ids(session: Any) -> list[str]:
            found = session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
            return sorted(bytes(obj[Attribute.ID]).decode("utf-8", "replace") for obj in found)

        return self._call(list_ids)

    def health(self) -> KeystoreHealth:
        try:
            self._call(lambda s: s.generate_random(64))
        except (KeystoreError, KeystoreUnavailableError) as error:
            return KeystoreHealth(False, f"PKCS#11 token '{self._token_label}': {type(error).__name__}")
        return KeystoreHealth(True, f"PKCS#11 token '{self._token_label}' answers")

    # -- beyond the port: token randomness and AES keys (for zero-knowledge encryption) ---------

    def random_bytes(self, length: int) -> bytes:
        return self._call(lambda s: bytes(s.generate_random(length * 8)))

    def generate_aes_key(self, alias: str) -> None:
        def generate(session: Any) -> None:
            session.generate_key(
                KeyType.AES,
                256,
                label=alias,
                id=alias.encode(),
                store=True,
                template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.PRIVATE: True},
            )

        self._call(generate)

    def has_aes_key(self, alias: str) -> bool:
        return self._call(
            lambda s: bool(list(s.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: alias})))
        )


def _spki(private_key: Any) -> bytes:
    numbers = rsa.RSAPublicNumbers(
        int.from_bytes(bytes(private_key[Attribute.PUBLIC_EXPONENT]), "big"),
        int.from_bytes(bytes(private_key[Attribute.MODULUS]), "big"),
    )
    return numbers.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
