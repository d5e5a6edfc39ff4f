"""Zero-knowledge crypto over HTTP (mosip-api.md §2.6 and §6, mosip-crypto.md §4):
zkEncrypt / zkDecrypt, generateSymmetricKey (the ZK master key), zkReEncryptRandomKey
between an ID-repo side and an IDA side, and the pool's check values against altered rows
and a rotated master key.

The wire checks open what the service produced with `cryptography` and hashlib only
(thumbprint = SHA-256 of the certificate DER, RSA-OAEP-SHA256, DK = AES-ECB(R, SHA-256(id)),
AES-GCM with the value's nonce and aad).
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.keys import KeyAlias, KeyPolicy, KeyTuple
from domain.zk import ZK_MASTER, ZkPoolRow
from entrypoints.cli import run_zk_init
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.http_api import API, OAEP, b64url, b64url_decode, error, ok, post, self_signed

RESIDENT = "4829174650"
RESPONSE_FIELDS = {"zkDataAttributes", "encryptedRandomKey", "rankomKeyIndex"}
B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
B64STD_32 = re.compile(r"^[A-Za-z0-9+/]{43}=$")
POOL = 20
ATTRIBUTES = [
    {"identifier": "fullName", "value": "John Doe"},
    {"identifier": "fullName_ara", "value": "جون دو"},
    {"identifier": "city", "value": "Ålesund — 東京 😀"},
    {"identifier": "middleName", "value": ""},
    {"identifier": "address", "value": "x" * 2000},
    {"identifier": None, "value": '{"json": [1, 2, 3]}'},
]


# -- helpers -------------------------------------------------------------------------------------


class Side:
    """One deployment: its container and Flask app. Each app resolves use cases from its own container
    (routes.py), so two deployments live side by side in one process."""

    def __init__(self, settings, container) -> None:
        self.settings = settings
        self.container = container
        self.app = create_app(settings, container)
        self.client = self.app.test_client()

    def post(self, path: str, request: Any):
        return post(self.client, path, request)

    def raw_post(self, path: str, **kwargs: Any):
        return self.client.post(API + path, **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self.client.get(API + path, **kwargs)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def upload_ida(side: Side, cert: x509.Certificate, ref: str = "PUBLIC_KEY") -> None:
    body = {"applicationId": "IDA", "referenceId": ref, "certificateData": pem(cert)}
    assert ok(side.post("/uploadOtherDomainCertificate", body))["status"] == "Upload Success"


def zk_init(container, size: int = POOL) -> None:
    out = io.StringIO()
    assert run_zk_init(container, size, out=out, progress=lambda done, total: None) == 0, out.getvalue()


def zk_encrypt(side: Side, attributes: list[dict], resident: str = RESIDENT) -> dict:
    response = ok(side.post("/zkEncrypt", {"id": resident, "zkDataAttributes": attributes}))
    assert set(response) == RESPONSE_FIELDS
    return response


def zk_decrypt(side: Side, attributes: list[dict], resident: str = RESIDENT) -> list[dict]:
    response = ok(side.post("/zkDecrypt", {"id": resident, "zkDataAttributes": attributes}))
    assert set(response) == RESPONSE_FIELDS
    assert response["encryptedRandomKey"] is None and response["rankomKeyIndex"] is None
    return response["zkDataAttributes"]


def repack(value: str, *, index: int | None = None, flip_at: int | None = None, cut: int | None = None) -> str:
    raw = bytearray(b64url_decode(value))
    if index is not None:
        raw[:4] = index.to_bytes(4, "big")
    if flip_at is not None:
        raw[flip_at] ^= 0x01
    if cut is not None:
        raw = raw[:cut]
    return b64url(bytes(raw))


def ecb(key: bytes, data: bytes, *, encrypt: bool = True) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.ECB())
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


def open_random_key_part(part: str, cert: x509.Certificate, private_key: rsa.RSAPrivateKey) -> bytes:
    assert B64URL.match(part), part
    raw = b64url_decode(part)
    assert raw[:32] == hashlib.sha256(der(cert)).digest()
    assert len(raw) == 32 + 256  # RSA-2048
    random_key = private_key.decrypt(raw[32:], OAEP)
    assert len(random_key) == 32
    return random_key


def pool_ids(container) -> list[int]:
    with container.uow_factory()() as uow:
        return uow.zk.active_ids()


def current_master(container) -> str:
    with container.uow_factory()() as uow:
        return container.zk_keys().master_aliases(uow)[0]


@pytest.fixture(scope="module")
def ida() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The IDA partner's key pair as seen by an ID-repo deployment: only the certificate is uploaded."""
    return self_signed("ida-public-key")


