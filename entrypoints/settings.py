"""Configuration from environment variables: each setting declared once.

A setting is a field of the frozen ``Settings`` dataclass, declared with ``setting(...)``: its
environment variable, the parser that reads it, its default and the one line of the README's
configuration table. ``Settings.from_env`` reads every declared field; the container is configured
with the field names (``Settings.as_config``); ``python -m entrypoints.settings --markdown`` prints
the README's table (tests/unit/test_settings.py keeps the README in step with the declarations).

Read once by whoever builds the application (the CLI, the WSGI factory, a test) and passed down
explicitly: no global settings object.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from domain.license_keys import DEFAULT_LENGTH as DEFAULT_LICENSE_LENGTH
from domain.license_keys import DEFAULT_PERMISSIONS as DEFAULT_LICENSE_PERMISSIONS
from domain.license_keys import LICENSE_KEY_COLUMN
from domain.partner_trust import DEFAULT_PARTNER_DOMAINS

DEFAULT_INIT_KEYS = (
    "ROOT",
    "KERNEL:SIGN",
    "KERNEL",
    "PRE_REGISTRATION",
    "REGISTRATION",
    "REGISTRATION_PROCESSOR",
    "ID_REPO",
    "RESIDENT",
    "PMS",
)
STORES = ("sqlite", "memory", "postgres")
KEYSTORES = ("pkcs12", "memory", "pkcs11")
#: dev (the default: no identity provider, loudly announced) or oidc (production).
AUTH_MODES = ("dev", "oidc")
ROLES_PREFIX = "KEYMANAGER_ROLES_"
#: Where the HTTP server runs requests: auto (inline on the event loop for the embedded store and
#: keystore, in threads for PostgreSQL or an HSM), inline, or threads (entrypoints/server/bridge.py).
SERVER_DISPATCH = ("auto", "inline", "threads")
LOG_FORMATS = ("text", "json")


class ConfigurationError(Exception):
    """A setting is missing or malformed; the message names the variable."""


# -- parsers: (environment, variable) -> the value, or None when unset or blank (the default applies)

Parser = Callable[[Mapping[str, str], str], Any]


def text(env: Mapping[str, str], name: str) -> str | None:
    """Surrounding blanks removed."""
    return env.get(name, "").strip() or None


def verbatim(env: Mapping[str, str], name: str) -> str | None:
    """As given (secrets and URLs: a password may begin or end with a blank)."""
    return env.get(name) or None


def path(env: Mapping[str, str], name: str) -> Path | None:
    value = text(env, name)
    return Path(value) if value else None


def flag(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def comma_list(env: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    """Comma-separated, blanks around each item and empty items dropped; none at all: the default."""
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip()) or None


def upper_comma_list(env: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    items = comma_list(env, name)
    return tuple(item.upper() for item in items) if items else None


def upper_text(env: Mapping[str, str], name: str) -> str | None:
    value = text(env, name)
    return value.upper() if value else None


def path_list(env: Mapping[str, str], name: str) -> tuple[Path, ...] | None:
    items = comma_list(env, name)
    return tuple(Path(item) for item in items) if items else None


def number(kind: type = int, *, at_least: float | None = None, at_most: float | None = None) -> Parser:
    """A non-negative int or float; a value outside [at_least, at_most] is moved to the nearer bound."""
    def parse(env: Mapping[str, str], name: str) -> float | None:
        raw = env.get(name, "").strip()
        if not raw:
            return None
        try:
            value = kind(raw)
        except ValueError:
            raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
        if value < 0:
            raise ConfigurationError(f"{name} must not be negative")
        if at_least is not None:
            value = max(at_least, value)
        if at_most is not None:
            value = min(at_most, value)
        return kind(value)
    return parse


def choice(*allowed: str) -> Parser:
    """One of ``allowed``, compared case-insensitively."""
    def parse(env: Mapping[str, str], name: str) -> str | None:
        value = env.get(name, "").strip().lower()
        if value and value not in allowed:
            raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        return value or None
    return parse


def role_family(env: Mapping[str, str], name: str) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """The family KEYMANAGER_ROLES_<KEY>=role,role: (key, roles) pairs sorted by key; blank ones ignored.
    An unknown key is refused when the role table is built (entrypoints/http/roles.py)."""
    pairs = (
        (variable[len(ROLES_PREFIX):].lower(), tuple(r.strip() for r in value.split(",") if r.strip()))
        for variable, value in env.items()
        if variable.upper().startswith(ROLES_PREFIX) and value.strip()
    )
    return tuple(sorted(pairs)) or None


# -- declarations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Declaration:
    """How a setting is read and documented."""

    env: str
    parse: Parser
    doc: str
    #: The default as the README shows it, when not the value itself (markdown).
    shown: str | None = None


def setting(env: str, parse: Parser, default: Any, doc: str, *, shown: str | None = None,
            hidden: bool = False) -> Any:
    """A field of ``Settings`` read from ``env``; ``hidden`` keeps a secret out of repr()."""
    return field(default=default, repr=not hidden, metadata={"setting": Declaration(env, parse, doc, shown)})


@dataclass(frozen=True)
class Settings:
    # -- the reference's configuration, beneath ours (entrypoints/reference_config.py)
    spring_properties: tuple[Path, ...] = setting(
        "KEYMANAGER_SPRING_PROPERTIES", path_list, (),
        "the reference's Spring `.properties` (or `.yml`) files, comma-separated, a later one winning; their "
        "properties (and Spring's environment names, e.g. `MOSIP_KERNEL_KEYMANAGER_HSM_KEYSTORE_TYPE`) are mapped "
        "beneath these variables (see \"Reading the reference's configuration\"; `keymanager config check`)")

    # -- the HTTP server (entrypoints/server)
    data_dir: Path = setting(
        "KEYMANAGER_DATA_DIR", path, Path("var"),
        "where the SQLite file, the keystore directory and the generated keystore password live")
    host: str = setting("KEYMANAGER_HOST", text, "127.0.0.1", "listen address")
    port: int = setting("KEYMANAGER_PORT", number(int), 8088, "listen port")
    workers: int = setting(
        "KEYMANAGER_WORKERS", number(int, at_least=1), 2,
        "server worker processes (granian; a worker that dies is replaced)")
    header_timeout_seconds: float = setting(
        "KEYMANAGER_HEADER_TIMEOUT_SECONDS", number(float, at_least=0.5, at_most=60.0), 10.0,
        "a connection whose request head has not arrived by then is closed (0.5 to 60)")
    body_timeout_seconds: float = setting(
        "KEYMANAGER_BODY_TIMEOUT_SECONDS", number(float, at_least=0.5), 30.0,
        "a request body that has not fully arrived by then gets HTTP 408")
    server_dispatch: str = setting(
        "KEYMANAGER_SERVER_DISPATCH", choice(*SERVER_DISPATCH), "auto",
        "where requests run: `inline` on each worker's event loop (auto with SQLite + PKCS#12), `threads` in a "
        "pool (auto with PostgreSQL or an HSM)")
    server_threads: int = setting(
        "KEYMANAGER_SERVER_THREADS", number(int, at_least=1), 4,
        "per worker: the pool for `threads` dispatch and for PBKDF2/Argon2 requests")
    log_format: str = setting(
        "KEYMANAGER_LOG_FORMAT", choice(*LOG_FORMATS), "text",
        "`text` (time LEVEL logger: message) or `json` (one object a line; see \"Logs\")")
    cors_origins: tuple[str, ...] = setting(
        "KEYMANAGER_CORS_ORIGINS", comma_list, (),
        "origins allowed by CORS, comma-separated, `*` for any (the reference's `@CrossOrigin`); preflights then "
        "need no token", shown="— (CORS off)")
    metrics_public: bool = setting(
        "KEYMANAGER_METRICS_PUBLIC", flag, True,
        "`GET /actuator/prometheus` without a token (like actuator behind a cluster network); `false`: only "
        "`ZONAL_ADMIN`/`GLOBAL_ADMIN` (role key `getactuatorprometheus`)")
    rotation_interval_seconds: float = setting(
        "KEYMANAGER_ROTATION_INTERVAL_SECONDS", number(float, at_least=0.0), 3600.0,
        "`keymanager serve` renews the keys that are due this often, in every worker (each successor is made "
        "once; 0: never — then run `keymanager rotate --due`)")
    max_body_bytes: int = setting(
        "KEYMANAGER_MAX_BODY_BYTES", number(int), 20 * 1024 * 1024,
        "largest accepted request body, declared or chunked (HTTP 413 beyond)")
    # -- ML-DSA and batch (issue 18) --
    batch_max_items: int = setting(
        "KEYMANAGER_BATCH_MAX_ITEMS", number(int, at_least=1), 100,
        "most items in one `/encrypt/batch`, `/decrypt/batch` or `/jwtSign/batch` request (`KER-KMS-005` beyond)")

    # -- the key store
    store: str = setting(
        "KEYMANAGER_STORE", choice(*STORES), "sqlite",
        "`sqlite` (embedded, persistent), `postgres` (shared by many instances) or `memory` (throwaway)")
    db_url: str | None = setting(
        "KEYMANAGER_DB_URL", verbatim, None,
        "with `postgres`: `postgresql://user[:password]@host[:port]/database[?schema=keymgr]`", hidden=True)
    db_pool_size: int = setting(
        "KEYMANAGER_DB_POOL_SIZE", number(int, at_least=1), 8, "PostgreSQL connections per process")
    db_timeout_seconds: float = setting(
        "KEYMANAGER_DB_TIMEOUT_SECONDS", number(float, at_least=1.0), 10.0,
        "longest wait for the database (and for a request's audit record) before a request fails with HTTP 503")
    db_auto_upgrade: bool = setting(
        "KEYMANAGER_DB_AUTO_UPGRADE", flag, True,
        "apply pending schema migrations at start (else run `keymanager db upgrade`)")

    # -- the keystore
    keystore: str = setting(
        "KEYMANAGER_KEYSTORE", choice(*KEYSTORES), "pkcs12",
        "`pkcs12` (embedded, persistent), `pkcs11` (an HSM) or `memory` (throwaway)")
    pkcs11_module: str = setting(
        "PKCS11_MODULE", text, "/usr/lib/softhsm/libsofthsm2.so", "with `pkcs11`: the PKCS#11 library of the HSM")
    pkcs11_token_label: str | None = setting(
        "PKCS11_TOKEN_LABEL", text, None, "with `pkcs11`: the token's label")
    pkcs11_pin: str | None = setting(
        "PKCS11_TOKEN_PIN", verbatim, None, "with `pkcs11`: the user PIN (never logged)", hidden=True)
    pkcs11_pin_file: Path | None = setting(
        "PKCS11_TOKEN_PIN_FILE", path, None,
        "with `pkcs11`: a file holding the user PIN (used when `PKCS11_TOKEN_PIN` is unset)")
    keystore_directory: Path | None = setting(
        "KEYMANAGER_KEYSTORE_DIR", path, None,
        "the PKCS#12 keystore directory (share it between instances that share a database)",
        shown="`<data dir>/keystore`")
    keystore_password: str | None = setting(
        "KEYMANAGER_KEYSTORE_PASSWORD", verbatim, None, "the PKCS#12 keystore password", hidden=True)
    keystore_password_file: Path | None = setting(
        "KEYMANAGER_KEYSTORE_PASSWORD_FILE", path, None,
        "a file holding the PKCS#12 keystore password (used when `KEYMANAGER_KEYSTORE_PASSWORD` is unset)")
    ed25519_in_keystore: bool = setting(
        "KEYMANAGER_ED25519_IN_KEYSTORE", flag, False,
        "`generateECSignKey` makes `ED25519_SIGN` keys in the keystore, issued by ROOT (with `pkcs11`: inside the "
        "HSM, which must offer `CKM_EC_EDWARDS_KEY_PAIR_GEN` and `CKM_EDDSA`, checked at start), instead of in the "
        "database wrapped by the application's key (the reference's "
        "`mosip.kernel.keymanager.ed25519.hsm.support.enabled`); existing keys keep working either way")

    # -- the key ceremony, caches
    auto_init: bool = setting(
        "KEYMANAGER_AUTO_INIT", flag, True, "run the (idempotent) key ceremony when `serve` starts")
    init_keys: tuple[str, ...] = setting(
        "KEYMANAGER_INIT_KEYS", comma_list, DEFAULT_INIT_KEYS,
        "keys the ceremony makes, `APP` or `APP:REF`, ROOT first")
    cert_common_name: str = setting(
        "KEYMANAGER_CERT_COMMON_NAME", text, "www.mosip.io",
        "default certificate subject: common name (module keys get CN `<common name> (<APP>)`)")
    cert_organizational_unit: str = setting(
        "KEYMANAGER_CERT_ORGANIZATIONAL_UNIT", text, "MOSIP-TECH-CENTER",
        "default certificate subject: organizational unit")
    cert_organization: str = setting(
        "KEYMANAGER_CERT_ORGANIZATION", text, "IITB", "default certificate subject: organization")
    cert_location: str = setting(
        "KEYMANAGER_CERT_LOCATION", text, "BANGALORE", "default certificate subject: location")
    cert_state: str = setting("KEYMANAGER_CERT_STATE", text, "KA", "default certificate subject: state")
    cert_country: str = setting("KEYMANAGER_CERT_COUNTRY", text, "IN", "default certificate subject: country")
    key_cache_size: int = setting(
        "KEYMANAGER_KEY_CACHE_SIZE", number(int), 1024,
        "entries in the cache of unwrapped base keys for decryption (0 disables)")
    key_cache_ttl_seconds: float = setting(
        "KEYMANAGER_KEY_CACHE_TTL_SECONDS", number(float), 900.0,
        "how long an unwrapped base key (and a certificate) stays cached")
    policy_cache_ttl_seconds: float = setting(
        "KEYMANAGER_POLICY_CACHE_TTL_SECONDS", number(float), 60.0, "how long a key policy row is cached")

    # -- authentication and roles (entrypoints/http/auth.py, roles.py)
    auth_mode: str = setting(
        "KEYMANAGER_AUTH", choice(*AUTH_MODES), "dev",
        "`oidc` (production: bearer tokens from your identity provider) or `dev` (no authentication, announced; "
        "see below)")
    oidc_issuer: str | None = setting(
        "KEYMANAGER_OIDC_ISSUER", text, None,
        "with `oidc`: the tokens' `iss`, e.g. `https://keycloak.example/auth/realms/mosip`")
    oidc_jwks_url: str | None = setting(
        "KEYMANAGER_OIDC_JWKS_URL", text, None,
        "with `oidc`: the issuer's JWKS, e.g. `…/realms/mosip/protocol/openid-connect/certs`")
    oidc_audience: tuple[str, ...] = setting(
        "KEYMANAGER_OIDC_AUDIENCE", comma_list, (),
        "with `oidc`: accepted `aud` values, comma-separated (a token must name one)")
    oidc_roles_claim: str = setting(
        "KEYMANAGER_OIDC_ROLES_CLAIM", text, "realm_access.roles",
        "dotted path of the roles in the token (e.g. `resource_access.keymanager.roles`)")
    oidc_username_claim: str = setting(
        "KEYMANAGER_OIDC_USERNAME_CLAIM", text, "preferred_username",
        "the claim compared with a key policy's `access_allowed`")
    oidc_leeway_seconds: int = setting(
        "KEYMANAGER_OIDC_LEEWAY_SECONDS", number(int), 30, "clock skew allowed on `exp`, `nbf` and `iat`")
    oidc_jwks_cache_seconds: float = setting(
        "KEYMANAGER_OIDC_JWKS_CACHE_SECONDS", number(float), 3600.0,
        "how long the fetched JWKS is used before it is fetched again")
    oidc_jwks_min_refresh_seconds: float = setting(
        "KEYMANAGER_OIDC_JWKS_MIN_REFRESH_SECONDS", number(float), 30.0,
        "at most one extra JWKS fetch per this many seconds for an unknown `kid` (and after a failed fetch)")
    oidc_http_timeout_seconds: float = setting(
        "KEYMANAGER_OIDC_HTTP_TIMEOUT_SECONDS", number(float, at_least=0.5), 5.0, "timeout of a JWKS fetch")
    # -- admin console (issue 17) -- sign-in with the authorization-code flow and PKCE (console_auth.py)
    console_client_id: str | None = setting(
        "KEYMANAGER_CONSOLE_CLIENT_ID", text, None,
        "with `oidc`: the console's client id at the identity provider (authorization-code flow with PKCE); unset: "
        "no console sign-in (the API still takes bearer tokens)")
    console_client_secret: str | None = setting(
        "KEYMANAGER_CONSOLE_CLIENT_SECRET", verbatim, None,
        "the console client's secret, for a confidential client (sent with HTTP Basic to the token endpoint; never "
        "logged); unset: a public client (PKCE only)", hidden=True)
    console_redirect_url: str = setting(
        "KEYMANAGER_CONSOLE_REDIRECT_URL", text, "http://127.0.0.1:8088/v1/keymanager/admin/callback",
        "where the identity provider sends the browser back (register it with the client)")
    oidc_authorization_url: str | None = setting(
        "KEYMANAGER_OIDC_AUTHORIZATION_URL", text, None,
        "the issuer's authorization endpoint", shown="`<issuer>/protocol/openid-connect/auth` (Keycloak's)")
    oidc_token_url: str | None = setting(
        "KEYMANAGER_OIDC_TOKEN_URL", text, None,
        "the issuer's token endpoint", shown="`<issuer>/protocol/openid-connect/token` (Keycloak's)")
    console_cookie_secure: str = setting(
        "KEYMANAGER_CONSOLE_COOKIE_SECURE", choice("auto", "true", "false"), "auto",
        "the session cookie's `Secure` attribute: `auto` sets it unless the redirect URL is `http://` to "
        "127.0.0.1 or localhost (local development without TLS)")
    role_overrides: tuple[tuple[str, tuple[str, ...]], ...] = setting(
        f"{ROLES_PREFIX}<KEY>", role_family, (),
        "roles allowed for one role key, comma-separated, e.g. `KEYMANAGER_ROLES_POSTENCRYPT=REGISTRATION_PROCESSOR,"
        "RESIDENT`; an unknown key is refused at start", shown="the reference's (§13 of the spec)")

    # -- the partner trust store (mosip.kernel.partner.*, ADR 0012)
    partner_domains: tuple[str, ...] = setting(
        "KEYMANAGER_PARTNER_DOMAINS", upper_comma_list, DEFAULT_PARTNER_DOMAINS,
        "partner domains, each with its own trust store (compared case-insensitively, stored upper-case)")
    partner_ca_min_validity_months: int = setting(
        "KEYMANAGER_PARTNER_CA_MIN_VALIDITY_MONTHS", number(int, at_least=0), 12,
        "a CA certificate must stay valid at least this long to be uploaded")
    partner_cert_duration_years: int = setting(
        "KEYMANAGER_PARTNER_CERT_DURATION_YEARS", number(int, at_least=1), 1,
        "validity of re-issued partner certificates")
    partner_grace_days: int = setting(
        "KEYMANAGER_PARTNER_GRACE_DAYS", number(int), 30,
        "a partner certificate needs `365×years − grace` days left")
    partner_sign_app_id: str = setting(
        "KEYMANAGER_PARTNER_SIGN_APP_ID", text, "PMS", "the master key that re-issues partner certificates")
    partner_resign_ftm_certs: bool = setting(
        "KEYMANAGER_PARTNER_RESIGN_FTM_CERTS", flag, False, "FTM partners get the re-issued chain instead of their own")
    partner_trust_cache_seconds: float = setting(
        "KEYMANAGER_PARTNER_TRUST_CACHE_SECONDS", number(float), 7200.0,
        "longest a domain's parsed trust store stays cached (any upload refreshes it at once)")
    partner_trust_domain: str = setting(
        "KEYMANAGER_PARTNER_TRUST_DOMAIN", upper_text, "TRUST_CA",
        "the domain whose CA certificates give `includeCertificateChain` its chain when our own key hierarchy "
        "does not (a key certified by an outside CA; `mosip.kernel.partner.trust.validate.domain.name`)")

    # -- zero-knowledge encryption (ADR 0013)
    zk_pool_size: int = setting(
        "KEYMANAGER_ZK_POOL_SIZE", number(int, at_least=0), 10000,
        "random keys in the ZK pool, made by `keymanager init` / `zk init` (0: none)")
    zk_public_key_app_id: str = setting(
        "KEYMANAGER_ZK_PUBLIC_KEY_APP_ID", text, "IDA", "whose certificates `zkEncrypt` encrypts the random key to")
    zk_public_key_ref_ids: tuple[str, ...] = setting(
        "KEYMANAGER_ZK_PUBLIC_KEY_REF_IDS", comma_list, ("PUBLIC_KEY",),
        "the references of those certificates, comma-separated")

    # -- the signing key's id in JWS and COSE headers (mosip-api.md §1.9, mosip-cose-pdf.md A.4)
    sign_kid_prefix: str = setting(
        "KEYMANAGER_SIGN_KID_PREFIX", text, "",
        "prefix of the `kid` that `jwtSign`, `jwsSign` (and `/v2`), `coseSign1` and `cwtSign` write before the key "
        "id; `PAYLOAD_ISSUER`: the payload's `iss` and `#` (`mosip.kernel.keymanager.signature.kid.prepend`)",
        shown="empty")
    sign_include_keyid: bool = setting(
        "KEYMANAGER_SIGN_INCLUDE_KEYID", flag, True,
        "those endpoints write the `kid` (COSE: when a header asks for it; "
        "`mosip.kernel.keymanager.jwtsign.include.keyid`)")

    # -- COSE / CWT (issue 15): the reference's code defaults (mosip-cose-pdf.md A.10)
    cwt_issuer: str = setting(
        "KEYMANAGER_CWT_ISSUER", text, "", "`cwtSign`: the `iss` claim when the request has no `issuer`",
        shown="empty")
    cwt_expire_days: int = setting(
        "KEYMANAGER_CWT_EXPIRE_DAYS", number(int), 180, "`cwtSign`: days from `nbf` to `exp` when not in the request")
    cwt_not_before_days: int = setting(
        "KEYMANAGER_CWT_NOT_BEFORE_DAYS", number(int), 0, "`cwtSign`: days from now to `nbf` when not in the request")
    cwt_verify_issuer: bool = setting(
        "KEYMANAGER_CWT_VERIFY_ISSUER", flag, False, "`cwtVerify` checks the `iss` claim")
    cwt_expected_issuer: str = setting(
        "KEYMANAGER_CWT_EXPECTED_ISSUER", text, "",
        "the `iss` `cwtVerify` expects when the request has no `issuer`", shown="empty")
    cwt_verify_subject: bool = setting(
        "KEYMANAGER_CWT_VERIFY_SUBJECT", flag, False, "`cwtVerify` checks the `sub` claim")
    cwt_expected_subject: str = setting(
        "KEYMANAGER_CWT_EXPECTED_SUBJECT", text, "",
        "the `sub` `cwtVerify` expects when the request has no `subject`", shown="empty")

    # -- PIN encryption, Argon2, slow work (application/support/work_limiter.py), token IDs
    pin_hash_iterations: int = setting(
        "KEYMANAGER_PIN_HASH_ITERATIONS", number(int, at_least=1), 100000,
        "PBKDF2-HMAC-SHA512 iterations of `encryptWithPin` / `decryptWithPin` (both sides must agree)")
    argon2_iterations: int = setting(
        "KEYMANAGER_ARGON2_ITERATIONS", number(int, at_least=1), 10, "`generateArgon2Hash` iterations")
    argon2_memory_kib: int = setting(
        "KEYMANAGER_ARGON2_MEMORY_KIB", number(int, at_least=8), 65536, "`generateArgon2Hash` memory, KiB")
    argon2_parallelism: int = setting(
        "KEYMANAGER_ARGON2_PARALLELISM", number(int, at_least=1), 2, "`generateArgon2Hash` parallelism")
    slow_work_concurrency: int = setting(
        "KEYMANAGER_SLOW_WORK_CONCURRENCY", number(int, at_least=1), 1,
        "per worker process: PBKDF2/Argon2 computations at once (see `docs/performance.md`)")
    slow_work_waiting: int = setting(
        "KEYMANAGER_SLOW_WORK_WAITING", number(int, at_least=0), 1,
        "per worker process: requests that may wait for one; beyond that HTTP 503")
    slow_work_wait_seconds: float = setting(
        "KEYMANAGER_SLOW_WORK_WAIT_SECONDS", number(float, at_least=0.0), 5.0,
        "how long such a request may wait; beyond that HTTP 503")
    tokenid_uin_salt: str | None = setting(
        "KEYMANAGER_TOKENID_UIN_SALT", verbatim, None,
        "token ID salt of the UIN; when unset, generated once into `<data dir>/tokenid.salts` (instances sharing "
        "a database must share it)", shown="generated", hidden=True)
    tokenid_partner_code_salt: str | None = setting(
        "KEYMANAGER_TOKENID_PARTNERCODE_SALT", verbatim, None,
        "token ID salt of the partner code; generated likewise", shown="generated", hidden=True)
    tokenid_length: int = setting(
        "KEYMANAGER_TOKENID_LENGTH", number(int, at_least=1), 36, "token ID digits")

    # -- licence keys of trusted service providers (license/generate, license/permission)
    licensekey_length: int = setting(
        "KEYMANAGER_LICENSEKEY_LENGTH", number(int, at_least=1, at_most=LICENSE_KEY_COLUMN), DEFAULT_LICENSE_LENGTH,
        f"letters and digits of a new licence key, 1 to {LICENSE_KEY_COLUMN} (`mosip.kernel.licensekey.length`)")
    licensekey_permissions: tuple[str, ...] = setting(
        "KEYMANAGER_LICENSEKEY_PERMISSIONS", comma_list, DEFAULT_LICENSE_PERMISSIONS,
        "comma-separated: `license/permission` accepts a permission that contains one of them "
        "(`mosip.kernel.licensekey.permissions`; setting it replaces the whole list)")

    # -- post-quantum hybrid (issue 18) --
    pq_hybrid_apps: tuple[str, ...] = setting(
        "KEYMANAGER_PQ_HYBRID_APPS", upper_comma_list, (),
        "comma-separated application IDs whose `/encrypt` always answers the hybrid post-quantum envelope "
        "`VER_Q1` (ML-KEM-768 + RSA-OAEP, ADR 0023), whatever the request's `pqHybrid` says", shown="none")

    # -- PDF signing (pdf/sign)
    pdf_owner_password: str | None = setting(
        "KEYMANAGER_PDF_OWNER_PASSWORD", verbatim, None,
        "owner password of the PDFs `pdf/sign` protects with a user password (the reference's "
        "`mosip.kernel.pdf_owner_password`, default `\"\"`); when unset, a random one per document, so nobody "
        "can lift the permissions (never logged)", shown="random per document", hidden=True)

    def __post_init__(self) -> None:
        # Checked here, not only in from_env, so that a Settings built in code cannot
        # ask for OIDC and silently run without it.
        if isinstance(self.oidc_audience, str):
            audiences = tuple(a.strip() for a in self.oidc_audience.split(",") if a.strip())
            object.__setattr__(self, "oidc_audience", audiences)
        if isinstance(self.role_overrides, dict):
            pairs = ((key.lower(), tuple(roles)) for key, roles in self.role_overrides.items())
            object.__setattr__(self, "role_overrides", tuple(sorted(pairs)))
        if self.auth_mode not in AUTH_MODES:
            raise ConfigurationError(f"KEYMANAGER_AUTH must be one of {', '.join(AUTH_MODES)}, got {self.auth_mode!r}")
        if self.auth_mode == "oidc":
            required = (
                ("KEYMANAGER_OIDC_ISSUER", self.oidc_issuer),
                ("KEYMANAGER_OIDC_JWKS_URL", self.oidc_jwks_url),
                ("KEYMANAGER_OIDC_AUDIENCE", self.oidc_audience),
            )
            missing = [name for name, value in required if not value]
            if missing:
                raise ConfigurationError(f"KEYMANAGER_AUTH=oidc needs {', '.join(missing)}")
            if not str(self.oidc_jwks_url).startswith(("https://", "http://")):
                raise ConfigurationError("KEYMANAGER_OIDC_JWKS_URL must be an http(s) URL")
        # -- admin console (issue 17) --
        for name, url in (("KEYMANAGER_CONSOLE_REDIRECT_URL", self.console_redirect_url),
                          ("KEYMANAGER_OIDC_AUTHORIZATION_URL", self.oidc_authorization_url),
                          ("KEYMANAGER_OIDC_TOKEN_URL", self.oidc_token_url)):
            if url is not None and not str(url).startswith(("https://", "http://")):
                raise ConfigurationError(f"{name} must be an http(s) URL")
        if not self.oidc_roles_claim.strip() or not self.oidc_username_claim.strip():
            raise ConfigurationError("KEYMANAGER_OIDC_ROLES_CLAIM and KEYMANAGER_OIDC_USERNAME_CLAIM must not be blank")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Every declared setting from its variable; unset or blank ones keep their defaults."""
        env = os.environ if env is None else env
        from .reference_config import with_reference_config  # imported here: it imports this module

        env = with_reference_config(env)  # the reference's properties, mapped beneath ours
        values: dict[str, Any] = {}
        for name, declared in declarations().items():
            value = declared.parse(env, declared.env)
            if value is not None:
                values[name] = value
        return cls(**values)

    def as_config(self) -> dict[str, Any]:
        """The settings by field name: the container's configuration (entrypoints/containers.py)."""
        return {name: getattr(self, name) for name in declarations()}

    def auth_summary(self) -> str:
        """One line for `keymanager status` and the logs: the dev mode must never go unnoticed."""
        if self.auth_mode == "dev":
            return "dev (authentication DISABLED: every request acts as user 'dev' with every role)"
        return f"oidc (issuer {self.oidc_issuer}, audience {','.join(self.oidc_audience)}, keys {self.oidc_jwks_url})"

    # -- admin console (issue 17) --
    @property
    def authorization_url(self) -> str:
        return self.oidc_authorization_url or f"{(self.oidc_issuer or '').rstrip('/')}/protocol/openid-connect/auth"

    @property
    def token_url(self) -> str:
        return self.oidc_token_url or f"{(self.oidc_issuer or '').rstrip('/')}/protocol/openid-connect/token"

    @property
    def console_cookie_is_secure(self) -> bool:
        if self.console_cookie_secure != "auto":
            return self.console_cookie_secure == "true"
        return not self.console_redirect_url.startswith(
            ("http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/", "http://[::1]"))

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "keymanager.sqlite3"

    @property
    def keystore_dir(self) -> Path:
        return self.keystore_directory or self.data_dir / "keystore"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def declarations() -> dict[str, Declaration]:
    """Every setting's declaration by field name, in declaration order."""
    return {item.name: item.metadata["setting"] for item in fields(Settings)}


