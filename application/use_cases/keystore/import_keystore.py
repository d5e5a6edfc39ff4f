"""``keymanager keystore import FILE.p12``: the reference Java service's keys into our keystore.

The reference's PKCS#12 keystore (PKCS12KeyStoreImpl: one JDK PKCS#12 file, one password) holds
ROOT, the module master keys, KERNEL/SIGN, EC signing keys and the ZK master key, each under the
alias its key_alias row names (a UUID). Imported under the same aliases, they make the rows of an
existing ``mosip_keymgr`` database resolve, so data encrypted by the old service keeps decrypting.

All or nothing, and idempotent:
1. Check everything first: the file opens with the password; every entry is a kind we hold (an RSA
   or EC key pair with its certificate, an AES key); an alias we already hold holds the same key
   (then it is "already present": same public key, or the same AES check value). Any problem
   stops the import before anything is written, naming every offending alias.
2. Write the new keys; then record one ``importKey`` audit record each. If anything fails on the
   way, what this run wrote is deleted again before the error is reported.

Entries of kinds we do not hold (a trusted certificate, an HMAC or DES key, an Ed25519 or DSA key,
a key without its certificate) are refused, not skipped: the reference's own keystore never holds
them, so one of them means the file is not what the operator thinks it is, and a partial import
would leave key_alias rows that no longer resolve to be found only when a decryption fails.

Nothing secret is logged, returned or put into an error: aliases, kinds and states only.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from application.crypto import pkcs12_file
from application.crypto.primitives import AES_KEY_LENGTHS, aes_ecb, key_pair_for_import
from application.crypto.x509 import load_der
from application.keys.hierarchy import audit_subject
from application.ports.clock import Clock
from application.ports.keystore import Keystore, KeystoreError
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.audit import AuditEvent
from domain.errors import KeyManagerError
from domain.keys import KeyAlias

OPERATION = "importKey"
_CHECK_BLOCK = bytes(16)  # an AES key's check value: its encryption of one zero block


class ImportState(str, Enum):
    IMPORTED = "imported"
    PRESENT = "already present"


@dataclass(frozen=True)
class ImportKeystoreCommand:
    """The entries of the file (``read_keystore_file``): read, and so checked against the password,
    before anything is opened."""

    entries: tuple[pkcs12_file.Entry, ...]


@dataclass(frozen=True)
class ImportedKey:
    alias: str
    kind: str  # "key pair (RSA-2048)", "secret key (AES-256)"
    state: ImportState
    key_tuple: str | None  # "ROOT", "KERNEL:SIGN"... from its key_alias row; None without one


@dataclass(frozen=True)
class ImportKeystoreResult:
    keys: tuple[ImportedKey, ...]
    #: key_alias rows of keystore-held keys (no key_store row) whose alias the keystore still lacks.
    unresolved: tuple[KeyAlias, ...]


def read_keystore_file(data: bytes, password: str) -> ImportKeystoreCommand:
    """The command for the PKCS#12 file ``data``; KeystoreImportError when it does not open
    (wrong password, damaged file, a form we do not read)."""
    try:
        return ImportKeystoreCommand(tuple(pkcs12_file.read_keystore(data, password)))
    except pkcs12_file.Pkcs12Error as error:
        raise KeystoreImportError(f"cannot read the keystore: {error}; nothing imported") from None


class KeystoreImportError(Exception):
    """The import was refused (nothing written) or failed (what it wrote was undone)."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems


@dataclass(frozen=True)
class _Planned:
    alias: str
    kind: str
    write: Callable[[], None] = field(repr=False)


