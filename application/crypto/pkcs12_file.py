"""Reading a whole PKCS#12 keystore file (RFC 7292) as the JDK writes it: every entry.

The reference Java service keeps its keys in one JDK ``KeyStore.getInstance("PKCS12")`` file
(PKCS12KeyStoreImpl): private-key entries (the key in a pkcs8ShroudedKeyBag, its certificate in a
certBag, tied by the localKeyId attribute, the alias in friendlyName) and secret-key entries
(the ZK master key), which the JDK writes as a secretBag wrapping a pkcs8ShroudedKeyBag whose
plaintext is ``SEQUENCE { 0, AlgorithmIdentifier(AES), OCTET STRING key }``. ``cryptography``
reads neither several keys nor secret bags, hence this reader (the ASN.1 parsing is asn1crypto's).

Encryption schemes read:
- PBES2 (PBKDF2 with HMAC-SHA-1/-224/-256/-384/-512; AES-CBC or DES-EDE3-CBC), the password
  as UTF-8: what JDK 17 writes by default (PBEWithHmacSHA256AndAES_256, 10 000 iterations);
- the PKCS#12 PBE schemes pbeWithSHAAnd3-KeyTripleDES-CBC / 2-KeyTripleDES-CBC and
  pbeWithSHAAnd128BitRC2-CBC / 40BitRC2-CBC (key derivation of RFC 7292 appendix B, the password
  as a BMPString): what JDKs before 11.0.12 wrote (3DES keys, RC2-40 certificates);
- the MAC: HMAC keyed with the appendix-B derivation (ID 3) over SHA-1 or SHA-2, checked
  before anything is decrypted.

A wrong password is told apart from a damaged file: when the MAC does not match, the password
is tried on the encrypted parts; if it opens one of them (well-formed padding and DER), the
password is right and the file is damaged, otherwise the password is wrong.

Nothing read here is logged or put into an exception message.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import algos, core, keys, pkcs12, x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from . import rc2

#: The JDK refuses more (sun.security.pkcs12.PKCS12KeyStore MAX_ITERATION_COUNT); so do we: a
#: hostile file must not make us hash for hours.
MAX_ITERATIONS = 5_000_000
_HASHES = {"sha1", "sha224", "sha256", "sha384", "sha512", "sha512_224", "sha512_256"}
_HASHLIB_NAMES = {"sha512_224": "sha512_224", "sha512_256": "sha512_256"}
#: OIDs of the AES arc: the JDK writes 2.16.840.1.101.3.4.1 ("AES") for an AES SecretKeyEntry.
_AES_ARC = "2.16.840.1.101.3.4.1"
#: Names of secret-key algorithms the JDK may write (for messages only).
_SECRET_ALGORITHM_NAMES = {
    _AES_ARC: "AES",
    "1.2.840.113549.3.7": "DESede",
    "1.3.14.3.2.7": "DES",
    "1.2.840.113549.2.7": "HmacSHA1",
    "1.2.840.113549.2.9": "HmacSHA256",
    "1.2.840.113549.2.10": "HmacSHA384",
    "1.2.840.113549.2.11": "HmacSHA512",
}


class Pkcs12Error(Exception):
    """The file is not a PKCS#12 keystore we can read (damaged, or a form we do not support)."""


class Pkcs12PasswordError(Pkcs12Error):
    """The password does not open the file."""


class _BadDecryption(Exception):
    """Decryption gave no well-formed plaintext (wrong password or damaged ciphertext)."""


# -- what a file holds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivateKeyEntry:
    """A private key with its certificate chain (leaf first; DER), as the JDK loads it."""

    alias: str
    private_key_pkcs8: bytes = field(repr=False)
    certificates: tuple[bytes, ...] = field(repr=False)


@dataclass(frozen=True)
class SecretKeyEntry:
    """A secret key: ``algorithm`` is the JDK's name ("AES", "HmacSHA256", ...) or the OID."""

    alias: str
    algorithm: str
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class TrustedCertificateEntry:
    """A certificate on its own (keytool -importcert of a CA certificate)."""

    alias: str
    certificate: bytes


@dataclass(frozen=True)
class UnusableEntry:
    """Something with an alias that is no complete key entry; ``what`` says what it is."""

    alias: str
    what: str


Entry = PrivateKeyEntry | SecretKeyEntry | TrustedCertificateEntry | UnusableEntry


class _SecretKeyInfo(core.Sequence):
    """The plaintext of a JDK secret bag's shrouded key."""

    _fields = [
        ("version", core.Integer),
        ("algorithm", algos.AnyAlgorithmIdentifier),
        ("key", core.OctetString),
    ]


# -- reading --------------------------------------------------------------------------------------


