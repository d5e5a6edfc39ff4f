"""LicenseKeyController: licence keys of trusted service providers (TSPs) and their permissions.

Validation errors of these endpoints come as a list (several items at once), HTTP 200, as the
reference answers them. Neither the licence key nor the TSP id reaches a log or the audit trail:
the access log names the route template only (never the query string), and the audit record of
``license/generate`` and ``license/permission`` (POST) holds the caller, the operation and the
outcome; the reading endpoint is not audited.
"""
from __future__ import annotations

from flask import Response

from application.use_cases.license_keys.fetch_license_permissions import (
    FetchLicensePermissions,
    FetchLicensePermissionsCommand,
)
from application.use_cases.license_keys.generate_license_key import GenerateLicenseKey, GenerateLicenseKeyCommand
from application.use_cases.license_keys.map_license_permissions import (
    MapLicensePermissions,
    MapLicensePermissionsCommand,
)

from . import responses
from .envelope import success
from .routes import AUTHENTICATED, Controller
from .schemas import LicenseGenerateRequest, LicensePermissionQuery, LicensePermissionRequest

api = Controller("license_keys", tag="license-key-controller")
blueprint = api.blueprint


@api.post("/license/generate", summary="A new licence key for a TSP, valid until licenseExpiryTime (UTC)",
          role="postlicensegenerate", audit="license/generate", request=LicenseGenerateRequest,
          response=responses.LicenseKeyGenerationResponse, use_case="generate_license_key")
def generate_license(dto: GenerateLicenseKeyCommand, use_case: GenerateLicenseKey) -> Response:
    return success({"licenseKey": use_case.execute(dto).license_key})


@api.post("/license/permission", summary="Add permissions to a TSP's licence key (each must contain one of the "
          "configured permissions); the example's licence key is one license/generate answered",
          role=AUTHENTICATED, audit="license/permission", request=LicensePermissionRequest,
          response=responses.LicenseKeyMappingResponse, use_case="map_license_permissions")
def map_license_permissions(dto: MapLicensePermissionsCommand, use_case: MapLicensePermissions) -> Response:
    return success({"status": use_case.execute(dto).status})


@api.get("/license/permission", summary="The permissions of a TSP's licence key, while it has not expired",
         role=AUTHENTICATED, query=LicensePermissionQuery, response=responses.LicenseKeyFetchResponse,
         use_case="fetch_license_permissions")
def fetch_license_permissions(query: dict[str, str], use_case: FetchLicensePermissions) -> Response:
    result = use_case.execute(FetchLicensePermissionsCommand(query["tspId"], query["licenseKey"]))
    return success({"permissions": result.permissions})
