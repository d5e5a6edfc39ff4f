"""The keystore adapters under one contract (tests/contract/): each made empty for a test.

The in-process keystores take their RSA keys from the test's ``rsa_keys`` (tests/support/key_pool.py).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.memory.keystore import MemoryKeystore
from adapters.pkcs12.keystore import Pkcs12Keystore
from application.ports.keystore import Keystore

ALIAS = "5b0d1e5c-8c3a-4a8e-9d3e-2f1a6c7b8d90"
OTHER = "0f6c2d1e-1111-4a8e-9d3e-2f1a6c7b8d91"
PKCS12_PASSWORD = b"contract-test-password"


def _memory(tmp_path: Path, request: pytest.FixtureRequest) -> Keystore:
    return MemoryKeystore(request.getfixturevalue("rsa_keys"))


def _pkcs12(tmp_path: Path, request: pytest.FixtureRequest) -> Keystore:
    return Pkcs12Keystore(tmp_path / "keystore", PKCS12_PASSWORD, request.getfixturevalue("rsa_keys"))


def _pkcs11(tmp_path: Path, request: pytest.FixtureRequest) -> Keystore:
    """The session's SoftHSM2 token (the fixture fails under CI=true, skips elsewhere when
    SoftHSM2 is missing). The token outlives the test, so it is emptied first: the contract
    expects a keystore without keys."""
    from adapters.pkcs11.keystore import Pkcs11Keystore

    token = request.getfixturevalue("softhsm_token")
    keystore = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    for alias in {*keystore.aliases(), ALIAS, OTHER}:
        keystore.delete(alias)
    assert keystore.aliases() == []
    return keystore


#: name -> factory(tmp_path, request); a factory needing a fixture asks ``request.getfixturevalue``.
FACTORIES: dict[str, Callable[[Path, pytest.FixtureRequest], Keystore]] = {
    "memory": _memory,
    "pkcs12": _pkcs12,
    "pkcs11": _pkcs11,
}