# -- the README's configuration table -----------------------------------------------------------

TABLE_START = "<!-- settings table: generated by `python -m entrypoints.settings --markdown`; edit the declarations -->"
TABLE_END = "<!-- end of the settings table -->"


def shown_default(item: Field, declared: Declaration) -> str:
    if declared.shown is not None:
        return declared.shown
    value = item.default
    if value is None or value == ():
        return "—"
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, tuple):
        value = ",".join(value)
    return f"`{value}`"


def markdown_table() -> str:
    """The README's table of environment variables, one row per declared setting."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for item in fields(Settings):
        declared: Declaration = item.metadata["setting"]
        rows.append(f"| `{declared.env}` | {shown_default(item, declared)} | {declared.doc} |")
    return "\n".join(rows) + "\n"


def readme_with_table(readme: str) -> str:
    """``readme`` with the text between TABLE_START and TABLE_END replaced by the current table."""
    pattern = re.compile(re.escape(TABLE_START) + r"\n.*?" + re.escape(TABLE_END), re.DOTALL)
    if not pattern.search(readme):
        raise ValueError(f"no {TABLE_START!r} ... {TABLE_END!r} section")
    return pattern.sub(lambda _: f"{TABLE_START}\n{markdown_table()}{TABLE_END}", readme, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m entrypoints.settings", description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print the README's table of settings")
    parser.add_argument("--update-readme", metavar="PATH", type=Path,
                        help="rewrite the table in this README (between its generated-table markers)")
    args = parser.parse_args(argv)
    if args.update_readme:
        args.update_readme.write_text(readme_with_table(args.update_readme.read_text(encoding="utf-8")),
                                      encoding="utf-8")
    elif args.markdown:
        sys.stdout.write(markdown_table())
    else:
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
