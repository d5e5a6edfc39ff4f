from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import Errors, MultipleErrors, ValidationError
from domain.keys import KeyTuple
from domain.license_keys import PERMISSION_COLUMN, accepted, blank, blank_field_errors, join_permissions

#: The reference's LicenseKeyManagerPropertyConstants.MAPPED_STATUS.
MAPPED_STATUS = "Mapped License with the permissions"
#: The name the unit of work's lock is taken under (with the licence key as the second part).
LOCK_NAME = "licensekey_permission"


@dataclass(frozen=True)
class MapLicensePermissionsCommand:
    tsp_id: str | None
    license_key: str | None
    permissions: tuple[str | None, ...]


@dataclass(frozen=True)
class MapLicensePermissionsResult:
    status: str = MAPPED_STATUS


class MapLicensePermissions:
    """license/permission (POST): add permissions to the licence of a TSP. The blank-field errors
    come together; then the (TSP, licence) mapping must exist (KER-LKM-004); then every permission
    must contain one of the configured ones (KER-LKM-003). The new permissions go before the stored
    ones, in one comma-joined string.

    Deliberate differences: a null or empty permission list, and a null item, are KER-LKM-007
    (the reference answers HTTP 500 to nulls and stores an empty permission for an empty list);
    a joined string longer than the column (512) is KER-KMS-005 instead of a database error; a
    mapping is a locked read-modify-write, so concurrent mappings do not lose one another's
    permissions.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, accepted_permissions: Iterable[str]) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.accepted_permissions = tuple(accepted_permissions)

    def execute(self, command: MapLicensePermissionsCommand) -> MapLicensePermissionsResult:
        errors = blank_field_errors(command.tsp_id, command.license_key)
        if not command.permissions or any(blank(permission) for permission in command.permissions):
            errors.append(Errors.LICENSE_PERMISSION_EMPTY)
        if errors:
            raise MultipleErrors(errors)
        tsp_id, license_key = str(command.tsp_id), str(command.license_key)
        permissions = [str(permission) for permission in command.permissions]
        with self.uow_factory() as uow:
            if not uow.licenses.is_mapped(tsp_id, license_key):
                raise MultipleErrors([Errors.LICENSE_NOT_FOUND])
            if not all(accepted(permission, self.accepted_permissions) for permission in permissions):
                raise MultipleErrors([Errors.LICENSE_PERMISSION_NOT_ACCEPTED])
            uow.lock(KeyTuple(LOCK_NAME, license_key))
            joined = join_permissions(permissions, uow.licenses.permissions(license_key))
            if len(joined) > PERMISSION_COLUMN:
                raise ValidationError(
                    [f"request.permissions: the licence's permissions would exceed {PERMISSION_COLUMN} characters"]
                )
            uow.licenses.save_permissions(license_key, joined, self.clock.now())
            uow.commit()
        return MapLicensePermissionsResult()
