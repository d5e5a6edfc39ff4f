"""The real server process (`python -m entrypoints.cli serve`: granian, 2 workers,
SQLite + PKCS#12 with the embedded default keystore password), driven over HTTP.

Covers: first start (auto init), encrypt/decrypt/revoke through the wire,
restart on the same data directory (old ciphertext still decrypts, certificates
unchanged) and two independent instances side by side.
"""
from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.server import APP, PLAINTEXT, REF, REQUEST_TIME, Server, b64url_decode, server_factory

pytestmark = pytest.mark.slow


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[[str], Server]]:
    """Factory of server definitions; every process started is stopped afterwards."""
    with server_factory(tmp_path) as make:
        yield make


def test_serve_encrypt_decrypt_revoke_and_restart(servers) -> None:
    server = servers("one").start()
    root = server.certificate("ROOT")
    master = server.certificate(APP)
    base = server.certificate(APP, REF)
    assert base.startswith("-----BEGIN CERTIFICATE-----")
    assert server.certificate(APP, REF) == base  # stable: no second key

    password_file = server.data_dir / "keystore.password"
    assert password_file.exists()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600

    ciphertext = server.encrypt(PLAINTEXT)
    assert b64url_decode(ciphertext).startswith(b"VER_R2")
    # several calls so both workers (separate caches) are likely exercised
    for _ in range(6):
        assert server.decrypt(ciphertext) == PLAINTEXT

    revoked = server.ok("PUT", "/revokeKey", {"applicationId": APP, "referenceId": REF})
    assert revoked["status"] == "Key Revoked"
    new_base = server.certificate(APP, REF)
    assert new_base != base
    for _ in range(4):
        assert server.certificate(APP, REF) == new_base
        assert server.decrypt(ciphertext) == PLAINTEXT  # revoked keys keep decrypting
    new_ciphertext = server.encrypt(PLAINTEXT)
    listed = server.ok("GET", "/getAllCertificates", applicationId=APP, referenceId=REF)["allCertificates"]
    assert [entry["certificateData"] for entry in listed] == [base, new_base]

    server.stop()
    server.start()  # same data directory, same port, password from the generated file

    assert server.certificate("ROOT") == root
    assert server.certificate(APP) == master
    assert server.certificate(APP, REF) == new_base
    for _ in range(4):
        assert server.decrypt(ciphertext) == PLAINTEXT
        assert server.decrypt(new_ciphertext) == PLAINTEXT
    assert server.decrypt(server.encrypt(PLAINTEXT)) == PLAINTEXT


def test_two_instances_side_by_side(servers) -> None:
    first, second = servers("first").start(), servers("second").start()
    assert first.port != second.port

    root_first, root_second = first.certificate("ROOT"), second.certificate("ROOT")
    assert root_first != root_second

    from_first, from_second = first.encrypt(PLAINTEXT), second.encrypt(PLAINTEXT)
    assert first.decrypt(from_first) == PLAINTEXT
    assert second.decrypt(from_second) == PLAINTEXT

    # neither holds the other's keys
    request = {"applicationId": APP, "referenceId": REF, "timeStamp": REQUEST_TIME, "data": from_first}
    body = second.call("POST", "/decrypt", request)
    assert body["response"] is None
    assert body["errors"][0]["errorCode"] == "KER-KMS-025"