class ImportKeystore:
    def __init__(self, keystore: Keystore, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.keystore = keystore
        self.uow_factory = uow_factory
        self.clock = clock

    def execute(self, command: ImportKeystoreCommand) -> ImportKeystoreResult:
        entries = command.entries
        if not entries:
            raise KeystoreImportError("the keystore holds no entries; nothing imported")
        with self.uow_factory() as uow:
            rows = {row.alias: row for row in uow.keys.all_aliases()}

        held = set(self.keystore.aliases())
        results: list[ImportedKey] = []
        planned: list[_Planned] = []
        problems: list[str] = []
        for entry in entries:
            try:
                kind, write, present = self._check(entry, held)
            except _Refused as refusal:
                problems.append(f"{entry.alias}: {refusal}")
                continue
            if present:
                results.append(ImportedKey(entry.alias, kind, ImportState.PRESENT, _tuple_of(rows, entry.alias)))
            else:
                planned.append(_Planned(entry.alias, kind, write))
        if problems:
            raise KeystoreImportError("the keystore cannot be imported; nothing imported", tuple(problems))

        self._write(planned, rows)
        results += [ImportedKey(p.alias, p.kind, ImportState.IMPORTED, _tuple_of(rows, p.alias)) for p in planned]
        results.sort(key=lambda key: key.alias)
        return ImportKeystoreResult(tuple(results), self._unresolved(rows))

    # -- checks (nothing written) -------------------------------------------------------------

    def _check(self, entry: pkcs12_file.Entry, held: set[str]) -> tuple[str, Callable[[], None], bool]:
        """(kind, how to write it, whether we hold the same key already); _Refused when it cannot go in."""
        if isinstance(entry, pkcs12_file.PrivateKeyEntry):
            try:
                key, leaf = key_pair_for_import(entry.private_key_pkcs8, entry.certificates)
            except ValueError as error:
                raise _Refused(f"a key pair we cannot hold: {error}") from None
            kind = f"key pair ({_describe(key)})"
            if entry.alias in held:
                return kind, _nothing, self._same_key_pair(entry.alias, leaf)
            self._require_usable_alias(entry.alias)
            return kind, lambda: self.keystore.import_key_pair(
                entry.alias, entry.private_key_pkcs8, entry.certificates), False
        if isinstance(entry, pkcs12_file.SecretKeyEntry):
            if entry.algorithm != "AES" or len(entry.key) not in AES_KEY_LENGTHS:
                raise _Refused(f"a {entry.algorithm} secret key ({8 * len(entry.key)} bits): only AES keys are held")
            kind = f"secret key (AES-{8 * len(entry.key)})"
            if entry.alias in held:
                return kind, _nothing, self._same_secret_key(entry.alias, entry.key)
            self._require_usable_alias(entry.alias)
            return kind, lambda: self.keystore.import_secret_key(entry.alias, entry.key), False
        if isinstance(entry, pkcs12_file.TrustedCertificateEntry):
            raise _Refused("a trusted certificate entry (a certificate without a private key): "
                           "the reference's keystore holds none; remove it from a copy of the file")
        raise _Refused(entry.what)

    def _same_key_pair(self, alias: str, leaf_der: bytes) -> bool:
        try:
            ours = self.keystore.certificate(alias)
        except KeystoreError as error:
            raise _Refused(f"the alias is taken and cannot be compared ({error})") from None
        if ours is None:
            raise _Refused("the alias is taken here by a key that is not this key pair")
        if _spki_of(ours) != _spki_of(leaf_der):
            raise _Refused("the alias is taken here by a different key")
        return True

    def _same_secret_key(self, alias: str, key: bytes) -> bool:
        try:
            ours = self.keystore.encrypt_blocks(alias, _CHECK_BLOCK)
        except (KeystoreError, KeyManagerError):
            raise _Refused("the alias is taken here by a key that is not this secret key") from None
        if ours != aes_ecb(key, _CHECK_BLOCK, encrypt=True):
            raise _Refused("the alias is taken here by a different secret key")
        return True

    def _require_usable_alias(self, alias: str) -> None:
        """Ask the keystore about the alias now, so that one it cannot take (a PKCS#12 directory
        makes file names of aliases) stops the import before anything is written."""
        try:
            self.keystore.certificate(alias)
        except KeystoreError as error:
            raise _Refused(f"this keystore cannot take the alias ({error})") from None

    # -- writing (undone on failure) ------------------------------------------------------------

    def _write(self, planned: list[_Planned], rows: dict[str, KeyAlias]) -> None:
        written: list[str] = []
        try:
            for item in planned:
                item.write()
                written.append(item.alias)
            if written:
                self._audit(written, rows)
        except BaseException as error:
            left = self._undo(written)
            if not isinstance(error, Exception):
                raise
            reason = str(error) if isinstance(error, KeystoreError) else type(error).__name__
            if isinstance(error, KeyManagerError):
                reason = f"{error.code} {error.message}"
            undone = (f"the {len(written)} key(s) written before were deleted again" if not left else
                      f"could not delete again: {', '.join(left)}")
            raise KeystoreImportError(f"the import failed ({reason}); {undone}") from None

    def _audit(self, written: list[str], rows: dict[str, KeyAlias]) -> None:
        subject = audit_subject.get()
        with self.uow_factory() as uow:
            for alias in written:
                row = rows.get(alias)
                uow.audit.append(
                    AuditEvent(operation=OPERATION, subject=subject, key_alias=alias,
                               app_id=row.app_id if row else None, ref_id=row.ref_id if row else None,
                               thumbprint=row.thumbprint if row else None),
                    self.clock.now(),
                )
            uow.commit()

    def _undo(self, written: list[str]) -> list[str]:
        left = []
        for alias in reversed(written):
            try:
                self.keystore.delete(alias)
            except Exception:  # noqa: BLE001 - keep undoing the others; the alias is reported
                left.append(alias)
        return left

    # -- after ---------------------------------------------------------------------------------

    def _unresolved(self, rows: dict[str, KeyAlias]) -> tuple[KeyAlias, ...]:
        held = set(self.keystore.aliases())
        candidates = [row for alias, row in rows.items() if alias not in held]
        if not candidates:
            return ()
        with self.uow_factory() as uow:
            return tuple(row for row in candidates if uow.keys.stored_key(row.alias) is None)


class _Refused(Exception):
    """One entry cannot be imported (the message says why)."""


def _nothing() -> None:
    return None


def _tuple_of(rows: dict[str, KeyAlias], alias: str) -> str | None:
    row = rows.get(alias)
    return str(row.key_tuple) if row else None


def _describe(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA-{key.key_size}"
    return f"EC {key.curve.name}"


def _spki_of(certificate_der: bytes) -> bytes:
    return load_der(certificate_der).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
