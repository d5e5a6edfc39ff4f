"""The administrator's console API (issue 17): key inventory, key policies, the audit trail, the session.

JSON in the MOSIP envelope like every other endpoint, each behind its own role key (roles.py: ``getadminkeys``,
``getadminpolicies``, ``putadminpolicy``, ``getadminaudit``; ZONAL_ADMIN, GLOBAL_ADMIN and KEY_MANAGER_ADMIN by
default, ``KEYMANAGER_ROLES_<KEY>`` to change). The reads are not audited (as getCertificate is not); the policy
change is, twice: the request as ``updateKeyPolicy`` whatever its outcome (refusals included), and the change
itself as ``setKeyPolicy`` in the transaction that writes it. The console's actions on keys (generate, revoke,
upload) call the existing endpoints, with their own roles and audit.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g

from application.use_cases.admin.audit_view import AuditQuery, ListAuditRecords, VerifyAuditTrail
from application.use_cases.admin.key_inventory import CertificateDetails, KeyEntry, KeyInventory, KeyQuery
from application.use_cases.admin.key_policies import (
    ListKeyPolicies,
    SetKeyPolicy,
    SetKeyPolicyCommand,
)
from domain.audit import AuditRecord
from domain.errors import ValidationError
from domain.key_inventory import STATUSES, access_allowed_list
from domain.keys import KeyPolicy

from . import responses
from .envelope import format_instant, success
from .routes import AUTHENTICATED, Controller
from .schemas import AdminAuditQuery, AdminKeysQuery, KeyPolicyRequest

api = Controller("admin_api", tag="admin-console")
blueprint = api.blueprint

ADMIN = "/admin/api"


def _present(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _key(entry: KeyEntry) -> dict[str, Any]:
    return {
        "alias": entry.alias,
        "applicationId": entry.app_id,
        "referenceId": entry.ref_id,
        "kind": entry.kind,
        "algorithm": entry.algorithm,
        "status": entry.status,
        "issued": format_instant(entry.issued),
        "expires": format_instant(entry.expires),
        "preExpiryStart": format_instant(entry.pre_expiry_start),
        "location": entry.location,
        "thumbprint": entry.thumbprint,
        "subject": entry.subject,
        "issuer": entry.issuer,
        "keyId": entry.key_id,
        "superseded": entry.superseded,
    }


@api.get(f"{ADMIN}/keys", summary="Every key of every (applicationId, referenceId): kind, algorithm, status, "
         "validity, location, certificate thumbprint and subject; filters app, ref, status, q (search)",
         role="getadminkeys", query=AdminKeysQuery, response=responses.AdminKeysResponse, use_case="key_inventory")
def admin_keys(query: dict[str, str], use_case: KeyInventory) -> Any:
    status = _present(query.get("status"))
    if status is not None and status not in STATUSES:
        raise ValidationError(["Invalid request: status must be current, due, expired or revoked"])
    found = use_case.execute(KeyQuery(app_id=_present(query.get("app")), ref_id=_present(query.get("ref")),
                                      status=status, search=_present(query.get("q"))))
    return success({"keys": [_key(entry) for entry in found], "timestamp": format_instant(datetime.now(UTC))})


def _details(found: CertificateDetails) -> dict[str, Any]:
    return {
        "alias": found.alias,
        "applicationId": found.app_id,
        "referenceId": found.ref_id,
        "certificate": found.certificate_pem,
        "details": {
            "subject": found.subject,
            "issuer": found.issuer,
            "serial": found.serial,
            "notBefore": format_instant(found.not_before),
            "notAfter": format_instant(found.not_after),
            "keyUsage": list(found.key_usage),
            "basicConstraints": found.basic_constraints,
            "signatureAlgorithm": found.signature_algorithm,
            "publicKey": found.public_key,
            "thumbprint": found.thumbprint,
        },
    }


@api.get(f"{ADMIN}/keys/<alias>/certificate", summary="The certificate of one key (PEM) and its details; the "
         "chain: getCertificateChain", role="getadminkeys", response=responses.AdminCertificateResponse,
         use_case="key_inventory")
def admin_key_certificate(alias: str, use_case: KeyInventory) -> Any:
    return success(_details(use_case.certificate(alias)))


def _policy(policy: KeyPolicy) -> dict[str, Any]:
    return {
        "applicationId": policy.app_id,
        "validityDays": policy.validity_days,
        "preExpireDays": policy.pre_expire_days,
        "accessAllowed": access_allowed_list(policy),
        "active": bool(policy.is_active),
    }


@api.get(f"{ADMIN}/policies", summary="The key policies (key_policy_def): validity, pre-expiry days, access_allowed "
         "per application", role="getadminpolicies", response=responses.AdminPoliciesResponse,
         use_case="list_key_policies")
def admin_policies(use_case: ListKeyPolicies) -> Any:
    return success({"policies": [_policy(policy) for policy in use_case.execute()]})


@api.put(f"{ADMIN}/policies/<applicationId>", summary="Set the key policy of an application (created when absent); "
         "the next key follows it on every instance", role="putadminpolicy", audit="updateKeyPolicy",
         request=KeyPolicyRequest, response=responses.AdminPolicyResponse, use_case="set_key_policy")
def admin_set_policy(applicationId: str, dto: dict[str, Any], use_case: SetKeyPolicy) -> Any:
    result = use_case.execute(SetKeyPolicyCommand(
        app_id=applicationId, validity_days=dto["validityDays"], pre_expire_days=dto["preExpireDays"],
        access_allowed=tuple(dto["accessAllowed"] or ()),
    ))
    return success({**_policy(result.policy), "created": result.created})


def _record(record: AuditRecord) -> dict[str, Any]:
    return {
        "sequence": record.sequence,
        "timestamp": record.timestamp,
        "subject": record.subject,
        "operation": record.operation,
        "applicationId": record.app_id,
        "referenceId": record.ref_id,
        "keyAlias": record.key_alias,
        "thumbprint": record.thumbprint,
        "outcome": record.outcome,
        "hash": record.hash,
    }


@api.get(f"{ADMIN}/audit", summary="The latest audit records, newest first; filters operation, outcome (an error "
         "code, success or failure), subject", role="getadminaudit", query=AdminAuditQuery,
         response=responses.AdminAuditResponse, use_case="list_audit_records")
def admin_audit(query: dict[str, str], use_case: ListAuditRecords) -> Any:
    try:
        limit = int(query.get("limit") or 100)
    except ValueError:
        raise ValidationError(["Invalid request: limit must be a whole number"]) from None
    if limit < 1:
        raise ValidationError(["Invalid request: limit must be positive"])
    found = use_case.execute(AuditQuery(limit=limit, operation=_present(query.get("operation")),
                                        outcome=_present(query.get("outcome")), subject=_present(query.get("subject"))))
    return success({"records": [_record(record) for record in found]})


@api.get(f"{ADMIN}/audit/verify", summary="Verify the whole audit chain: intact or the first broken record, and the "
         "head (sequence, hash) to anchor elsewhere", role="getadminaudit",
         response=responses.AdminAuditVerifyResponse, use_case="verify_audit_trail")
def admin_audit_verify(use_case: VerifyAuditTrail) -> Any:
    verdict = use_case.execute()
    good = verdict.count if verdict.intact else (verdict.broken_at or 1) - 1
    return success({
        "intact": verdict.intact,
        "records": verdict.count,
        "headSequence": good,
        "headHash": verdict.head,
        "firstBroken": verdict.broken_at,
        "reason": verdict.reason,
    })


@api.get(f"{ADMIN}/session", summary="Who the caller is: user, roles, the console session's CSRF token, the "
         "authentication mode", role=AUTHENTICATED, response=responses.AdminSessionResponse)
def admin_session() -> Any:
    from flask import current_app

    principal = g.principal
    console = g.get("console_session")
    mode = current_app.extensions["keymanager.auth"].mode
    return success({
        "user": principal.username or principal.subject,
        "roles": sorted(principal.roles),
        "csrfToken": console.entry.csrf_token if console is not None else None,
        "authMode": mode,
        "expiresAt": format_instant(datetime.fromtimestamp(console.entry.expires_at, UTC)) if console else None,
    })
