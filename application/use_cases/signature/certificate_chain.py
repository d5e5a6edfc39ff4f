"""The chain ``includeCertificateChain`` puts into a JWS (``x5c``, jwtSign/v2 and jwsSign/v2) or a
COSE header (label 33, coseSign1 and cwtSign): one rule for both (mosip-api.md §4.9,
mosip-cose-pdf.md A.4).

1. The path over our own keys up to one of our ROOT certificates, when there is one.
2. Else (the key, or a key above it, was certified by an outside CA: /generateCSR then
   /uploadCertificate) a path from the key to an anchor of the trust domain's CA certificates
   (``mosip.kernel.partner.trust.validate.domain.name``, TRUST_CA, filled by /uploadCACertificate),
   built and validated now by the partner trust store's verifier (ADR 0012). Our own certificates
   between the key and the outside CA may serve as intermediates (the reference offers the domain's
   intermediates only, so a key below a master key certified outside gets the leaf alone there).
3. Else the signing certificate alone.
"""
from __future__ import annotations

from cryptography import x509

from application.keys.hierarchy import KeyHierarchy
from application.keys.signing import SigningKey
from application.keys.trust_path import own_trust_path_to_root
from application.partner_trust.store import PartnerTrustStore, build_path
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory


class CertificateChains:
    def __init__(
        self,
        hierarchy: KeyHierarchy,
        uow_factory: UnitOfWorkFactory,
        trust_store: PartnerTrustStore,
        clock: Clock,
        trust_domain: str,
    ) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.trust_store = trust_store
        self.clock = clock
        self.trust_domain = (trust_domain or "").strip().upper()

    def of(self, signing: SigningKey) -> list[x509.Certificate]:
        """Leaf first, the anchor last."""
        leaf = signing.key.certificate
        app_id = signing.key_tuple.app_id
        with self.uow_factory() as uow:
            own, to_root = own_trust_path_to_root(self.hierarchy, uow.keys, app_id, leaf)
            if to_root:
                return own
            # A domain that is not configured has no rows: no path, as in the reference.
            cas = self.trust_store.cas(uow.trust, self.trust_domain) if self.trust_domain else []
        return build_path(leaf, cas, self.clock.now(), own[1:]) or [leaf]
