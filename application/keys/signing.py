"""Which key signs for (app, ref), as the reference chooses it, and who may use it."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from application.keys.hierarchy import CertifiedKey, KeyHierarchy, KeySigner, used_key
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.access import has_key_access
from domain.errors import Errors, KeyManagerError
from domain.identifiers import key_id
from domain.keys import ED25519_SIGN, KERNEL, SIGN, SIGN_REFERENCES, KeyTuple

#: The kid prefix setting's special value: the signed payload's issuer, then KID_SEPARATOR.
PAYLOAD_ISSUER = "PAYLOAD_ISSUER"
KID_SEPARATOR = "#"


def signing_tuple(app_id: str | None, ref_id: str | None) -> KeyTuple:
    """No application: KERNEL/SIGN. Blank reference: the application's master key.
    SIGN only for KERNEL; the EC/Ed25519 signing references for any application."""
    app, ref = (app_id or "").strip(), (ref_id or "").strip()
    if not app:
        return KeyTuple(KERNEL, SIGN)
    if ref and not ((ref == SIGN and app == KERNEL) or ref in SIGN_REFERENCES):
        raise KeyManagerError(Errors.SIGNING_NOT_ALLOWED)
    return KeyTuple(app, ref)


@dataclass(frozen=True)
class SigningKey:
    key: CertifiedKey
    sign: KeySigner

    @property
    def key_tuple(self) -> KeyTuple:
        return self.key.alias.key_tuple


class SigningKeys:
    def __init__(self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock

    def for_signing(
        self, app_id: str | None, ref_id: str | None, *, caller: str | None = None, check_access: bool = True
    ) -> SigningKey:
        key_tuple = signing_tuple(app_id, ref_id)
        if check_access:
            with self.uow_factory() as uow:
                policy = self.hierarchy.policy(uow.keys, key_tuple.app_id)
            if not has_key_access(policy, key_tuple.app_id, caller):
                raise KeyManagerError(Errors.SIGNING_NOT_ALLOWED_FOR_TOKEN)
        key = self.hierarchy.current_key(key_tuple, signing=True)
        used_key.set(key.alias)
        now = self.clock.now()
        if not _valid_at(key, now):
            raise KeyManagerError(Errors.SIGNING_CERTIFICATE_EXPIRED)
        return SigningKey(key, self.hierarchy.signer_for(key))


def _valid_at(key: CertifiedKey, at: datetime) -> bool:
    return key.certificate.not_valid_before_utc <= at <= key.certificate.not_valid_after_utc


def is_ed25519(key_tuple: KeyTuple) -> bool:
    return key_tuple.ref_id == ED25519_SIGN


def payload_issuer(payload: bytes) -> str | None:
    """The ``iss`` of a JSON object payload when it is a string; None otherwise."""
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    issuer = document.get("iss") if isinstance(document, dict) else None
    return issuer if isinstance(issuer, str) else None


@dataclass(frozen=True)
class KeyIdRule:
    """The ``kid`` the JWS and COSE signing endpoints write (mosip-api.md §1.9, mosip-cose-pdf.md A.4):
    prefix + keyId, the prefix from ``mosip.kernel.keymanager.signature.kid.prepend`` (``PAYLOAD_ISSUER``,
    any case: the payload's issuer and '#', or '#' alone without one), no kid at all when
    ``mosip.kernel.keymanager.jwtsign.include.keyid`` is false or the key has no unique identifier."""

    prefix: str = ""
    include: bool = True

    def kid(self, key: CertifiedKey, issuer: Callable[[], str | None], prefix: str | None = None) -> str | None:
        """``prefix``: the request's own (jwtSign/v2's ``additionalHeaders.kid``), instead of the setting's."""
        if not self.include or not key.alias.uni_ident:
            return None
        if prefix is None:
            prefix = self.prefix
            if prefix.upper() == PAYLOAD_ISSUER:
                prefix = (issuer() or "") + KID_SEPARATOR
        return prefix + key_id(key.alias.uni_ident)
