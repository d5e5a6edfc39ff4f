from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import NameOID

from application.keys.hierarchy import KeyHierarchy
from application.keys.signing import SigningKeys
from application.keys.trust_path import own_trust_path
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import Errors, KeyManagerError


@dataclass(frozen=True)
class PdfSignCommand:
    app_id: str
    ref_id: str | None
    pdf: bytes = field(repr=False)
    reason: str
    page_number: int = 0
    lower_left_x: int = 0
    lower_left_y: int = 0
    upper_right_x: int = 0  # the reference uses it as the box's width
    upper_right_y: int = 0  # and this as its height
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PdfSignResult:
    signed_pdf: bytes = field(repr=False)


class SignPdf:
    """pdf/sign: a visible adbe.pkcs7.detached signature by the key of (app, ref), added to the
    document as an incremental update; with a password, the document is protected first.

    Like the reference, no access_allowed check (check_access=False). Deliberate fixes: a null
    referenceId means the application's master key (the reference answers HTTP 500), a document
    that cannot be signed is KER-PDG-001 in an HTTP 200 envelope (HTTP 500 there), and the
    signing certificate must be valid now (KER-KMA-005), as on the other signing endpoints.
    """

    def __init__(
        self,
        signing_keys: SigningKeys,
        hierarchy: KeyHierarchy,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        owner_password: str | None = None,
    ) -> None:
        self.signing_keys = signing_keys
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock
        self.owner_password = owner_password

    def execute(self, command: PdfSignCommand) -> PdfSignResult:
        # Imported on first use: pyHanko adds about 0.2 s to every process's start-up otherwise.
        from application.crypto import pdf_signature

        signing = self.signing_keys.for_signing(command.app_id, command.ref_id or "", check_access=False)
        certificate = signing.key.certificate
        with self.uow_factory() as uow:
            chain = own_trust_path(self.hierarchy, uow.keys, signing.key_tuple.app_id, certificate)
        options = pdf_signature.PdfSignOptions(
            reason=command.reason,
            signer_name=common_name(certificate),
            signed_at=self.clock.now(),
            page=command.page_number,
            lower_left_x=command.lower_left_x,
            lower_left_y=command.lower_left_y,
            width=command.upper_right_x,
            height=command.upper_right_y,
            user_password=command.password,
            owner_password=self.owner_password,
        )
        try:
            return PdfSignResult(pdf_signature.sign_pdf(command.pdf, signing.sign, chain, options))
        except pdf_signature.PdfSigningError as error:
            raise KeyManagerError(Errors.PDF_SIGNING, str(error)) from None


def common_name(certificate: x509.Certificate) -> str:
    """The subject's first CN, RFC 4514-escaped as the reference prints it; "" when there is none."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].rfc4514_string().partition("=")[2] if names else ""
