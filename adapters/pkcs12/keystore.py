"""The embedded default keystore: one password-protected PKCS#12 file per alias.

`cryptography` cannot write a PKCS#12 holding several keys, hence a directory
of ``<alias>.p12`` files. It cannot write secret-key entries either: an AES key
is a ``<alias>.aes`` file, the key sealed with AES-256-GCM under a key derived
from the keystore password (PBKDF2-HMAC-SHA256, per-file salt; the alias is
authenticated data, so files cannot be swapped). Several worker processes may share the directory:
files are written to a temp file and moved into place atomically, and each
process caches what it loaded, checked against the file's identity on every use.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12

from application.crypto.primitives import (
    AES_KEY_LENGTHS,
    RsaKeySource,
    SoftwareKey,
    aes_ecb,
    generate_key,
    generate_rsa_key,
    key_pair_for_import,
    public_key_to_spki,
    random_bytes,
    rsa_oaep_decrypt,
    sign_with,
)
from application.ports.keystore import (
    KeyAlgorithm,
    KeystoreError,
    KeystoreHealth,
    PrivateKeyOperationError,
    SignatureScheme,
)

_SUFFIX = ".p12"
_SECRET_SUFFIX = ".aes"
_SECRET_MAGIC = b"KMAES1"
_SECRET_KDF_ITERATIONS = 200_000
# Aliases become file names: no separators, no leading dot (temp files use one).
_ALIAS = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")


@dataclass(frozen=True)
class _Entry:
    stamp: tuple[int, int, int]  # see _read_if_changed
    key: SoftwareKey
    certificate_der: bytes | None


class Pkcs12Keystore:
    def __init__(self, directory: Path, password: bytes, rsa_key_source: RsaKeySource = generate_rsa_key) -> None:
        if not password:
            raise KeystoreError("Provided Keystore password is not valid.")
        self._dir = Path(directory)
        self._password = bytes(password)
        self._rsa_key_source = rsa_key_source
        self._cache: dict[str, _Entry] = {}
        self._secrets: dict[str, tuple[tuple[int, int, int], bytes]] = {}
        self._lock = threading.Lock()
        try:
            self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeystoreError(f"Cannot create keystore directory {self._dir}: {exc.strerror}") from None

    # -- the port ------------------------------------------------------------

    def generate_key_pair(self, alias: str, algorithm: KeyAlgorithm = KeyAlgorithm.RSA_2048) -> bytes:
        path = self._path(alias)
        if path.exists() or self._secret_path(alias).exists():
            raise KeystoreError(f"Alias already exists: {alias}")
        key = generate_key(algorithm, self._rsa_key_source)
        self._write(alias, key, None, exclusive=True)
        return public_key_to_spki(key.public_key())

    def store_certificate(self, alias: str, certificate_der: bytes) -> None:
        try:
            certificate = x509.load_der_x509_certificate(certificate_der)
        except ValueError:
            raise KeystoreError("Certificate is not a valid DER X.509 certificate") from None
        entry = self._load(alias)
        if entry is None:
            raise KeystoreError(f"No such alias: {alias}")
        if certificate.public_key() != entry.key.public_key():
            raise KeystoreError(f"Certificate does not match the key under alias: {alias}")
        self._write(alias, entry.key, certificate, exclusive=False)

    def certificate(self, alias: str) -> bytes | None:
        entry = self._load(alias)
        return entry.certificate_der if entry else None

    def decrypt(self, alias: str, ciphertext: bytes) -> bytes:
        key = self._key(alias)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise PrivateKeyOperationError("not an RSA key")
        try:
            return rsa_oaep_decrypt(key, ciphertext)
        except ValueError:
            # No details: padding-check messages must not become an oracle.
            raise PrivateKeyOperationError("RSA-OAEP decryption failed") from None

    def sign(self, alias: str, data: bytes, scheme: SignatureScheme = SignatureScheme.RSA_PKCS1_SHA256) -> bytes:
        try:
            return sign_with(self._key(alias), data, SignatureScheme(scheme))
        except ValueError:
            raise PrivateKeyOperationError("signature scheme does not fit the key") from None

    def generate_secret_key(self, alias: str) -> None:
        self._store_secret(alias, random_bytes(32))

    def import_key_pair(self, alias: str, private_key_pkcs8: bytes, certificate_chain: Sequence[bytes]) -> None:
        if self._path(alias).exists() or self._secret_path(alias).exists():
            raise KeystoreError(f"Alias already exists: {alias}")
        try:
            key, certificate_der = key_pair_for_import(private_key_pkcs8, certificate_chain)
        except ValueError as error:
            raise KeystoreError(f"Cannot import {alias}: {error}") from None
        self._write(alias, key, x509.load_der_x509_certificate(certificate_der), exclusive=True)

    def import_secret_key(self, alias: str, key: bytes) -> None:
        if len(key) not in AES_KEY_LENGTHS:
            raise KeystoreError(f"Cannot import {alias}: not an AES key")
        self._store_secret(alias, bytes(key))

    def _store_secret(self, alias: str, key: bytes) -> None:
        path = self._secret_path(alias)
        if path.exists() or self._path(alias).exists():
            raise KeystoreError(f"Alias already exists: {alias}")
        salt, nonce = random_bytes(16), random_bytes(12)
        sealed = AESGCM(self._file_key(salt)).encrypt(nonce, key, _SECRET_MAGIC + alias.encode())
        self._write_bytes(alias, path, _SECRET_MAGIC + salt + nonce + sealed, exclusive=True)

    def encrypt_blocks(self, alias: str, data: bytes) -> bytes:
        return aes_ecb(self._secret(alias), data, encrypt=True)

    def decrypt_blocks(self, alias: str, data: bytes) -> bytes:
        return aes_ecb(self._secret(alias), data, encrypt=False)

    def delete(self, alias: str) -> None:
        with self._lock:
            self._cache.pop(alias, None)
            self._secrets.pop(alias, None)
        removed = False
        for path in (self._path(alias), self._secret_path(alias)):
            try:
                path.unlink()
                removed = True
            except FileNotFoundError:
                pass
        if removed:
            self._fsync_directory()

    def aliases(self) -> list[str]:
        # Temp files end in ".tmp", so the glob never sees a half-written entry.
        names = {p.stem for suffix in (_SUFFIX, _SECRET_SUFFIX) for p in self._dir.glob("*" + suffix) if p.is_file()}
        return sorted(names)

    def health(self) -> KeystoreHealth:
        if not self._dir.is_dir():
            return KeystoreHealth(ok=False, detail=f"pkcs12 keystore directory {self._dir} is missing")
        if not os.access(self._dir, os.R_OK | os.W_OK | os.X_OK):
            return KeystoreHealth(ok=False, detail=f"pkcs12 keystore directory {self._dir} is not readable/writable")
        try:
            count = len(self.aliases())
        except OSError as exc:
            return KeystoreHealth(ok=False, detail=f"pkcs12 keystore at {self._dir}: {exc.strerror}")
        return KeystoreHealth(ok=True, detail=f"pkcs12 keystore at {self._dir}, {count} keys")

    # -- files ---------------------------------------------------------------

    def _path(self, alias: str) -> Path:
        if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
            raise KeystoreError(f"Invalid alias: {alias!r}")
        return self._dir / (alias + _SUFFIX)

    def _secret_path(self, alias: str) -> Path:
        return self._path(alias).with_suffix(_SECRET_SUFFIX)

    def _file_key(self, salt: bytes) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", self._password, salt, _SECRET_KDF_ITERATIONS, 32)

    def _secret(self, alias: str) -> bytes:
        """The AES key under ``alias``, from the cache while its file is unchanged."""
        with self._lock:
            cached = self._secrets.get(alias)
        read = self._read_if_changed(alias, self._secret_path(alias), cached[0] if cached else None)
        if read is None:
            raise KeystoreError(f"No such alias: {alias}")
        stamp, data = read
        if data is None:
            return cached[1]  # type: ignore[index]  # the stamp matched the cached entry's
        magic, salt, nonce, sealed = data[:6], data[6:22], data[22:34], data[34:]
        try:
            if magic != _SECRET_MAGIC:
                raise InvalidTag
            key = AESGCM(self._file_key(salt)).decrypt(nonce, sealed, _SECRET_MAGIC + alias.encode())
        except (InvalidTag, ValueError):
            raise KeystoreError(f"Cannot open keystore entry {alias}: wrong password or corrupted file") from None
        with self._lock:
            self._secrets[alias] = (stamp, key)
        return key

    @staticmethod
    def _read_if_changed(
        alias: str, path: Path, cached_stamp: tuple[int, int, int] | None
    ) -> tuple[tuple[int, int, int], bytes | None] | None:
        """(stamp, bytes) of the file; bytes None when the stamp is ``cached_stamp``; None when
        there is no file. One descriptor for stat and read: the stamp always matches the bytes."""
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                # (inode, mtime, size): a replaced file has a new inode even when the mtime
                # tick and the size happen to be the same.
                stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
                return stamp, (None if stamp == cached_stamp else f.read())
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeystoreError(f"Cannot read keystore entry {alias}: {exc.strerror}") from None

    def _key(self, alias: str) -> SoftwareKey:
        entry = self._load(alias)
        if entry is None:
            raise KeystoreError(f"No such alias: {alias}")
        return entry.key

    def _load(self, alias: str) -> _Entry | None:
        """The entry under ``alias`` (None when there is no file), from the cache
        while the file is the one we loaded, else decrypted again (slow: PBKDF2)."""
        with self._lock:
            cached = self._cache.get(alias)
        read = self._read_if_changed(alias, self._path(alias), cached.stamp if cached else None)
        if read is None:
            with self._lock:
                self._cache.pop(alias, None)
            return None
        stamp, data = read
        if data is None:
            return cached
        entry = _Entry(stamp, *self._decode(alias, data))
        with self._lock:
            self._cache[alias] = entry
        return entry

    def _decode(self, alias: str, data: bytes) -> tuple[SoftwareKey, bytes | None]:
        try:
            key, certificate, _ = pkcs12.load_key_and_certificates(data, self._password)
        except ValueError:
            # `from None`, and a fixed text: nothing about the password or the key.
            raise KeystoreError(f"Cannot open keystore entry {alias}: wrong password or corrupted file") from None
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
            raise KeystoreError(f"Keystore entry {alias} holds no RSA, EC or Ed25519 private key")
        return key, certificate.public_bytes(Encoding.DER) if certificate else None

    def _write(
        self, alias: str, key: SoftwareKey, certificate: x509.Certificate | None, *, exclusive: bool
    ) -> None:
        data = pkcs12.serialize_key_and_certificates(
            alias.encode(), key, certificate, None, BestAvailableEncryption(self._password)
        )
        self._write_bytes(alias, self._path(alias), data, exclusive=exclusive)

    def _write_bytes(self, alias: str, path: Path, data: bytes, *, exclusive: bool) -> None:
        # mkstemp creates the file with mode 0600, in the same directory so
        # that the final rename/link stays on one file system (atomic).
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{alias}.", suffix=".tmp", dir=self._dir)
        except OSError as exc:
            raise KeystoreError(f"Cannot write keystore entry {alias}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if exclusive:
                self._link_new(alias, tmp, path)
            else:
                os.replace(tmp, path)
        except OSError as exc:
            raise KeystoreError(f"Cannot write keystore entry {alias}: {exc.strerror}") from None
        finally:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        self._fsync_directory()

    @staticmethod
    def _link_new(alias: str, tmp: str, path: Path) -> None:
        """Publish a new entry, failing if another process created it first:
        link(2) never overwrites, unlike rename(2)."""
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise KeystoreError(f"Alias already exists: {alias}") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # A file system without hard links: best effort (check, then rename).
            if path.exists():
                raise KeystoreError(f"Alias already exists: {alias}") from None
            os.replace(tmp, path)

    def _fsync_directory(self) -> None:
        """Make the rename/unlink itself durable, not only the file's bytes."""
        fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
