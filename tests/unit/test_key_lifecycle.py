"""The key lifecycle through the use cases, on the in-memory adapters with a
controllable clock: creation, pre-expiry rotation, revocation, master rotation,
master-key generation, encryption/decryption and other-domain certificates.

Everything is asserted on observable state: use-case results, certificates,
and the rows the unit of work reads back.
"""
from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from adapters.clock import ManualClock
from application.crypto.x509 import Subject
from application.use_cases.cryptomanager.decrypt_data import DecryptCommand
from application.use_cases.cryptomanager.encrypt_data import EncryptCommand
from application.use_cases.keymanager.generate_master_key import GenerateMasterKeyCommand
from application.use_cases.keymanager.get_all_certificates import GetAllCertificatesCommand
from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from application.use_cases.keymanager.revoke_key import RevokeKeyCommand
from application.use_cases.keymanager.upload_other_domain_certificate import UploadOtherDomainCertificateCommand
from domain import envelope
from domain.codec import b64url_decode
from domain.errors import KeyManagerError
from domain.identifiers import key_id, thumbprint, thumbprint_hex
from domain.keys import KeyAlias, KeyPolicy, KeyTuple
from entrypoints.containers import Container
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.repo import START

APP = "REGISTRATION"
REF = "10001_110011"
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
#: REGISTRATION policy validity, BASE pre-expiry window, REGISTRATION pre-expiry window.
VALIDITY = timedelta(days=1095)
BASE_PRE_EXPIRE = timedelta(days=30)
MASTER_PRE_EXPIRE = timedelta(days=60)
MINUTE = timedelta(minutes=1)


# -- helpers -------------------------------------------------------------------------------------


def get_cert(container: Container, app: str, ref: str = "") -> x509.Certificate:
    result = container.get_certificate().execute(GetCertificateCommand(app, ref))
    assert result.certificate_pem is not None
    return x509.load_pem_x509_certificate(result.certificate_pem.encode("ascii"))


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def encrypt(container: Container, data: bytes, app: str = APP, ref: str = REF, **extra: bytes) -> bytes:
    return container.encrypt_data().execute(EncryptCommand(app, ref, data, **extra)).data


def decrypt(container: Container, wire: bytes, app: str = APP, ref: str = REF, **extra) -> bytes:
    return container.decrypt_data().execute(DecryptCommand(app, ref, wire, **extra)).data


def aliases(container: Container, app: str, ref: str = "") -> list[KeyAlias]:
    with container.uow_factory()() as uow:
        return uow.keys.aliases_for(KeyTuple(app, ref))


def stored_key(container: Container, alias: str):
    with container.uow_factory()() as uow:
        return uow.keys.stored_key(alias)


def save_policy(container: Container, policy: KeyPolicy) -> None:
    with container.uow_factory()() as uow:
        uow.keys.save_policy(policy)
        uow.commit()


def add_alias(container: Container, alias: KeyAlias) -> None:
    with container.uow_factory()() as uow:
        uow.keys.add_alias(alias)
        uow.commit()


def current(container: Container, app: str, ref: str = "") -> list[KeyAlias]:
    hierarchy = container.hierarchy()
    with container.uow_factory()() as uow:
        _, now_current = hierarchy.aliases(uow.keys, KeyTuple(app, ref), hierarchy.clock.now())
        return now_current


def expect_error(code: str, call, *args, **kwargs) -> KeyManagerError:
    with pytest.raises(KeyManagerError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value.message}"
    return info.value


