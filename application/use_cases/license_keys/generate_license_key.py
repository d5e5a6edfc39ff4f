from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import Errors, MultipleErrors, ValidationError
from domain.license_keys import TSP_ID_COLUMN, LicenseKey, blank, random_license_key

#: Fresh keys drawn before giving up on finding one not in licensekey_list (62^16 keys: never needed).
ATTEMPTS = 3


@dataclass(frozen=True)
class GenerateLicenseKeyCommand:
    tsp_id: str | None
    expires_at: datetime  # aware, UTC


@dataclass(frozen=True)
class GenerateLicenseKeyResult:
    license_key: str


class GenerateLicenseKey:
    """license/generate: a new random licence key for the TSP, valid until ``expires_at``; the
    licence row and its TSP mapping are written together.

    Deliberate differences: a TSP id longer than the column (36) is KER-KMS-005 instead of a
    database error (HTTP 500); the key comes from the CSPRNG (the reference's RandomStringUtils
    does not).
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        length: int,
        key_source: Callable[[int], str] = random_license_key,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.length = length
        self.key_source = key_source

    def execute(self, command: GenerateLicenseKeyCommand) -> GenerateLicenseKeyResult:
        if blank(command.tsp_id):
            raise MultipleErrors([Errors.LICENSE_TSP_EMPTY])
        tsp_id = str(command.tsp_id)
        if len(tsp_id) > TSP_ID_COLUMN:
            raise ValidationError([f"request.tspId must be at most {TSP_ID_COLUMN} characters"])
        now = self.clock.now()
        if command.expires_at < now:
            raise MultipleErrors([Errors.LICENSE_EXPIRY_PAST])
        with self.uow_factory() as uow:
            for _ in range(ATTEMPTS):
                license_key = self.key_source(self.length)
                if len(license_key) != self.length:
                    raise MultipleErrors([Errors.LICENSE_LENGTH])
                if not uow.licenses.exists(license_key):
                    break
            uow.licenses.add_license(LicenseKey(license_key, command.expires_at, created_at=now))
            uow.licenses.map_to_tsp(tsp_id, license_key, now)
            uow.commit()
        return GenerateLicenseKeyResult(license_key)
