"""Issue 13, "defects to fix on the way": a due Ed25519 signing key is renewed when it signs,
and a long referenceId gets a certificate (its commonName shortened to fit X.509)."""
from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from adapters.clock import ManualClock
from tests.support.http_api import (
    APP,
    ED,
    PAYLOAD,
    certificate,
    decrypt,
    encrypt,
    error,
    generate_sign_key,
    header_of,
    jwt_sign,
    post,
    public_key_from_x5c,
)

# joserfc (the service's verifier) warns that "EdDSA" is superseded by "Ed25519"; MOSIP uses "EdDSA".
pytestmark = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")

#: REGISTRATION keys last 1095 days; an Ed25519 signing key is renewed in the BASE window (30 days).
VALIDITY = timedelta(days=1095)
PRE_EXPIRE = timedelta(days=30)


def common_name(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_a_due_ed25519_signing_key_is_renewed_when_it_signs(client, clock: ManualClock) -> None:
    first = generate_sign_key(client, APP, ED)
    clock.advance(VALIDITY - PRE_EXPIRE + timedelta(days=1))  # inside its pre-expiry window, still valid

    # was KER-KMS-016 "not allowed to generate new key pair"
    token = jwt_sign(client, APP, ED, includePayload=True, includeCertificate=True)

    _, header = header_of(token)
    signed_by = public_key_from_x5c(header)
    assert signed_by != first.public_key()
    jwt.decode(token, signed_by, algorithms=["EdDSA"], options={"verify_signature": True})
    renewed = generate_sign_key(client, APP, ED)  # the renewed key is now the current one
    assert renewed.public_key() == signed_by
    assert renewed.not_valid_before_utc == clock.now().replace(microsecond=0)
    assert jwt_sign(client, APP, ED, PAYLOAD)  # and keeps signing


LONG_REF = "R" * 40 + "-" + "0123456789" * 5 + "-" + "x" * 8  # 100 characters
assert len(LONG_REF) == 100


def test_a_100_character_reference_gets_a_certificate_and_round_trips(client) -> None:
    cert = certificate(client, APP, LONG_REF)  # was KER-KMS-005 "commonName is not valid"

    name = common_name(cert)
    assert len(name.encode()) <= 64
    assert name.startswith(f"{APP}-RRRR")
    assert certificate(client, APP, LONG_REF) == cert  # one key, found again
    other = certificate(client, APP, LONG_REF[:-1] + "y")  # same prefix, another reference
    assert common_name(other) != name
    wire = encrypt(client, b"long reference", ref=LONG_REF)
    assert decrypt(client, wire, ref=LONG_REF) == b"long reference"


def test_a_short_reference_keeps_the_reference_common_name(client) -> None:
    assert common_name(certificate(client, APP, "10001_110011")) == f"{APP}-10001_110011"


def test_a_caller_supplied_common_name_that_is_too_long_is_still_refused(client) -> None:
    request = {"applicationId": "RESIDENT", "referenceId": "", "force": True, "commonName": "c" * 65}
    error(post(client, "/generateMasterKey/CERTIFICATE", request), "KER-KMS-005")


def test_fitted_common_name_counts_utf8_bytes_and_is_deterministic() -> None:
    from application.crypto.x509 import fitted_common_name

    assert fitted_common_name("A-" + "r" * 62) == "A-" + "r" * 62  # exactly 64: unchanged
    long = "A-" + "é" * 100
    assert len(fitted_common_name(long).encode()) <= 64
    assert fitted_common_name(long) == fitted_common_name(long)
    assert fitted_common_name(long) != fitted_common_name(long + "é")
    x509.NameAttribute(NameOID.COMMON_NAME, fitted_common_name(long))  # accepted by cryptography
