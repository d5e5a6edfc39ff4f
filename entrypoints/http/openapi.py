"""The OpenAPI 3 document at ``GET /v1/keymanager/v3/api-docs`` (springdoc's path), built from the declarations.

Each declared endpoint (routes.py) becomes one operation: its request schema wrapped in the MOSIP
request envelope, its response schema wrapped in the response envelope (``response`` on success,
``errors`` on a business error, both with HTTP 200 as the reference answers), the error envelope for
the HTTP errors, the roles that may call it (with this deployment's overrides) and whether it is
audited. The document is built once per application, on first request: it depends only on the
declarations and the configured roles. Swagger UI (swagger_ui.py) shows it.
"""
from __future__ import annotations

import re
from importlib import metadata
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, Response, current_app, jsonify
from marshmallow import Schema

from . import responses
from .roles import RolePolicy
from .routes import AUTHENTICATED, PUBLIC, Controller, Endpoint, endpoints_of

api = Controller("openapi", tag="api-docs")
blueprint = api.blueprint
CACHE_KEY = "keymanager.openapi"
_VARIABLE = re.compile(r"<(?:[^:>]+:)?([^>]+)>")

_ANY_NULLABLE: dict[str, Any] = {"nullable": True}
#: HTTP errors every authenticated endpoint may answer, all in the MOSIP error envelope.
_HTTP_ERRORS = {
    "401": "No valid token (KER-ATH-401)",
    "403": "The token's roles may not call this endpoint (KER-ATH-403)",
    "408": "The body did not arrive in time",
    "413": "The body exceeds the configured limit (KER-KMS-005)",
    "503": "The store is unavailable, the service is busy, or the audit record could not be made durable "
           "(KER-KMS-500: the result is withheld)",
}


@api.get("/v3/api-docs", summary="This document", role=PUBLIC, documented=False)
def api_docs() -> Response:
    document = current_app.extensions.get(CACHE_KEY)
    if document is None:
        document = current_app.extensions[CACHE_KEY] = build_document(current_app)
    return jsonify(document)


def build_document(app: Flask) -> dict[str, Any]:
    prefix = app.config["KEYMANAGER_API_PREFIX"]
    policy: RolePolicy = app.extensions["keymanager.auth"].policy
    spec = APISpec(
        title="MOSIP Key Manager",
        version=_version(),
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Key management, encryption and signing, compatible with the MOSIP Key Manager. "
                             "Authenticate with a bearer token (or the reference's Authorization cookie)."},
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("ServiceError", schema=responses.ServiceError)
    spec.components.schema("ErrorEnvelope", _envelope_out(None))
    registered: set[str] = set()
    for endpoint in sorted(endpoints_of(app).values(), key=lambda e: (e.path, e.method)):
        if endpoint.documented:
            path = prefix + _VARIABLE.sub(r"{\1}", endpoint.path)
            spec.path(path=path, operations={endpoint.method.lower(): _operation(spec, endpoint, policy, registered)})
    return spec.to_dict()


def _operation(spec: APISpec, endpoint: Endpoint, policy: RolePolicy, registered: set[str]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.name.replace(".", "_"),
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "description": _who(endpoint, policy),
        "security": [] if endpoint.role == PUBLIC else [{"bearerAuth": []}],
    }
    if endpoint.role not in (PUBLIC, AUTHENTICATED):
        operation["x-mosip-role-key"] = endpoint.role
    if endpoint.audit:
        operation["x-audited"] = endpoint.audit
    parameters = [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
                  for name in _VARIABLE.findall(endpoint.path)]
    if endpoint.query is not None:
        parameters.append({"in": "query", "schema": endpoint.query})
    if parameters:
        operation["parameters"] = parameters
    if endpoint.request is not None:
        name = _component(spec, endpoint.request, registered)
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _envelope_in(name)}}}
    if endpoint.raw is not None:
        content = {kind: {"schema": schema} for kind, schema in endpoint.raw.items()}
        answers = {str(status): {"description": "OK" if status < 400 else "DOWN", "content": content}
                   for status in endpoint.raw_statuses}
    else:
        response = _component(spec, endpoint.response, registered) if endpoint.response is not None else None
        answers = {"200": {
            "description": "The MOSIP response envelope: `response` on success; `errors` (and `response` null) "
                           "for a business error, with HTTP 200 as the reference answers",
            "content": {"application/json": {"schema": _envelope_out(response)}},
        }}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
    for status, description in _HTTP_ERRORS.items():
        if endpoint.role == PUBLIC and status in ("401", "403"):
            continue
        answers.setdefault(status, {"description": description, **error})
    answers["default"] = {"description": "Any other HTTP error, in the MOSIP error envelope", **error}
    operation["responses"] = answers
    return operation


def _who(endpoint: Endpoint, policy: RolePolicy) -> str:
    if endpoint.role == PUBLIC:
        return "Open: no token needed."
    if endpoint.role == AUTHENTICATED:
        return "Any authenticated caller."
    roles = ", ".join(sorted(policy.allowed_roles(endpoint.role)))
    text = f"Roles (`mosip.role.keymanager.{endpoint.role}`): {roles}."
    return text + (f" Audited as `{endpoint.audit}`." if endpoint.audit else "")


def _component(spec: APISpec, schema: type[Schema], registered: set[str]) -> str:
    name = schema.__name__
    if name not in registered:
        spec.components.schema(name, schema=schema)
        registered.add(name)
    return name


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _envelope_in(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["request"],
        "properties": {
            "id": {"type": "string", "nullable": True, "example": "mosip.crypto.service"},
            "version": {"type": "string", "nullable": True, "example": "v1"},
            "requesttime": {"type": "string", "nullable": True, "example": "2026-12-07T14:01:09.123Z"},
            "metadata": {"type": "object", "nullable": True},
            "request": _ref(name),
        },
    }


def _envelope_out(name: str | None) -> dict[str, Any]:
    response: dict[str, Any] = {"allOf": [_ref(name)], "nullable": True} if name else {"nullable": True,
                                                                                        "enum": [None]}
    return {
        "type": "object",
        "required": ["id", "version", "responsetime", "metadata", "response", "errors"],
        "properties": {
            "id": {**_ANY_NULLABLE, "description": "The request's id, echoed"},
            "version": {**_ANY_NULLABLE, "description": "The request's version, echoed"},
            "responsetime": {"type": "string", "example": "2026-12-07T14:01:09.123Z"},
            "metadata": {**_ANY_NULLABLE},
            "response": response,
            "errors": {"type": "array", "nullable": True, "items": _ref("ServiceError")},
        },
    }


def _version() -> str:
    try:
        return metadata.version("keymanager")
    except metadata.PackageNotFoundError:
        return "unknown"
