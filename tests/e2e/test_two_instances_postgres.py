"""Two real server processes (`python -m entrypoints.cli serve`) sharing ONE PostgreSQL schema
and ONE PKCS#12 keystore directory (same password), each with its own data directory:
the deployment of several instances behind a load balancer.

Covers: the first start runs the key ceremony, the second finds its keys; data encrypted
through either instance decrypts through the other; a base key created through one is the
certificate the other returns; a key revoked through one is replaced on the other's next
getCertificate; both report the same ROOT certificate.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.server import APP, PLAINTEXT, REF, Server, server_factory

pytestmark = pytest.mark.slow

KEYSTORE_PASSWORD = "two-instances-keystore-password"


@pytest.fixture
def instances(tmp_path: Path, postgres_schema_url: str) -> Iterator[Callable[[str], Server]]:
    """Factory of servers on the shared schema and keystore; every process started is stopped afterwards."""
    shared = {
        "KEYMANAGER_STORE": "postgres",
        "KEYMANAGER_DB_URL": postgres_schema_url,
        "KEYMANAGER_KEYSTORE": "pkcs12",
        "KEYMANAGER_KEYSTORE_DIR": str(tmp_path / "keystore"),
        "KEYMANAGER_KEYSTORE_PASSWORD": KEYSTORE_PASSWORD,
    }
    with server_factory(tmp_path) as make:
        yield lambda name: make(name, **shared)


def root_certificates(server: Server) -> list[str]:
    listed = server.ok("GET", "/getAllCertificates", applicationId="ROOT")["allCertificates"]
    return [entry["certificateData"] for entry in listed]


def test_two_instances_share_one_schema_and_keystore(instances, tmp_path: Path) -> None:
    first = instances("a").start()  # first start: the key ceremony, into the shared schema and keystore
    keystore_files = sorted(p.name for p in (tmp_path / "keystore").glob("*.p12"))
    assert keystore_files, "the key ceremony wrote no keystore entry"
    second = instances("b").start()  # finds every key in place: creates nothing
    assert first.port != second.port
    assert first.data_dir != second.data_dir
    assert sorted(p.name for p in (tmp_path / "keystore").glob("*.p12")) == keystore_files
    assert not (first.data_dir / "keystore.password").exists()  # the shared password came from the environment

    # same ROOT, listed and current
    roots = root_certificates(first)
    assert len(roots) == 1
    assert root_certificates(second) == roots
    assert first.certificate("ROOT") == second.certificate("ROOT") == roots[0]
    assert first.certificate(APP) == second.certificate(APP)

    # a base key created through A is the certificate B returns
    fresh_ref = "TWO_INSTANCES_1"
    created = first.certificate(APP, fresh_ref)
    assert created.startswith("-----BEGIN CERTIFICATE-----")
    assert second.certificate(APP, fresh_ref) == created
    assert first.certificate(APP, fresh_ref) == created

    # encrypted through A decrypts through B, and vice versa (several calls: both workers of each)
    from_first, from_second = first.encrypt(PLAINTEXT), second.encrypt(PLAINTEXT)
    for _ in range(4):
        assert second.decrypt(from_first) == PLAINTEXT
        assert first.decrypt(from_second) == PLAINTEXT
    assert first.certificate(APP, REF) == second.certificate(APP, REF)  # one base key for the tuple, not two

    # a key revoked through B: A's next getCertificate returns a new certificate, which B then returns too
    base = first.certificate(APP, REF)
    revoked = second.ok("PUT", "/revokeKey", {"applicationId": APP, "referenceId": REF})
    assert revoked["status"] == "Key Revoked"
    new_base = first.certificate(APP, REF)
    assert new_base != base
    for _ in range(4):
        assert first.certificate(APP, REF) == new_base
        assert second.certificate(APP, REF) == new_base
    listed = second.ok("GET", "/getAllCertificates", applicationId=APP, referenceId=REF)["allCertificates"]
    assert [entry["certificateData"] for entry in listed] == [base, new_base]

    # revoked keys keep decrypting on both; data encrypted to the new key crosses over as well
    for _ in range(4):
        assert first.decrypt(from_second) == PLAINTEXT
        assert second.decrypt(from_first) == PLAINTEXT
    after = second.encrypt(PLAINTEXT)
    assert first.decrypt(after) == PLAINTEXT

    # the ROOT is still the one both started with
    assert root_certificates(first) == root_certificates(second) == roots

    # both instances (two workers each) appended to one audit chain: it verifies, and names both's work
    import os
    import subprocess
    import sys

    from tests.support.repo import REPO_ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYMANAGER_")}
    env.update(KEYMANAGER_DATA_DIR=str(first.data_dir), **first.env)
    verify = subprocess.run([sys.executable, "-m", "entrypoints.cli", "audit", "verify"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0 and "audit trail intact" in verify.stdout, verify.stdout + verify.stderr