@pytest.fixture(scope="module")
def ida2() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    return self_signed("ida-public-key-2")


@pytest.fixture
def side(memory_settings, container) -> Side:
    """The ID-repo side, in memory: ROOT etc. made, nothing ZK yet."""
    return Side(memory_settings, container)


@pytest.fixture
def zk_side(side: Side, ida) -> Side:
    """The ID-repo side with the IDA certificate and a pool of POOL keys."""
    upload_ida(side, ida[1])
    zk_init(side.container)
    return side


# -- zkEncrypt / zkDecrypt round trips -------------------------------------------------------------


def test_round_trip_several_attributes(zk_side: Side) -> None:
    response = zk_encrypt(zk_side, ATTRIBUTES)
    index = response["rankomKeyIndex"]
    assert isinstance(index, str) and re.fullmatch(r"0|[1-9][0-9]*", index)
    assert int(index) in pool_ids(zk_side.container)
    encrypted = response["zkDataAttributes"]
    assert [a["identifier"] for a in encrypted] == [a["identifier"] for a in ATTRIBUTES]
    for plain, sealed in zip(ATTRIBUTES, encrypted):
        assert set(sealed) == {"identifier", "value"}
        assert B64URL.match(sealed["value"]), "values are base64url without padding"
        raw = b64url_decode(sealed["value"])
        assert int.from_bytes(raw[:4], "big") == int(index)
        assert len(raw) == 4 + 12 + 32 + len(plain["value"].encode("utf-8")) + 16
    # every value has its own nonce and aad
    assert len({b64url_decode(a["value"])[4:48] for a in encrypted}) == len(encrypted)

    assert zk_decrypt(zk_side, encrypted) == ATTRIBUTES


def test_same_value_twice_gives_different_ciphertexts(zk_side: Side) -> None:
    first = zk_encrypt(zk_side, [{"identifier": "a", "value": "same"}])
    second = zk_encrypt(zk_side, [{"identifier": "a", "value": "same"}])
    assert first["zkDataAttributes"][0]["value"] != second["zkDataAttributes"][0]["value"]
    both = [first["zkDataAttributes"][0], second["zkDataAttributes"][0]]
    assert zk_decrypt(zk_side, both) == [{"identifier": "a", "value": "same"}] * 2


def test_empty_attribute_list_round_trips(zk_side: Side) -> None:
    response = zk_encrypt(zk_side, [])
    assert response["zkDataAttributes"] == []
    assert int(response["rankomKeyIndex"]) in pool_ids(zk_side.container)
    assert zk_decrypt(zk_side, []) == []


def test_values_and_random_key_open_with_spec_only_code(zk_side: Side, ida) -> None:
    private_key, cert = ida
    response = zk_encrypt(zk_side, ATTRIBUTES)
    parts = response["encryptedRandomKey"].split(".")
    assert len(parts) == 1
    random_key = open_random_key_part(parts[0], cert, private_key)
    index = int(response["rankomKeyIndex"])
    assert random_key == zk_side.container.zk_keys().random_key(index)

    derived = ecb(random_key, hashlib.sha256(RESIDENT.encode("utf-8")).digest())
    for plain, sealed in zip(ATTRIBUTES, response["zkDataAttributes"]):
        raw = b64url_decode(sealed["value"])
        nonce, aad, body = raw[4:16], raw[16:48], raw[48:]
        assert AESGCM(derived).decrypt(nonce, body, aad).decode("utf-8") == plain["value"]


