"""The keystore import use case (application/use_cases/keystore/import_keystore.py) on the
in-memory store and keystore, fed with the entries a PKCS#12 file would give (the reader is
tested in test_pkcs12_file.py, the whole path against the JDK in
tests/integration/test_keystore_import.py): all or nothing, idempotent, audited, refusals that
name every offending alias, and a failure half-way undone."""
from __future__ import annotations

import datetime
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from application.crypto.pkcs12_file import PrivateKeyEntry, SecretKeyEntry, TrustedCertificateEntry, UnusableEntry
from application.ports.keystore import KeystoreError
from application.use_cases.keystore.import_keystore import (
    ImportKeystore,
    ImportKeystoreCommand,
    ImportState,
    KeystoreImportError,
    read_keystore_file,
)
from domain.keys import KeyAlias, KeyTuple, StoredKey


def pkcs8(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def certificate(key) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reference key")])
    now = datetime.datetime.now(datetime.UTC)
    signature_hash = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, signature_hash)
            .public_bytes(serialization.Encoding.DER))


def pair_entry(key, alias: str | None = None) -> PrivateKeyEntry:
    return PrivateKeyEntry(alias or str(uuid.uuid4()), pkcs8(key), (certificate(key),))


def command(entries) -> ImportKeystoreCommand:
    return ImportKeystoreCommand(tuple(sorted(entries, key=lambda entry: entry.alias)))


@pytest.fixture
def reference(rsa_keys):
    """The reference's ROOT, a module key and the ZK master key, as the file gives them."""
    root, module = rsa_keys(), rsa_keys()
    entries = [pair_entry(root), pair_entry(module), SecretKeyEntry(str(uuid.uuid4()), "AES", bytes(range(32)))]
    return entries


def add_rows(container, rows: list[KeyAlias], stored: tuple[StoredKey, ...] = ()) -> None:
    with container.uow_factory()() as uow:
        for row in rows:
            uow.keys.add_alias(row)
        for item in stored:
            uow.keys.add_stored_key(item)
        uow.commit()


def row(alias: str, app: str, ref: str = "") -> KeyAlias:
    now = datetime.datetime.now(datetime.UTC)
    return KeyAlias(alias, KeyTuple(app, ref), now - datetime.timedelta(days=1), now + datetime.timedelta(days=300))


def import_records(container) -> list:
    return [r for r in container.audit_log().records() if r.operation == "importKey"]


def test_imports_every_key_once_and_audits_it(container, reference) -> None:
    cmd = command(reference)
    root, module, zk = reference
    add_rows(container, [row(root.alias, "ROOT"), row(module.alias, "RESIDENT"), row(zk.alias, "KERNEL", "IDENTITY_CACHE")])
    before = set(container.keystore().aliases())

    result = container.import_keystore().execute(cmd)

    assert [(k.alias, k.kind, k.state, k.key_tuple) for k in result.keys] == sorted([
        (root.alias, "key pair (RSA-2048)", ImportState.IMPORTED, "ROOT"),
        (module.alias, "key pair (RSA-2048)", ImportState.IMPORTED, "RESIDENT"),
        (zk.alias, "secret key (AES-256)", ImportState.IMPORTED, "KERNEL:IDENTITY_CACHE"),
    ])
    keystore = container.keystore()
    assert set(keystore.aliases()) == before | {root.alias, module.alias, zk.alias}
    assert keystore.certificate(module.alias) == module.certificates[0]
    records = import_records(container)
    assert sorted((r.key_alias, r.app_id, r.ref_id, r.subject) for r in records) == sorted([
        (root.alias, "ROOT", "", "system"), (module.alias, "RESIDENT", "", "system"),
        (zk.alias, "KERNEL", "IDENTITY_CACHE", "system"),
    ])
    assert result.unresolved == ()


def test_a_second_run_finds_everything_present(container, reference) -> None:
    cmd = command(reference)
    container.import_keystore().execute(cmd)
    aliases, records = container.keystore().aliases(), len(import_records(container))

    again = container.import_keystore().execute(cmd)

    assert {k.state for k in again.keys} == {ImportState.PRESENT}
    assert len(again.keys) == 3
    assert container.keystore().aliases() == aliases
    assert len(import_records(container)) == records


def test_an_alias_taken_by_another_key_refuses_the_whole_file(container, reference, rsa_keys) -> None:
    root, module, zk = reference
    other = rsa_keys()
    container.keystore().import_key_pair(module.alias, pkcs8(other), [certificate(other)])
    container.keystore().import_secret_key(zk.alias, bytes(32))
    cmd = command(reference)
    before = container.keystore().aliases()

    with pytest.raises(KeystoreImportError) as refused:
        container.import_keystore().execute(cmd)

    assert "nothing imported" in refused.value.message
    assert refused.value.problems == tuple(sorted([
        f"{module.alias}: the alias is taken here by a different key",
        f"{zk.alias}: the alias is taken here by a different secret key",
    ]))
    assert container.keystore().aliases() == before  # ROOT was fine, and was not written either
    assert import_records(container) == []


def test_a_key_pair_alias_holding_a_secret_key_is_a_conflict(container, reference) -> None:
    root, module, zk = reference
    container.keystore().import_secret_key(module.alias, bytes(32))
    cmd = command(reference)
    with pytest.raises(KeystoreImportError) as refused:
        container.import_keystore().execute(cmd)
    assert refused.value.problems == (f"{module.alias}: the alias is taken here by a key that is not this key pair",)


