"""The keystore port's secret-key half (generateSymmetricKey, the ZK master key), one contract
for every adapter of tests/contract/test_keystore_contract.py: generate_secret_key,
encrypt_blocks / decrypt_blocks (AES-ECB without padding, whole blocks), aliases, delete.
Then what only one adapter promises: the PKCS#12 directory's sealed .aes files, and the
PKCS#11 token's AES key that never leaves it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from adapters.memory.keystore import MemoryKeystore
from adapters.pkcs12.keystore import Pkcs12Keystore
from application.ports.keystore import Keystore, KeystoreError
from domain.errors import KeyManagerError
from tests.support.keystores import ALIAS, FACTORIES, OTHER, PKCS12_PASSWORD

BLOCKS = bytes(range(32))  # two AES blocks, like a ZK random key
PASSWORD = PKCS12_PASSWORD  # what FACTORIES["pkcs12"] uses


def software_ecb(key: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.ECB())
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


# -- every adapter -------------------------------------------------------------------------------


def test_generate_and_round_trip_32_bytes(keystore: Keystore) -> None:
    keystore.generate_secret_key(ALIAS)
    sealed = keystore.encrypt_blocks(ALIAS, BLOCKS)
    assert len(sealed) == len(BLOCKS)  # no padding, no IV, no tag
    assert sealed != BLOCKS
    assert keystore.decrypt_blocks(ALIAS, sealed) == BLOCKS
    assert keystore.encrypt_blocks(ALIAS, keystore.decrypt_blocks(ALIAS, BLOCKS)) == BLOCKS


def test_encrypt_is_deterministic_ecb(keystore: Keystore) -> None:
    keystore.generate_secret_key(ALIAS)
    assert keystore.encrypt_blocks(ALIAS, BLOCKS) == keystore.encrypt_blocks(ALIAS, BLOCKS)
    # ECB: equal blocks give equal ciphertext blocks, each block independent of the others
    twice = keystore.encrypt_blocks(ALIAS, BLOCKS[:16] * 2)
    assert twice[:16] == twice[16:] == keystore.encrypt_blocks(ALIAS, BLOCKS)[:16]


def test_two_keys_differ(keystore: Keystore) -> None:
    keystore.generate_secret_key(ALIAS)
    keystore.generate_secret_key(OTHER)
    assert keystore.encrypt_blocks(ALIAS, BLOCKS) != keystore.encrypt_blocks(OTHER, BLOCKS)
    assert keystore.decrypt_blocks(OTHER, keystore.encrypt_blocks(ALIAS, BLOCKS)) != BLOCKS  # no tag: garbage


def test_duplicate_secret_alias_is_refused(keystore: Keystore) -> None:
    keystore.generate_secret_key(ALIAS)
    before = keystore.encrypt_blocks(ALIAS, BLOCKS)
    with pytest.raises(KeystoreError):
        keystore.generate_secret_key(ALIAS)
    assert keystore.encrypt_blocks(ALIAS, BLOCKS) == before  # the first key is untouched
    assert keystore.aliases().count(ALIAS) == 1


def test_unknown_alias_raises(keystore: Keystore) -> None:
    with pytest.raises(KeystoreError):
        keystore.encrypt_blocks(ALIAS, BLOCKS)
    with pytest.raises(KeystoreError):
        keystore.decrypt_blocks(ALIAS, BLOCKS)


def test_a_key_pair_alias_is_no_secret_key(keystore: Keystore) -> None:
    keystore.generate_key_pair(ALIAS)
    with pytest.raises(KeystoreError):
        keystore.encrypt_blocks(ALIAS, BLOCKS)
    with pytest.raises(KeystoreError):
        keystore.decrypt_blocks(ALIAS, BLOCKS)


def test_secret_key_under_a_key_pair_alias_is_refused(keystore: Keystore) -> None:
    keystore.generate_key_pair(ALIAS)
    with pytest.raises(KeystoreError):
        keystore.generate_secret_key(ALIAS)
    assert keystore.aliases().count(ALIAS) == 1


def test_data_that_is_not_whole_blocks_is_refused_with_a_domain_error(keystore: Keystore) -> None:
    keystore.generate_secret_key(ALIAS)
    for data in (BLOCKS[:15], b""):
        with pytest.raises(KeyManagerError) as raised:
            keystore.encrypt_blocks(ALIAS, data)
        assert raised.value.code == "KER-FSE-002"


def test_aliases_lists_and_delete_removes(keystore: Keystore) -> None:
    keystore.generate_secret_key(ALIAS)
    keystore.generate_key_pair(OTHER)
    assert set(keystore.aliases()) == {ALIAS, OTHER}
    keystore.delete(ALIAS)
    assert keystore.aliases() == [OTHER]
    with pytest.raises(KeystoreError):
        keystore.encrypt_blocks(ALIAS, BLOCKS)
    keystore.delete(ALIAS)  # deleting again is no error
    # the alias can be used again: a new, different key
    keystore.generate_secret_key(ALIAS)
    assert keystore.decrypt_blocks(ALIAS, keystore.encrypt_blocks(ALIAS, BLOCKS)) == BLOCKS


# -- memory: the key is known, so the output is checked against software AES-ECB -----------------------


def test_memory_matches_software_aes_ecb() -> None:
    keystore = MemoryKeystore()
    keystore.generate_secret_key(ALIAS)
    # The port never reveals a secret key; the memory adapter's private dict is read to know it.
    key = keystore._secrets[ALIAS]
    assert len(key) == 32  # AES-256
    assert keystore.encrypt_blocks(ALIAS, BLOCKS) == software_ecb(key, BLOCKS, encrypt=True)
    assert keystore.decrypt_blocks(ALIAS, BLOCKS) == software_ecb(key, BLOCKS, encrypt=False)


# -- PKCS#12 directory -----------------------------------------------------------------------------


@pytest.fixture
def pkcs12_dir(tmp_path: Path) -> Path:
    return tmp_path / "keystore"


def test_pkcs12_key_persists_across_instances(pkcs12_dir: Path) -> None:
    first = Pkcs12Keystore(pkcs12_dir, PASSWORD)
    first.generate_secret_key(ALIAS)
    sealed = first.encrypt_blocks(ALIAS, BLOCKS)
    assert (pkcs12_dir / f"{ALIAS}.aes").is_file()

    restarted = Pkcs12Keystore(pkcs12_dir, PASSWORD)
    assert restarted.aliases() == [ALIAS]
    assert restarted.encrypt_blocks(ALIAS, BLOCKS) == sealed
    assert restarted.decrypt_blocks(ALIAS, sealed) == BLOCKS


def test_pkcs12_wrong_password_cannot_use_the_key(pkcs12_dir: Path) -> None:
    Pkcs12Keystore(pkcs12_dir, PASSWORD).generate_secret_key(ALIAS)
    wrong = Pkcs12Keystore(pkcs12_dir, b"not-the-password")
    assert wrong.aliases() == [ALIAS]  # the file is there...
    with pytest.raises(KeystoreError, match="wrong password or corrupted"):
        wrong.encrypt_blocks(ALIAS, BLOCKS)  # ...but sealed under the password
    with pytest.raises(KeystoreError):
        wrong.decrypt_blocks(ALIAS, BLOCKS)


def test_pkcs12_file_copied_to_another_alias_is_refused(pkcs12_dir: Path) -> None:
    keystore = Pkcs12Keystore(pkcs12_dir, PASSWORD)
    keystore.generate_secret_key(ALIAS)
    shutil.copyfile(pkcs12_dir / f"{ALIAS}.aes", pkcs12_dir / f"{OTHER}.aes")
    assert set(keystore.aliases()) == {ALIAS, OTHER}
    with pytest.raises(KeystoreError):
        keystore.encrypt_blocks(OTHER, BLOCKS)  # the alias is authenticated data of the seal
    with pytest.raises(KeystoreError):
        Pkcs12Keystore(pkcs12_dir, PASSWORD).decrypt_blocks(OTHER, BLOCKS)
    keystore.encrypt_blocks(ALIAS, BLOCKS)  # the original still works


def test_pkcs12_corrupted_file_is_refused(pkcs12_dir: Path) -> None:
    keystore = Pkcs12Keystore(pkcs12_dir, PASSWORD)
    keystore.generate_secret_key(ALIAS)
    path = pkcs12_dir / f"{ALIAS}.aes"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(KeystoreError):
        Pkcs12Keystore(pkcs12_dir, PASSWORD).encrypt_blocks(ALIAS, BLOCKS)


def test_pkcs12_secret_file_is_private(pkcs12_dir: Path) -> None:
    Pkcs12Keystore(pkcs12_dir, PASSWORD).generate_secret_key(ALIAS)
    assert os.stat(pkcs12_dir / f"{ALIAS}.aes").st_mode & 0o077 == 0


# -- PKCS#11 token -------------------------------------------------------------------------------------


@pytest.mark.softhsm
def test_pkcs11_secret_key_is_sensitive_and_never_extractable(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
    from pkcs11 import exceptions as p11

    from tests.support.pkcs11 import own_session

    keystore = FACTORIES["pkcs11"](tmp_path, request)
    token = request.getfixturevalue("softhsm_token")
    keystore.generate_secret_key(ALIAS)
    sealed = keystore.encrypt_blocks(ALIAS, BLOCKS)

    with own_session(token) as session:
        (key,) = session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.ID: ALIAS.encode()})
        assert key[Attribute.KEY_TYPE] == KeyType.AES
        assert key[Attribute.VALUE_LEN] == 32
        assert key[Attribute.LABEL] == ALIAS
        assert key[Attribute.TOKEN] is True
        assert key[Attribute.PRIVATE] is True
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.ALWAYS_SENSITIVE] is True
        assert key[Attribute.NEVER_EXTRACTABLE] is True
        assert key[Attribute.LOCAL] is True  # generated in the token, not imported
        with pytest.raises(p11.AttributeSensitive):
            key[Attribute.VALUE]
        with pytest.raises(p11.PKCS11Error):
            key[Attribute.EXTRACTABLE] = True
        with pytest.raises(p11.PKCS11Error):
            key[Attribute.SENSITIVE] = False
        wrapping = session.generate_key(KeyType.AES, 256, store=False, template={Attribute.WRAP: True})
        with pytest.raises(p11.KeyUnextractable):
            wrapping.wrap_key(key, mechanism=Mechanism.AES_KEY_WRAP_PAD)
        # the token's own AES-ECB agrees with the adapter
        assert bytes(key.encrypt(BLOCKS, mechanism=Mechanism.AES_ECB)) == sealed


@pytest.mark.softhsm
def test_pkcs11_key_persists_for_a_new_keystore_instance(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from adapters.pkcs11.keystore import Pkcs11Keystore

    keystore = FACTORIES["pkcs11"](tmp_path, request)
    token = request.getfixturevalue("softhsm_token")
    keystore.generate_secret_key(ALIAS)
    sealed = keystore.encrypt_blocks(ALIAS, BLOCKS)
    restarted = Pkcs11Keystore(token["module"], token["label"], token["pin"])
    assert ALIAS in restarted.aliases()
    assert restarted.encrypt_blocks(ALIAS, BLOCKS) == sealed
    assert restarted.decrypt_blocks(ALIAS, sealed) == BLOCKS


def test_key_pair_under_a_secret_key_alias_is_refused(keystore: Keystore) -> None:
    keystore.generate_secret_key(ALIAS)
    with pytest.raises(KeystoreError):
        keystore.generate_key_pair(ALIAS)
    assert keystore.aliases().count(ALIAS) == 1
