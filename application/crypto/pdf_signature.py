"""PDF signatures in the reference's shape (mosip-cose-pdf.md part B), made with pyHanko.

An incremental update adds a visible ``adbe.pkcs7.detached`` signature whose CMS carries the
whole certificate chain, SHA256withRSA or SHA256withECDSA. The raw signature comes from a
callable, so the private key signs where it lives (an HSM token signs inside the token).
With a user password the document is first re-saved under RC4-128 (/V 2 /R 3), as PDFBox 2
does. This module knows nothing of key management.
"""
from __future__ import annotations

import asyncio
import io
import secrets
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from asn1crypto.algos import SignedDigestAlgorithm
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.crypt import AuthStatus, StandardSecurityHandler, StandardSecuritySettingsRevision
from pyhanko.pdf_utils.crypt.permissions import StandardPermissions
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from application.crypto.pdf_appearance import SignatureLines
from application.ports.keystore import SignatureScheme

with warnings.catch_warnings():
    # pyhanko.sign imports cryptography's deprecated DSA key class (it can verify DSA signatures).
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError

#: Signs bytes with the key, in the given scheme (ECDSA signatures DER-encoded, as CMS wants them).
RawSigner = Callable[[bytes, SignatureScheme], bytes]
#: PDFBox's StandardProtectionPolicy as the reference sets it: everything but assembling.
PERMISSIONS = StandardPermissions.allow_everything() & ~StandardPermissions.ALLOW_REASSEMBLY


class PdfSigningError(Exception):
    """The document cannot be signed; the message is short, fixed text, safe to show the caller."""


@dataclass(frozen=True)
class PdfSignOptions:
    reason: str
    signer_name: str  # the signer certificate's CN: /Name and the appearance
    signed_at: datetime  # shown in the appearance
    page: int = 0  # 0-based; clamped to the document's pages
    lower_left_x: int = 0
    lower_left_y: int = 0
    width: int = 0  # the reference's "upperRightX" acts as the width
    height: int = 0  # and "upperRightY" as the height
    user_password: str | None = None  # non-blank: protect the document with it
    owner_password: str | None = None  # None: a random one for each document

    @property
    def protect(self) -> bool:
        return bool(self.user_password and self.user_password.strip())


def sign_pdf(pdf: bytes, sign: RawSigner, chain: Sequence[x509.Certificate], options: PdfSignOptions) -> bytes:
    """``pdf`` with one more revision holding the signature; ``chain`` starts with the signer's
    certificate. Raises PdfSigningError for a document (or key type) that cannot be signed;
    an error of ``sign`` itself propagates unchanged."""
    _off_the_event_loop()
    signer = _KeySigner(sign, chain)
    try:
        if options.protect:
            pdf = _protected(pdf, options)
        writer = _open(pdf, options.user_password if options.protect else "")
        field_name = _free_field_name(writer)
        output = signers.PdfSigner(
            signers.PdfSignatureMetadata(
                field_name=field_name,
                md_algorithm="sha256",
                subfilter=fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
                reason=options.reason,
                name=options.signer_name or None,
            ),
            signer=signer,
            stamp_style=SignatureLines(lines=_appearance_lines(options)),
            new_field_spec=fields.SigFieldSpec(
                sig_field_name=field_name,
                on_page=_page_index(writer, options.page),
                box=_box(options),
            ),
        ).sign_pdf(writer)
    except PdfSigningError:
        raise
    except Exception:
        if signer.failure is not None:  # the key failed (an HSM error, a missing key): not the PDF
            raise signer.failure from None
        # A parser of untrusted input fails in many ways (pyHanko's own errors, but also
        # ValueError, KeyError, RecursionError ...): none of their text reaches the caller.
        raise PdfSigningError("the document could not be read or signed") from None
    return bytes(output.getbuffer())


