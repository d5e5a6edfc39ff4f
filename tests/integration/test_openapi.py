"""The OpenAPI document (/v3/api-docs) against the declarations it is built from, and against an
independent validator of the OpenAPI 3 specification (openapi-spec-validator, not ours)."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from entrypoints.http.app import API_PREFIX, create_app
from entrypoints.http.roles import ROLE_TABLE
from entrypoints.http.routes import PUBLIC, endpoints_of
from entrypoints.settings import Settings

DOCS = f"{API_PREFIX}/v3/api-docs"


@pytest.fixture
def oidc_app(memory_settings: Settings, container):
    """Tokens required (nothing in this file sends one): the document must still be readable."""
    settings = memory_settings.with_overrides(
        auth_mode="oidc", oidc_issuer="https://idp.example/realms/mosip",
        oidc_jwks_url="https://idp.example/realms/mosip/certs", oidc_audience=("keymanager",),
        role_overrides={"postencrypt": ("KEY_USER",)},
    )
    return create_app(settings, container)


@pytest.fixture
def document(oidc_app) -> dict:
    response = oidc_app.test_client().get(DOCS)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3(document) -> None:
    assert document["openapi"].startswith("3.0")
    validate(document)  # raises on any violation of the OpenAPI 3.0 schema or its $refs


def test_every_declared_endpoint_is_documented_once(oidc_app, document) -> None:
    documented = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    declared = {
        (e.method, API_PREFIX + re.sub(r"<([^>]+)>", r"{\1}", e.path))
        for e in endpoints_of(oidc_app).values() if e.documented
    }
    assert documented == declared
    assert ("POST", f"{API_PREFIX}/decrypt") in documented
    assert ("POST", f"{API_PREFIX}/generateMasterKey/{{objectType}}") in documented
    # The document's and Swagger UI's own views are not operations of the API.
    assert not any("swagger-ui" in path or "api-docs" in path for _, path in documented)


def test_each_operation_names_its_roles_with_the_deployments_overrides(oidc_app, document) -> None:
    encrypt = document["paths"][f"{API_PREFIX}/encrypt"]["post"]
    assert encrypt["x-mosip-role-key"] == "postencrypt" and encrypt["x-audited"] == "encrypt"
    assert "KEY_USER" in encrypt["description"] and "ZONAL_ADMIN" not in encrypt["description"]
    decrypt = document["paths"][f"{API_PREFIX}/decrypt"]["post"]
    assert all(role in decrypt["description"] for role in ROLE_TABLE["postdecrypt"])
    assert decrypt["security"] == [{"bearerAuth": []}]
    health = document["paths"][f"{API_PREFIX}/actuator/health"]["get"]
    assert health["security"] == [] and "x-mosip-role-key" not in health
    assert set(health["responses"]) >= {"200", "503"}
    for endpoint in endpoints_of(oidc_app).values():
        if endpoint.documented and endpoint.role != PUBLIC:
            path = API_PREFIX + re.sub(r"<([^>]+)>", r"{\1}", endpoint.path)
            operation = document["paths"][path][endpoint.method.lower()]
            assert {"401", "403"} <= set(operation["responses"]), path


def test_request_and_response_envelopes_reference_the_schemas(document) -> None:
    operation = document["paths"][f"{API_PREFIX}/encrypt"]["post"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    assert request["required"] == ["request"]
    assert request["properties"]["request"] == {"$ref": "#/components/schemas/EncryptRequest"}
    fields = document["components"]["schemas"]["EncryptRequest"]
    assert set(fields["required"]) == {"applicationId", "data"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["properties"]["response"]["allOf"] == [{"$ref": "#/components/schemas/DataResponse"}]
    assert answer["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/ServiceError"}
    query = document["paths"][f"{API_PREFIX}/getCertificate"]["get"]["parameters"]
    assert {(p["name"], p["in"], p["required"]) for p in query} == {
        ("applicationId", "query", True), ("referenceId", "query", False)
    }


def test_the_document_is_built_once_per_app(oidc_app) -> None:
    client = oidc_app.test_client()
    assert client.get(DOCS).get_json() == client.get(DOCS).get_json()
    assert "keymanager.openapi" in oidc_app.extensions