def test_two_configured_ida_references_give_two_parts(make_container, memory_settings, clock, ida, ida2) -> None:
    settings = memory_settings.with_overrides(zk_public_key_ref_ids=("PUBLIC_KEY", "PUBLIC_KEY2"))
    container = make_container(settings, clock)
    init_master_keys(container, ("ROOT",))
    two = Side(settings, container)
    upload_ida(two, ida[1], "PUBLIC_KEY")
    zk_init(container)
    # the second reference has no certificate yet
    error(two.post("/zkEncrypt", {"id": RESIDENT, "zkDataAttributes": ATTRIBUTES[:1]}), "KER-ZKC-002")

    upload_ida(two, ida2[1], "PUBLIC_KEY2")
    response = zk_encrypt(two, ATTRIBUTES[:2])
    parts = response["encryptedRandomKey"].split(".")
    assert len(parts) == 2
    first = open_random_key_part(parts[0], ida[1], ida[0])  # in the configured order
    second = open_random_key_part(parts[1], ida2[1], ida2[0])
    assert first == second == container.zk_keys().random_key(int(response["rankomKeyIndex"]))
    assert zk_decrypt(two, response["zkDataAttributes"]) == ATTRIBUTES[:2]


def test_several_indexes_in_one_decrypt_request(zk_side: Side) -> None:
    values, plain, indexes = [], [], set()
    for attempt in range(60):
        attribute = {"identifier": f"v{attempt}", "value": f"value {attempt}"}
        response = zk_encrypt(zk_side, [attribute])
        values += response["zkDataAttributes"]
        plain.append(attribute)
        indexes.add(response["rankomKeyIndex"])
        if len(indexes) >= 3:
            break
    assert len(indexes) >= 2, "the pool index is drawn at random"
    assert zk_decrypt(zk_side, values) == plain


# -- zkDecrypt errors ------------------------------------------------------------------------------------


@pytest.fixture
def sealed(zk_side: Side) -> list[dict]:
    return zk_encrypt(zk_side, [{"identifier": "name", "value": "John Doe"}])["zkDataAttributes"]


def decrypt_error(side: Side, value: str | None, code: str, resident: str = RESIDENT) -> None:
    body = {"id": resident, "zkDataAttributes": [{"identifier": "name", "value": value}]}
    error(side.post("/zkDecrypt", body), code)


def test_decrypt_with_another_id_is_a_cipher_error(zk_side: Side, sealed) -> None:
    decrypt_error(zk_side, sealed[0]["value"], "KER-ZKC-004", resident="4829174651")


@pytest.mark.parametrize("where", [4, 15, 16, 47, 48, -1], ids=["nonce0", "nonce11", "aad0", "aad31", "ct0", "tag"])
def test_tampered_byte_is_a_cipher_error(zk_side: Side, sealed, where: int) -> None:
    raw_length = len(b64url_decode(sealed[0]["value"]))
    decrypt_error(zk_side, repack(sealed[0]["value"], flip_at=where % raw_length), "KER-ZKC-004")


def test_unknown_index_is_a_random_key_error(zk_side: Side, sealed) -> None:
    decrypt_error(zk_side, repack(sealed[0]["value"], index=99999), "KER-ZKC-001")
    decrypt_error(zk_side, repack(sealed[0]["value"], index=POOL), "KER-ZKC-001")  # one past the pool


def test_48_bytes_or_fewer_is_an_invalid_format(zk_side: Side, sealed) -> None:
    decrypt_error(zk_side, repack(sealed[0]["value"], cut=48), "ZK-DEC-001")
    decrypt_error(zk_side, repack(sealed[0]["value"], cut=10), "ZK-DEC-001")
    decrypt_error(zk_side, "", "ZK-DEC-001")
    # 49 bytes passes the length check and fails in the cipher
    decrypt_error(zk_side, repack(sealed[0]["value"], cut=49), "KER-ZKC-004")


