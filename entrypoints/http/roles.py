"""Who may call what: the reference's role table (mosip-api.md §13), one entry per property key.

Each key (``mosip.role.keymanager.<key>``) lists the endpoints it guards and its default roles;
``KEYMANAGER_ROLES_<KEY>`` replaces the roles of one key. Endpoints the service does not
implement yet are listed too, so that an endpoint added later is guarded from its first day and a
deployment's existing role configuration can be copied over as it is.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping, NamedTuple

from ..settings import ConfigurationError

#: The reference's "STD" list (§13).
STD = (
    "ZONAL_ADMIN", "GLOBAL_ADMIN", "INDIVIDUAL", "ID_AUTHENTICATION", "TEST", "REGISTRATION_ADMIN",
    "REGISTRATION_SUPERVISOR", "REGISTRATION_OFFICER", "REGISTRATION_PROCESSOR", "PRE_REGISTRATION_ADMIN", "RESIDENT",
)
STD_AND_ISSUANCE = STD + ("CREDENTIAL_ISSUANCE",)
PARTNER_USERS = ("ZONAL_ADMIN", "GLOBAL_ADMIN", "PMS_ADMIN", "PMS_USER")


class RoleEntry(NamedTuple):
    roles: tuple[str, ...]
    endpoints: tuple[str, ...]  # "METHOD /path", path variables as {name}


ROLE_TABLE: dict[str, RoleEntry] = {
    # KeymanagerController
    "postgeneratemasterkeyobjecttype": RoleEntry(STD, ("POST /generateMasterKey/{objectType}",)),
    # The reference guards generateECSignKey with getCertificate's key, not a dedicated one (§2.9).
    "getgetcertificate": RoleEntry(
        STD, ("GET /getCertificate", "GET /getAllCertificates", "POST /generateECSignKey/{objectType}")
    ),
    "postgeneratecsr": RoleEntry(STD, ("POST /generateCSR",)),
    "postuploadcertificate": RoleEntry(STD, ("POST /uploadCertificate",)),
    "postuploadotherdomaincertificate": RoleEntry(STD, ("POST /uploadOtherDomainCertificate",)),
    "postgeneratesymmetrickey": RoleEntry(STD, ("POST /generateSymmetricKey",)),
    "putrevokekey": RoleEntry(STD, ("PUT /revokeKey",)),
    "getcertificatechain": RoleEntry(STD, ("GET /getCertificateChain",)),
    # Ours, not the reference's: the metrics when KEYMANAGER_METRICS_PUBLIC=false.
    "getactuatorprometheus": RoleEntry(("ZONAL_ADMIN", "GLOBAL_ADMIN"), ("GET /actuator/prometheus",)),
    # CryptomanagerController
    "postencrypt": RoleEntry(STD, ("POST /encrypt",)),
    "postdecrypt": RoleEntry(STD, ("POST /decrypt",)),
    "postencryptwithpin": RoleEntry(STD, ("POST /encryptWithPin",)),
    "postdecryptwithpin": RoleEntry(STD, ("POST /decryptWithPin",)),
    "postjwtencrypt": RoleEntry(STD, ("POST /jwtEncrypt",)),
    "postjwtdecrypt": RoleEntry(STD, ("POST /jwtDecrypt",)),
    "postgenerateargon2hash": RoleEntry(STD, ("POST /generateArgon2Hash",)),
    # SignatureController
    "postsign": RoleEntry(STD, ("POST /sign",)),
    "postvalidate": RoleEntry(STD, ("POST /validate",)),
    "postpdfsign": RoleEntry(STD, ("POST /pdf/sign",)),
    "postjwtsign": RoleEntry(STD, ("POST /jwtSign", "POST /jwtSign/v2")),
    "postjwtverify": RoleEntry(STD, ("POST /jwtVerify", "POST /jwtVerify/v2")),
    "postjwssign": RoleEntry(STD_AND_ISSUANCE, ("POST /jwsSign", "POST /jwsSign/v2")),
    "postsignv2": RoleEntry(STD_AND_ISSUANCE, ("POST /signV2",)),
    "postsignrawdata": RoleEntry(STD_AND_ISSUANCE, ("POST /signRawData",)),
    # PartnerCertManagerController
    "postuploadcacertificate": RoleEntry(("ZONAL_ADMIN", "GLOBAL_ADMIN", "PMS_ADMIN"), ("POST /uploadCACertificate",)),
    "postuploadpartnercertificate": RoleEntry(PARTNER_USERS, ("POST /uploadPartnerCertificate",)),
    "getgetpartnercertificatepartnercertid": RoleEntry(PARTNER_USERS, ("GET /getPartnerCertificate/{partnerCertId}",)),
    "getgetpartnersignedcertificatepartnercertid": RoleEntry(
        PARTNER_USERS, ("GET /getPartnerSignedCertificate/{partnerCertId}",)
    ),
    "postverifycertificatetrust": RoleEntry(PARTNER_USERS, ("POST /verifyCertificateTrust",)),
    "postgetcacertificates": RoleEntry(("PARTNER_ADMIN",), ("POST /getCaCertificates",)),
    "getcacertificatetrustpath": RoleEntry(("PARTNER_ADMIN",), ("GET /getCACertificateTrustPath/{caCertId}",)),
    # ZKCryptoManagerController
    "postzkencrypt": RoleEntry(STD, ("POST /zkEncrypt",)),
    "postzkdecrypt": RoleEntry(STD, ("POST /zkDecrypt",)),
    "postzkreencryptrandomkey": RoleEntry(STD, ("POST /zkReEncryptRandomKey",)),
    # ClientCryptoController
    "postcssign": RoleEntry(STD, ("POST /cssign",)),
    "postcsverifysign": RoleEntry(STD, ("POST /csverifysign",)),
    "posttpmencrypt": RoleEntry(STD, ("POST /tpmencrypt",)),
    "posttpmdecrypt": RoleEntry(STD, ("POST /tpmdecrypt",)),
    "posttpmsigningpublickey": RoleEntry(STD, ("POST /tpmsigning/publickey",)),
    "posttpmencryptionpublickey": RoleEntry(STD, ("POST /tpmencryption/publickey",)),
    # TokenIDGeneratorController, KeyMigratorController, LicenseKeyController
    "getuinpartnercode": RoleEntry(
        ("ZONAL_ADMIN", "GLOBAL_ADMIN", "ID_AUTHENTICATION", "RESIDENT"), ("GET /tokenid/{uin}/{partnercode}",)
    ),
    "postmigratebasekey": RoleEntry(("KEY_MIGRATION_ADMIN",), ("POST /migrateBaseKey",)),
    "getzktempcertificate": RoleEntry(("KEY_MIGRATION_ADMIN",), ("GET /getZKTempCertificate",)),
    "postmigratezkkeys": RoleEntry(("KEY_MIGRATION_ADMIN",), ("POST /migrateZKKeys",)),
    "postlicensegenerate": RoleEntry(STD, ("POST /license/generate",)),
}

#: Endpoints the reference leaves without @PreAuthorize: any authenticated caller.
AUTHENTICATED_ONLY = frozenset({"POST /license/permission", "GET /license/permission"})

_VARIABLE = re.compile(r"\{[^}]*\}|<[^>]*>")


def endpoint_id(method: str, path: str) -> str:
    """``"GET /x/{}"`` for both ``/x/{name}`` (the table) and ``/x/<name>`` (a Flask rule)."""
    return f"{method.upper()} {_VARIABLE.sub('{}', path)}"


class RolePolicy:
    """The effective table: defaults with the configured overrides, looked up by endpoint."""

    def __init__(self, overrides: Mapping[str, Iterable[str]] | Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        pairs = overrides.items() if isinstance(overrides, Mapping) else overrides
        roles = {key: frozenset(entry.roles) for key, entry in ROLE_TABLE.items()}
        for key, values in pairs:
            # A typo must not silently leave the default in force.
            if key not in ROLE_TABLE:
                raise ConfigurationError(f"KEYMANAGER_ROLES_{key.upper()}: no such role key (see mosip-api.md §13)")
            roles[key] = frozenset(values)
        self.roles_by_key = roles
        self._key_by_endpoint = {
            endpoint_id(*endpoint.split(" ", 1)): key
            for key, entry in ROLE_TABLE.items()
            for endpoint in entry.endpoints
        }
        self._open = {endpoint_id(*endpoint.split(" ", 1)) for endpoint in AUTHENTICATED_ONLY}

    def key_for(self, method: str, path: str) -> str | None:
        return self._key_by_endpoint.get(endpoint_id(method, path))

    def allowed_roles(self, method: str, path: str) -> frozenset[str] | None:
        """The roles that may call the endpoint; None for one that needs only authentication.

        Raises KeyError for an endpoint in no table: the caller fails closed.
        """
        if endpoint_id(method, path) in self._open:
            return None
        key = self.key_for(method, path)
        if key is None:
            raise KeyError(endpoint_id(method, path))
        return self.roles_by_key[key]

    def all_roles(self) -> frozenset[str]:
        return frozenset().union(*self.roles_by_key.values())
