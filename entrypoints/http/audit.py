"""The audit hook: one hash-chained record per audited request (ADR 0011).

Records are written after the response is built (``after_request``), for the key lifecycle
routes (generate, revoke, upload) and the cryptographic ones (encrypt, decrypt, sign, verify),
successful or not: who (the principal), which operation, application and reference ids, the
key's certificate thumbprint where the handler knows it (``note_key``), and the outcome
("success" or the error code). Never the request's data, the response, keys or tokens.

An audit write that fails is logged at ERROR (operation and error type only) and counted
(``AuditHook.failures``); the response already computed stands (ADR 0011 says why).
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from flask import Flask, Response, g, request

from application.key_hierarchy import created_keys, used_key
from application.ports.audit_log import AuditLog
from domain.audit import SUCCESS, AuditEvent
from domain.keys import KeyAlias
from application.x509 import certificate_der, parse_pem_certificate
from domain.codec import hex_upper
from domain.errors import KeyManagerError
from domain.identifiers import thumbprint_hex

log = logging.getLogger("keymanager.audit")

#: Flask endpoint -> the operation name recorded (the reference's path, without variables).
AUDITED: dict[str, str] = {
    # key lifecycle
    "keymanager.generate_master_key": "generateMasterKey",
    "keymanager.generate_ec_sign_key": "generateECSignKey",
    "keymanager.revoke_key": "revokeKey",
    "keymanager.upload_certificate": "uploadCertificate",
    "keymanager.upload_other_domain_certificate": "uploadOtherDomainCertificate",
    # cryptographic operations
    "cryptomanager.encrypt": "encrypt",
    "cryptomanager.decrypt": "decrypt",
    "signature.jwt_sign": "jwtSign",
    "signature.jwt_sign_v2": "jwtSign/v2",
    "signature.jws_sign": "jwsSign",
    "signature.jws_sign_v2": "jwsSign/v2",
    "signature.sign_v2": "signV2",
    "signature.sign_raw_data": "signRawData",
    "signature.legacy_sign": "sign",
    "signature.jwt_verify": "jwtVerify",
    "signature.jwt_verify_v2": "jwtVerify/v2",
    "signature.legacy_validate": "validate",
    "partner.upload_ca_certificate": "uploadCACertificate",
    "partner.upload_partner_certificate": "uploadPartnerCertificate",
    "partner.verify_certificate_trust": "verifyCertificateTrust",
    "keymanager.generate_symmetric_key": "generateSymmetricKey",
    "cryptomanager.encrypt_with_pin": "encryptWithPin",
    "cryptomanager.decrypt_with_pin": "decryptWithPin",
    "cryptomanager.jwt_encrypt": "jwtEncrypt",
    "cryptomanager.jwt_decrypt": "jwtDecrypt",
    "zk.zk_encrypt": "zkEncrypt",
    "zk.zk_decrypt": "zkDecrypt",
    "zk.zk_reencrypt_random_key": "zkReEncryptRandomKey",
}


def key_creation_events(created: list[tuple[KeyAlias, bool]], subject: str | None) -> list[AuditEvent]:
    """A generateKey / rotateKey record per created key (KeyHierarchy's ``created_keys``)."""
    return [
        AuditEvent(
            operation="rotateKey" if rotated else "generateKey",
            subject=subject,
            app_id=record.app_id,
            ref_id=record.ref_id,
            key_alias=record.alias,
            thumbprint=record.thumbprint,
        )
        for record, rotated in created
    ]


def note_key(*, alias: str | None = None, thumbprint_hex: str | None = None) -> None:
    """Called by a handler: the key this request used (recorded whatever the outcome)."""
    g.audit_key = (alias, thumbprint_hex)


def note_envelope_thumbprint(wire: bytes) -> None:
    """The thumbprint an encryption envelope names, if it names one (never fails)."""
    from domain import envelope

    try:
        found = envelope.split(wire).thumbprint
    except Exception:  # noqa: BLE001 - a malformed envelope just has no thumbprint to record
        return
    if found is not None:
        note_key(thumbprint_hex=hex_upper(found))


def pem_thumbprint(pem: str | None) -> str | None:
    """SHA-256 of a PEM certificate's DER, upper-case hex (as key_alias.cert_thumbprint); None if unreadable."""
    try:
        return thumbprint_hex(certificate_der(parse_pem_certificate(pem or "")))
    except KeyManagerError:
        return None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


class AuditHook:
    def __init__(self, audit_log: Callable[[], AuditLog]) -> None:
        self._audit_log = audit_log
        self.failures = 0
        self._lock = threading.Lock()

    def event_for_request(self, response: Response) -> AuditEvent | None:
        operation = AUDITED.get(request.endpoint or "")
        principal = g.get("principal")
        if operation is None or principal is None:
            # Not an audited route, or unauthenticated (a 401 is the auth log's business:
            # recording it would let anyone without a token fill the audit trail).
            return None
        body = g.get("body")
        payload = body.get("request") if isinstance(body, dict) else None
        payload = payload if isinstance(payload, dict) else {}
        alias, thumbprint_hex = g.get("audit_key") or (None, None)
        if alias is None and thumbprint_hex is None and (key := used_key.get()) is not None:
            alias, thumbprint_hex = key.alias, key.thumbprint  # the key a signing/revocation used
        outcome = g.get("error_code")
        if outcome is None:
            outcome = SUCCESS if response.status_code < 400 else f"HTTP-{response.status_code}"
        return AuditEvent(
            operation=operation,
            outcome=outcome,
            subject=principal.username or principal.subject,
            app_id=_text(payload.get("applicationId")),
            ref_id=_text(payload.get("referenceId")),
            key_alias=alias,
            thumbprint=thumbprint_hex,
        )

    @staticmethod
    def start_collecting() -> None:
        """before_request: collect the keys this request creates (getCertificate, encrypt and
        signing create or rotate keys on first use; key generation does so on purpose)."""
        created_keys.set([])
        used_key.set(None)

    def created_key_events(self, response: Response) -> list[AuditEvent]:
        """One generateKey / rotateKey record per key the request created, if it succeeded
        (a failed request rolled its unit of work back: those keys do not exist)."""
        principal = g.get("principal")
        created = created_keys.get() or []
        if principal is None or response.status_code >= 400 or g.get("error_code"):
            return []
        return key_creation_events(created, principal.username or principal.subject)

    def record(self, response: Response) -> Response:
        events: list[AuditEvent] = []
        try:
            events.extend(self.created_key_events(response))
            event = self.event_for_request(response)
            if event is not None:
                events.append(event)
        except Exception as error:  # noqa: BLE001 - never lose the response over the audit
            self._failed(AUDITED.get(request.endpoint or "", "?"), error)
        for event in events:
            try:
                self._audit_log().append(event)
            except Exception as error:  # noqa: BLE001 - see ADR 0011: logged, counted, response stands
                self._failed(event.operation, error)
        return response

    def _failed(self, operation: str, error: BaseException) -> None:
        with self._lock:
            self.failures += 1
            count = self.failures
        log.error("audit record NOT written for %s (%s); %d audit write failure(s) so far",
                  operation, type(error).__name__, count)


def install_audit(app: Flask, audit_log: Callable[[], AuditLog]) -> AuditHook:
    hook = AuditHook(audit_log)
    app.before_request(hook.start_collecting)
    app.after_request(hook.record)
    app.extensions["keymanager.audit"] = hook
    return hook