@pytest.mark.parametrize("value", ["not base64!", "****", "abc$def", "A"], ids=["space", "stars", "dollar", "one-char"])
def test_non_base64_is_an_invalid_format(zk_side: Side, value: str) -> None:
    decrypt_error(zk_side, value, "ZK-DEC-001")


@pytest.mark.parametrize("path", ["/zkDecrypt", "/zkEncrypt"])
def test_null_attribute_list_is_an_invalid_request(zk_side: Side, path: str) -> None:
    error(zk_side.post(path, {"id": RESIDENT, "zkDataAttributes": None}), "KER-KMS-005")
    error(zk_side.post(path, {"id": RESIDENT}), "KER-KMS-005")


@pytest.mark.parametrize("path", ["/zkDecrypt", "/zkEncrypt"])
def test_blank_id_is_an_invalid_request(zk_side: Side, path: str) -> None:
    error(zk_side.post(path, {"id": "  ", "zkDataAttributes": []}), "KER-KMS-005")
    error(zk_side.post(path, {"zkDataAttributes": []}), "KER-KMS-005")


# -- zkEncrypt errors ------------------------------------------------------------------------------------


def encrypt_error(side: Side, code: str) -> None:
    error(side.post("/zkEncrypt", {"id": RESIDENT, "zkDataAttributes": ATTRIBUTES[:1]}), code)


def test_encrypt_without_ida_certificate(side: Side) -> None:
    zk_init(side.container)
    encrypt_error(side, "KER-ZKC-002")


def test_encrypt_with_master_key_but_no_pool(side: Side, ida) -> None:
    upload_ida(side, ida[1])
    body = {"applicationId": "KERNEL", "referenceId": "IDENTITY_CACHE", "force": False}
    assert ok(side.post("/generateSymmetricKey", body))["status"] == "Generation Success"
    encrypt_error(side, "KER-ZKC-001")


def test_encrypt_with_nothing_at_all(side: Side, ida) -> None:
    upload_ida(side, ida[1])
    encrypt_error(side, "KER-ZKC-001")  # no pool: the index is drawn first


def test_encrypt_with_pool_rows_but_no_master_key(side: Side, ida) -> None:
    """Rows imported from the reference before the master key exists here."""
    upload_ida(side, ida[1])
    with side.container.uow_factory()() as uow:
        uow.zk.add_rows([ZkPoolRow(i, base64.b64encode(bytes([i]) * 32).decode()) for i in range(3)])
        uow.commit()
    encrypt_error(side, "KER-ZKC-002")


def test_encrypt_after_the_master_key_expired(side: Side, ida, clock) -> None:
    upload_ida(side, ida[1])
    zk_init(side.container)
    master = current_master(side.container)
    with side.container.uow_factory()() as uow:
        uow.keys.set_expiry(master, clock.now() - timedelta(seconds=1))
        uow.commit()
    encrypt_error(side, "KER-ZKC-002")


def test_encrypt_with_two_current_master_keys(side: Side, ida, clock) -> None:
    upload_ida(side, ida[1])
    zk_init(side.container)
    side.container.keystore().generate_secret_key("second-zk-master")
    now = clock.now()
    with side.container.uow_factory()() as uow:
        uow.keys.add_alias(KeyAlias("second-zk-master", ZK_MASTER, now - timedelta(hours=1), now + timedelta(days=1825)))
        uow.commit()
    encrypt_error(side, "KER-ZKC-002")


# -- generateSymmetricKey ----------------------------------------------------------------------------------


def symmetric(side: Side, app: str, ref: str, **extra: Any):
    return side.post("/generateSymmetricKey", {"applicationId": app, "referenceId": ref, **extra})