def test_kinds_we_do_not_hold_are_refused_all_named(container, reference) -> None:
    edwards = ed25519.Ed25519PrivateKey.generate()
    p384 = ec.generate_private_key(ec.SECP384R1())
    odd = [
        TrustedCertificateEntry("trusted-ca", reference[0].certificates[0]),
        SecretKeyEntry("hmac-key", "HmacSHA256", bytes(32)),
        SecretKeyEntry("short-aes", "AES", bytes(8)),
        pair_entry(edwards, "ed-key"),
        pair_entry(p384, "p384-key"),
        UnusableEntry("lonely", "a private key without its certificate"),
    ]
    cmd = command(reference + odd)
    before = container.keystore().aliases()

    with pytest.raises(KeystoreImportError) as refused:
        container.import_keystore().execute(cmd)

    problems = dict(problem.split(": ", 1) for problem in refused.value.problems)
    assert sorted(problems) == sorted(entry.alias for entry in odd)
    assert problems["hmac-key"].startswith("a HmacSHA256 secret key (256 bits)")
    assert problems["short-aes"].startswith("a AES secret key (64 bits)")
    assert problems["trusted-ca"].startswith("a trusted certificate entry")
    assert "Ed25519" in problems["ed-key"] and "secp384r1" in problems["p384-key"]
    assert problems["lonely"] == "a private key without its certificate"
    assert container.keystore().aliases() == before


class FailingKeystore:
    """The container's keystore, failing the n-th import (or every delete)."""

    def __init__(self, inner, fail_at: int, fail_deletes: bool = False) -> None:
        self.inner, self.fail_at, self.fail_deletes, self.imports = inner, fail_at, fail_deletes, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _count(self) -> None:
        self.imports += 1
        if self.imports == self.fail_at:
            raise KeystoreError("the token is full")

    def import_key_pair(self, *args) -> None:
        self._count()
        self.inner.import_key_pair(*args)

    def import_secret_key(self, *args) -> None:
        self._count()
        self.inner.import_secret_key(*args)

    def delete(self, alias: str) -> None:
        if self.fail_deletes:
            raise KeystoreError("gone")
        self.inner.delete(alias)


def test_a_failure_half_way_deletes_what_was_written(container, reference) -> None:
    cmd = command(reference)
    before = container.keystore().aliases()
    use_case = ImportKeystore(FailingKeystore(container.keystore(), fail_at=3), container.uow_factory(),
                              container.clock())
    with pytest.raises(KeystoreImportError, match=r"the import failed \(the token is full\); the 2 key\(s\) "
                                                  "written before were deleted again"):
        use_case.execute(cmd)
    assert container.keystore().aliases() == before
    assert import_records(container) == []


def test_what_cannot_be_deleted_again_is_named(container, reference) -> None:
    cmd = command(reference)
    use_case = ImportKeystore(FailingKeystore(container.keystore(), fail_at=2, fail_deletes=True),
                              container.uow_factory(), container.clock())
    with pytest.raises(KeystoreImportError, match=f"could not delete again: {cmd.entries[0].alias}$"):
        use_case.execute(cmd)


def test_an_audit_failure_undoes_the_import(container, reference, monkeypatch) -> None:
    cmd = command(reference)
    before = container.keystore().aliases()
    use_case = container.import_keystore()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(use_case, "_audit", broken)
    with pytest.raises(KeystoreImportError, match=r"the import failed \(OSError\); the 3 key\(s\)"):
        use_case.execute(cmd)
    assert container.keystore().aliases() == before


def test_a_file_that_does_not_open_is_refused(rsa_keys) -> None:
    key = rsa_keys()
    data = pkcs12.serialize_key_and_certificates(b"alias", key, x509.load_der_x509_certificate(certificate(key)),
                                                 None, serialization.BestAvailableEncryption(b"right"))
    assert [entry.alias for entry in read_keystore_file(data, "right").entries] == ["alias"]
    with pytest.raises(KeystoreImportError,
                       match="cannot read the keystore: the keystore password is wrong; nothing imported"):
        read_keystore_file(data, "wrong")
    with pytest.raises(KeystoreImportError, match="cannot read the keystore: not a PKCS#12 file"):
        read_keystore_file(b"-----BEGIN CERTIFICATE-----", "right")


def test_an_empty_file_is_refused(container) -> None:
    with pytest.raises(KeystoreImportError, match="holds no entries"):
        container.import_keystore().execute(command([]))


def test_rows_of_keystore_keys_still_missing_are_reported(container, reference, rsa_keys) -> None:
    cmd = command(reference)
    missing, base = row(str(uuid.uuid4()), "ID_REPO"), row(str(uuid.uuid4()), "ID_REPO", "some-ref")
    add_rows(container, [missing, base],
             (StoredKey(base.alias, missing.alias, "wrapped-private-key", "-----BEGIN CERTIFICATE-----"),))
    result = container.import_keystore().execute(cmd)
    assert result.unresolved == (missing,)  # the base key lives in key_store: not a keystore key


def test_an_alias_the_keystore_cannot_take_is_refused_before_writing(container, reference, tmp_path) -> None:
    """The PKCS#12 directory makes file names of aliases: one it cannot take stops the import
    before the other keys are written."""
    from adapters.pkcs12.keystore import Pkcs12Keystore

    keystore = Pkcs12Keystore(tmp_path / "keystore", b"directory password")
    odd = SecretKeyEntry("KERNEL/SIGN", "AES", bytes(32))
    use_case = ImportKeystore(keystore, container.uow_factory(), container.clock())
    with pytest.raises(KeystoreImportError) as refused:
        use_case.execute(command([*reference, odd]))
    assert refused.value.problems == ("KERNEL/SIGN: this keystore cannot take the alias (Invalid alias: "
                                      "'KERNEL/SIGN')",)
    assert keystore.aliases() == []
    result = use_case.execute(command(reference))
    assert sorted(keystore.aliases()) == sorted(entry.alias for entry in reference)
    assert {key.state for key in result.keys} == {ImportState.IMPORTED}
