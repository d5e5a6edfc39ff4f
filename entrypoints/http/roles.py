"""Who may call what: the reference's role keys (mosip-api.md §13) and their default roles.

Each key (``mosip.role.keymanager.<key>``) has default roles; ``KEYMANAGER_ROLES_<KEY>`` replaces the
roles of one key. An endpoint names its key where it is declared (``routes.Controller``); keys of
endpoints the service does not implement yet are listed too, so that a deployment's existing role
configuration can be copied over as it is.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..settings import ConfigurationError

#: The reference's "STD" list (§13).
STD = (
    "ZONAL_ADMIN", "GLOBAL_ADMIN", "INDIVIDUAL", "ID_AUTHENTICATION", "TEST", "REGISTRATION_ADMIN",
    "REGISTRATION_SUPERVISOR", "REGISTRATION_OFFICER", "REGISTRATION_PROCESSOR", "PRE_REGISTRATION_ADMIN", "RESIDENT",
)
STD_AND_ISSUANCE = STD + ("CREDENTIAL_ISSUANCE",)
PARTNER_USERS = ("ZONAL_ADMIN", "GLOBAL_ADMIN", "PMS_ADMIN", "PMS_USER")
ADMINS = ("ZONAL_ADMIN", "GLOBAL_ADMIN")  # -- admin console (issue 17) --


#: role key -> default roles; the comment names the reference's endpoints a key guards.
ROLE_TABLE: dict[str, tuple[str, ...]] = {
    # KeymanagerController
    "postgeneratemasterkeyobjecttype": STD,  # POST /generateMasterKey/{objectType}
    # The reference guards generateECSignKey with getCertificate's key, not a dedicated one (§2.9).
    "getgetcertificate": STD,  # GET /getCertificate, GET /getAllCertificates, POST /generateECSignKey/{objectType}
    "postgeneratecsr": STD,
    "postuploadcertificate": STD,
    "postuploadotherdomaincertificate": STD,
    "postgeneratesymmetrickey": STD,
    "putrevokekey": STD,
    "getcertificatechain": STD,
    # Ours, not the reference's: the metrics when KEYMANAGER_METRICS_PUBLIC=false.
    "getactuatorprometheus": ("ZONAL_ADMIN", "GLOBAL_ADMIN"),
    # CryptomanagerController
    "postencrypt": STD,
    "postdecrypt": STD,
    "postencryptwithpin": STD,
    "postdecryptwithpin": STD,
    "postjwtencrypt": STD,
    "postjwtdecrypt": STD,
    "postgenerateargon2hash": STD,
    # SignatureController
    "postsign": STD,
    "postvalidate": STD,
    "postpdfsign": STD,  # POST /pdf/sign
    "postjwtsign": STD,  # POST /jwtSign, POST /jwtSign/v2
    "postjwtverify": STD,  # POST /jwtVerify, POST /jwtVerify/v2
    "postjwssign": STD_AND_ISSUANCE,  # POST /jwsSign, POST /jwsSign/v2
    "postsignv2": STD_AND_ISSUANCE,
    "postsignrawdata": STD_AND_ISSUANCE,
    # CoseSignController (the reference's development line)
    "postcosesign1": STD_AND_ISSUANCE,
    "postcoseverify1": STD_AND_ISSUANCE,
    "postcwtsign": STD_AND_ISSUANCE,
    "postcwtverify": STD_AND_ISSUANCE,
    # PartnerCertManagerController
    "postuploadcacertificate": ("ZONAL_ADMIN", "GLOBAL_ADMIN", "PMS_ADMIN"),
    "postuploadpartnercertificate": PARTNER_USERS,
    "getgetpartnercertificatepartnercertid": PARTNER_USERS,
    "getgetpartnersignedcertificatepartnercertid": PARTNER_USERS,
    "postverifycertificatetrust": PARTNER_USERS,
    "postgetcacertificates": ("PARTNER_ADMIN",),
    "getcacertificatetrustpath": ("PARTNER_ADMIN",),
    # ZKCryptoManagerController
    "postzkencrypt": STD,
    "postzkdecrypt": STD,
    "postzkreencryptrandomkey": STD,
    # ClientCryptoController
    "postcssign": STD,
    "postcsverifysign": STD,
    "posttpmencrypt": STD,
    "posttpmdecrypt": STD,
    "posttpmsigningpublickey": STD,  # POST /tpmsigning/publickey
    "posttpmencryptionpublickey": STD,  # POST /tpmencryption/publickey
    # TokenIDGeneratorController
    "getuinpartnercode": ("ZONAL_ADMIN", "GLOBAL_ADMIN", "ID_AUTHENTICATION", "RESIDENT"),
    # KeyMigratorController, LicenseKeyController; the reference leaves
    # /license/permission without @PreAuthorize: any authenticated caller.
    "postmigratebasekey": ("KEY_MIGRATION_ADMIN",),
    "getzktempcertificate": ("KEY_MIGRATION_ADMIN",),
    "postmigratezkkeys": ("KEY_MIGRATION_ADMIN",),
    "postlicensegenerate": STD,
    # -- admin console (issue 17) -- ours, not the reference's: the console's read API and policy changes,
    # for MOSIP's administrator roles (the reference has no key manager administrator role to reuse).
    "getadminkeys": ADMINS,  # GET /admin/api/keys, GET /admin/api/keys/{alias}/certificate
    "getadminpolicies": ADMINS,  # GET /admin/api/policies
    "putadminpolicy": ADMINS,  # PUT /admin/api/policies/{applicationId}
    "getadminaudit": ADMINS,  # GET /admin/api/audit, GET /admin/api/audit/verify
    # -- post-quantum hybrid (issue 18) -- ours, not the reference's (ADR 0023). The ML-KEM public key
    # is as public as the certificate: getCertificate's roles. /rewrap is weaker than /decrypt followed
    # by /encrypt, which STD already holds (the plaintext never leaves), and it still applies the
    # application's access_allowed: a narrower default would push deployments to grant decrypt instead.
    "getgetpqpublickey": STD,
    "postrewrap": STD,
}


class RolePolicy:
    """The effective table: defaults with the configured overrides, looked up by role key."""

    def __init__(self, overrides: Mapping[str, Iterable[str]] | Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        pairs = overrides.items() if isinstance(overrides, Mapping) else overrides
        roles = {key: frozenset(defaults) for key, defaults in ROLE_TABLE.items()}
        for key, values in pairs:
            # A typo must not silently leave the default in force.
            if key not in ROLE_TABLE:
                raise ConfigurationError(f"KEYMANAGER_ROLES_{key.upper()}: no such role key (see mosip-api.md §13)")
            roles[key] = frozenset(values)
        self.roles_by_key = roles

    def allowed_roles(self, key: str) -> frozenset[str]:
        """The roles of a key; KeyError for a key in no table (the caller fails closed)."""
        return self.roles_by_key[key]

    def all_roles(self) -> frozenset[str]:
        return frozenset().union(*self.roles_by_key.values())
