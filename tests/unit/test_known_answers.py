"""Known-answer vectors (vectors/jdk_jose4j_vectors.txt) reproduced or opened with
our primitives, the envelope splitter and the real DecryptData use case."""
from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from application.crypto import primitives as crypto
from application.crypto.jws import detached_rs256
from application.keys.hierarchy import KeyHierarchy
from application.use_cases.cryptomanager.decrypt_data import DecryptCommand
from domain import envelope
from domain.codec import b64url_decode, hex_upper
from domain.errors import KeyManagerError
from domain.identifiers import thumbprint_hex, uni_ident
from domain.keys import KeyAlias, KeyTuple, StoredKey
from tests.support.repo import VECTORS_DIR


def h(vectors: dict[str, str], name: str) -> bytes:
    return bytes.fromhex(vectors[name])


@pytest.fixture(scope="module")
def test_key():
    return serialization.load_der_private_key((VECTORS_DIR / "rsa2048_test_key.pk8.der").read_bytes(), password=None)


@pytest.fixture(scope="module")
def v3_wire() -> bytes:
    from tests.support.repo import read_vectors

    return b64url_decode(read_vectors()["V3.envelope_b64url"])


# -- V1 / V1b: AES-GCM with 16-byte IVs ------------------------------------------------------


def test_v1_random_iv_layout(vectors):
    key, iv, aad, pt = (h(vectors, n) for n in ("V1.key", "V1.iv16", "V1.aad", "V1.pt"))
    expected = h(vectors, "V1.out(ct||tag||iv)")
    assert len(iv) == 16
    out = crypto.aes_gcm_encrypt(key, iv, pt, aad) + iv
    assert out == expected
    # And back, through the appended-IV splitter.
    sealed, got_iv = envelope.split_appended_iv(expected)
    assert got_iv == iv
    assert crypto.aes_gcm_decrypt(key, got_iv, sealed, aad) == pt


def test_v1_tamper_is_detected(vectors):
    key, aad = h(vectors, "V1.key"), h(vectors, "V1.aad")
    sealed, iv = envelope.split_appended_iv(h(vectors, "V1.out(ct||tag||iv)"))
    corrupted = bytes([sealed[0] ^ 1]) + sealed[1:]
    with pytest.raises(KeyManagerError) as excinfo:
        crypto.aes_gcm_decrypt(key, iv, corrupted, aad)
    assert excinfo.value.code == "KER-FSE-004"
    with pytest.raises(KeyManagerError):
        crypto.aes_gcm_decrypt(key, iv, sealed, aad + b"x")


def test_v1b_caller_iv_has_no_appended_iv(vectors):
    # V1b: the same key and plaintext, a caller-given IV and no AAD; output ct || tag.
    key, iv, pt = (h(vectors, n) for n in ("V1.key", "V1b.iv16", "V1.pt"))
    expected = h(vectors, "V1b.out_ct_tag")
    out = crypto.aes_gcm_encrypt(key, iv, pt, None)
    assert out == expected
    assert len(out) == len(pt) + 16
    assert crypto.aes_gcm_decrypt(key, iv, expected, None) == pt
    assert crypto.aes_gcm_decrypt(key, iv, expected, b"") == pt  # empty AAD behaves as none


def test_empty_aad_is_no_aad(vectors):
    key, iv, pt = h(vectors, "V1.key"), h(vectors, "V1b.iv16"), h(vectors, "V1.pt")
    assert crypto.aes_gcm_encrypt(key, iv, pt, b"") == crypto.aes_gcm_encrypt(key, iv, pt, None)


# -- V2: VER_R2 data block -------------------------------------------------------------------


def test_v2_ver_r2_block(vectors):
    key, pt, aad32 = h(vectors, "V1.key"), h(vectors, "V1.pt"), h(vectors, "V2.aad32")
    expected = h(vectors, "V2.encryptedData(aad||ct||tag)")
    assert len(aad32) == 32
    block = envelope.ver_r2_data(aad32, crypto.aes_gcm_encrypt(key, aad32[:12], pt, aad32))
    assert block == expected

    aad, nonce, sealed = envelope.split_ver_r2_data(expected)
    assert aad == aad32 and nonce == aad32[:12]
    assert crypto.aes_gcm_decrypt(key, nonce, sealed, aad) == pt


def test_v2_needs_all_32_aad_bytes(vectors):
    key, aad32 = h(vectors, "V1.key"), h(vectors, "V2.aad32")
    _, nonce, sealed = envelope.split_ver_r2_data(h(vectors, "V2.encryptedData(aad||ct||tag)"))
    with pytest.raises(KeyManagerError):
        crypto.aes_gcm_decrypt(key, nonce, sealed, aad32[:12])


# -- V3: a whole /encrypt output ----------------------------------------------------------------