@pytest.mark.parametrize("tuple_", [("KERNEL", "IDENTITY_CACHE"), ("TEST_APP", "SYM_1")], ids=["zk-master", "other"])
def test_generate_exists_then_force(side: Side, clock, tuple_: tuple[str, str]) -> None:
    app, ref = tuple_
    first = ok(symmetric(side, app, ref, force=False))
    assert first["status"] == "Generation Success"
    assert set(first) == {"status", "timestamp"}
    assert ok(symmetric(side, app, ref, force=False))["status"] == "Key Exists."
    keystore = side.container.keystore()
    with side.container.uow_factory()() as uow:
        (old,) = uow.keys.aliases_for(KeyTuple(app, ref))
    assert old.thumbprint is None and old.uni_ident is None
    assert old.expires_at - old.generated_at == timedelta(days=3650)
    assert keystore.decrypt_blocks(old.alias, keystore.encrypt_blocks(old.alias, bytes(32))) == bytes(32)

    clock.advance(timedelta(minutes=5))
    assert ok(symmetric(side, app, ref, force=True))["status"] == "Generation Success"
    hierarchy = side.container.hierarchy()
    with side.container.uow_factory()() as uow:
        every, current = hierarchy.aliases(uow.keys, KeyTuple(app, ref), clock.now())
    assert len(every) == 2
    assert [a.alias for a in current] != [old.alias] and len(current) == 1
    (previous,) = [a for a in every if a.alias == old.alias]
    assert previous.expires_at <= clock.now()
    assert old.alias in keystore.aliases()  # kept: older pool rows may be wrapped under it
    assert ok(symmetric(side, app, ref, force=False))["status"] == "Key Exists."


def test_missing_or_null_force_is_false(side: Side) -> None:
    assert ok(symmetric(side, "TEST_APP", "SYM_2"))["status"] == "Generation Success"
    assert ok(symmetric(side, "TEST_APP", "SYM_2"))["status"] == "Key Exists."
    assert ok(symmetric(side, "TEST_APP", "SYM_2", force=None))["status"] == "Key Exists."
    with side.container.uow_factory()() as uow:
        assert len(uow.keys.aliases_for(KeyTuple("TEST_APP", "SYM_2"))) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"applicationId": "KERNEL", "referenceId": "", "force": False},
        {"applicationId": "KERNEL", "referenceId": "   ", "force": False},
        {"applicationId": "KERNEL", "force": False},
        {"applicationId": "KERNEL", "referenceId": None, "force": False},
        {"applicationId": "", "referenceId": "IDENTITY_CACHE", "force": False},
        {"referenceId": "IDENTITY_CACHE", "force": False},
        {"applicationId": "KERNEL", "referenceId": "IDENTITY_CACHE", "force": "maybe"},
    ],
    ids=["blank-ref", "spaces-ref", "missing-ref", "null-ref", "blank-app", "missing-app", "bad-force"],
)
def test_generate_symmetric_key_invalid_request(side: Side, body: dict) -> None:
    error(side.post("/generateSymmetricKey", body), "KER-KMS-005")
    with side.container.uow_factory()() as uow:
        assert uow.keys.aliases_for(ZK_MASTER) == []


# -- the pool's check values: altered rows, a rotated master ---------------------------------------------------


@pytest.fixture
def sqlite_side(make_container, sqlite_settings, clock, ida) -> Side:
    container = make_container(sqlite_settings, clock)
    init_master_keys(container, ("ROOT",))
    built = Side(sqlite_settings, container)
    upload_ida(built, ida[1])
    zk_init(container)
    return built


def restart(make_container, side: Side, clock) -> Side:
    """A new container on the same data directory: nothing cached."""
    return Side(side.settings, make_container(side.settings, clock))


def sqlite_db(side: Side) -> sqlite3.Connection:
    return sqlite3.connect(side.settings.sqlite_path)


