"""Known answers V5 (mosip-crypto.md §4, vectors/jdk_jose4j_vectors.txt): the zero-knowledge
chain made by the reference's JDK code. Master key M wraps the random key R into the pool row
(standard base64 of AES-ECB(M, R)); R derives the resident's key AES-ECB(R, SHA-256(id)); the
zkEncrypt value for pool index 7 is base64url(INT32_BE(7) ‖ nonce ‖ aad ‖ GCM(ct ‖ tag)).
"""
from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.crypto import primitives as crypto
from application.keys.zk import derive_key
from application.use_cases.zk.attributes import ZkAttribute
from application.use_cases.zk.zk_decrypt import ZkDecryptCommand
from domain.codec import b64url_decode, b64url_encode
from domain.keys import KeyAlias
from domain.zk import HEADER_BYTES, ZK_MASTER, ZkPoolRow, ZkValue, pack_value, unpack_value

RESIDENT_ID = "1234567890"
INDEX = 7
VALUE_NAME = "V5.zkEncrypt_value_John_index7"
PLAINTEXT = "John"  # the vector's name; confirmed by decrypting below


@pytest.fixture
def v5(vectors: dict[str, str]) -> dict[str, object]:
    return {
        "master": bytes.fromhex(vectors["V5.zkMasterKey"]),
        "random": bytes.fromhex(vectors["V5.randomKey"]),
        "row": vectors["V5.data_encrypt_keystore.key(b64std)"],
        "sha256_id": bytes.fromhex(vectors["V5.sha256_of_id_1234567890"]),
        "derived": bytes.fromhex(vectors["V5.derivedKey"]),
        "value": vectors[VALUE_NAME],
    }


def test_pool_row_is_standard_base64_of_aes_ecb_master_random(v5) -> None:
    wrapped = crypto.aes_ecb(v5["master"], v5["random"], encrypt=True)
    assert base64.b64encode(wrapped).decode("ascii") == v5["row"]
    assert len(v5["row"]) == 44 and v5["row"].endswith("=")
    # and back
    assert crypto.aes_ecb(v5["master"], base64.b64decode(v5["row"]), encrypt=False) == v5["random"]


def test_derived_key_for_the_id(v5) -> None:
    assert hashlib.sha256(RESIDENT_ID.encode("utf-8")).digest() == v5["sha256_id"]
    assert derive_key(v5["random"], RESIDENT_ID) == v5["derived"]
    # independently: two AES-ECB blocks of SHA-256(id) under R
    assert crypto.aes_ecb(v5["random"], v5["sha256_id"], encrypt=True) == v5["derived"]


def test_value_unpacks_and_decrypts_to_the_plaintext(v5) -> None:
    raw = b64url_decode(v5["value"])
    value = unpack_value(raw)
    assert value.index == INDEX
    assert value.nonce == raw[4:16] and len(value.nonce) == 12
    assert value.aad == raw[16:48] and len(value.aad) == 32
    assert value.sealed == raw[HEADER_BYTES:]
    plain = AESGCM(v5["derived"]).decrypt(value.nonce, value.sealed, value.aad)
    assert plain.decode("utf-8") == PLAINTEXT
    assert crypto.aes_gcm_decrypt(v5["derived"], value.nonce, value.sealed, value.aad) == PLAINTEXT.encode()


def test_repacking_with_the_same_nonce_and_aad_reproduces_the_value(v5) -> None:
    original = unpack_value(b64url_decode(v5["value"]))
    sealed = crypto.aes_gcm_encrypt(v5["derived"], original.nonce, PLAINTEXT.encode("utf-8"), original.aad)
    repacked = pack_value(ZkValue(INDEX, original.nonce, original.aad, sealed))
    assert repacked == b64url_decode(v5["value"])
    assert b64url_encode(repacked) == v5["value"]


def test_zk_decrypt_use_case_opens_the_reference_value(make_container, v5, memory_settings, clock) -> None:
    container = make_container(memory_settings, clock)
    keystore = container.keystore()
    alias = "v5-zk-master"
    # The keystore port cannot import a secret key (an HSM key never leaves the token and is
    # generated inside it), so the V5 master key is placed straight into the memory keystore's
    # private dict of secret keys, the only way to make it hold a known AES key.
    keystore._secrets[alias] = v5["master"]
    now = clock.now()
    with container.uow_factory()() as uow:
        uow.keys.add_alias(KeyAlias(alias, ZK_MASTER, now - timedelta(days=1), now + timedelta(days=1825)))
        # A row the reference made: no check value of ours.
        uow.zk.add_rows([ZkPoolRow(INDEX, v5["row"], key_check=None)])
        uow.commit()

    assert container.zk_keys().random_key(INDEX) == v5["random"]
    result = container.zk_decrypt().execute(
        ZkDecryptCommand(RESIDENT_ID, [ZkAttribute("name", v5["value"])])
    )
    assert result == [ZkAttribute("name", PLAINTEXT)]