def test_v3_opens_with_primitives(vectors, test_key, v3_wire):
    parts = envelope.split(v3_wire)
    assert parts.has_version_header is True
    assert parts.thumbprint is not None
    assert hex_upper(parts.thumbprint) == vectors["V3.thumbprint"]
    assert thumbprint_hex((VECTORS_DIR / "test_cert.der").read_bytes()) == vectors["V3.thumbprint"]
    assert len(parts.encrypted_key) == 256

    session_key = crypto.rsa_oaep_decrypt(test_key, parts.encrypted_key)
    assert len(session_key) == 32
    aad, nonce, sealed = envelope.split_ver_r2_data(parts.encrypted_data)
    assert crypto.aes_gcm_decrypt(session_key, nonce, sealed, aad) == h(vectors, "V1.pt")


def test_v3_is_standard_base64url(vectors, v3_wire):
    text = vectors["V3.envelope_b64url"]
    assert "=" not in text
    assert base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)) == v3_wire


def test_v3_rsa_block_is_oaep_sha256_mgf1_sha256(test_key, v3_wire):
    parts = envelope.split(v3_wire)
    # MGF1-SHA1 (the JCE default for the transformation name) must not open it.
    sha1_mgf = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA256(), label=None)
    with pytest.raises(ValueError):
        test_key.decrypt(parts.encrypted_key, sha1_mgf)


def register_v3_key(container, test_key, ref_id: str = "V3TEST") -> None:
    hierarchy = container.hierarchy()
    master = hierarchy.current_key(KeyTuple("REGISTRATION"))
    wrapped = KeyHierarchy.wrap_private_key(master, test_key)
    certificate_pem = (VECTORS_DIR / "test_cert.pem").read_text()
    thumb = thumbprint_hex((VECTORS_DIR / "test_cert.der").read_bytes())
    alias_name = f"v3-test-key-{ref_id}"
    with container.uow_factory()() as uow:
        uow.keys.add_alias(
            KeyAlias(
                alias=alias_name,
                key_tuple=KeyTuple("REGISTRATION", ref_id),
                generated_at=datetime(2025, 1, 1, tzinfo=UTC),
                expires_at=datetime(2034, 12, 30, tzinfo=UTC),
                thumbprint=thumb,
                uni_ident=uni_ident(f"REGISTRATION_{ref_id}_{alias_name}"),
            )
        )
        uow.keys.add_stored_key(
            StoredKey(
                alias=alias_name,
                master_alias=master.alias.alias,
                private_key=wrapped,
                certificate_pem=certificate_pem,
            )
        )
        uow.commit()


def test_v3_opens_through_decrypt_use_case(container, vectors, test_key, v3_wire):
    register_v3_key(container, test_key)
    result = container.decrypt_data().execute(DecryptCommand("REGISTRATION", "V3TEST", v3_wire))
    assert result.data == h(vectors, "V1.pt")
    # A second (warm, cached) call gives the same answer.
    again = container.decrypt_data().execute(DecryptCommand("REGISTRATION", "V3TEST", v3_wire))
    assert again.data == h(vectors, "V1.pt")


def test_v3_wrapped_key_round_trips(container, test_key):
    hierarchy = container.hierarchy()
    master = hierarchy.current_key(KeyTuple("REGISTRATION"))
    stored = StoredKey("x", master.alias.alias, KeyHierarchy.wrap_private_key(master, test_key), "")
    unwrapped = hierarchy.unwrap_private_key(stored)
    assert unwrapped.private_numbers() == test_key.private_numbers()


def test_v3_other_application_is_refused(container, test_key, v3_wire):
    register_v3_key(container, test_key)
    with pytest.raises(KeyManagerError) as excinfo:
        container.decrypt_data().execute(DecryptCommand("PMS", "V3TEST", v3_wire))
    assert excinfo.value.code == "KER-KMS-024"


def test_v3_corrupted_data_is_refused(container, test_key, v3_wire):
    register_v3_key(container, test_key)
    corrupted = v3_wire[:-1] + bytes([v3_wire[-1] ^ 0x80])
    with pytest.raises(KeyManagerError):
        container.decrypt_data().execute(DecryptCommand("REGISTRATION", "V3TEST", corrupted))


def test_v3_unknown_thumbprint_is_ker_kms_025(container, v3_wire):
    # Nothing registered for the test certificate's thumbprint.
    with pytest.raises(KeyManagerError) as excinfo:
        container.decrypt_data().execute(DecryptCommand("REGISTRATION", "V3TEST", v3_wire))
    assert excinfo.value.code == "KER-KMS-025"


# -- V6: legacy detached RS256 JWS -------------------------------------------------------------


def test_v6_detached_rs256(vectors, test_key):
    def signer(data: bytes) -> bytes:
        return test_key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    jws = detached_rs256(b"test", signer)
    assert jws == vectors["V6.cryptoCoreSign_test"]
    header, payload, _ = jws.split(".")
    assert header == "eyJhbGciOiJSUzI1NiJ9"
    assert payload == ""
