"""Every key of every (application id, reference id) with its kind, status and certificate facts.

Read-only: never creates a key and never writes. A key whose certificate cannot be read (a keystore
entry gone missing) is listed without certificate facts rather than failing the whole list.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from application.crypto.x509 import certificate_der, certificate_pem, load_der, parse_pem_certificate
from application.keys.hierarchy import KeyHierarchy
from application.ports.clock import Clock
from application.ports.key_repository import KeyRepository
from application.ports.keystore import Keystore, KeystoreError
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.current_key import by_tuple, pre_expire_days
from domain.errors import Errors, KeyManagerError
from domain.identifiers import key_id, thumbprint_hex
from domain.key_inventory import key_kind, key_status, pre_expiry_start
from domain.keys import KeyAlias, StoredKey

#: Where a key held in the keystore is, by keystore type (the setting KEYMANAGER_KEYSTORE).
KEYSTORE_LOCATIONS = {"pkcs11": "token", "pkcs12": "file", "memory": "memory"}


@dataclass(frozen=True)
class KeyQuery:
    app_id: str | None = None
    ref_id: str | None = None
    status: str | None = None
    search: str | None = None  # case-insensitive, in alias, ids, kind, algorithm, subject, thumbprint


@dataclass(frozen=True)
class KeyEntry:
    alias: str
    app_id: str
    ref_id: str
    kind: str
    algorithm: str
    status: str
    issued: datetime
    expires: datetime
    pre_expiry_start: datetime
    location: str
    thumbprint: str | None  # SHA-256 of the certificate DER, upper-case hex (as key_alias.cert_thumbprint)
    subject: str | None
    issuer: str | None
    key_id: str | None
    superseded: bool  # a newer key of the same tuple exists

    def matches(self, query: KeyQuery) -> bool:
        if query.app_id is not None and self.app_id.lower() != query.app_id.lower():
            return False
        if query.ref_id is not None and self.ref_id.lower() != query.ref_id.lower():
            return False
        if query.status is not None and self.status != query.status:
            return False
        if query.search:
            needle = query.search.lower()
            haystack = (self.alias, self.app_id, self.ref_id, self.kind, self.algorithm, self.subject or "",
                        self.thumbprint or "", self.key_id or "")
            return any(needle in text.lower() for text in haystack)
        return True


@dataclass(frozen=True)
class CertificateDetails:
    alias: str
    app_id: str
    ref_id: str
    certificate_pem: str
    subject: str
    issuer: str
    serial: str  # hex
    not_before: datetime
    not_after: datetime
    key_usage: tuple[str, ...]
    basic_constraints: str | None
    signature_algorithm: str
    public_key: str
    thumbprint: str


def algorithm_of(certificate: x509.Certificate | None) -> str:
    if certificate is None:
        return "AES_256"
    public = certificate.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        return f"RSA_{public.key_size}"
    if isinstance(public, ec.EllipticCurvePublicKey):
        return {"secp256r1": "EC_P256", "secp256k1": "EC_SECP256K1"}.get(public.curve.name, f"EC_{public.curve.name}")
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "ED25519"
    name = type(public).__name__.lstrip("_")  # e.g. MLDSA65PublicKey (post-quantum signing keys)
    if name.startswith("MLDSA") and name.endswith("PublicKey"):
        return f"ML_DSA_{name[5:-9]}"
    return name.removesuffix("PublicKey").upper()


def _utc(instant: datetime) -> datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


class KeyInventory:
    def __init__(self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, keystore: Keystore, clock: Clock,
                 keystore_type: str) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.keystore = keystore
        self.clock = clock
        self.keystore_location = KEYSTORE_LOCATIONS.get(keystore_type, keystore_type)

    def execute(self, query: KeyQuery = KeyQuery()) -> list[KeyEntry]:
        at = self.clock.now()
        entries: list[KeyEntry] = []
        with self.uow_factory() as uow:
            keys = uow.keys
            for key_tuple, rows in by_tuple(keys.all_aliases()).items():
                window = pre_expire_days(key_tuple, keys.policy)  # the store's rows: this view is not cached
                for index, alias in enumerate(rows):
                    entry = self._entry(keys, alias, at, window, superseded=index < len(rows) - 1)
                    if entry.matches(query):
                        entries.append(entry)
        return entries

    def certificate(self, alias_name: str) -> CertificateDetails:
        """The certificate of one key (KER-KMS-003-like NO_SUCH_ALIAS when there is no such key or it has none)."""
        with self.uow_factory() as uow:
            alias = next((a for a in uow.keys.all_aliases() if a.alias == alias_name), None)
            if alias is None:
                raise KeyManagerError(Errors.NO_SUCH_ALIAS)
            certificate, _ = self._certificate(uow.keys, alias)
        if certificate is None:
            raise KeyManagerError(Errors.NO_SUCH_ALIAS)
        return details(alias, certificate)

    # -- one key ------------------------------------------------------------------------------

    def _certificate(self, keys: KeyRepository, alias: KeyAlias) -> tuple[x509.Certificate | None, StoredKey | None]:
        stored = keys.stored_key(alias.alias)
        try:
            if stored is not None:
                return parse_pem_certificate(stored.certificate_pem), stored
            der = self.keystore.certificate(alias.alias)
        except (KeyManagerError, KeystoreError, ValueError):
            return None, stored
        return (load_der(der) if der is not None else None), None

    def _entry(self, keys: KeyRepository, alias: KeyAlias, at: datetime, window: int, *, superseded: bool
               ) -> KeyEntry:
        certificate, stored = self._certificate(keys, alias)
        not_after = _utc(certificate.not_valid_after_utc) if certificate is not None else None
        return KeyEntry(
            alias=alias.alias,
            app_id=alias.app_id,
            ref_id=alias.ref_id,
            kind=key_kind(alias.key_tuple, has_certificate=certificate is not None or alias.thumbprint is not None,
                          other_domain=stored is not None and stored.is_other_domain),
            algorithm=algorithm_of(certificate),
            status=key_status(alias, at, window, not_after),
            issued=alias.generated_at,
            expires=alias.expires_at,
            pre_expiry_start=pre_expiry_start(alias, window),
            location="database" if stored is not None else self.keystore_location,
            thumbprint=alias.thumbprint or (thumbprint_of(certificate) if certificate is not None else None),
            subject=certificate.subject.rfc4514_string() if certificate is not None else None,
            issuer=certificate.issuer.rfc4514_string() if certificate is not None else None,
            key_id=key_id(alias.uni_ident) if alias.uni_ident else None,
            superseded=superseded,
        )


def thumbprint_of(certificate: x509.Certificate) -> str:
    return thumbprint_hex(certificate_der(certificate))


_KEY_USAGES = (
    "digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
    "key_cert_sign", "crl_sign",
)


def _key_usage(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ()
    found = [name for name in _KEY_USAGES if getattr(usage, name)]
    if usage.key_agreement:
        found += [name for name in ("encipher_only", "decipher_only") if getattr(usage, name)]
    return tuple(found)


def _basic_constraints(certificate: x509.Certificate) -> str | None:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None
    if not constraints.ca:
        return "CA:FALSE"
    return "CA:TRUE" + (f", pathlen:{constraints.path_length}" if constraints.path_length is not None else "")


def details(alias: KeyAlias, certificate: x509.Certificate) -> CertificateDetails:
    oid = certificate.signature_algorithm_oid
    return CertificateDetails(
        alias=alias.alias,
        app_id=alias.app_id,
        ref_id=alias.ref_id,
        certificate_pem=certificate_pem(certificate),
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial=format(certificate.serial_number, "X"),
        not_before=_utc(certificate.not_valid_before_utc),
        not_after=_utc(certificate.not_valid_after_utc),
        key_usage=_key_usage(certificate),
        basic_constraints=_basic_constraints(certificate),
        signature_algorithm=getattr(oid, "_name", None) or oid.dotted_string,
        public_key=algorithm_of(certificate),
        thumbprint=thumbprint_of(certificate),
    )