def values_at_two_indexes(side: Side) -> dict[int, list[dict]]:
    by_index: dict[int, list[dict]] = {}
    for n in range(80):
        response = zk_encrypt(side, [{"identifier": "n", "value": f"value {n}"}])
        by_index.setdefault(int(response["rankomKeyIndex"]), []).extend(response["zkDataAttributes"])
        if len(by_index) >= 2:
            return by_index
    raise AssertionError("the pool index is drawn at random")


@pytest.mark.parametrize("alteration", ["random-bytes", "swapped-with-another-row", "not-base64", "short"])
def test_altered_pool_row_is_refused(make_container, sqlite_side: Side, clock, alteration: str) -> None:
    by_index = values_at_two_indexes(sqlite_side)
    altered, intact = list(by_index)[:2]
    with sqlite_db(sqlite_side) as db:
        if alteration == "random-bytes":
            new_key = base64.b64encode(bytes(range(32))).decode()
        elif alteration == "swapped-with-another-row":
            (new_key,) = db.execute("SELECT key FROM data_encrypt_keystore WHERE id = ?", (intact,)).fetchone()
        elif alteration == "not-base64":
            new_key = "*" * 44
        else:
            new_key = base64.b64encode(bytes(16)).decode()
        db.execute("UPDATE data_encrypt_keystore SET key = ? WHERE id = ?", (new_key, altered))
    db.close()

    restarted = restart(make_container, sqlite_side, clock)
    for value in by_index[altered]:
        error(restarted.post("/zkDecrypt", {"id": RESIDENT, "zkDataAttributes": [value]}), "KER-ZKC-001")
    # the other rows are untouched
    opened = zk_decrypt(restarted, by_index[intact])
    assert len(opened) == len(by_index[intact]) and all(re.fullmatch(r"value \d+", v["value"]) for v in opened)


def test_every_row_written_has_a_check_value(sqlite_side: Side) -> None:
    with sqlite_db(sqlite_side) as db:
        rows = db.execute(
            "SELECT p.id, c.key_check FROM data_encrypt_keystore p LEFT JOIN km_zk_key_check c ON c.id = p.id"
        ).fetchall()
    db.close()
    assert sorted(r[0] for r in rows) == list(range(POOL))
    assert all(r[1] and re.fullmatch(r"[0-9a-f]{32}", r[1]) for r in rows)


def test_rotated_master_key_still_opens_older_values(make_container, sqlite_side: Side, clock) -> None:
    before = zk_encrypt(sqlite_side, ATTRIBUTES)
    old_master = current_master(sqlite_side.container)
    body = {"applicationId": "KERNEL", "referenceId": "IDENTITY_CACHE", "force": True}
    assert ok(sqlite_side.post("/generateSymmetricKey", body))["status"] == "Generation Success"
    assert current_master(sqlite_side.container) != old_master

    assert zk_decrypt(sqlite_side, before["zkDataAttributes"]) == ATTRIBUTES
    restarted = restart(make_container, sqlite_side, clock)  # no cached random keys: every row is unwrapped again
    assert current_master(restarted.container) != old_master
    assert zk_decrypt(restarted, before["zkDataAttributes"]) == ATTRIBUTES
    after = zk_encrypt(restarted, ATTRIBUTES[:2])  # rows wrapped under the old master still serve
    assert zk_decrypt(restart(make_container, sqlite_side, clock), after["zkDataAttributes"]) == ATTRIBUTES[:2]


