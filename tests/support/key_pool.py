"""Pre-generated RSA-2048 keys for the in-process keystores of the tests.

Generating an RSA-2048 key costs tens of milliseconds, and nearly every test builds a container
that makes three master keys (ROOT, REGISTRATION, KERNEL/SIGN) and some base keys. The keys are
real and made with the service's own ``generate_rsa_key``, but only once per test session: each
test gets its own *source* (a cursor over the session's list), handed to its containers through
the container's ``rsa_key_source`` provider. Within one source every key is distinct (tests
compare thumbprints and aliases); a source that needs more keys than the list holds makes new
ones, which later sources reuse. The service itself gets a fresh key on every call.
"""
from __future__ import annotations

import itertools
import threading

from cryptography.hazmat.primitives.asymmetric import rsa

from application.crypto.primitives import RsaKeySource, generate_rsa_key


class RsaKeyPool:
    def __init__(self) -> None:
        self._keys: list[rsa.RSAPrivateKey] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def _key(self, index: int) -> rsa.RSAPrivateKey:
        with self._lock:
            while len(self._keys) <= index:
                self._keys.append(generate_rsa_key())
            return self._keys[index]

    def source(self) -> RsaKeySource:
        """A new cursor from the start of the list: the n-th call returns the n-th key."""
        positions = itertools.count()  # next() on a count is atomic under the GIL
        lock = threading.Lock()

        def next_key() -> rsa.RSAPrivateKey:
            with lock:
                index = next(positions)
            return self._key(index)

        return next_key
