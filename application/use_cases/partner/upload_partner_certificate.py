from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509

from application.crypto.x509 import Subject, certificate_pem, issue_certificate, pkcs7_der
from application.keys.hierarchy import KeyHierarchy
from application.keys.signing import SigningKey, SigningKeys
from application.partner_trust.ca_certificates import add_ca_certificates, check_dates, issuer_row, lock_domain
from application.partner_trust.certificate_facts import (
    dn_string,
    is_self_signed,
    organization_of,
    parse_partner_certificate,
    path_refusal,
    rsa_key_too_small,
    sha1_thumbprint,
    sha2_signature,
)
from application.partner_trust.store import PartnerTrustStore, build_path
from application.ports.clock import Clock
from application.ports.keystore import SignatureScheme
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.codec import b64url_encode
from domain.errors import Errors, KeyManagerError
from domain.keys import ROOT, KeyTuple
from domain.partner_trust import AUTH_DOMAIN, FTM_DOMAIN, PartnerCertificateRecord, PartnerTrustPolicy, partner_domain


@dataclass(frozen=True)
class UploadPartnerCertificateCommand:
    certificate_data: str
    organization_name: str
    partner_domain: str
    caller: str | None = None


@dataclass(frozen=True)
class UploadPartnerCertificateResult:
    certificate_id: str
    signed_certificate_data: str  # URL-safe base64 (no padding) of the DER p7b
    timestamp: datetime


class UploadPartnerCertificate:
    """uploadPartnerCertificate: check the partner's certificate against the domain's trust
    store, re-issue it under our PMS key, keep both, answer the chain as a p7b and add that
    chain to the domain's trust store, as the reference does.

    The certificate's own properties (version, organisation, key size, signature algorithm)
    are checked before its path: the verifier refuses weak keys and SHA-1 itself, and the
    caller should hear the specific reason, not "no path"."""

    def __init__(
        self,
        signing_keys: SigningKeys,
        hierarchy: KeyHierarchy,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        trust_store: PartnerTrustStore,
        policy: PartnerTrustPolicy,
    ) -> None:
        self.signing_keys = signing_keys
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock
        self.trust_store = trust_store
        self.policy = policy

    def execute(self, command: UploadPartnerCertificateCommand) -> UploadPartnerCertificateResult:
        certificate = parse_partner_certificate(command.certificate_data)
        domain = partner_domain(command.partner_domain, self.policy.domains)
        now = self.clock.now()
        self._check(certificate, command.organization_name, now)
        signing = self._pms_key(command.caller)
        root = self.hierarchy.current_key(KeyTuple(ROOT)).certificate
        with self.uow_factory() as uow:
            lock_domain(uow, domain)
            cas = self.trust_store.cas(uow.trust, domain)
            path = build_path(certificate, cas, now)
            if path is None:
                raise KeyManagerError(Errors.TRUST_PATH_NOT_FOUND)
            reissued = self._reissue(certificate, signing, domain, now)
            record = PartnerCertificateRecord(
                cert_id=str(uuid.uuid4()),
                subject=dn_string(certificate.subject),
                issuer=dn_string(certificate.issuer),
                issuer_id=issuer_row(path, cas),
                not_before=certificate.not_valid_before_utc,
                not_after=certificate.not_valid_after_utc,
                domain=domain,
                certificate_pem=certificate_pem(certificate),
                signed_certificate_pem=certificate_pem(reissued),
                organization=command.organization_name,
                thumbprint=sha1_thumbprint(certificate),
                serial_number=str(certificate.serial_number),
                created_at=now,
            )
            uow.trust.add_partner(record)
            if domain == FTM_DOMAIN and not self.policy.resign_ftm_domain_certs:
                chain = path  # FTM partners get their own trust path back
            else:
                chain = [reissued, signing.key.certificate, root]
            # As the reference: the answered chain joins the domain's trust store (root first);
            # certificates it already holds, or that fail the CA rules, are skipped silently.
            add_ca_certificates(uow, cas, domain, list(reversed(chain)), now, self.policy, bundle=True)
            uow.commit()
        self.trust_store.invalidate(domain)
        return UploadPartnerCertificateResult(record.cert_id, b64url_encode(pkcs7_der(chain)), now)

    def _check(self, certificate: x509.Certificate, organization: str, now: datetime) -> None:
        check_dates(certificate, now)
        remaining_days = (certificate.not_valid_after_utc - now).days
        if remaining_days < self.policy.partner_minimum_days:
            raise KeyManagerError(Errors.PARTNER_VALIDITY_TOO_SHORT)
        if is_self_signed(certificate):
            raise KeyManagerError(Errors.SELF_SIGNED_PARTNER)
        if certificate.version != x509.Version.v3:
            raise KeyManagerError(Errors.CERTIFICATE_VERSION)
        if (refusal := path_refusal(certificate, as_anchor=False)) is not None:
            raise KeyManagerError(Errors.INVALID_CERTIFICATE_UPLOADED, refusal)
        subject_organization = organization_of(certificate)
        if not subject_organization or subject_organization != organization:
            raise KeyManagerError(Errors.ORGANIZATION_MISMATCH)
        if rsa_key_too_small(certificate):
            raise KeyManagerError(Errors.PARTNER_KEY_SIZE)
        if not sha2_signature(certificate):
            raise KeyManagerError(Errors.PARTNER_SIGNATURE_ALGORITHM)

    def _pms_key(self, caller: str | None) -> SigningKey:
        try:
            return self.signing_keys.for_signing(self.policy.sign_app_id, "", caller=caller)
        except KeyManagerError as error:
            if error.error is Errors.SIGNING_NOT_ALLOWED_FOR_TOKEN:
                raise KeyManagerError(Errors.PARTNER_SIGN_NOT_ALLOWED) from None
            raise

    def _reissue(
        self, certificate: x509.Certificate, signing: SigningKey, domain: str, now: datetime
    ) -> x509.Certificate:
        """The partner's subject and public key, issued by PMS: a CA (the chain joins the trust
        store), keyEncipherment too for AUTH partners, valid for the configured years."""
        return issue_certificate(
            public_key=certificate.public_key(),
            subject=Subject.from_name(certificate.subject).to_name(),
            issuer=signing.key.certificate.subject,
            not_before=now,
            not_after=now + timedelta(days=365 * self.policy.certificate_duration_years),
            certificate_authority=True,
            path_length=None,
            signer=lambda data: signing.sign(data, SignatureScheme.RSA_PKCS1_SHA256),
            key_encipherment=domain == AUTH_DOMAIN,
        )
