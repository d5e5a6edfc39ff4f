"""application/crypto/pkcs12_file.py on PKCS#12 files written by OpenSSL (through cryptography):
every entry with its alias, the JDK's and the legacy encryption schemes, trusted certificates,
and the refusals (wrong password told apart from a damaged file). The JDK's own files, secret-key
entries included, are read in tests/integration/test_keystore_import.py."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import core
from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from application.crypto import pkcs12_file
from application.crypto.pkcs12_file import (
    Pkcs12Error,
    Pkcs12PasswordError,
    PrivateKeyEntry,
    TrustedCertificateEntry,
    UnusableEntry,
    read_keystore,
)

PASSWORD = "keystore pass"
ALIAS = "5b0d1e5c-8c3a-4a8e-9d3e-2f1a6c7b8d90"


def certificate(key, subject: str, issuer_key=None, issuer: str | None = None) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer or subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(issuer_key or key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def pair(rsa_key_pool):
    root_key, key = rsa_key_pool.source()(), rsa_key_pool.source()()
    root = certificate(root_key, "ROOT")
    return key, certificate(key, "REGISTRATION", root_key, "ROOT"), root


def pkcs8(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def legacy(password: str, mac=hashes.SHA1()) -> serialization.KeySerializationEncryption:
    return (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(mac).build(password.encode()))


def modern(password: str, mac=hashes.SHA256()) -> serialization.KeySerializationEncryption:
    return (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(mac).build(password.encode()))


@pytest.mark.parametrize("encryption", [modern(PASSWORD), modern(PASSWORD, hashes.SHA512()), legacy(PASSWORD),
                                        serialization.BestAvailableEncryption(PASSWORD.encode())],
                         ids=["pbes2-aes256-sha256mac", "pbes2-sha512mac", "3des-sha1mac", "best-available"])
def test_key_pair_with_its_chain(pair, encryption) -> None:
    key, leaf, root = pair
    data = pkcs12.serialize_key_and_certificates(ALIAS.encode(), key, leaf, [root], encryption)
    (entry,) = read_keystore(data, PASSWORD)
    assert isinstance(entry, PrivateKeyEntry)
    assert entry.alias == ALIAS
    assert entry.private_key_pkcs8 == pkcs8(key)
    assert entry.certificates == (der(leaf), der(root))  # leaf first, then its issuer (as the JDK loads it)
    assert "private_key_pkcs8" not in repr(entry)


def test_ec_key_and_unencrypted_file() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    data = pkcs12.serialize_key_and_certificates(b"ec", key, certificate(key, "EC"), None,
                                                 serialization.NoEncryption())
    (entry,) = read_keystore(data, "")  # no encryption; the MAC is keyed with the empty password
    assert isinstance(entry, PrivateKeyEntry) and entry.private_key_pkcs8 == pkcs8(key)


def test_trusted_certificates(pair) -> None:
    _, leaf, root = pair
    data = pkcs12.serialize_java_truststore(
        [pkcs12.PKCS12Certificate(root, b"root-ca"), pkcs12.PKCS12Certificate(leaf, b"module")], modern(PASSWORD))
    assert read_keystore(data, PASSWORD) == [TrustedCertificateEntry("module", der(leaf)),
                                             TrustedCertificateEntry("root-ca", der(root))]


def test_a_key_without_certificate_is_reported(pair) -> None:
    data = pkcs12.serialize_key_and_certificates(ALIAS.encode(), pair[0], None, None, modern(PASSWORD))
    assert read_keystore(data, PASSWORD) == [UnusableEntry(ALIAS, "a private key without its certificate")]


def test_two_entries_with_one_alias_are_refused(pair) -> None:
    _, leaf, root = pair
    data = pkcs12.serialize_java_truststore(
        [pkcs12.PKCS12Certificate(root, b"same"), pkcs12.PKCS12Certificate(leaf, b"same")], modern(PASSWORD))
    with pytest.raises(Pkcs12Error, match="several entries share the alias same"):
        read_keystore(data, PASSWORD)


@pytest.mark.parametrize("encryption", [modern(PASSWORD), legacy(PASSWORD)], ids=["pbes2", "legacy"])
def test_wrong_password(pair, encryption) -> None:
    data = pkcs12.serialize_key_and_certificates(ALIAS.encode(), pair[0], pair[1], None, encryption)
    with pytest.raises(Pkcs12PasswordError, match="password is wrong"):
        read_keystore(data, PASSWORD + "x")


def test_a_damaged_file_is_not_called_a_wrong_password(pair) -> None:
    data = pkcs12.serialize_key_and_certificates(ALIAS.encode(), pair[0], pair[1], None, modern(PASSWORD))
    pfx = asn1_pkcs12.Pfx.load(data)
    digest = bytearray(pfx["mac_data"]["mac"]["digest"].native)
    digest[0] ^= 1
    pfx["mac_data"]["mac"]["digest"] = core.OctetString(bytes(digest))
    with pytest.raises(Pkcs12Error, match="damaged.*password is right") as raised:
        read_keystore(pfx.dump(force=True), PASSWORD)
    assert not isinstance(raised.value, Pkcs12PasswordError)


@pytest.mark.parametrize("damage", ["truncated", "not der", "empty", "flipped"])
def test_unreadable_files(pair, damage: str) -> None:
    data = pkcs12.serialize_key_and_certificates(ALIAS.encode(), pair[0], pair[1], None, modern(PASSWORD))
    damaged = {"truncated": data[: len(data) // 2], "not der": b"PK\x03\x04 a zip file", "empty": b"",
               "flipped": data[:40] + bytes([data[40] ^ 0xFF]) + data[41:]}[damage]
    with pytest.raises(Pkcs12Error) as raised:
        read_keystore(damaged, PASSWORD)
    assert not isinstance(raised.value, Pkcs12PasswordError) or damage == "flipped"


def test_iteration_counts_are_bounded(pair, monkeypatch) -> None:
    data = pkcs12.serialize_key_and_certificates(ALIAS.encode(), pair[0], pair[1], None, modern(PASSWORD))
    monkeypatch.setattr(pkcs12_file, "MAX_ITERATIONS", 2047)
    with pytest.raises(Pkcs12Error, match="iteration count"):
        read_keystore(data, PASSWORD)


def test_pkcs12_kdf_rfc_7292_layout() -> None:
    """The appendix-B derivation against a value computed by OpenSSL's PKCS12_key_gen_uni (the MAC
    key of a PKCS#12 file OpenSSL wrote is what the MAC tests above check end to end; this pins the
    function on its own)."""
    key = pkcs12_file.pkcs12_kdf("sha1", "smeg", bytes.fromhex("0a58cf64530d823f"), 1, 1, 24)
    assert key.hex() == "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3"
