"""The TPMT_PUBLIC parser (application/crypto/tpm.py) against structures packed here from the TPM 2.0
layout (mosip-crypto.md §10.1) and the public key the reference's own client-crypto test uses."""
from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives import serialization

from application.crypto.tpm import TpmFormatError, parse_rsa_public

RSA, ECC, KEYEDHASH = 0x0001, 0x0023, 0x0008
SHA1, SHA256, NULL = 0x0004, 0x000B, 0x0010
RSASSA, RSAES, OAEP = 0x0014, 0x0015, 0x0017
AES, CFB = 0x0006, 0x0043
SIGN_ATTRIBUTES = 0x00040072  # fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|sign

#: The TPMT_PUBLIC of ClientCryptoControllerTest (mosip/keymanager): MOSIP's encryption template,
#: nameAlg SHA-256, decrypt, the standard EK policy, OAEP-SHA-256, 2048 bits, exponent 65537.
REFERENCE_TPM_KEY = (
    "AAEACwACAHIAIINxl2dEhLP4GpDMjUal1yT9UtduBlILZPKh2hszFGmqABAAFwALCAAAAQABAQDiSa/AdVmDrj+ypFywexe/eSaSsrIoO5Ns0j"
    "p7niMu4hiFIwsFT7yWx2aQUQcdX5OjyXjv/XJctGxFcphLXke5fwAoW6BsbeM//1Mlhq9YvdMKlwMjhKcd+7MHHAXPUKGVmMjIJe6kWwUWh7Fa"
    "Zyu5hDymM5MJyYZRxz5fRos/N9ykiBxjWKZK06ZpIYI6Tj9rUNZ6HAdbJH2RmBHuO0knpbXdB+lnnVhvArAt3KWoyH3YzodHeOLJRe/Y8a+p8z"
    "RZb5h1tqlcLgshpNAqb+WJgyq2xDb0RJwzuyjjHPmJrDqlBMXHestz+ADRwXQL44iVb84LcuMbQTQ1hGcawtBj"
)
MODULUS = bytes(range(1, 256)) + b"\x01"  # 256 bytes, odd


def tpmt_public(
    *,
    key_type: int = RSA,
    name_alg: int = SHA256,
    attributes: int = SIGN_ATTRIBUTES,
    policy: bytes = b"",
    symmetric: bytes = struct.pack(">H", NULL),
    scheme: bytes = struct.pack(">HH", RSASSA, SHA256),
    key_bits: int = 2048,
    exponent: int = 0,
    modulus: bytes = MODULUS,
) -> bytes:
    return (
        struct.pack(">HHI", key_type, name_alg, attributes)
        + struct.pack(">H", len(policy)) + policy
        + symmetric + scheme
        + struct.pack(">HI", key_bits, exponent)
        + struct.pack(">H", len(modulus)) + modulus
    )


def test_a_signing_key_as_tpm2_tools_writes_it() -> None:
    parsed = parse_rsa_public(tpmt_public())
    assert (parsed.name_alg, parsed.object_attributes) == (SHA256, SIGN_ATTRIBUTES)
    assert (parsed.scheme, parsed.scheme_hash, parsed.key_bits) == (RSASSA, SHA256, 2048)
    assert parsed.modulus == MODULUS
    assert parsed.exponent == 65537  # the field says 0: the default exponent


@pytest.mark.parametrize("field, expected", [(0, 65537), (65537, 65537), (3, 3)])
def test_exponent_zero_means_65537_and_others_are_kept(field: int, expected: int) -> None:
    assert parse_rsa_public(tpmt_public(exponent=field)).exponent == expected


def test_the_reference_tests_encryption_key() -> None:
    parsed = parse_rsa_public(base64.b64decode(REFERENCE_TPM_KEY))
    assert (parsed.name_alg, parsed.object_attributes) == (SHA256, 0x00020072)
    assert (parsed.scheme, parsed.scheme_hash, parsed.key_bits, parsed.exponent) == (OAEP, SHA256, 2048, 65537)
    assert len(parsed.modulus) == 256 and parsed.modulus[0] == 0xE2


def test_storage_parent_with_symmetric_definition_and_schemes_without_hash() -> None:
    parent = tpmt_public(symmetric=struct.pack(">HHH", AES, 128, CFB), scheme=struct.pack(">H", NULL))
    assert parse_rsa_public(parent).scheme == NULL
    rsaes = parse_rsa_public(tpmt_public(scheme=struct.pack(">H", RSAES), name_alg=SHA1))
    assert (rsaes.scheme, rsaes.scheme_hash, rsaes.name_alg) == (RSAES, None, SHA1)


def test_a_policy_digest_is_skipped() -> None:
    assert parse_rsa_public(tpmt_public(policy=bytes(32))).modulus == MODULUS


def test_cut_short_at_every_length_is_a_clean_error() -> None:
    whole = tpmt_public(policy=bytes(32), symmetric=struct.pack(">HHH", AES, 128, CFB))
    for length in range(len(whole)):
        with pytest.raises(TpmFormatError):
            parse_rsa_public(whole[:length])
    assert parse_rsa_public(whole).modulus == MODULUS


def test_stray_bytes_after_the_structure() -> None:
    with pytest.raises(TpmFormatError, match="stray"):
        parse_rsa_public(tpmt_public() + b"\x00")


@pytest.mark.parametrize("key_type", [ECC, KEYEDHASH, 0x0025, 0x3082])
def test_other_key_types_are_refused(key_type: int) -> None:
    with pytest.raises(TpmFormatError, match="not an RSA"):
        parse_rsa_public(tpmt_public(key_type=key_type))


def test_unknown_scheme_and_a_modulus_not_matching_key_bits() -> None:
    with pytest.raises(TpmFormatError, match="scheme"):
        parse_rsa_public(tpmt_public(scheme=struct.pack(">HH", 0x0018, SHA256)))  # ECDSA
    with pytest.raises(TpmFormatError, match="modulus"):
        parse_rsa_public(tpmt_public(key_bits=1024))
    with pytest.raises(TpmFormatError, match="modulus"):
        parse_rsa_public(tpmt_public(modulus=b""))


def test_spki_and_size_prefixed_tpm2b_public_are_not_tpmt_public(rsa_keys) -> None:
    spki = rsa_keys().public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(TpmFormatError):
        parse_rsa_public(spki)
    whole = tpmt_public()
    with pytest.raises(TpmFormatError):
        parse_rsa_public(struct.pack(">H", len(whole)) + whole)
    with pytest.raises(TpmFormatError):
        parse_rsa_public(b"")
