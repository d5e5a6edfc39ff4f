"""The audit hook: one hash-chained record per audited request, fail closed (ADR 0014).

Records are made after the response is built (``after_request``), for the endpoints declared
with an ``audit`` operation (routes.py): the key lifecycle (generate, revoke, upload) and the
cryptographic ones (encrypt, decrypt, sign, verify), successful or not: who (the principal), which
operation, application and reference ids, the key's certificate thumbprint where the handler knows
it (``note_key``), and the outcome
("success" or the error code). Never the request's data, the response, keys or tokens.
Keys that a request creates are recorded by KeyHierarchy in the key's own transaction.

No record, no answer: the response leaves only once its record is durable. Records of
concurrent requests share one commit (application/support/audit_writer.py). Under the bridge
(entrypoints/server) the wait happens on the event loop: the hook hands the ticket over through
``environ[DEFER_KEY]``; under any other WSGI server the hook waits for it here.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask, Response, g, request

from application.crypto.x509 import certificate_der, parse_pem_certificate
from application.keys.hierarchy import audit_subject, used_key
from application.support.audit_writer import AuditTicket, AuditWriter
from domain.audit import SUCCESS, AuditEvent
from domain.codec import hex_upper
from domain.errors import Errors, KeyManagerError
from domain.identifiers import thumbprint_hex

from .access_log import HEADER as REQUEST_ID_HEADER
from .access_log import environ_request_id, request_id
from .envelope import echoed_id_version, error_body, failure
from .metrics import AUDIT_FAILURES
from .routes import endpoints_of

log = logging.getLogger("keymanager.audit")

def note_key(*, alias: str | None = None, thumbprint_hex: str | None = None) -> None:
    """Called by a handler: the key this request used (recorded whatever the outcome)."""
    g.audit_key = (alias, thumbprint_hex)


def note_envelope_thumbprint(wire: bytes) -> None:
    """The thumbprint an encryption envelope names, if it names one (never fails)."""
    from domain import envelope, pq_envelope

    try:
        # -- post-quantum hybrid (issue 18) --
        hybrid = pq_envelope.is_hybrid(wire)
        found = pq_envelope.split(wire).rsa_thumbprint if hybrid else envelope.split(wire).thumbprint
    except Exception:  # noqa: BLE001 - a malformed envelope just has no thumbprint to record
        return
    if found is not None:
        note_key(thumbprint_hex=hex_upper(found))


# -- ML-DSA and batch (issue 18) --
@dataclass(frozen=True)
class BatchItemAudit:
    """What the audit record of one batch item says (the batch's own subject and operation besides)."""

    outcome: str
    app_id: str | None = None
    ref_id: str | None = None
    key_alias: str | None = None
    thumbprint: str | None = None


def note_batch_items(items: list[BatchItemAudit]) -> None:
    """Called by a batch view: one audit record per item instead of one for the request."""
    g.audit_items = items


def envelope_thumbprint(wire: bytes) -> str | None:
    """The thumbprint an encryption envelope names (as ``note_envelope_thumbprint`` finds it), without
    noting it for the request."""
    saved = g.pop("audit_key", None)
    note_envelope_thumbprint(wire)
    found = g.pop("audit_key", None)
    if saved is not None:
        g.audit_key = saved
    return found[1] if found else None


def pem_thumbprint(pem: str | None) -> str | None:
    """SHA-256 of a PEM certificate's DER, upper-case hex (as key_alias.cert_thumbprint); None if unreadable."""
    try:
        return thumbprint_hex(certificate_der(parse_pem_certificate(pem or "")))
    except KeyManagerError:
        return None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


#: environ key of a server that waits for audit tickets itself: a callable taking
#: (ticket, WSGI app answering the withheld response). The server calls that app when the
#: ticket fails, with the ticket's error under environ[AUDIT_ERROR_KEY].
DEFER_KEY = "keymanager.defer_until_durable"
AUDIT_ERROR_KEY = "keymanager.audit_error"
WITHHELD = Errors.AUDIT_UNAVAILABLE.value
WITHHELD_STATUS = 503


def withheld_app(
    request_id: Any, version: Any, withheld: Callable[[BaseException, str], None]
) -> Callable[..., Iterable[bytes]]:
    """The answer sent instead of a response whose audit record could not be made durable."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # The access line (already written) shows the computed status; this ERROR line, with the
        # same request id, says the caller got 503 instead.
        rid = environ_request_id(environ) or "-"
        withheld(environ.get(AUDIT_ERROR_KEY) or RuntimeError("audit record not durable"), rid)
        body = error_body([(WITHHELD.code, WITHHELD.message)], request_id, version)
        start_response("503 SERVICE UNAVAILABLE", [
            ("Content-Type", "application/json"), ("Retry-After", "1"), (REQUEST_ID_HEADER, rid),
        ])
        return [body]

    return app


class AuditHook:
    def __init__(
        self, writer: Callable[[], AuditWriter], timeout_seconds: float, operations: Mapping[str, str]
    ) -> None:
        self._writer = writer
        self.operations = operations  # Flask endpoint -> the operation recorded
        self.timeout = timeout_seconds
        self.failures = 0
        self._lock = threading.Lock()

    def event_for_request(self, response: Response) -> AuditEvent | None:
        operation = self.operations.get(request.endpoint or "")
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
            # the body's, else a path variable's (PUT admin/api/policies/{applicationId})
            app_id=_text(payload.get("applicationId")) or _text((request.view_args or {}).get("applicationId")),
            ref_id=_text(payload.get("referenceId")),
            key_alias=alias,
            thumbprint=thumbprint_hex,
        )

    # -- ML-DSA and batch (issue 18) --
    def events_for_request(self, response: Response) -> list[AuditEvent]:
        """The request's record; for a batch that ran (``note_batch_items``), one record per item instead,
        each with the item's ids, key and outcome, all in one ticket: durable together, or the batch's
        answer is withheld whole (ADR 0014, ADR 0024)."""
        event = self.event_for_request(response)
        if event is None:
            return []
        items: list[BatchItemAudit] | None = g.get("audit_items")
        if not items or event.outcome != SUCCESS:
            return [event]
        return [
            replace(event, outcome=item.outcome, app_id=item.app_id, ref_id=item.ref_id, key_alias=item.key_alias,
                    thumbprint=item.thumbprint)
            for item in items
        ]

    @staticmethod
    def start() -> None:
        """before_request (after authentication): who acts, for the records of keys this request
        creates; and no key used yet. Both undone at teardown: a thread serves other requests."""
        principal = g.get("principal")
        subject = (principal.username or principal.subject) if principal is not None else "anonymous"
        g.audit_context = (audit_subject.set(subject), used_key.set(None))

    @staticmethod
    def finish(error: BaseException | None = None) -> None:
        tokens = g.pop("audit_context", None)
        if tokens is not None:
            audit_subject.reset(tokens[0])
            used_key.reset(tokens[1])

    def record(self, response: Response) -> Response:
        operation = self.operations.get(request.endpoint or "")
        if operation is None:
            return response
        try:
            events = self.events_for_request(response)  # -- ML-DSA and batch (issue 18) --
            if not events:
                return response
            ticket = self._writer().submit(events)
        except Exception as error:  # noqa: BLE001 - no record, no answer
            return self._withhold(operation, error)
        defer = request.environ.get(DEFER_KEY)
        if defer is not None:
            defer(ticket, self._withheld_app(operation))
            return response
        return self._wait(ticket, operation, response)

    def _wait(self, ticket: AuditTicket, operation: str, response: Response) -> Response:
        try:
            ticket.result(timeout=self.timeout)
        except Exception as error:  # noqa: BLE001 - not durable (or not in time): withhold the answer
            return self._withhold(operation, error)
        return response

    def _withheld_app(self, operation: str) -> Callable[..., Iterable[bytes]]:
        return withheld_app(*echoed_id_version(), lambda error, rid: self.failed(operation, error, rid))

    def _withhold(self, operation: str, error: BaseException) -> Response:
        self.failed(operation, error, request_id())
        response = failure([(WITHHELD.code, WITHHELD.message)], WITHHELD_STATUS)
        response.headers["Retry-After"] = "1"
        return response

    def failed(self, operation: str, error: BaseException, rid: str) -> None:
        """Count and log a withheld answer (operation, error type and request id only: never data)."""
        with self._lock:
            self.failures += 1
            count = self.failures
        AUDIT_FAILURES.inc()
        log.error("answer withheld: audit record NOT durable for %s (%s) rid=%s; %d withheld so far",
                  operation, type(error).__name__, rid, count)


def install_audit(app: Flask, writer: Callable[[], AuditWriter], timeout_seconds: float) -> AuditHook:
    """Call after the routes are installed: the audited endpoints are those declared with an operation."""
    operations = {name: endpoint.audit for name, endpoint in endpoints_of(app).items() if endpoint.audit}
    hook = AuditHook(writer, timeout_seconds, operations)
    app.before_request(hook.start)
    app.after_request(hook.record)
    app.teardown_request(hook.finish)
    app.extensions["keymanager.audit"] = hook
    return hook