def test_reference_made_row_needs_the_current_master(make_container, sqlite_side: Side, clock, ida) -> None:
    """A row without a check value (made by the reference) is unwrapped with the current master
    only, as the reference does: after a rotation the unwrapped key is wrong and, with nothing
    to check it against, the data cipher is what fails (KER-ZKC-004, as in the reference)."""
    container = sqlite_side.container
    keystore = container.keystore()
    old_master = current_master(container)
    random_key = bytes(range(100, 132))
    wrapped = base64.b64encode(keystore.encrypt_blocks(old_master, random_key)).decode()
    with container.uow_factory()() as uow:
        uow.zk.add_rows([ZkPoolRow(500, wrapped, key_check=None)])
        uow.commit()
    assert restart(make_container, sqlite_side, clock).container.zk_keys().random_key(500) == random_key

    # a value at index 500, made with spec-only code
    nonce, aad = bytes(12), bytes(range(32))
    derived = ecb(random_key, hashlib.sha256(RESIDENT.encode()).digest())
    value = b64url((500).to_bytes(4, "big") + nonce + aad + AESGCM(derived).encrypt(nonce, b"imported", aad))
    assert zk_decrypt(restart(make_container, sqlite_side, clock), [{"identifier": "i", "value": value}]) == [
        {"identifier": "i", "value": "imported"}
    ]

    body = {"applicationId": "KERNEL", "referenceId": "IDENTITY_CACHE", "force": True}
    assert ok(sqlite_side.post("/generateSymmetricKey", body))["status"] == "Generation Success"
    error(restart(make_container, sqlite_side, clock).post("/zkDecrypt", {"id": RESIDENT, "zkDataAttributes": [
        {"identifier": "i", "value": value}]}), "KER-ZKC-004")


# -- zkReEncryptRandomKey: an ID-repo side (B) and an IDA side (A) -----------------------------------------


@pytest.fixture
def ida_side(make_container, tmp_path, clock) -> Side:
    """A: the IDA deployment. A policy for IDA (saved before any request: absent policies are
    cached), its own IDA/PUBLIC_KEY base key, its own ZK master key and pool."""
    settings = Settings(data_dir=tmp_path / "ida", store="memory", keystore="memory")
    container = make_container(settings, clock)
    with container.uow_factory()() as uow:
        uow.keys.save_policy(KeyPolicy("IDA", 1095, 60, "NA", True))
        uow.commit()
    init_master_keys(container, ("ROOT", "IDA"))  # the IDA master key signs the base key
    zk_init(container, 5)
    return Side(settings, container)


@pytest.fixture
def ida_certificate(ida_side: Side) -> x509.Certificate:
    response = ida_side.get("/getCertificate", query_string={"applicationId": "IDA", "referenceId": "PUBLIC_KEY"})
    return x509.load_pem_x509_certificate(ok(response)["certificate"].encode("ascii"))


def build_repo_side(
    make_container, settings: Settings, clock, ida_certificate: x509.Certificate, *, ida_policy: bool = False
) -> Side:
    container = make_container(settings, clock)
    if ida_policy:
        with container.uow_factory()() as uow:
            uow.keys.save_policy(KeyPolicy("IDA", 1095, 60, "NA", True))
            uow.commit()
    init_master_keys(container, ("ROOT",))
    built = Side(settings, container)
    upload_ida(built, ida_certificate)
    zk_init(container)
    return built


@pytest.fixture
def repo_side(make_container, tmp_path, clock, ida_certificate) -> Side:
    """B: the ID-repo deployment, holding only A's IDA certificate (and, as deployed by
    default, no key policy for IDA)."""
    settings = Settings(data_dir=tmp_path / "idrepo", store="memory", keystore="memory")
    return build_repo_side(make_container, settings, clock, ida_certificate)


def reencrypt(side: Side, encrypted_key: str | None, *, form: bool = False):
    if encrypted_key is None:
        return side.raw_post("/zkReEncryptRandomKey")
    if form:
        return side.raw_post("/zkReEncryptRandomKey", data={"encryptedKey": encrypted_key})
    return side.raw_post("/zkReEncryptRandomKey", query_string={"encryptedKey": encrypted_key})


def assert_rewrapped(ida_side: Side, repo_side: Side, response, index: int) -> None:
    result = ok(response)
    assert set(result) == {"encryptedKey"}
    rewrapped = result["encryptedKey"]
    assert B64STD_32.match(rewrapped), rewrapped  # standard base64 with padding: a pool row's format
    unwrapped = ida_side.container.keystore().decrypt_blocks(current_master(ida_side.container),
                                                             base64.b64decode(rewrapped))
    assert unwrapped == repo_side.container.zk_keys().random_key(index)