def self_signed(
    common_name: str = "ida.partner.example",
    not_before: datetime = START - timedelta(days=1),
    not_after: datetime = START + timedelta(days=365),
) -> tuple[rsa.RSAPrivateKey, x509.Certificate, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return key, certificate, certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def upload(container: Container, app: str, ref: str, pem: str):
    return container.upload_other_domain_certificate().execute(UploadOtherDomainCertificateCommand(app, ref, pem))


def open_envelope(private_key: rsa.RSAPrivateKey, wire: bytes) -> bytes:
    """What a holder of the certificate's private key does with /encrypt output (VER_R2)."""
    parts = envelope.split(wire)
    assert parts.has_version_header and parts.thumbprint is not None
    session_key = private_key.decrypt(parts.encrypted_key, OAEP)
    aad, nonce, sealed = parts.encrypted_data[:32], parts.encrypted_data[:12], parts.encrypted_data[32:]
    return AESGCM(session_key).decrypt(nonce, sealed, aad)


def seal_ver_r2(certificate: x509.Certificate, data: bytes) -> bytes:
    """Build a VER_R2 envelope ourselves, to any certificate."""
    session_key = AESGCM.generate_key(bit_length=256)
    aad = os.urandom(32)
    sealed = AESGCM(session_key).encrypt(aad[:12], data, aad)
    encrypted_key = certificate.public_key().encrypt(session_key, OAEP)
    return envelope.build(envelope.Variant.VER_R2, thumbprint(der(certificate)), encrypted_key, aad + sealed)


def seal_legacy(certificate: x509.Certificate, data: bytes, aad: bytes | None = None) -> bytes:
    """1.1.3 layout: bare RSA block ‖ #KEY_SPLITTER# ‖ ct ‖ tag ‖ iv16 (no thumbprint)."""
    session_key = AESGCM.generate_key(bit_length=256)
    iv = os.urandom(16)
    sealed = AESGCM(session_key).encrypt(iv, data, aad)
    encrypted_key = certificate.public_key().encrypt(session_key, OAEP)
    assert len(encrypted_key) == 256
    return encrypted_key + b"#KEY_SPLITTER#" + sealed + iv


def fresh_container(make_container, memory_settings: Settings, clock: ManualClock, *policies: KeyPolicy) -> Container:
    """A new in-memory container; ``policies`` are saved before any key is made."""
    built = make_container(memory_settings, clock)
    for policy in policies:
        save_policy(built, policy)
    init_master_keys(built)
    return built


# -- first use of a base key ---------------------------------------------------------------------


def test_first_get_certificate_creates_a_base_key_issued_by_the_master(container: Container) -> None:
    assert aliases(container, APP, REF) == []
    master = get_cert(container, APP)

    first = get_cert(container, APP, REF)

    rows = aliases(container, APP, REF)
    assert len(rows) == 1
    row = rows[0]
    assert row.generated_at == START and row.expires_at == START + VALIDITY
    assert row.thumbprint == thumbprint_hex(der(first))
    assert len(row.uni_ident or "") == 40
    first.verify_directly_issued_by(master)
    assert first.issuer == master.subject

    def rdn(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
        return [a.value for a in cert.subject.get_attributes_for_oid(oid)]

    assert rdn(first, NameOID.COMMON_NAME) == ["REGISTRATION-10001_110011"]
    for oid in (
        NameOID.ORGANIZATIONAL_UNIT_NAME,
        NameOID.ORGANIZATION_NAME,
        NameOID.LOCALITY_NAME,
        NameOID.STATE_OR_PROVINCE_NAME,
        NameOID.COUNTRY_NAME,
    ):
        assert rdn(first, oid) == rdn(master, oid) != []

    usage = first.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_encipherment
    assert not usage.value.digital_signature and not usage.value.key_cert_sign
    assert first.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert first.not_valid_before_utc == START and first.not_valid_after_utc == START + VALIDITY

    stored = stored_key(container, row.alias)
    assert stored is not None
    assert stored.private_key != "NA" and not stored.is_other_domain
    assert stored.master_alias == aliases(container, APP)[0].alias
    encrypted_key, sealed = envelope.unwrap_blob(b64url_decode(stored.private_key))
    assert len(encrypted_key) == 256 and len(sealed) > 1000
    with pytest.raises(ValueError):
        serialization.load_der_private_key(b64url_decode(stored.private_key), password=None)
    unwrapped = container.hierarchy().unwrap_private_key(stored)
    assert unwrapped.public_key().public_numbers() == first.public_key().public_numbers()


def test_second_get_certificate_returns_the_same_certificate(container: Container, clock: ManualClock) -> None:
    first = get_cert(container, APP, REF)
    clock.advance(timedelta(days=10))
    second = get_cert(container, APP, REF)
    assert der(second) == der(first)
    assert len(aliases(container, APP, REF)) == 1


# -- rotation, revocation ------------------------------------------------------------------------


def test_base_key_rotates_thirty_days_before_expiry_and_old_data_still_decrypts(
    container: Container, clock: ManualClock
) -> None:
    first = get_cert(container, APP, REF)
    old_data = encrypt(container, b"before rotation")
    rotation = START + VALIDITY - BASE_PRE_EXPIRE

    clock.set(rotation - MINUTE)
    assert der(get_cert(container, APP, REF)) == der(first)

    clock.set(rotation + MINUTE)
    second = get_cert(container, APP, REF)
    assert der(second) != der(first)
    rows = aliases(container, APP, REF)
    assert len(rows) == 2
    assert rows[1].generated_at == rotation + MINUTE
    assert rows[0].expires_at == START + VALIDITY  # rotation does not shorten the old key
    assert [r.alias for r in current(container, APP, REF)] == [rows[1].alias]

    assert decrypt(container, old_data) == b"before rotation"
    new_data = encrypt(container, b"after rotation")
    assert envelope.split(new_data).thumbprint == thumbprint(der(second))
    assert decrypt(container, new_data) == b"after rotation"


def test_revocation_makes_a_new_key_on_next_use_and_old_data_still_decrypts(
    container: Container, clock: ManualClock
) -> None:
    first = get_cert(container, APP, REF)
    old_data = encrypt(container, b"pre-revocation packet")
    clock.advance(timedelta(hours=1))

    result = container.revoke_key().execute(RevokeKeyCommand(APP, REF))
    assert result.status == "Key Revoked"
    assert aliases(container, APP, REF)[0].expires_at == clock.now() - MINUTE
    assert current(container, APP, REF) == []

    clock.advance(timedelta(minutes=5))
    second = get_cert(container, APP, REF)
    assert der(second) != der(first)
    assert decrypt(container, old_data) == b"pre-revocation packet"
    assert decrypt(container, encrypt(container, b"new")) == b"new"


def test_two_revocations_and_regenerations_on_the_same_day(container: Container, clock: ManualClock) -> None:
    certificates = [get_cert(container, APP, REF)]
    packets = [encrypt(container, b"packet-0")]
    for round_number in (1, 2):
        clock.advance(timedelta(minutes=10))
        container.revoke_key().execute(RevokeKeyCommand(APP, REF))
        clock.advance(timedelta(minutes=10))
        certificates.append(get_cert(container, APP, REF))
        packets.append(encrypt(container, f"packet-{round_number}".encode()))
    assert clock.now().date() == START.date()

    rows = aliases(container, APP, REF)
    assert len(rows) == 3
    assert len({r.uni_ident for r in rows}) == 3
    assert len({der(c) for c in certificates}) == 3
    assert [r.alias for r in current(container, APP, REF)] == [rows[2].alias]
    for number, packet in enumerate(packets):
        assert decrypt(container, packet) == f"packet-{number}".encode()


def test_revocation_in_the_instant_of_creation_still_revokes(container: Container) -> None:
    # Clock not moved: the key's generation time equals "now" at revocation.
    first = get_cert(container, APP, REF)
    container.revoke_key().execute(RevokeKeyCommand(APP, REF))
    assert current(container, APP, REF) == []
    assert der(get_cert(container, APP, REF)) != der(first)


def test_force_in_the_instant_of_creation_leaves_one_current_key(container: Container) -> None:
    # The fixture made the master at START and the clock has not moved.
    container.generate_master_key().execute(GenerateMasterKeyCommand(APP, force=True))
    assert len(current(container, APP)) == 1
    get_cert(container, APP)


def test_a_caller_that_waited_for_the_lock_sees_the_key_made_meanwhile(
    container: Container, clock: ManualClock
) -> None:
    """A request reads the clock, then waits for the tuple lock while another makes
    the key a moment later: it must return that key, not make a second one."""
    results: dict[str, bytes] = {}
    errors: list[BaseException] = []

    def waiting_request() -> None:
        try:
            results["waiter"] = der(get_cert(container, APP, REF))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    with container.uow_factory()() as holder:
        holder.lock(KeyTuple(APP, REF))
        waiter = threading.Thread(target=waiting_request)
        waiter.start()
        time.sleep(0.3)  # the waiter has read the clock and blocks on the lock
        clock.advance(MINUTE)
        results["first"] = der(get_cert(container, APP, REF))  # same thread: the lock is re-entrant
    waiter.join(timeout=30)

    assert not errors, errors
    assert results["waiter"] == results["first"]
    assert len(aliases(container, APP, REF)) == 1
    assert len(current(container, APP, REF)) == 1


def test_revoking_without_a_current_key_is_refused(container: Container) -> None:
    expect_error("KER-KMS-003", container.revoke_key().execute, RevokeKeyCommand(APP, "never-made"))
    expect_error("KER-KMS-021", container.revoke_key().execute, RevokeKeyCommand("KERNEL", "SIGN"))
    expect_error("KER-KMS-005", container.revoke_key().execute, RevokeKeyCommand(APP, ""))


def test_master_rotates_when_a_base_key_is_made_in_its_pre_expiry_window(
    container: Container, clock: ManualClock
) -> None:
    root = get_cert(container, "ROOT")
    old_master = get_cert(container, APP)
    old_base = get_cert(container, APP, REF)
    old_packet = encrypt(container, b"under the old master")
    old_master_alias = aliases(container, APP)[0].alias

    clock.set(START + VALIDITY - MASTER_PRE_EXPIRE + MINUTE)
    # The existing base key is still current (its window is 30 days): no rotation yet.
    assert der(get_cert(container, APP, REF)) == der(old_base)
    assert len(aliases(container, APP)) == 1

    new_base = get_cert(container, APP, "NEW_REF")

    masters = aliases(container, APP)
    assert len(masters) == 2 and masters[0].alias == old_master_alias
    new_master_alias = masters[1].alias
    assert [a.alias for a in current(container, APP)] == [new_master_alias]
    new_master = get_cert(container, APP)
    assert der(new_master) != der(old_master)
    new_master.verify_directly_issued_by(root)
    new_base.verify_directly_issued_by(new_master)
    with pytest.raises(Exception):
        new_base.verify_directly_issued_by(old_master)
    assert stored_key(container, aliases(container, APP, "NEW_REF")[0].alias).master_alias == new_master_alias
    # Keys wrapped by the old master keep working.
    assert decrypt(container, old_packet) == b"under the old master"


# -- generateMasterKey ---------------------------------------------------------------------------


def test_generate_master_key_without_force_is_idempotent(container: Container, clock: ManualClock) -> None:
    before = get_cert(container, APP)
    clock.advance(timedelta(days=1))
    result = container.generate_master_key().execute(GenerateMasterKeyCommand(APP))
    assert result.certificate_pem is not None and not result.created
    assert der(x509.load_pem_x509_certificate(result.certificate_pem.encode())) == der(before)
    assert len(aliases(container, APP)) == 1


def test_generate_master_key_with_force_expires_the_current_key(container: Container, clock: ManualClock) -> None:
    before = get_cert(container, APP)
    old_alias = aliases(container, APP)[0]
    clock.advance(timedelta(hours=2))
    now = clock.now()

    result = container.generate_master_key().execute(GenerateMasterKeyCommand(APP, force=True))

    assert result.created
    new = x509.load_pem_x509_certificate(result.certificate_pem.encode())
    assert der(new) != der(before)
    rows = aliases(container, APP)
    assert len(rows) == 2
    assert rows[0].alias == old_alias.alias
    assert rows[0].expires_at == now - MINUTE
    assert (rows[0].thumbprint, rows[0].uni_ident) == (old_alias.thumbprint, old_alias.uni_ident)
    assert rows[1].uni_ident != rows[0].uni_ident  # same day, still unique
    assert [a.alias for a in current(container, APP)] == [rows[1].alias]
    assert der(get_cert(container, APP)) == der(new)
    new.verify_directly_issued_by(get_cert(container, "ROOT"))


def test_generate_master_key_csr_is_signed_by_the_key_with_the_subject(container: Container) -> None:
    master = get_cert(container, APP)
    row = aliases(container, APP)[0]
    command = GenerateMasterKeyCommand(
        APP, object_type="csr", subject=Subject(common_name="Registration CA", organization="Example Org")
    )

    result = container.generate_master_key().execute(command)

    assert result.certificate_pem is None and result.csr_pem is not None
    csr = x509.load_pem_x509_csr(result.csr_pem.encode())
    assert csr.is_signature_valid
    assert csr.public_key().public_numbers() == master.public_key().public_numbers()

    def attribute(oid: x509.ObjectIdentifier) -> str:
        return csr.subject.get_attributes_for_oid(oid)[0].value

    assert attribute(NameOID.COMMON_NAME) == "Registration CA"
    assert attribute(NameOID.ORGANIZATION_NAME) == "Example Org"
    assert attribute(NameOID.ORGANIZATIONAL_UNIT_NAME) == "MOSIP-TECH-CENTER"  # default fills the rest
    assert attribute(NameOID.COUNTRY_NAME) == "IN"
    assert (result.issued_at, result.expiry_at) == (row.generated_at, row.expires_at)
    assert len(aliases(container, APP)) == 1


def test_generate_master_key_invalid_object_type_generates_nothing(container: Container) -> None:
    keystore_before = container.keystore().aliases()
    expect_error(
        "KER-KMS-009",
        container.generate_master_key().execute,
        GenerateMasterKeyCommand("PMS", object_type="PDF"),
    )
    assert aliases(container, "PMS") == []
    assert container.keystore().aliases() == keystore_before


@pytest.mark.parametrize(
    "app, ref",
    [(APP, "SIGN"), ("KERNEL", "FOO"), ("KERNEL", "IDENTITY_CACHE"), (APP, "EC_SECP256R1_SIGN")],
)
def test_generate_master_key_reference_only_sign_for_kernel(container: Container, app: str, ref: str) -> None:
    expect_error("KER-KMS-010", container.generate_master_key().execute, GenerateMasterKeyCommand(app, ref))
    assert aliases(container, app, ref) == []


def test_generate_master_key_kernel_sign_is_allowed(container: Container) -> None:
    result = container.generate_master_key().execute(GenerateMasterKeyCommand("KERNEL", "SIGN"))
    assert not result.created  # made by the fixture already
    assert len(aliases(container, "KERNEL", "SIGN")) == 1


def test_generate_master_key_for_an_app_without_policy(container: Container) -> None:
    expect_error("KER-KMS-002", container.generate_master_key().execute, GenerateMasterKeyCommand("NO_SUCH_APP"))
    assert aliases(container, "NO_SUCH_APP") == []


def test_module_key_without_root_is_refused(make_container, memory_settings: Settings, clock: ManualClock) -> None:
    bare = make_container(memory_settings, clock)
    expect_error("KER-KMS-011", bare.generate_master_key().execute, GenerateMasterKeyCommand(APP))
    assert aliases(bare, APP) == [] and aliases(bare, "ROOT") == []
    assert bare.keystore().aliases() == []


# -- getCertificate refusals ---------------------------------------------------------------------


def test_get_certificate_for_an_app_whose_master_key_was_never_made(container: Container) -> None:
    expect_error("KER-KMS-012", get_cert, container, "PMS")
    expect_error("KER-KMS-012", get_cert, container, "PMS", "partner-1")
    assert aliases(container, "PMS", "partner-1") == [] and aliases(container, "PMS") == []


@pytest.mark.parametrize("app, words", [("ROOT", "Root Key"), ("KERNEL", "Kernel App Id")])
def test_no_base_keys_for_root_or_kernel(container: Container, app: str, words: str) -> None:
    error = expect_error("KER-KMS-016", get_cert, container, app, "some-ref")
    assert words in error.message
    assert aliases(container, app, "some-ref") == []


def test_base_key_for_an_unknown_app(container: Container) -> None:
    expect_error("KER-KMS-002", get_cert, container, "NO_SUCH_APP", "ref")
    assert aliases(container, "NO_SUCH_APP", "ref") == []


# -- encrypt / decrypt ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "app, ref", [(APP, ""), (APP, "   "), ("KERNEL", "SIGN"), ("KERNEL", "IDENTITY_CACHE"), ("kernel", "sign")]
)
def test_encrypt_refuses_master_keys(container: Container, app: str, ref: str) -> None:
    expect_error("KER-CRY-011", encrypt, container, b"data", app, ref)


def test_decrypt_round_trips_every_variant(container: Container) -> None:
    salt, aad = os.urandom(12), os.urandom(20)
    plain = b"the packet \x00\xff" * 50

    default = encrypt(container, plain)
    assert default.startswith(b"VER_R2")
    assert decrypt(container, default) == plain

    salted = encrypt(container, plain, salt=salt, aad=aad)
    assert not salted.startswith(b"VER_R2")
    assert decrypt(container, salted, salt=salt, aad=aad) == plain
    with pytest.raises(KeyManagerError):
        decrypt(container, salted, salt=salt, aad=os.urandom(20))

    salt_only = encrypt(container, plain, salt=salt)
    assert decrypt(container, salt_only, salt=salt) == plain

    aad_only = encrypt(container, plain, aad=aad)
    assert not aad_only.startswith(b"VER_R2")
    assert decrypt(container, aad_only, aad=aad) == plain
    with pytest.raises(KeyManagerError):
        decrypt(container, aad_only)


def test_data_encrypted_to_the_master_certificate_decrypts(container: Container) -> None:
    get_cert(container, APP, REF)
    wire = seal_ver_r2(get_cert(container, APP), b"sealed to the module key")
    assert decrypt(container, wire, ref="") == b"sealed to the module key"
    assert decrypt(container, wire, ref=REF) == b"sealed to the module key"
    assert decrypt(container, wire, ref="any-other-ref") == b"sealed to the module key"


def test_a_different_app_with_a_valid_thumbprint_is_refused(container: Container) -> None:
    wire = encrypt(container, b"registration packet")
    # Before and after the key is cached for its thumbprint.
    expect_error("KER-KMS-024", decrypt, container, wire, app="REGISTRATION_PROCESSOR")
    assert decrypt(container, wire) == b"registration packet"
    expect_error("KER-KMS-024", decrypt, container, wire, app="REGISTRATION_PROCESSOR")
    expect_error("KER-KMS-024", decrypt, container, wire, app="ID_REPO", ref=REF)


def test_unknown_thumbprint(container: Container) -> None:
    wire = envelope.build(envelope.Variant.VER_R2, os.urandom(32), os.urandom(256), os.urandom(64))
    expect_error("KER-KMS-025", decrypt, container, wire)


def test_tampered_ciphertext(container: Container) -> None:
    wire = bytearray(encrypt(container, b"do not touch"))
    wire[-1] ^= 0x01
    expect_error("KER-FSE-004", decrypt, container, bytes(wire))


def test_legacy_layout_without_thumbprint_tries_the_tuples_keys(container: Container, clock: ManualClock) -> None:
    first = get_cert(container, APP, REF)
    to_first = seal_legacy(first, b"legacy to the first key")
    to_master = seal_legacy(get_cert(container, APP), b"legacy to the master key", aad=b"legacy aad")

    clock.advance(timedelta(hours=1))
    container.revoke_key().execute(RevokeKeyCommand(APP, REF))
    clock.advance(timedelta(hours=1))
    second = get_cert(container, APP, REF)
    to_second = seal_legacy(second, b"legacy to the second key")

    assert decrypt(container, to_first) == b"legacy to the first key"
    assert decrypt(container, to_second) == b"legacy to the second key"
    assert decrypt(container, to_master, aad=b"legacy aad") == b"legacy to the master key"
    assert decrypt(container, to_master, ref="", aad=b"legacy aad") == b"legacy to the master key"
    # A tuple with no keys of its own falls back to the master keys.
    assert decrypt(container, to_master, ref="unknown-ref", aad=b"legacy aad") == b"legacy to the master key"


@pytest.mark.parametrize("access", [None, "", "someone"])
def test_decrypt_refused_by_access_allowed(
    make_container,
    memory_settings: Settings, clock: ManualClock, access: str | None
) -> None:
    built = fresh_container(make_container, memory_settings, clock, KeyPolicy(APP, 1095, 60, access_allowed=access))
    wire = encrypt(built, b"guarded")
    expect_error("KER-CRY-012", decrypt, built, wire)
    expect_error("KER-CRY-012", decrypt, built, wire, caller="somebody-else")


def test_access_allowed_list_matches_the_caller_case_insensitively(
    make_container,
    memory_settings: Settings, clock: ManualClock
) -> None:
    built = fresh_container(
        make_container, memory_settings, clock, KeyPolicy(APP, 1095, 60, access_allowed="regproc, Someone")
    )
    wire = encrypt(built, b"guarded")
    assert decrypt(built, wire, caller="SOMEONE") == b"guarded"
    assert decrypt(built, wire, caller="RegProc") == b"guarded"
    expect_error("KER-CRY-012", decrypt, built, wire, caller="intruder")


def test_changed_access_policy_applies_when_the_policy_cache_is_off(
    make_container,
    memory_settings: Settings, clock: ManualClock
) -> None:
    built = fresh_container(make_container, memory_settings.with_overrides(policy_cache_ttl_seconds=0), clock)
    wire = encrypt(built, b"first allowed")
    assert decrypt(built, wire) == b"first allowed"
    save_policy(built, KeyPolicy(APP, 1095, 60, access_allowed=None))
    expect_error("KER-CRY-012", decrypt, built, wire)


# -- other-domain certificates -------------------------------------------------------------------


def test_other_domain_certificate_is_used_for_encryption(container: Container) -> None:
    private_key, certificate, pem = self_signed()
    assert upload(container, "IDA", "PUBLIC_KEY", pem).status == "Upload Success"

    assert der(get_cert(container, "IDA", "PUBLIC_KEY")) == der(certificate)
    rows = aliases(container, "IDA", "PUBLIC_KEY")
    assert len(rows) == 1
    assert rows[0].generated_at == certificate.not_valid_before_utc
    assert rows[0].expires_at == certificate.not_valid_after_utc
    stored = stored_key(container, rows[0].alias)
    assert stored.private_key == "NA" and stored.master_alias == rows[0].alias

    wire = encrypt(container, b"for the partner", "IDA", "PUBLIC_KEY")
    assert envelope.split(wire).thumbprint == thumbprint(der(certificate))
    assert open_envelope(private_key, wire) == b"for the partner"
    # IDA has no key policy: decryption is refused before any key is looked at.
    expect_error("KER-CRY-012", decrypt, container, wire, "IDA", "PUBLIC_KEY")


def test_decrypting_with_an_other_domain_key_is_refused(container: Container) -> None:
    _, _, pem = self_signed()
    upload(container, "PMS", "partner-1", pem)  # PMS has a policy with access NA
    wire = encrypt(container, b"for the partner", "PMS", "partner-1")
    expect_error("KER-KMS-018", decrypt, container, wire, "PMS", "partner-1")


def test_other_domain_upload_rules(container: Container, clock: ManualClock) -> None:
    _, first, first_pem = self_signed("first")
    upload(container, "IDA", "PUBLIC_KEY", first_pem)
    expect_error("KER-KMS-035", upload, container, "IDA", "PUBLIC_KEY", first_pem)

    clock.advance(timedelta(hours=3))
    second_key, second, second_pem = self_signed("second")
    upload(container, "IDA", "PUBLIC_KEY", second_pem)

    rows = aliases(container, "IDA", "PUBLIC_KEY")
    assert len(rows) == 2
    by_thumbprint = {r.thumbprint: r for r in rows}
    assert by_thumbprint[thumbprint_hex(der(first))].expires_at == clock.now() - MINUTE
    assert [a.thumbprint for a in current(container, "IDA", "PUBLIC_KEY")] == [thumbprint_hex(der(second))]
    assert der(get_cert(container, "IDA", "PUBLIC_KEY")) == der(second)
    wire = encrypt(container, b"to the second", "IDA", "PUBLIC_KEY")
    assert open_envelope(second_key, wire) == b"to the second"


def test_other_domain_upload_refusals(container: Container) -> None:
    _, _, pem = self_signed()
    get_cert(container, APP, REF)
    expect_error("KER-KMS-034", upload, container, APP, REF, pem)
    expect_error("KER-KMS-031", upload, container, "KERNEL", "SIGN", pem)
    expect_error("KER-KMS-031", upload, container, "kernel", "sign", pem)
    for ref in ("EC_SECP256K1_SIGN", "EC_SECP256R1_SIGN", "ED25519_SIGN"):
        expect_error("KER-KMS-030", upload, container, "IDA", ref, pem)
    expect_error("KER-KMS-013", upload, container, "IDA", "PUBLIC_KEY", "not a certificate")
    broken = "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n"
    expect_error("KER-KMS-013", upload, container, "IDA", "PUBLIC_KEY", broken)
    assert aliases(container, "IDA", "PUBLIC_KEY") == []
    assert len(aliases(container, APP, REF)) == 1


def test_upload_when_only_expired_rows_without_key_store_exist(container: Container) -> None:
    # Not reachable through the use cases (every non-master row they write has a
    # key_store row); such rows exist in migrated or hand-edited databases.
    add_alias(
        container,
        KeyAlias("legacy-expired", KeyTuple("IDA", "LEGACY"), START - timedelta(days=400), START - timedelta(days=35),
                 "AB" * 32, "CD" * 20),
    )
    _, _, pem = self_signed()
    expect_error("KER-KMS-032", upload, container, "IDA", "LEGACY", pem)
    assert [a.alias for a in aliases(container, "IDA", "LEGACY")] == ["legacy-expired"]


def test_upload_when_the_current_row_has_no_key_store_row(container: Container) -> None:
    add_alias(
        container,
        KeyAlias("legacy-current", KeyTuple("IDA", "LEGACY"), START - timedelta(days=1), START + timedelta(days=400),
                 "AB" * 32, "CD" * 20),
    )
    _, _, pem = self_signed()
    expect_error("KER-KMS-033", upload, container, "IDA", "LEGACY", pem)


def test_expired_other_domain_certificate_is_not_replaced_by_a_base_key(
    container: Container, clock: ManualClock
) -> None:
    _, _, pem = self_signed(not_after=START + timedelta(days=60))
    upload(container, "PMS", "partner-2", pem)
    get_cert(container, "PMS", "partner-2")
    clock.advance(timedelta(days=31))  # inside the BASE pre-expiry window of the certificate
    error = expect_error("KER-KMS-016", get_cert, container, "PMS", "partner-2")
    assert "other domains" in error.message
    assert len(aliases(container, "PMS", "partner-2")) == 1


# -- getAllCertificates --------------------------------------------------------------------------


def test_get_all_certificates_lists_every_key_oldest_first(container: Container, clock: ManualClock) -> None:
    certificates = [get_cert(container, APP, REF)]
    clock.advance(timedelta(hours=1))
    container.revoke_key().execute(RevokeKeyCommand(APP, REF))
    clock.advance(timedelta(hours=1))
    certificates.append(get_cert(container, APP, REF))
    second_generated = aliases(container, APP, REF)[1].generated_at
    clock.set(second_generated + VALIDITY - BASE_PRE_EXPIRE + MINUTE)
    certificates.append(get_cert(container, APP, REF))
    rows = aliases(container, APP, REF)
    assert len(rows) == 3

    result = container.get_all_certificates().execute(GetAllCertificatesCommand(APP, REF))

    entries = result.certificates
    assert [der(x509.load_pem_x509_certificate(e.certificate_pem.encode())) for e in entries] == [
        der(c) for c in certificates
    ]
    assert [(e.issued_at, e.expiry_at) for e in entries] == [(r.generated_at, r.expires_at) for r in rows]
    assert entries[0].expiry_at < clock.now()  # the revoked key is listed too
    assert [e.key_id for e in entries] == [key_id(r.uni_ident) for r in rows]
    assert all(len(e.key_id) == 43 for e in entries)
    assert len(aliases(container, APP, REF)) == 3


def test_get_all_certificates_never_creates_keys(container: Container) -> None:
    assert container.get_all_certificates().execute(GetAllCertificatesCommand(APP, "untouched")).certificates == ()
    assert aliases(container, APP, "untouched") == []
    assert container.get_all_certificates().execute(GetAllCertificatesCommand("PMS")).certificates == ()
    assert aliases(container, "PMS") == []


def test_get_all_certificates_of_master_keys(container: Container, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=1))
    container.generate_master_key().execute(GenerateMasterKeyCommand(APP, force=True))
    rows = aliases(container, APP)
    entries = container.get_all_certificates().execute(GetAllCertificatesCommand(APP)).certificates
    assert len(entries) == 2
    assert [e.key_id for e in entries] == [key_id(r.uni_ident) for r in rows]
    assert der(x509.load_pem_x509_certificate(entries[1].certificate_pem.encode())) == der(get_cert(container, APP))
