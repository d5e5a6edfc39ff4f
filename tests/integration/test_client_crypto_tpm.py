"""Client crypto against a real (software) TPM: keys made and used inside swtpm with tpm2-tools, their
public areas sent to the service as a TPM client sends them (mosip-crypto.md §10.1).

* A TPM signing key signs (TPM2_Sign, RSASSA-SHA256); /csverifysign accepts it with the key's
  TPMT_PUBLIC and refuses tampered data or signatures.
* /tpmencrypt to a TPM decryption key's TPMT_PUBLIC: the wrapped AES key opens inside the TPM
  (TPM2_RSA_Decrypt, OAEP, label "" as TSS.Java's NUL-terminated empty label), and the test
  finishes AES-GCM itself.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.support.http_api import b64url, b64url_decode, ok, post
from tests.support.required import missing_backend
from tests.support.tpm import SoftwareTpm, ensure_tools, running_tpm

pytestmark = pytest.mark.slow  # a swtpm process per test

DATA = b'{"machine":"registration-client","seq":7}' + bytes(range(200))
DECRYPT_ATTRIBUTES = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt"


@pytest.fixture
def tpm(tmp_path: Path) -> Iterator[SoftwareTpm]:
    if not ensure_tools():
        missing_backend("swtpm and tpm2-tools")
    with running_tpm(tmp_path / "tpm") as software_tpm:
        yield software_tpm


def exponent_field(tpmt_public: bytes) -> int:
    """The raw exponent of an RSA TPMT_PUBLIC without policy and symmetric definition, scheme with hash."""
    return struct.unpack(">I", tpmt_public[18:22])[0]


def verified(client, data: bytes, signature: bytes, public_area: bytes, **extra) -> bool:
    request = {"data": b64url(data), "signature": b64url(signature), "publicKey": b64url(public_area), **extra}
    return ok(post(client, "/csverifysign", request))["verified"]


def test_a_tpm_signature_verifies_with_the_keys_tpmt_public(client, tpm: SoftwareTpm) -> None:
    context, public_area = tpm.create_key("signing", "rsa2048:rsassa-sha256:null")
    assert public_area[:2] == b"\x00\x01" and exponent_field(public_area) == 0  # tpm2-tools writes 0 for 65537
    signature = tpm.sign(context, DATA)
    assert len(signature) == 256

    assert verified(client, DATA, signature, public_area) is True
    assert verified(client, DATA, signature, public_area, clientType="ANDROID", tpm=True) is True  # detected anyway
    assert verified(client, DATA + b".", signature, public_area) is False
    assert verified(client, DATA, signature[:-1] + bytes([signature[-1] ^ 1]), public_area) is False
    other_context, _ = tpm.create_key("other", "rsa2048:rsassa-sha256:null")
    assert verified(client, DATA, tpm.sign(other_context, DATA), public_area) is False


def test_tpmencrypt_opens_inside_the_tpm(client, tpm: SoftwareTpm) -> None:
    context, public_area = tpm.create_key("encryption", "rsa2048:oaep-sha256:null", DECRYPT_ATTRIBUTES)
    wire = b64url_decode(ok(post(client, "/tpmencrypt", {"value": b64url(DATA), "publicKey": b64url(public_area)}))
                         ["value"])
    wrapped, iv, aad, sealed = wire[:256], wire[256:268], wire[268:300], wire[300:]
    secret = tpm.rsa_decrypt(context, wrapped, label="")
    assert len(secret) == 32
    assert AESGCM(secret).decrypt(iv, sealed, aad) == DATA
