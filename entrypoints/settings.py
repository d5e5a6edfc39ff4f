"""Configuration from environment variables (documented in the README).

Read once by whoever builds the application (the CLI, the WSGI factory, a
test) and passed down explicitly: no global settings object.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

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


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8088
    workers: int = 2
    store: str = "sqlite"
    db_url: str | None = field(default=None, repr=False)
    db_pool_size: int = 8
    db_timeout_seconds: float = 10.0
    db_auto_upgrade: bool = True
    keystore_directory: Path | None = None
    keystore: str = "pkcs12"
    keystore_password: str | None = field(default=None, repr=False)
    keystore_password_file: Path | None = None
    pkcs11_module: str = "/usr/lib/softhsm/libsofthsm2.so"
    pkcs11_token_label: str | None = None
    pkcs11_pin: str | None = field(default=None, repr=False)
    pkcs11_pin_file: Path | None = None
    key_cache_size: int = 1024
    key_cache_ttl_seconds: float = 900.0
    policy_cache_ttl_seconds: float = 60.0
    max_body_bytes: int = 20 * 1024 * 1024
    #: The HTTP server (entrypoints/server): how long a client may take to send its request
    #: head and its body before the connection is closed, and where requests run.
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    server_dispatch: str = "auto"
    server_threads: int = 4
    #: text (time LEVEL logger: message) or json (one object a line, with request id, route, status, latency).
    log_format: str = "text"
    #: Origins allowed by CORS (the reference's @CrossOrigin); empty: CORS off; ("*",): any origin.
    cors_origins: tuple[str, ...] = ()
    #: GET /actuator/prometheus without a token (like actuator behind a cluster network); false: admins only.
    metrics_public: bool = True
    #: keymanager serve renews due keys this often (seconds; 0: never, then run `keymanager rotate --due`).
    rotation_interval_seconds: float = 3600.0
    auto_init: bool = True
    init_keys: tuple[str, ...] = DEFAULT_INIT_KEYS
    cert_common_name: str = "www.mosip.io"
    cert_organizational_unit: str = "MOSIP-TECH-CENTER"
    cert_organization: str = "IITB"
    cert_location: str = "BANGALORE"
    cert_state: str = "KA"
    cert_country: str = "IN"
    auth_mode: str = "dev"
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None
    oidc_audience: tuple[str, ...] = ()
    oidc_roles_claim: str = "realm_access.roles"
    oidc_username_claim: str = "preferred_username"
    oidc_leeway_seconds: int = 30
    oidc_jwks_cache_seconds: float = 3600.0
    oidc_jwks_min_refresh_seconds: float = 30.0
    oidc_http_timeout_seconds: float = 5.0
    #: The partner trust store (mosip.kernel.partner.*): domains, upload rules, the PMS key.
    partner_domains: tuple[str, ...] = DEFAULT_PARTNER_DOMAINS
    partner_ca_min_validity_months: int = 12
    partner_cert_duration_years: int = 1
    partner_grace_days: int = 30
    partner_sign_app_id: str = "PMS"
    partner_resign_ftm_certs: bool = False
    partner_trust_cache_seconds: float = 7200.0
    #: Zero-knowledge encryption: pool size, and whose certificates the random key goes to.
    zk_pool_size: int = 10000
    zk_public_key_app_id: str = "IDA"
    zk_public_key_ref_ids: tuple[str, ...] = ("PUBLIC_KEY",)
    #: encryptWithPin / decryptWithPin (mosip.kernel.crypto.hash-iteration) and generateArgon2Hash.
    pin_hash_iterations: int = 100000
    argon2_iterations: int = 10
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 2
    #: Bound on deliberately slow work per process (application/work_limiter.py).
    slow_work_concurrency: int = 1
    slow_work_waiting: int = 1
    slow_work_wait_seconds: float = 5.0
    #: Token IDs: the salts (generated into the data dir on first use when unset) and length.
    tokenid_uin_salt: str | None = field(default=None, repr=False)
    tokenid_partner_code_salt: str | None = field(default=None, repr=False)
    tokenid_length: int = 36
    #: (role key, roles) pairs from KEYMANAGER_ROLES_<KEY>; a dict is accepted and normalised.
    role_overrides: tuple[tuple[str, tuple[str, ...]], ...] = ()

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
        if not self.oidc_roles_claim.strip() or not self.oidc_username_claim.strip():
            raise ConfigurationError("KEYMANAGER_OIDC_ROLES_CLAIM and KEYMANAGER_OIDC_USERNAME_CLAIM must not be blank")

    def auth_summary(self) -> str:
        """One line for `keymanager status` and the logs: the dev mode must never go unnoticed."""
        if self.auth_mode == "dev":
            return "dev (authentication DISABLED: every request acts as user 'dev' with every role)"
        return f"oidc (issuer {self.oidc_issuer}, audience {','.join(self.oidc_audience)}, keys {self.oidc_jwks_url})"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "keymanager.sqlite3"

    @property
    def keystore_dir(self) -> Path:
        return self.keystore_directory or self.data_dir / "keystore"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        base = cls()

        def text(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        def number(name: str, default: float, kind: type = int) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
            if value < 0:
                raise ConfigurationError(f"{name} must not be negative")
            return value

        def choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
            value = text(name, default).lower()
            if value not in allowed:
                raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
            return value

        def flag(name: str, default: bool) -> bool:
            raw = env.get(name, "").strip().lower()
            if not raw:
                return default
            if raw in ("1", "true", "yes", "on"):
                return True
            if raw in ("0", "false", "no", "off"):
                return False
            raise ConfigurationError(f"{name} must be true or false, got {raw!r}")

        password_file = env.get("KEYMANAGER_KEYSTORE_PASSWORD_FILE", "").strip()
        keystore_directory = env.get("KEYMANAGER_KEYSTORE_DIR", "").strip()
        pin_file = env.get("PKCS11_TOKEN_PIN_FILE", "").strip()
        init_keys = tuple(k.strip() for k in env.get("KEYMANAGER_INIT_KEYS", "").split(",") if k.strip())
        role_overrides = tuple(
            sorted(
                (name[len(ROLES_PREFIX):].lower(), tuple(r.strip() for r in value.split(",") if r.strip()))
                for name, value in env.items()
                if name.upper().startswith(ROLES_PREFIX) and value.strip()
            )
        )
        return cls(
            data_dir=Path(text("KEYMANAGER_DATA_DIR", str(base.data_dir))),
            host=text("KEYMANAGER_HOST", base.host),
            port=int(number("KEYMANAGER_PORT", base.port)),
            workers=max(1, int(number("KEYMANAGER_WORKERS", base.workers))),
            store=choice("KEYMANAGER_STORE", base.store, STORES),
            db_url=env.get("KEYMANAGER_DB_URL") or None,
            db_pool_size=max(1, int(number("KEYMANAGER_DB_POOL_SIZE", base.db_pool_size))),
            db_timeout_seconds=max(1.0, float(number("KEYMANAGER_DB_TIMEOUT_SECONDS", base.db_timeout_seconds, float))),
            db_auto_upgrade=flag("KEYMANAGER_DB_AUTO_UPGRADE", base.db_auto_upgrade),
            keystore_directory=Path(keystore_directory) if keystore_directory else None,
            keystore=choice("KEYMANAGER_KEYSTORE", base.keystore, KEYSTORES),
            keystore_password=env.get("KEYMANAGER_KEYSTORE_PASSWORD") or None,
            keystore_password_file=Path(password_file) if password_file else None,
            pkcs11_module=text("PKCS11_MODULE", base.pkcs11_module),
            pkcs11_token_label=env.get("PKCS11_TOKEN_LABEL", "").strip() or None,
            pkcs11_pin=env.get("PKCS11_TOKEN_PIN") or None,
            pkcs11_pin_file=Path(pin_file) if pin_file else None,
            key_cache_size=int(number("KEYMANAGER_KEY_CACHE_SIZE", base.key_cache_size)),
            key_cache_ttl_seconds=float(number("KEYMANAGER_KEY_CACHE_TTL_SECONDS", base.key_cache_ttl_seconds, float)),
            policy_cache_ttl_seconds=float(
                number("KEYMANAGER_POLICY_CACHE_TTL_SECONDS", base.policy_cache_ttl_seconds, float)
            ),
            max_body_bytes=int(number("KEYMANAGER_MAX_BODY_BYTES", base.max_body_bytes)),
            header_timeout_seconds=min(60.0, max(
                0.5, float(number("KEYMANAGER_HEADER_TIMEOUT_SECONDS", base.header_timeout_seconds, float))
            )),
            body_timeout_seconds=max(
                0.5, float(number("KEYMANAGER_BODY_TIMEOUT_SECONDS", base.body_timeout_seconds, float))
            ),
            server_dispatch=choice("KEYMANAGER_SERVER_DISPATCH", base.server_dispatch, SERVER_DISPATCH),
            server_threads=max(1, int(number("KEYMANAGER_SERVER_THREADS", base.server_threads))),
            log_format=choice("KEYMANAGER_LOG_FORMAT", base.log_format, LOG_FORMATS),
            metrics_public=flag("KEYMANAGER_METRICS_PUBLIC", base.metrics_public),
            rotation_interval_seconds=max(
                0.0, float(number("KEYMANAGER_ROTATION_INTERVAL_SECONDS", base.rotation_interval_seconds, float))
            ),
            cors_origins=tuple(o.strip() for o in env.get("KEYMANAGER_CORS_ORIGINS", "").split(",") if o.strip()),
            auto_init=flag("KEYMANAGER_AUTO_INIT", base.auto_init),
            init_keys=init_keys or base.init_keys,
            cert_common_name=text("KEYMANAGER_CERT_COMMON_NAME", base.cert_common_name),
            cert_organizational_unit=text("KEYMANAGER_CERT_ORGANIZATIONAL_UNIT", base.cert_organizational_unit),
            cert_organization=text("KEYMANAGER_CERT_ORGANIZATION", base.cert_organization),
            cert_location=text("KEYMANAGER_CERT_LOCATION", base.cert_location),
            cert_state=text("KEYMANAGER_CERT_STATE", base.cert_state),
            cert_country=text("KEYMANAGER_CERT_COUNTRY", base.cert_country),
            auth_mode=choice("KEYMANAGER_AUTH", base.auth_mode, AUTH_MODES),
            oidc_issuer=env.get("KEYMANAGER_OIDC_ISSUER", "").strip() or None,
            oidc_jwks_url=env.get("KEYMANAGER_OIDC_JWKS_URL", "").strip() or None,
            # comma-separated: a token naming any one of them is accepted
            oidc_audience=tuple(a.strip() for a in env.get("KEYMANAGER_OIDC_AUDIENCE", "").split(",") if a.strip()),
            oidc_roles_claim=text("KEYMANAGER_OIDC_ROLES_CLAIM", base.oidc_roles_claim),
            oidc_username_claim=text("KEYMANAGER_OIDC_USERNAME_CLAIM", base.oidc_username_claim),
            oidc_leeway_seconds=int(number("KEYMANAGER_OIDC_LEEWAY_SECONDS", base.oidc_leeway_seconds)),
            oidc_jwks_cache_seconds=float(
                number("KEYMANAGER_OIDC_JWKS_CACHE_SECONDS", base.oidc_jwks_cache_seconds, float)
            ),
            oidc_jwks_min_refresh_seconds=float(
                number("KEYMANAGER_OIDC_JWKS_MIN_REFRESH_SECONDS", base.oidc_jwks_min_refresh_seconds, float)
            ),
            oidc_http_timeout_seconds=max(
                0.5, float(number("KEYMANAGER_OIDC_HTTP_TIMEOUT_SECONDS", base.oidc_http_timeout_seconds, float))
            ),
            partner_domains=tuple(
                d.strip().upper() for d in env.get("KEYMANAGER_PARTNER_DOMAINS", "").split(",") if d.strip()
            ) or base.partner_domains,
            partner_ca_min_validity_months=max(
                0, int(number("KEYMANAGER_PARTNER_CA_MIN_VALIDITY_MONTHS", base.partner_ca_min_validity_months))
            ),
            partner_cert_duration_years=max(
                1, int(number("KEYMANAGER_PARTNER_CERT_DURATION_YEARS", base.partner_cert_duration_years))
            ),
            partner_grace_days=int(number("KEYMANAGER_PARTNER_GRACE_DAYS", base.partner_grace_days)),
            partner_sign_app_id=text("KEYMANAGER_PARTNER_SIGN_APP_ID", base.partner_sign_app_id),
            partner_resign_ftm_certs=flag("KEYMANAGER_PARTNER_RESIGN_FTM_CERTS", base.partner_resign_ftm_certs),
            partner_trust_cache_seconds=float(
                number("KEYMANAGER_PARTNER_TRUST_CACHE_SECONDS", base.partner_trust_cache_seconds, float)
            ),
            zk_pool_size=max(0, int(number("KEYMANAGER_ZK_POOL_SIZE", base.zk_pool_size))),
            zk_public_key_app_id=text("KEYMANAGER_ZK_PUBLIC_KEY_APP_ID", base.zk_public_key_app_id),
            zk_public_key_ref_ids=tuple(
                r.strip() for r in env.get("KEYMANAGER_ZK_PUBLIC_KEY_REF_IDS", "").split(",") if r.strip()
            ) or base.zk_public_key_ref_ids,
            pin_hash_iterations=max(1, int(number("KEYMANAGER_PIN_HASH_ITERATIONS", base.pin_hash_iterations))),
            argon2_iterations=max(1, int(number("KEYMANAGER_ARGON2_ITERATIONS", base.argon2_iterations))),
            argon2_memory_kib=max(8, int(number("KEYMANAGER_ARGON2_MEMORY_KIB", base.argon2_memory_kib))),
            argon2_parallelism=max(1, int(number("KEYMANAGER_ARGON2_PARALLELISM", base.argon2_parallelism))),
            slow_work_concurrency=max(1, int(number("KEYMANAGER_SLOW_WORK_CONCURRENCY", base.slow_work_concurrency))),
            slow_work_waiting=max(0, int(number("KEYMANAGER_SLOW_WORK_WAITING", base.slow_work_waiting))),
            slow_work_wait_seconds=max(
                0.0, float(number("KEYMANAGER_SLOW_WORK_WAIT_SECONDS", base.slow_work_wait_seconds, float))
            ),
            tokenid_uin_salt=env.get("KEYMANAGER_TOKENID_UIN_SALT") or None,
            tokenid_partner_code_salt=env.get("KEYMANAGER_TOKENID_PARTNERCODE_SALT") or None,
            tokenid_length=max(1, int(number("KEYMANAGER_TOKENID_LENGTH", base.tokenid_length))),
            role_overrides=role_overrides,
        )

    def with_overrides(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]


def keystore_password(settings: Settings) -> bytes:
    """The PKCS#12 keystore password: from the environment, from a file, or (embedded
    default, first start) a random one generated into <data dir>/keystore.password (0600)."""
    if settings.keystore_password:
        return settings.keystore_password.encode("utf-8")
    path = settings.keystore_password_file or settings.data_dir / "keystore.password"
    if settings.keystore_password_file is None and not path.exists():
        _create_secret_file(path, secrets.token_urlsafe(32))
    try:
        password = path.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigurationError(f"cannot read the keystore password file {path}") from None
    if not password:
        raise ConfigurationError(f"the keystore password file {path} is empty")
    return password.encode("utf-8")


def tokenid_salts(data_dir: Path, uin_salt: str | None, partner_code_salt: str | None) -> tuple[str, str]:
    """The token-ID salts: from the environment, else random ones generated once into
    <data dir>/tokenid.salts (0600). Instances sharing a database must share the salts."""
    if uin_salt and partner_code_salt:
        return uin_salt, partner_code_salt
    path = Path(data_dir) / "tokenid.salts"
    if not path.exists():
        _create_secret_file(path, secrets.token_urlsafe(36) + "\n" + secrets.token_urlsafe(36))
    try:
        lines = path.read_text(encoding="utf-8").split()
    except OSError:
        raise ConfigurationError(f"cannot read the token ID salts file {path}") from None
    if len(lines) != 2:
        raise ConfigurationError(f"the token ID salts file {path} must hold two lines")
    return uin_salt or lines[0], partner_code_salt or lines[1]


def pkcs11_pin(settings: Settings) -> str:
    """The token's user PIN: PKCS11_TOKEN_PIN, or the first line of PKCS11_TOKEN_PIN_FILE."""
    if settings.pkcs11_pin:
        return settings.pkcs11_pin
    if settings.pkcs11_pin_file is None:
        raise ConfigurationError("KEYMANAGER_KEYSTORE=pkcs11 needs PKCS11_TOKEN_PIN or PKCS11_TOKEN_PIN_FILE")
    try:
        pin = settings.pkcs11_pin_file.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigurationError(f"cannot read PKCS11_TOKEN_PIN_FILE {settings.pkcs11_pin_file}") from None
    if not pin:
        raise ConfigurationError(f"PKCS11_TOKEN_PIN_FILE {settings.pkcs11_pin_file} is empty")
    return pin


def _create_secret_file(path: Path, secret: str) -> None:
    """Write a 0600 file atomically: a concurrent reader sees no file or the whole secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # fails if another process got there first: keep theirs
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
