"""application/crypto/pdf_signature.py and pdf_appearance.py on their own: the raw signer's
errors, the key types, the appearance's line wrapping and text encoding."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.x509.oid import NameOID

from application.crypto.pdf_appearance import text_operators, wrap
from application.crypto.pdf_signature import PdfSigningError, PdfSignOptions, sign_pdf
from application.ports.keystore import SignatureScheme
from domain.errors import KeystoreUnavailableError
from tests.support.pdf import last_signature, minimal_pdf

NOW = datetime(2026, 2, 1, 10, 11, 12, tzinfo=UTC)
OPTIONS = PdfSignOptions(reason="test", signer_name="unit", signed_at=NOW, width=200, height=60)


def self_signed(key) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unit")])
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
        .sign(key, algorithm)
    )


def test_an_error_of_the_key_is_not_a_pdf_error(rsa_keys) -> None:
    """A keystore failure keeps its own error (HTTP 503 there), not KER-PDG-001."""
    certificate = self_signed(rsa_keys())

    def unavailable(data: bytes, scheme: SignatureScheme) -> bytes:
        raise KeystoreUnavailableError()

    with pytest.raises(KeystoreUnavailableError):
        sign_pdf(minimal_pdf(1), unavailable, [certificate], OPTIONS)


def test_schemes_asked_of_the_key(rsa_keys) -> None:
    rsa_key, ec_key = rsa_keys(), ec.generate_private_key(ec.SECP256R1())
    asked = []

    def rsa_sign(data: bytes, scheme: SignatureScheme) -> bytes:
        asked.append(scheme)
        return rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def ec_sign(data: bytes, scheme: SignatureScheme) -> bytes:
        asked.append(scheme)
        return ec_key.sign(data, ec.ECDSA(hashes.SHA256()))

    sign_pdf(minimal_pdf(1), rsa_sign, [self_signed(rsa_key)], OPTIONS)
    signed = sign_pdf(minimal_pdf(1), ec_sign, [self_signed(ec_key)], OPTIONS)
    # once each: the size of /Contents is estimated without the key
    assert asked == [SignatureScheme.RSA_PKCS1_SHA256, SignatureScheme.ECDSA_SHA256]
    (signer_info,) = last_signature(signed).cms["content"]["signer_infos"]
    assert signer_info["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"


def test_ed25519_keys_are_refused_before_signing() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    used = []
    with pytest.raises(PdfSigningError, match="the key type cannot sign PDF documents"):
        sign_pdf(minimal_pdf(1), lambda data, scheme: used.append(data) or b"", [self_signed(key)], OPTIONS)
    assert used == []


def test_error_text_is_fixed(rsa_keys) -> None:
    """Nothing of the parser's exception (which may quote the document) reaches the message."""
    certificate = self_signed(rsa_keys())
    with pytest.raises(PdfSigningError) as raised:
        sign_pdf(b"%PDF-1.7\nsecret content (quoted?)", lambda d, s: b"", [certificate], OPTIONS)
    assert str(raised.value) == "the document could not be read or signed"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [("", 100, [""]),
     ("short", 100, ["short"]),
     ("Digitally signed www.mosip.io", 100, ["Digitally signed", "www.mosip.io"]),  # 6 pt a character
     ("a_b-c d", 24, ["a_b-", "c d"]),
     ("unbreakable-", 6, ["unbreakable", "-"]),
     ("x  y", 6, ["x", "y"])],
)
def test_wrap(text, width, lines) -> None:
    assert wrap(text, width) == lines


def test_text_operators_escape_and_encode() -> None:
    operators = text_operators(["a (b) \\ c", "café Ωmega", "tab\there"], 60)
    assert operators == (b"BT /F1 10 Tf 12 TL 5 43 Td (a \\(b\\) \\\\ c) Tj T* (caf\xe9 ?mega) Tj T* (tab here) Tj ET")


def test_refuses_to_run_on_an_event_loop(rsa_keys) -> None:
    """Not KER-PDG-001: a view that forgot `blocking` is a programming error, loudly."""
    certificate = self_signed(rsa_keys())

    async def on_the_loop() -> bytes:
        return sign_pdf(minimal_pdf(1), lambda d, s: b"", [certificate], OPTIONS)

    with pytest.raises(RuntimeError, match="off the event loop"):
        asyncio.run(on_the_loop())
