"""Looking into a PKCS#11 token with python-pkcs11 directly, beside the keystore adapter: a session
of the test's own, the token's own attributes of a private key, and the protection every key the
service makes in a token must have."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pkcs11
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11

from domain.keys import KeyTuple
from entrypoints.containers import Container


def public_key(spki: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_der_public_key(spki)
    assert isinstance(key, rsa.RSAPublicKey)
    return key


@contextmanager
def own_session(token: dict[str, str]) -> Iterator[Any]:
    """A session of our own on the token, opened with the user PIN through python-pkcs11.

    If this process is already logged in (the adapter logged in: login is per process),
    C_Login answers CKR_USER_ALREADY_LOGGED_IN and a plain session sees the same objects.
    A session that did log in is left open: python-pkcs11 closes it with C_Logout, which
    would log the whole process out under the adapter's feet.
    """
    slot_token = pkcs11.lib(token["module"]).get_token(token_label=token["label"])
    try:
        session = slot_token.open(rw=True, user_pin=token["pin"])
    except p11.UserAlreadyLoggedIn:
        session = slot_token.open(rw=True)
    try:
        yield session
    finally:
        if session.user_type == pkcs11.UserType.NOBODY:
            session.close()


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


def aliases_of(container: Container, key_tuple: KeyTuple) -> list[str]:
    with container.uow_factory()() as uow:
        return [row.alias for row in uow.keys.aliases_for(key_tuple)]