@pytest.mark.parametrize("form", [False, True], ids=["query", "form"])
def test_reencrypt_random_key_for_the_ida_side(ida_side: Side, repo_side: Side, form: bool) -> None:
    response = zk_encrypt(repo_side, ATTRIBUTES[:2])
    index = int(response["rankomKeyIndex"])
    assert_rewrapped(ida_side, repo_side, reencrypt(ida_side, response["encryptedRandomKey"], form=form), index)


def test_reencrypt_picks_the_part_made_for_us(ida_side: Side, repo_side: Side, ida) -> None:
    response = zk_encrypt(repo_side, ATTRIBUTES[:1])
    foreign = b64url(hashlib.sha256(der(ida[1])).digest() + ida[1].public_key().encrypt(bytes(32), OAEP))
    joined = ".".join([foreign, "%%%not-base64%%%", response["encryptedRandomKey"]])
    assert_rewrapped(ida_side, repo_side, reencrypt(ida_side, joined), int(response["rankomKeyIndex"]))


def test_reencrypt_missing_parameter(ida_side: Side) -> None:
    error(reencrypt(ida_side, None), "KER-KMS-005")


@pytest.mark.parametrize("blank", ["", "   "])
def test_reencrypt_blank_parameter(ida_side: Side, blank: str) -> None:
    error(reencrypt(ida_side, blank), "KER-ZKC-006")
    error(reencrypt(ida_side, blank, form=True), "KER-ZKC-006")


def test_reencrypt_key_made_for_someone_else(ida_side: Side, ida) -> None:
    _, other_cert = ida
    made_elsewhere = b64url(hashlib.sha256(der(other_cert)).digest() + other_cert.public_key().encrypt(bytes(32), OAEP))
    error(reencrypt(ida_side, made_elsewhere), "KER-ZKC-006")
    error(reencrypt(ida_side, made_elsewhere + "." + made_elsewhere), "KER-ZKC-006")
    error(reencrypt(ida_side, "garbage.more-garbage"), "KER-ZKC-006")


def test_reencrypt_on_the_id_repo_side_is_refused(repo_side: Side) -> None:
    """The ID-repo side holds only IDA's certificate and no IDA policy: no access check (as the
    reference's ZK path), the key look-up says the private key is not here (KER-KMS-018)."""
    response = zk_encrypt(repo_side, ATTRIBUTES[:1])
    error(reencrypt(repo_side, response["encryptedRandomKey"]), "KER-KMS-018")


def test_reencrypt_on_an_id_repo_side_with_an_ida_policy_is_refused(
    make_container, tmp_path, clock, ida_certificate
) -> None:
    """The same, with an IDA policy allowing everyone: only the certificate is here (KER-KMS-018)."""
    settings = Settings(data_dir=tmp_path / "idrepo-policy", store="memory", keystore="memory")
    repo = build_repo_side(make_container, settings, clock, ida_certificate, ida_policy=True)
    response = zk_encrypt(repo, ATTRIBUTES[:1])
    error(reencrypt(repo, response["encryptedRandomKey"]), "KER-KMS-018")



def test_reencrypt_tampered_key_for_us_is_corrupted_data(ida_side: Side, repo_side: Side) -> None:
    """The thumbprint is ours but the RSA part does not open: every cryptographic failure is
    KER-FSE-004 (ADR 0003/0005: no padding oracle; the reference says KER-KMS-019)."""
    raw = bytearray(b64url_decode(zk_encrypt(repo_side, ATTRIBUTES[:1])["encryptedRandomKey"]))
    raw[100] ^= 0x01
    error(reencrypt(ida_side, b64url(bytes(raw))), "KER-FSE-004")
    error(reencrypt(ida_side, b64url(bytes(raw[:40]))), "KER-FSE-004")