def read_keystore(data: bytes, password: str) -> list[Entry]:
    """Every entry of the PKCS#12 file ``data``, opened with ``password``, sorted by alias.

    Raises Pkcs12PasswordError for a wrong password, Pkcs12Error for anything else unreadable."""
    try:
        pfx = pkcs12.Pfx.load(data, strict=True)
        if pfx["version"].native != "v3":
            raise Pkcs12Error("not a PKCS#12 version 3 file")
        auth_safe = pfx["auth_safe"]
        if auth_safe["content_type"].native != "data":
            raise Pkcs12Error("the file is signed with a public key (not a password-protected keystore)")
        safe_bytes = auth_safe["content"].native
        contents = pkcs12.AuthenticatedSafe.load(safe_bytes, strict=True)
        encrypted_parts = _encrypted_parts(contents)
        mac_data = pfx["mac_data"]
    except Pkcs12Error:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
        raise Pkcs12Error("not a PKCS#12 file, or a damaged one") from None

    if mac_data.native is not None and not _mac_matches(mac_data, safe_bytes, password):
        if any(_opens(part, password) for part in encrypted_parts):
            raise Pkcs12Error("the file is damaged: its integrity check (MAC) fails although the password is right")
        raise Pkcs12PasswordError("the keystore password is wrong")
    try:
        bags = [bag for info in contents for bag in _bags_of(info, password)]
        return _entries(bags, password)
    except _BadDecryption:
        if mac_data.native is None:  # nothing told us before: a wrong password looks like this
            raise Pkcs12PasswordError("the keystore password is wrong (or the file is damaged)") from None
        raise Pkcs12Error("the file is damaged: an encrypted part does not decrypt") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
        raise Pkcs12Error("the file is damaged: a part does not parse") from None


# -- integrity --------------------------------------------------------------------------------------


def _mac_matches(mac_data: Any, content: bytes, password: str) -> bool:
    try:
        digest = mac_data["mac"]["digest_algorithm"]["algorithm"].native
        salt = mac_data["mac_salt"].native
        iterations = _iterations(mac_data["iterations"].native)
        expected = mac_data["mac"]["digest"].native
    except (ValueError, TypeError, KeyError):
        raise Pkcs12Error("the file's MAC is damaged") from None
    if digest not in _HASHES:
        raise Pkcs12Error(f"unsupported MAC digest: {digest}")
    name = _HASHLIB_NAMES.get(digest, digest)
    key = pkcs12_kdf(name, password, salt, 3, iterations, hashlib.new(name).digest_size)
    return hmac.compare_digest(hmac.new(key, content, name).digest(), expected)


def _encrypted_parts(contents: Any) -> list[tuple[Any, bytes]]:
    """(algorithm, ciphertext) of every encrypted piece, to probe a password against."""
    parts = []
    for info in contents:
        kind = info["content_type"].native
        if kind == "encrypted_data":
            encrypted = info["content"]["encrypted_content_info"]
            parts.append((encrypted["content_encryption_algorithm"], encrypted["encrypted_content"].native))
        elif kind == "data":
            for bag in pkcs12.SafeContents.load(info["content"].native):
                if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
                    value = bag["bag_value"]
                    parts.append((value["encryption_algorithm"], value["encrypted_data"].native))
    return parts


def _opens(part: tuple[Any, bytes], password: str) -> bool:
    algorithm, ciphertext = part
    try:
        plain = decrypt(algorithm, ciphertext, password)
        core.Sequence.load(plain, strict=True)
    except (_BadDecryption, Pkcs12Error, ValueError, TypeError):
        return False
    return True


# -- bags -----------------------------------------------------------------------------------------------


@dataclass
class _Bag:
    kind: str
    value: Any
    friendly_name: str | None
    local_key_id: bytes | None
    trusted: bool


def _bags_of(info: Any, password: str) -> list[_Bag]:
    kind = info["content_type"].native
    if kind == "data":
        raw = info["content"].native
    elif kind == "encrypted_data":
        encrypted = info["content"]["encrypted_content_info"]
        if encrypted["encrypted_content"].native is None:
            raise Pkcs12Error("an encrypted part has no content")
        raw = decrypt(encrypted["content_encryption_algorithm"], encrypted["encrypted_content"].native, password)
    else:
        raise Pkcs12Error(f"unsupported part of the file: {kind}")
    return [_bag(bag) for bag in pkcs12.SafeContents.load(raw, strict=True)]


def _bag(bag: Any) -> _Bag:
    friendly_name = local_key_id = None
    trusted = False
    for attribute in bag["bag_attributes"]:
        name = attribute["type"].native
        values = attribute["values"]
        if name == "friendly_name" and len(values):
            friendly_name = values[0].native
        elif name == "local_key_id" and len(values):
            local_key_id = values[0].native
        elif name == "trusted_key_usage":
            trusted = True
    return _Bag(bag["bag_id"].native, bag["bag_value"], friendly_name, local_key_id, trusted)


