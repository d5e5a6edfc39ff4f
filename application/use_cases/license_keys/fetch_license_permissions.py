from __future__ import annotations

from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import Errors, MultipleErrors
from domain.license_keys import blank_field_errors, split_permissions


@dataclass(frozen=True)
class FetchLicensePermissionsCommand:
    tsp_id: str | None
    license_key: str | None


@dataclass(frozen=True)
class FetchLicensePermissionsResult:
    permissions: list[str]


class FetchLicensePermissions:
    """license/permission (GET): the permissions of a TSP's licence, while it has not expired.
    Blank-field errors together (KER-LKM-001, 006); no (TSP, licence) mapping: KER-LKM-004;
    expired: KER-LKM-005; no permissions mapped: KER-LKM-009.

    Deliberate differences (the reference answers HTTP 500 to each): a mapping without its
    licensekey_list row is KER-LKM-004; a licence without an expiry is KER-LKM-005; a NULL
    permission is KER-LKM-009.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    def execute(self, command: FetchLicensePermissionsCommand) -> FetchLicensePermissionsResult:
        errors = blank_field_errors(command.tsp_id, command.license_key)
        if errors:
            raise MultipleErrors(errors)
        tsp_id, license_key = str(command.tsp_id), str(command.license_key)
        with self.uow_factory() as uow:
            license = uow.licenses.license(license_key) if uow.licenses.is_mapped(tsp_id, license_key) else None
            if license is None:
                raise MultipleErrors([Errors.LICENSE_NOT_FOUND])
            if license.expired_at(self.clock.now()):
                raise MultipleErrors([Errors.LICENSE_EXPIRED])
            stored = uow.licenses.permissions(license_key)
        if stored is None:
            raise MultipleErrors([Errors.LICENSE_NO_PERMISSIONS])
        return FetchLicensePermissionsResult(split_permissions(stored))