def _off_the_event_loop() -> None:
    """pyHanko runs its own asyncio loop, which cannot start on a thread whose loop is running: a
    programming error (the view must be declared blocking), not the caller's document."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError("sign_pdf must run off the event loop (declare the view blocking)")


class _KeySigner(signers.Signer):
    """pyHanko's Signer over a raw signing callable: the private key never comes here."""

    def __init__(self, sign: RawSigner, chain: Sequence[x509.Certificate]) -> None:
        public_key = chain[0].public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            mechanism, self.scheme = "sha256_rsa", SignatureScheme.RSA_PKCS1_SHA256
            self.size = public_key.key_size // 8
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            mechanism, self.scheme = "sha256_ecdsa", SignatureScheme.ECDSA_SHA256
            self.size = 2 * ((public_key.key_size + 7) // 8 + 1) + 6  # the longest DER ECDSA-Sig-Value
        else:  # the reference signs with SHA256withECDSA, which an Ed25519 key cannot do
            raise PdfSigningError("the key type cannot sign PDF documents")
        certificates = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in chain]
        super().__init__(
            signing_cert=certificates[0],
            cert_registry=SimpleCertificateStore.from_certs(certificates),
            signature_mechanism=SignedDigestAlgorithm({"algorithm": mechanism}),
            embed_roots=True,
        )
        self.sign = sign
        self.failure: BaseException | None = None

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != "sha256":
            raise SigningError("only SHA-256 is offered")
        if dry_run:  # pyHanko sizes /Contents with a trial CMS: no need to use the key for it
            return bytes(self.size)
        try:
            return self.sign(data, self.scheme)
        except BaseException as error:
            self.failure = error
            raise


def _open(pdf: bytes, password: str | None) -> IncrementalPdfFileWriter:
    """The document ready for an incremental update. An encrypted one must open with the given
    password, or with the empty one when none is given (as PDFBox loads it)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    if writer.prev.encrypted and writer.encrypt(password or "").status == AuthStatus.FAILED:
        raise PdfSigningError("the document is encrypted and the password does not open it")
    return writer


def _protected(pdf: bytes, options: PdfSignOptions) -> bytes:
    """The document fully re-saved under RC4-128 with the user password (PDFBox 2's default
    protection); the signature then goes on top as an incremental update."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    if reader.encrypted:  # as in the reference: an encrypted input cannot be protected again
        raise PdfSigningError("the document is already encrypted")
    writer = copy_into_new_writer(reader)
    handler = StandardSecurityHandler.build_from_pw_legacy(
        StandardSecuritySettingsRevision.RC4_EXTENDED,
        writer.document_id[0],
        desired_owner_pass=_password(options.owner_password or secrets.token_urlsafe(24), "owner"),
        desired_user_pass=_password(options.user_password or "", "user"),
        keylen_bytes=16,
        use_aes128=False,
        perms=PERMISSIONS,
    )
    # pyHanko keeps legacy encryption of new documents off its public API on purpose; this is
    # its own hook for it (the tests check the resulting /V 2 /R 3 dictionary).
    writer._assign_security_handler(handler)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _password(text: str, kind: str) -> bytes:
    """Legacy PDF passwords are PDFDocEncoding bytes (only the first 32 count)."""
    try:
        return generic.encode_pdfdocencoding(text)
    except UnicodeEncodeError:
        raise PdfSigningError(f"the {kind} password has characters a PDF password cannot hold") from None


def _page_count(writer: IncrementalPdfFileWriter) -> int:
    return int(writer.root["/Pages"]["/Count"])


def _page_index(writer: IncrementalPdfFileWriter, page: int) -> int:
    count = _page_count(writer)
    if count < 1:
        raise PdfSigningError("the document has no pages")
    return min(max(page, 0), count - 1)


def _free_field_name(writer: IncrementalPdfFileWriter) -> str:
    taken = {name for name, _, _ in fields.enumerate_sig_fields(writer.prev, filled_status=None)}
    return next(f"Signature{n}" for n in range(1, len(taken) + 2) if f"Signature{n}" not in taken)


def _box(options: PdfSignOptions) -> tuple[int, int, int, int]:
    x, y = options.lower_left_x, options.lower_left_y
    return x, y, x + options.width, y + options.height


def _appearance_lines(options: PdfSignOptions) -> tuple[str, ...]:
    return (
        f"Digitally signed {options.signer_name}",
        f"Date: {options.signed_at.strftime('%Y.%m.%d %H:%M:%S %Z')}",
        f"Reason:{options.reason}",
    )