def _entries(bags: list[_Bag], password: str) -> list[Entry]:
    certificates = [bag for bag in bags if bag.kind == "cert_bag"]
    parsed = {id(bag): _certificate(bag) for bag in certificates}
    entries: list[Entry] = []
    for number, bag in enumerate(bags, start=1):
        alias = bag.friendly_name
        if bag.kind in ("pkcs8_shrouded_key_bag", "key_bag"):
            pkcs8 = _private_key(bag, password)
            if alias is None:
                entries.append(UnusableEntry(f"(key #{number} without a name)", "a private key without an alias"))
                continue
            leaf = next((c for c in certificates if bag.local_key_id is not None
                         and c.local_key_id == bag.local_key_id), None)
            if leaf is None:
                entries.append(UnusableEntry(alias, "a private key without its certificate"))
                continue
            chain = _chain(parsed[id(leaf)], [parsed[id(c)] for c in certificates])
            entries.append(PrivateKeyEntry(alias, pkcs8, tuple(c.dump() for c in chain)))
        elif bag.kind == "secret_bag":
            entries.append(_secret(bag, password, alias or f"(secret #{number} without a name)"))
        elif bag.kind == "cert_bag":
            if bag.trusted:  # a trusted-certificate entry; other certificates belong to a key's chain
                entries.append(TrustedCertificateEntry(alias or f"(certificate #{number})", parsed[id(bag)].dump()))
        else:
            entries.append(UnusableEntry(alias or f"(item #{number})", f"an unsupported item ({bag.kind})"))
    names = [entry.alias for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise Pkcs12Error(f"several entries share the alias {duplicates[0]}")
    return sorted(entries, key=lambda entry: entry.alias)


def _certificate(bag: _Bag) -> x509.Certificate:
    if bag.value["cert_id"].native != "x509":
        raise Pkcs12Error("a certificate of an unsupported type")
    certificate = bag.value["cert_value"].parsed
    certificate.dump()  # parses it fully now (a damaged one fails here, not later)
    return certificate


def _chain(leaf: x509.Certificate, pool: list[x509.Certificate]) -> list[x509.Certificate]:
    """The leaf, then its issuers found among the file's certificates (as the JDK builds it)."""
    chain = [leaf]
    while len(chain) < 10 and chain[-1].subject != chain[-1].issuer:
        issuer = next((c for c in pool if c.subject == chain[-1].issuer and c not in chain), None)
        if issuer is None:
            break
        chain.append(issuer)
    return chain


def _private_key(bag: _Bag, password: str) -> bytes:
    if bag.kind == "key_bag":
        return bag.value.untag().dump(force=True)
    plain = decrypt(bag.value["encryption_algorithm"], bag.value["encrypted_data"].native, password)
    try:
        keys.PrivateKeyInfo.load(plain, strict=True)
    except ValueError:
        raise _BadDecryption() from None
    return plain


def _secret(bag: _Bag, password: str, alias: str) -> Entry:
    secret_type = bag.value["secret_type_id"].native
    if secret_type not in ("1.2.840.113549.1.12.10.1.2", "pkcs8_shrouded_key_bag"):
        return UnusableEntry(alias, f"a secret of an unsupported type ({secret_type})")
    shrouded = keys.EncryptedPrivateKeyInfo.load(bag.value["secret_value"].native)
    plain = decrypt(shrouded["encryption_algorithm"], shrouded["encrypted_data"].native, password)
    try:
        info = _SecretKeyInfo.load(plain, strict=True)
        oid = info["algorithm"]["algorithm"].dotted
        key = info["key"].native
    except ValueError:
        raise _BadDecryption() from None
    if oid == _AES_ARC or oid.startswith(_AES_ARC + "."):
        return SecretKeyEntry(alias, "AES", key)
    return SecretKeyEntry(alias, _SECRET_ALGORITHM_NAMES.get(oid, oid), key)


# -- password-based decryption ------------------------------------------------------------------------


def decrypt(algorithm: Any, ciphertext: bytes, password: str) -> bytes:
    """Decrypt with a PBES2 or PKCS#12 PBE ``algorithm`` (asn1crypto EncryptionAlgorithm) and
    remove the padding; _BadDecryption when the padding is wrong (wrong password, damage)."""
    try:
        scheme = algorithm["algorithm"].native
        if scheme == "pbes2":
            run = _pbes2(algorithm, password)
        elif scheme in _PKCS12_PBE:
            run = _pkcs12_pbe(algorithm, scheme, password)
        else:
            raise Pkcs12Error(f"unsupported encryption: {scheme}")
    except (ValueError, KeyError, TypeError):
        raise Pkcs12Error("unreadable encryption parameters") from None
    if not ciphertext or len(ciphertext) % 8:
        raise _BadDecryption()
    padded = run(ciphertext)
    pad = padded[-1]
    block = 16 if scheme == "pbes2" and algorithm.encryption_cipher == "aes" else 8
    if not 1 <= pad <= block or padded[-pad:] != bytes([pad]) * pad:
        raise _BadDecryption()
    return padded[:-pad]


def _pbes2(algorithm: Any, password: str) -> Callable[[bytes], bytes]:
    if algorithm.kdf != "pbkdf2":
        raise Pkcs12Error(f"unsupported key derivation: {algorithm.kdf}")
    prf = algorithm.kdf_hmac
    if prf not in _HASHES:
        raise Pkcs12Error(f"unsupported PBKDF2 hash: {prf}")
    cipher_name = algorithm.encryption_cipher
    if cipher_name not in ("aes", "tripledes"):
        raise Pkcs12Error(f"unsupported cipher: {cipher_name}")
    if algorithm.encryption_mode != "cbc":
        raise Pkcs12Error(f"unsupported cipher mode: {algorithm.encryption_mode}")
    key_length = algorithm.key_length
    iv = algorithm.encryption_iv
    key = hashlib.pbkdf2_hmac(_HASHLIB_NAMES.get(prf, prf), password.encode("utf-8"), algorithm.kdf_salt,
                              _iterations(algorithm.kdf_iterations), key_length)
    block_cipher = algorithms.AES(key) if cipher_name == "aes" else TripleDES(key)
    return lambda data: _cbc(block_cipher, iv, data)


#: PKCS#12 PBE scheme -> (cipher, key bytes, RC2 effective bits)
_PKCS12_PBE = {
    "pkcs12_sha1_tripledes_3key": ("tripledes", 24, 0),
    "pkcs12_sha1_tripledes_2key": ("tripledes", 16, 0),
    "pkcs12_sha1_rc2_128": ("rc2", 16, 128),
    "pkcs12_sha1_rc2_40": ("rc2", 5, 40),
}


def _pkcs12_pbe(algorithm: Any, scheme: str, password: str) -> Callable[[bytes], bytes]:
    cipher_name, key_length, effective_bits = _PKCS12_PBE[scheme]
    parameters = algorithm["parameters"]
    salt, iterations = parameters["salt"].native, _iterations(parameters["iterations"].native)
    key = pkcs12_kdf("sha1", password, salt, 1, iterations, key_length)
    iv = pkcs12_kdf("sha1", password, salt, 2, iterations, 8)
    if cipher_name == "rc2":
        return lambda data: rc2.decrypt_cbc(key, effective_bits, iv, data)
    return lambda data: _cbc(TripleDES(key if key_length == 24 else key + key[:8]), iv, data)


def _cbc(block_cipher: Any, iv: bytes, data: bytes) -> bytes:
    if len(data) % (block_cipher.block_size // 8):
        raise _BadDecryption()
    decryptor = Cipher(block_cipher, modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def _iterations(count: Any) -> int:
    if not isinstance(count, int) or not 1 <= count <= MAX_ITERATIONS:
        raise Pkcs12Error(f"iteration count out of range (1..{MAX_ITERATIONS})")
    return count


def pkcs12_kdf(hash_name: str, password: str, salt: bytes, purpose: int, iterations: int, length: int) -> bytes:
    """RFC 7292 appendix B.2: ``purpose`` 1 = key, 2 = IV, 3 = MAC key; the password is a
    BMPString with its two-byte terminator (the JDK's and OpenSSL's encoding)."""
    digest_size = hashlib.new(hash_name).digest_size
    block = hashlib.new(hash_name).block_size
    secret = password.encode("utf-16-be") + b"\0\0"

    def stretch(value: bytes) -> bytes:
        if not value:
            return b""
        size = block * ((len(value) + block - 1) // block)
        return (value * (size // len(value) + 1))[:size]

    diversifier = bytes([purpose]) * block
    state = bytearray(stretch(salt) + stretch(secret))
    out = b""
    while len(out) < length:
        a = hashlib.new(hash_name, diversifier + bytes(state)).digest()
        for _ in range(iterations - 1):
            a = hashlib.new(hash_name, a).digest()
        out += a
        b = int.from_bytes((a * (block // digest_size + 1))[:block], "big") + 1
        for offset in range(0, len(state), block):
            chunk = (int.from_bytes(state[offset:offset + block], "big") + b) % (1 << (8 * block))
            state[offset:offset + block] = chunk.to_bytes(block, "big")
    return out[:length]


__all__ = [
    "Entry",
    "Pkcs12Error",
    "Pkcs12PasswordError",
    "PrivateKeyEntry",
    "SecretKeyEntry",
    "TrustedCertificateEntry",
    "UnusableEntry",
    "read_keystore",
]
