"""The reference's configuration, mapped onto ours (issue 16).

An operator of the Java key manager has ``kernel-default.properties`` / ``application-*.properties``
(or YAML) and environment variables in Spring's relaxed form (``MOSIP_KERNEL_KEYMANAGER_HSM_KEYSTORE_TYPE``).
``spring_properties`` reads them as Spring does; this module maps the reference's properties onto our
variables, one row per property in ``RULE_LIST``: a property is *mapped* (to our variable, converted
where the formats differ), *fixed* (the wire format: any other value is refused), or *ignored* with
the reason.

Precedence, highest first: our own variables (``KEYMANAGER_*``, ``PKCS11_*``), then Spring's relaxed
environment names, then the files of ``KEYMANAGER_SPRING_PROPERTIES`` (a later file wins over an
earlier one), then our defaults. ``Settings.from_env`` lays the mapped values beneath the environment
(``with_reference_config``); ``keymanager config check`` prints what was read (``run_config_check``).

Secrets (PINs, passwords, salts) never reach a log, an error message or the check's output.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .http.roles import ROLE_TABLE, RolePolicy
from .settings import ROLES_PREFIX, ConfigurationError, Declaration, Settings, declarations
from .spring_properties import Invalid, ReferenceConfig, read_properties_file, relaxed_names

log = logging.getLogger("keymanager.config")

SECRET_SET = "(secret, set)"
UNREAD = "not read by the key manager"
THROUGH_PLACEHOLDER = "read only through a ${...} placeholder"
ROLE_PROPERTY_PREFIX = "mosip.role.keymanager."


class Skip(Exception):
    """The property is read but not applied: the message says why (ours win, not applicable, ...)."""


# -- the mapping ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a mapped property gives: our variables and their values, what the check prints (never a
    secret), and parts of it that are not used, with why."""

    values: dict[str, str]
    shown: str
    notes: tuple[tuple[str, str], ...] = ()
    target: str = ""  # our variable, when the rule's target depends on the other properties


class Context:
    """What a converter may look at: the other reference properties and our own variables."""

    def __init__(self, config: ReferenceConfig, ours: Mapping[str, str]) -> None:
        self.config = config
        self._ours = ours

    def value(self, name: str) -> str | None:
        """Another property's resolved value; None when absent or unusable (its own row says why)."""
        try:
            return self.config.resolve(name)
        except Invalid:
            return None

    def present(self, name: str) -> bool:
        return self.config.raw(name) is not None

    def ours(self, variable: str) -> str | None:
        """Our variable, when set and not blank (the role family compared case-insensitively, as read)."""
        if variable.upper().startswith(ROLES_PREFIX):
            found = [v for k, v in self._ours.items() if k.upper() == variable.upper() and v.strip()]
            return found[0] if found else None
        value = self._ours.get(variable, "")
        return value if value.strip() else None

    def yield_to_ours(self, *variables: str) -> None:
        for variable in variables:
            if self.ours(variable):
                raise Skip(f"{variable} is set (ours win)")


#: The property's value, resolved when called: a converter calls it once it knows the property
#: applies, so that an unresolvable value of an overridden property is no error.
Read = Callable[[], str]
Converter = Callable[[Read, Context], Outcome]


@dataclass(frozen=True)
class Rule:
    """One reference property: mapped (``convert``), fixed (``allowed``) or ignored (``why``)."""

    name: str
    target: str = ""  # our variable(s), for the table and the check
    convert: Converter | None = None
    secret: bool = False  # its value is never shown: the converter shows "(secret, set)", errors are scrubbed
    allowed: tuple[str, ...] = ()
    why: str = ""

    @property
    def kind(self) -> str:
        return "mapped" if self.convert else "fixed" if self.allowed else "ignored"


_DECLARED_BY_ENV: dict[str, Declaration] = {declared.env: declared for declared in declarations().values()}


def _checked(variable: str, value: str) -> str:
    """Refused as our own variable would refuse it, the message naming the value's meaning, not ours."""
    declared = _DECLARED_BY_ENV.get(variable)
    if declared is not None:
        try:
            declared.parse({variable: value}, variable)
        except ConfigurationError as error:
            raise Invalid(str(error).removeprefix(f"{variable} ") + f" (as {variable})") from None
    return value


def _same(value: str) -> str:
    return value.strip()


def _minutes_to_seconds(value: str) -> str:
    try:
        minutes = float(value.strip())
    except ValueError:
        raise Invalid(f"must be a number of minutes, got {value.strip()!r}") from None
    seconds = minutes * 60
    return str(int(seconds)) if seconds.is_integer() else str(seconds)


def mapped(name: str, target: str, transform: Callable[[str], str] = _same, *, secret: bool = False) -> Rule:
    """One property to one variable of ours, ``transform`` turning the reference's format into ours."""
    def convert(read: Read, context: Context) -> Outcome:
        context.yield_to_ours(target)
        value = read()
        converted = value if secret else transform(value)
        if not converted.strip():
            raise Skip("empty: our default applies")
        _checked(target, converted)
        return Outcome({target: converted}, SECRET_SET if secret else converted)
    return Rule(name, target, convert, secret)


def fixed(name: str, *allowed: str, why: str = "the wire format") -> Rule:
    return Rule(name, allowed=allowed, why=why)


def ignored(name: str, why: str) -> Rule:
    return Rule(name, why=why)


# -- the keystore (mosip.kernel.keymanager.hsm.*) --------------------------------------------------

KEYSTORE_TYPE = "mosip.kernel.keymanager.hsm.keystore-type"
CONFIG_PATH = "mosip.kernel.keymanager.hsm.config-path"
KEYSTORE_PASS = "mosip.kernel.keymanager.hsm.keystore-pass"


def _reference_keystore(context: Context) -> str:
    """The reference's keystore type; PKCS11 when absent (its code default)."""
    return (context.value(KEYSTORE_TYPE) or "PKCS11").strip().upper()


def _keystore_applies(context: Context) -> str:
    kind = _reference_keystore(context)
    ours = context.ours("KEYMANAGER_KEYSTORE")
    if ours and ours.strip().lower() != kind.lower():
        raise Skip(f"KEYMANAGER_KEYSTORE={ours.strip()} is set (ours win)")
    if kind not in ("PKCS11", "PKCS12"):
        raise Skip(f"only read with keystore-type PKCS11 or PKCS12 (it is {kind})")
    return kind


def keystore_type(read: Read, context: Context) -> Outcome:
    context.yield_to_ours("KEYMANAGER_KEYSTORE")
    value = read()
    kind = value.strip().upper()
    if kind in ("PKCS11", "PKCS12"):
        return Outcome({"KEYMANAGER_KEYSTORE": kind.lower()}, kind.lower())
    if kind == "OFFLINE":
        raise Invalid("OFFLINE (a keystore without keys) is not supported: use PKCS11 or PKCS12")
    if kind == "JCE":
        raise Invalid("JCE keystores are Java provider classes: use PKCS11 with the HSM's PKCS#11 library")
    raise Invalid(f"must be PKCS11 or PKCS12, got {value.strip()!r}")


def parse_sunpkcs11(text: str) -> dict[str, str]:
    """A SunPKCS11 provider configuration: ``name = value`` lines, ``#`` comments, quoted values;
    ``{ ... }`` blocks (``attributes``, mechanism lists) are skipped."""
    config: dict[str, str] = {}
    depth = 0
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if depth:
            depth += line.count("{") - line.count("}")
            continue
        if not line:
            continue
        name, equals, value = line.partition("=")
        value = value.strip()
        if value.startswith("{"):  # a block: attributes(...) = { ... }, enabledMechanisms = { ... }
            depth = value.count("{") - value.count("}")
            continue
        if not equals:
            raise Invalid(f"the SunPKCS11 configuration has a line without '=': {name.strip()!r}")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        config[name.strip()] = value
    return config


_SUNPKCS11_WHY = {
    "name": "the Java provider's name",
    "description": "the Java provider's description",
    "slot": "the token is chosen by its label here: set PKCS11_TOKEN_LABEL",
    "slotListIndex": "the token is chosen by its label here: set PKCS11_TOKEN_LABEL",
}


def config_path(read: Read, context: Context) -> Outcome:
    """PKCS11: the SunPKCS11 configuration FILE: its ``library`` is our module. PKCS12: the reference's
    .p12 file, which is not our keystore format."""
    kind = _keystore_applies(context)
    context.yield_to_ours("KEYMANAGER_KEYSTORE_DIR" if kind == "PKCS12" else "PKCS11_MODULE")
    path = read().strip()
    if kind == "PKCS12":
        if path and Path(path).exists():
            raise Invalid(f"{path} is the reference's PKCS#12 keystore; ours is a directory in its own format: "
                          f"import its keys (`keymanager keystore import {path}`), then set KEYMANAGER_KEYSTORE_DIR")
        raise Skip("our PKCS#12 keystore is a directory: KEYMANAGER_KEYSTORE_DIR (default <data dir>/keystore)")
    if not path:
        raise Invalid("empty: with PKCS11 it names the SunPKCS11 configuration file")
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise Invalid(f"cannot read the SunPKCS11 configuration {path} "
                      f"({error.strerror or type(error).__name__}); or set PKCS11_MODULE") from None
    config = parse_sunpkcs11(text)
    library = config.get("library", "").strip()
    if not library:
        raise Invalid(f"the SunPKCS11 configuration {path} names no library")
    if "${" in library:
        raise Invalid(f"the library in {path} uses a Java system property ({library}); set PKCS11_MODULE")
    notes = []
    for option in sorted(set(config) - {"library"}):
        why = _SUNPKCS11_WHY.get(option, "a SunPKCS11 option with no counterpart here")
        if option in ("slot", "slotListIndex") and context.ours("PKCS11_TOKEN_LABEL"):
            why = "PKCS11_TOKEN_LABEL chooses the token"
        notes.append((f"{option} = {config[option]}", why))
    return Outcome({"PKCS11_MODULE": library}, f"{library} (library of {path})", tuple(notes), "PKCS11_MODULE")


def keystore_pass(read: Read, context: Context) -> Outcome:
    kind = _keystore_applies(context)
    if kind == "PKCS11":
        context.yield_to_ours("PKCS11_TOKEN_PIN", "PKCS11_TOKEN_PIN_FILE")
        target = "PKCS11_TOKEN_PIN"
    else:
        context.yield_to_ours("KEYMANAGER_KEYSTORE_PASSWORD", "KEYMANAGER_KEYSTORE_PASSWORD_FILE")
        target = "KEYMANAGER_KEYSTORE_PASSWORD"
    value = read()
    if not value:
        raise Skip("empty")
    return Outcome({target: value}, SECRET_SET, target=target)


# -- the database (keymanager_database_*, javax.persistence.jdbc.*) -------------------------------

DB_URL = "keymanager_database_url"
DB_USER = "keymanager_database_username"
DB_PASSWORD = "keymanager_database_password"
JPA_URL = "javax.persistence.jdbc.url"
JPA_USER = "javax.persistence.jdbc.user"
JPA_PASSWORD = "javax.persistence.jdbc.password"
DB_SCHEMA = "keymanager.persistence.jdbc.schema"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TLS_MODES = ("require", "verify-ca", "verify-full")


def _database_applies(context: Context, url_property: str) -> None:
    store = context.ours("KEYMANAGER_STORE")
    if store and store.strip().lower() != "postgres":
        raise Skip(f"KEYMANAGER_STORE={store.strip()} is set (ours win)")
    context.yield_to_ours("KEYMANAGER_DB_URL")
    if url_property == JPA_URL and context.present(DB_URL):
        raise Skip(f"{DB_URL} is set (the key manager's own)")


def jdbc_to_postgresql(jdbc: str, user: str | None, password: str | None,
                       schema: str | None) -> tuple[str, list[tuple[str, str]]]:
    """``jdbc:postgresql://host[:port]/database[?params]`` with the user, password and schema into
    our ``postgresql://user[:password]@host[:port]/database?schema=...``. Never echoes the password."""
    prefix = "jdbc:postgresql:"
    if not jdbc.lower().startswith(prefix):
        raise Invalid("expected jdbc:postgresql://host[:port]/database")
    rest = jdbc[len(prefix):]
    host, port = "localhost", None
    if rest.startswith("//"):
        authority, _, tail = rest[2:].partition("/")
        database, _, query = tail.partition("?")
        if "?" in authority:
            authority, _, query = authority.partition("?")
        if "," in authority:
            raise Invalid("several hosts (failover) are not supported: name one")
        if "@" in authority:
            raise Invalid("no user in the host part: use the username property")
        try:
            parts = urlsplit(f"//{authority}")
            host, port = parts.hostname or "localhost", parts.port
        except ValueError:
            raise Invalid("the port must be a number") from None
    else:
        database, _, query = rest.partition("?")
    params = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
    user = user or params.get("user")
    password = password or params.get("password")
    schema = schema or params.get("currentSchema")
    sslmode = params.get("sslmode", "").lower()
    ssl = "ssl" in params and params["ssl"].lower() in ("", "true")  # PgJDBC: ssl alone means verify-full
    if sslmode in _TLS_MODES or (ssl and sslmode not in ("disable", "allow", "prefer")):
        raise Invalid("TLS to PostgreSQL (ssl/sslmode) is not supported by KEYMANAGER_DB_URL yet")
    used = {"user", "password", "currentSchema", "ssl", "sslmode"}
    database = unquote(database).strip()
    if not database:
        raise Invalid("no database name in the URL")
    if not user:
        raise Invalid("no database user: set the username property")
    if schema is not None and not _IDENTIFIER.match(schema.strip()):
        raise Invalid(f"the schema must be a plain SQL identifier, got {schema.strip()!r}")
    address = f"[{host}]" if ":" in host else host
    credentials = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    url = f"postgresql://{credentials}@{address}{f':{port}' if port else ''}/{quote(database)}"
    if schema:
        url += f"?schema={schema.strip()}"
    notes = [(f"?{name}", "a JDBC URL parameter with no counterpart here") for name in sorted(set(params) - used)]
    return url, notes


def redacted_db_url(url: str) -> str:
    """Our database URL as the check prints it: no password, "(password set)" when it has one."""
    parts = urlsplit(url)
    shown = url
    if parts.password is not None:
        shown = url.replace(f"{parts.username}:{parts.password}@", f"{parts.username}@", 1)
        shown += " (password set)"
    return shown


def database_url(url_property: str, user_property: str, password_property: str) -> Converter:
    def convert(read: Read, context: Context) -> Outcome:
        _database_applies(context, url_property)
        url, notes = jdbc_to_postgresql(
            read().strip(), (context.value(user_property) or "").strip() or None,
            context.value(password_property) or None, (context.value(DB_SCHEMA) or "").strip() or None,
        )
        values = {"KEYMANAGER_DB_URL": url}
        if not context.ours("KEYMANAGER_STORE"):
            values["KEYMANAGER_STORE"] = "postgres"
        shown = redacted_db_url(url) + ("" if context.ours("KEYMANAGER_STORE") else "; KEYMANAGER_STORE = postgres")
        return Outcome(values, shown, tuple(notes), "KEYMANAGER_DB_URL")
    return convert


def part_of_database_url(part: str, url_property: str) -> Converter:
    """The user, password or schema: they go into the URL ``url_property`` makes."""
    def convert(read: Read, context: Context) -> Outcome:
        _database_applies(context, url_property)
        if not context.present(url_property):
            raise Skip(f"no {url_property}: nothing to add the {part} to")
        value = read()
        if not value.strip():
            raise Skip("empty")
        return Outcome({}, SECRET_SET if part == "password" else value.strip())
    return convert


# -- other converters ----------------------------------------------------------------------------


def autogen_list(read: Read, context: Context) -> Outcome:
    """The keys-generator's list: ROOT always first (it makes ROOT whatever the list says); the ZK
    key and EC sign keys are made elsewhere here."""
    context.yield_to_ours("KEYMANAGER_INIT_KEYS")
    keys, notes = ["ROOT"], []
    for item in (part.strip() for part in read().split(",")):
        app, _, ref = item.partition(":")
        if not item or app.strip().upper() == "ROOT":
            continue
        if ref.strip().upper() == "IDENTITY_CACHE":
            notes.append((item, "made with the ZK key pool by `keymanager init` (KEYMANAGER_ZK_POOL_SIZE)"))
        elif ref and not (app.strip().upper() == "KERNEL" and ref.strip().upper() == "SIGN"):
            notes.append((item, "not a master key: EC/Ed25519 sign keys come from generateECSignKey, base keys "
                          "on first use"))
        else:
            keys.append(item)
    joined = ",".join(dict.fromkeys(keys))
    _checked("KEYMANAGER_INIT_KEYS", joined)
    return Outcome({"KEYMANAGER_INIT_KEYS": joined}, joined, tuple(notes))


def trust_cache_minutes(read: Read, context: Context) -> Outcome:
    context.yield_to_ours("KEYMANAGER_PARTNER_TRUST_CACHE_SECONDS")
    disable = context.value(_PARTNER + "truststore.cache.disable")
    if disable and disable.strip().lower() in ("true", "on", "yes", "1"):
        raise Skip("the cache is disabled (mosip.kernel.partner.truststore.cache.disable=true)")
    seconds = _checked("KEYMANAGER_PARTNER_TRUST_CACHE_SECONDS", _minutes_to_seconds(read()))
    return Outcome({"KEYMANAGER_PARTNER_TRUST_CACHE_SECONDS": seconds}, seconds)


def _boolean(value: str) -> bool:
    """Spring's conversion of a boolean property."""
    text = value.strip().lower()
    if text in ("true", "on", "yes", "1"):
        return True
    if text in ("false", "off", "no", "0"):
        return False
    raise Invalid(f"must be true or false, got {value.strip()!r}")


def trust_cache_disable(read: Read, context: Context) -> Outcome:
    context.yield_to_ours("KEYMANAGER_PARTNER_TRUST_CACHE_SECONDS")
    if _boolean(read()):
        return Outcome({"KEYMANAGER_PARTNER_TRUST_CACHE_SECONDS": "0"}, "0 (no cache)")
    raise Skip("false: the cache stays on")


def role_family(name: str) -> Rule:
    """``mosip.role.keymanager.<key>`` → ``KEYMANAGER_ROLES_<KEY>``, for the keys our endpoints use."""
    key = name[len(ROLE_PROPERTY_PREFIX):].lower()
    variable = ROLES_PREFIX + key.upper()

    def convert(read: Read, context: Context) -> Outcome:
        if key not in ROLE_TABLE:
            raise Skip("no endpoint here is guarded by this role key")
        context.yield_to_ours(variable)
        roles = ",".join(role.strip() for role in read().split(",") if role.strip())
        if not roles:
            raise Invalid("an empty role list (the reference would refuse every caller): name the roles or "
                          "remove the line")
        return Outcome({variable: roles}, roles)
    return Rule(name, variable, convert)


# -- the table -------------------------------------------------------------------------------------

_STD_CERT = "mosip.kernel.keymanager.certificate.default."
_CWT = "mosip.kernel.keymanager.signature.cwt."
_CRYPTO = "mosip.kernel.crypto."
_KEYGEN = "mosip.kernel.keygenerator."
_PARTNER = "mosip.kernel.partner."
_ZK = "mosip.kernel.zkcrypto."
_CACHE_WHY = "ours: KEYMANAGER_KEY_CACHE_TTL_SECONDS and KEYMANAGER_POLICY_CACHE_TTL_SECONDS (other contents)"

RULE_LIST: tuple[Rule, ...] = (
    # the keystore
    Rule(KEYSTORE_TYPE, "KEYMANAGER_KEYSTORE", keystore_type),
    Rule(CONFIG_PATH, "PKCS11_MODULE (PKCS11: the library of the SunPKCS11 file)", config_path),
    Rule(KEYSTORE_PASS, "PKCS11_TOKEN_PIN (PKCS11) or KEYMANAGER_KEYSTORE_PASSWORD (PKCS12)", keystore_pass,
         secret=True),
    ignored("mosip.kernel.keymanager.keystore.keyreference.enable.cache", _CACHE_WHY),
    ignored("mosip.kernel.keymanager.key.cache.expire.inMins", _CACHE_WHY),
    ignored("mosip.kernel.keymgr.truststore.cache.expiry.inMins", _CACHE_WHY),
    ignored("mosip.keymanager.salt.params.cache.expire.inMins", _CACHE_WHY),
    mapped("mosip.kernel.keymanager.ed25519.hsm.support.enabled", "KEYMANAGER_ED25519_IN_KEYSTORE"),
    # the database
    Rule(DB_URL, "KEYMANAGER_DB_URL (and KEYMANAGER_STORE=postgres)", database_url(DB_URL, DB_USER, DB_PASSWORD),
         secret=True),
    Rule(DB_USER, "KEYMANAGER_DB_URL (its user)", part_of_database_url("user", DB_URL)),
    Rule(DB_PASSWORD, "KEYMANAGER_DB_URL (its password)", part_of_database_url("password", DB_URL), secret=True),
    Rule(DB_SCHEMA, "KEYMANAGER_DB_URL (its schema)", part_of_database_url("schema", DB_URL)),
    Rule(JPA_URL, "KEYMANAGER_DB_URL (and KEYMANAGER_STORE=postgres)", database_url(JPA_URL, JPA_USER, JPA_PASSWORD),
         secret=True),
    Rule(JPA_USER, "KEYMANAGER_DB_URL (its user)", part_of_database_url("user", JPA_URL)),
    Rule(JPA_PASSWORD, "KEYMANAGER_DB_URL (its password)", part_of_database_url("password", JPA_URL), secret=True),
    fixed("keymanager.persistence.jdbc.driver", "org.postgresql.Driver", why="PostgreSQL only"),
    fixed("javax.persistence.jdbc.driver", "org.postgresql.Driver", why="PostgreSQL only"),
    # certificates
    mapped(_STD_CERT + "common-name", "KEYMANAGER_CERT_COMMON_NAME"),
    mapped(_STD_CERT + "organizational-unit", "KEYMANAGER_CERT_ORGANIZATIONAL_UNIT"),
    mapped(_STD_CERT + "organization", "KEYMANAGER_CERT_ORGANIZATION"),
    mapped(_STD_CERT + "location", "KEYMANAGER_CERT_LOCATION"),
    mapped(_STD_CERT + "state", "KEYMANAGER_CERT_STATE"),
    mapped(_STD_CERT + "country", "KEYMANAGER_CERT_COUNTRY"),
    fixed("mosip.kernel.certificate.sign.algorithm", "SHA256withRSA"),
    fixed("mosip.kernel.certificate.ec.sign.algorithm", "SHA256withECDSA"),
    fixed("mosip.kernel.certificate.ed.sign.algorithm", "Ed25519"),
    # the key ceremony (the reference's keys-generator job)
    Rule("mosip.kernel.keymanager.autogen.appids.list", "KEYMANAGER_INIT_KEYS", autogen_list),
    ignored("mosip.kernel.keymanager.autogen.basekeys.list",
            "base keys are made on first use (getCertificate, encrypt)"),
    mapped("zkcrypto.random.key.generate.count", "KEYMANAGER_ZK_POOL_SIZE"),
    # zero-knowledge encryption
    mapped(_ZK + "publickey.application.id", "KEYMANAGER_ZK_PUBLIC_KEY_APP_ID"),
    mapped(_ZK + "publickey.reference.id", "KEYMANAGER_ZK_PUBLIC_KEY_REF_IDS"),
    fixed(_ZK + "masterkey.application.id", "KERNEL", why="the ZK master key is KERNEL/IDENTITY_CACHE"),
    fixed(_ZK + "masterkey.reference.id", "IDENTITY_CACHE", why="the ZK master key is KERNEL/IDENTITY_CACHE"),
    fixed(_ZK + "wrap.algorithm-name", "AES/ECB/NoPadding"),
    ignored(_ZK + "derive.encrypt.algorithm-name", "not read by the reference's service"),
    # the partner trust store
    mapped(_PARTNER + "allowed.domains", "KEYMANAGER_PARTNER_DOMAINS"),
    mapped(_PARTNER + "cacertificate.upload.minimumvalidity.month", "KEYMANAGER_PARTNER_CA_MIN_VALIDITY_MONTHS"),
    mapped(_PARTNER + "issuer.certificate.duration.years", "KEYMANAGER_PARTNER_CERT_DURATION_YEARS"),
    mapped(_PARTNER + "issuer.certificate.allowed.grace.duration", "KEYMANAGER_PARTNER_GRACE_DAYS"),
    mapped(_PARTNER + "sign.masterkey.application.id", "KEYMANAGER_PARTNER_SIGN_APP_ID"),
    mapped(_PARTNER + "resign.ftm.domain.certs", "KEYMANAGER_PARTNER_RESIGN_FTM_CERTS"),
    Rule(_PARTNER + "truststore.cache.expire.inMins", "KEYMANAGER_PARTNER_TRUST_CACHE_SECONDS (minutes × 60)",
         trust_cache_minutes),
    Rule(_PARTNER + "truststore.cache.disable", "KEYMANAGER_PARTNER_TRUST_CACHE_SECONDS (true: 0)",
         trust_cache_disable),
    mapped(_PARTNER + "trust.validate.domain.name", "KEYMANAGER_PARTNER_TRUST_DOMAIN"),
    ignored(_PARTNER + "certificate.chain.cache.expire.inMin", _CACHE_WHY),
    ignored(_PARTNER + "certificate.allowed.sign.algorithms",
            "ours accepts SHA-256/384/512 with RSA or ECDSA, as the reference's release line"),
    # token IDs
    mapped("mosip.kernel.tokenid.uin.salt", "KEYMANAGER_TOKENID_UIN_SALT", secret=True),
    mapped("mosip.kernel.tokenid.partnercode.salt", "KEYMANAGER_TOKENID_PARTNERCODE_SALT", secret=True),
    mapped("mosip.kernel.tokenid.length", "KEYMANAGER_TOKENID_LENGTH"),
    # JWT, COSE and CWT signing
    mapped("mosip.kernel.keymanager.signature.kid.prepend", "KEYMANAGER_SIGN_KID_PREFIX"),
    mapped("mosip.kernel.keymanager.jwtsign.include.keyid", "KEYMANAGER_SIGN_INCLUDE_KEYID"),
    mapped(_CWT + "sign.iss", "KEYMANAGER_CWT_ISSUER"),
    mapped(_CWT + "exp", "KEYMANAGER_CWT_EXPIRE_DAYS"),
    mapped(_CWT + "nbf", "KEYMANAGER_CWT_NOT_BEFORE_DAYS"),
    mapped(_CWT + "verify.iss.enable", "KEYMANAGER_CWT_VERIFY_ISSUER"),
    mapped(_CWT + "verify.iss", "KEYMANAGER_CWT_EXPECTED_ISSUER"),
    mapped(_CWT + "verify.sub.enable", "KEYMANAGER_CWT_VERIFY_SUBJECT"),
    mapped(_CWT + "verify.sub", "KEYMANAGER_CWT_EXPECTED_SUBJECT"),
    ignored("mosip.kernel.keymanager.jwtsign.validate.json", "jwtSign always checks that dataToSign is JSON"),
    ignored("mosip.kernel.keymanager.jwtEncrypt.validate.json", "jwtEncrypt checks its data as the reference's "
            "default (true)"),
    ignored("mosip.kernel.keymanager.jwtsign.enable.secp256k1.algorithm", "ES256K is always available"),
    ignored("mosip.kernel.keymanager.crypto.validate.keysize", "key sizes are always checked"),
    # licence keys
    mapped("mosip.kernel.licensekey.length", "KEYMANAGER_LICENSEKEY_LENGTH"),
    mapped("mosip.kernel.licensekey.permissions", "KEYMANAGER_LICENSEKEY_PERMISSIONS"),
    # PDF signing
    mapped("mosip.kernel.pdf_owner_password", "KEYMANAGER_PDF_OWNER_PASSWORD", secret=True),
    # PIN encryption and Argon2
    mapped(_CRYPTO + "hash-iteration", "KEYMANAGER_PIN_HASH_ITERATIONS"),
    mapped("mosip.keymanager.argon2.hash.generate.iterations", "KEYMANAGER_ARGON2_ITERATIONS"),
    mapped("mosip.keymanager.argon2.hash.generate.memory.inKiB", "KEYMANAGER_ARGON2_MEMORY_KIB"),
    mapped("mosip.keymanager.argon2.hash.generate.parallelism", "KEYMANAGER_ARGON2_PARALLELISM"),
    # the wire format (mosip-api.md §1.10)
    fixed(_CRYPTO + "asymmetric-algorithm-name", "RSA/ECB/OAEPWITHSHA-256ANDMGF1PADDING"),
    fixed(_CRYPTO + "symmetric-algorithm-name", "AES/GCM/PKCS5Padding", "AES/GCM/NoPadding"),
    fixed(_CRYPTO + "gcm-tag-length", "128"),
    fixed(_CRYPTO + "hash-algorithm-name", "PBKDF2WithHmacSHA512"),
    fixed(_CRYPTO + "hash-symmetric-key-length", "256"),
    fixed(_CRYPTO + "sign-algorithm-name", "RS256"),
    fixed("mosip.kernel.data-key-splitter", "#KEY_SPLITTER#"),
    fixed(_KEYGEN + "asymmetric-algorithm-name", "RSA"),
    fixed(_KEYGEN + "asymmetric-key-length", "2048"),
    fixed(_KEYGEN + "symmetric-algorithm-name", "AES"),
    fixed(_KEYGEN + "symmetric-key-length", "256"),
    fixed(_KEYGEN + "asymmetric.ec.algorithm-name", "EC"),
    fixed(_KEYGEN + "asymmetric.ed25519.algorithm-name", "Ed25519"),
    ignored(_KEYGEN + "rng.provider.enable", "randomness comes from the operating system (keys made in an HSM: "
            "from the token)"),
    ignored(_KEYGEN + "rng.provider.name", "randomness comes from the operating system (keys made in an HSM: "
            "from the token)"),
    fixed("mosip.kernel.client.crypto.aad-length", "32"),
    fixed("mosip.kernel.client.crypto.iv-length", "12"),
    fixed("mosip.kernel.client.crypto.sym-key-length", "256"),
    ignored("mosip.kernel.client.crypto.use-resident-service-module-key",
            "the service's client key pairs live in the keystore (ADR 0020)"),
    ignored("mosip.kernel.client.crypto.resident-service-app-id",
            "the service's client key pairs live in the keystore (ADR 0020)"),
    ignored("mosip.kernel.keymanager.113nothumbprint.support",
            "encryption always writes the thumbprint; decryption reads data with or without one"),
    # the reference's fixed key identities
    fixed("mosip.root.key.applicationid", "ROOT", why="the key hierarchy"),
    fixed("mosip.sign.applicationid", "KERNEL", why="the key hierarchy"),
    fixed("mosip.sign.refid", "SIGN", why="the key hierarchy"),
    fixed("mosip.sign-certificate-refid", "SIGN", why="the key hierarchy"),
    fixed("server.servlet.path", "/v1/keymanager", why="the API's path"),
    ignored("server.port", "ours: KEYMANAGER_PORT"),
)

RULES: dict[str, Rule] = {rule.name: rule for rule in RULE_LIST}
_RULES_BY_LOWER: dict[str, Rule] = {rule.name.lower(): rule for rule in RULE_LIST}

#: Families read by prefix, the longest prefix first.
IGNORED_PREFIXES: tuple[tuple[str, str], ...] = (
    ("mosip.kernel.keymanager.hsm.jce.", "JCE keystore parameters (Java provider classes): use PKCS11 with the "
     "HSM's PKCS#11 library"),
    ("mosip.kernel.keymanager.softhsm.", "not read by the reference's service"),
    ("mosip.kernel.keymgr.hsm.health.", "our health check: /actuator/health (ADR 0017)"),
    ("mosip.kernel.keymanager.keymigration.", "the reference's key migration job's settings"),
    ("keymanager.hikari.", "ours: KEYMANAGER_DB_POOL_SIZE (per worker process) and KEYMANAGER_DB_TIMEOUT_SECONDS"),
    ("auth.", "authentication: KEYMANAGER_AUTH=oidc with KEYMANAGER_OIDC_* (ADR 0010)"),
    ("mosip.auth.", "authentication: KEYMANAGER_AUTH=oidc with KEYMANAGER_OIDC_* (ADR 0010)"),
    ("mosip.iam.", "authentication: KEYMANAGER_AUTH=oidc with KEYMANAGER_OIDC_* (ADR 0010)"),
    ("hibernate.", "the Java service's JPA/Hibernate settings"),
    ("spring.", "Spring Boot's own"),
    ("management.", "Spring Boot's own (ours: /actuator/health and /actuator/prometheus)"),
    ("springdoc.", "Spring Boot's own (ours: /v3/api-docs and /swagger-ui)"),
    ("openapi.", "Spring Boot's own (ours: /v3/api-docs and /swagger-ui)"),
    ("logging.", "Spring Boot's own (ours: KEYMANAGER_LOG_FORMAT)"),
    ("server.", "Spring Boot's own"),
)

#: Each environment variable Spring would read a property of the table from.
_RULE_VARIABLES = frozenset(variable for rule in RULE_LIST for variable in relaxed_names(rule.name))


def rule_for(name: str) -> Rule:
    rule = RULES.get(name) or _RULES_BY_LOWER.get(name.lower())
    if rule is not None:
        return rule
    if name.lower().startswith(ROLE_PROPERTY_PREFIX) and len(name) > len(ROLE_PROPERTY_PREFIX):
        return role_family(name)
    for prefix, why in IGNORED_PREFIXES:
        if name.startswith(prefix):
            return ignored(name, why)
    return ignored(name, UNREAD)


# -- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str
    origin: str
    target: str = ""
    text: str = ""  # mapped: the value as shown (never a secret); ignored: why; invalid: the error


@dataclass
class Reading:
    """What was read, what it maps to, what is ignored and what is invalid; ``values`` are our
    variables' values, each one not set by ours."""

    sources: list[str] = field(default_factory=list)
    mapped: list[Entry] = field(default_factory=list)
    ignored: list[Entry] = field(default_factory=list)
    invalid: list[Entry] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)


def _spring_properties_declaration() -> tuple[str, Declaration]:
    declared = declarations()["spring_properties"]
    return declared.env, declared


def read_reference(env: Mapping[str, str]) -> Reading:
    """The reference's configuration in the files of KEYMANAGER_SPRING_PROPERTIES and in ``env``
    (Spring's relaxed names), mapped onto our variables."""
    variable, declared = _spring_properties_declaration()
    loaded = []
    for path in declared.parse(env, variable) or ():
        try:
            loaded.append((str(path), read_properties_file(Path(path))))
        except ConfigurationError as error:
            raise ConfigurationError(f"{variable}: {error}") from None
    config = ReferenceConfig(loaded, env, known=RULES, families=(ROLE_PROPERTY_PREFIX,))
    context = Context(config, env)
    reading = Reading(sources=[f"{origin} ({len(properties)} properties)" for origin, properties in loaded])
    spring_variables = [variable for variable in env if config.spring_variable(variable)]
    if spring_variables:
        reading.sources.append(f"environment ({len(spring_variables)} Spring names)")
    for name in sorted(config.names()):
        _read_one(name, rule_for(name), config, context, reading)
    _list_unmapped_environment(env, config, reading)
    return reading


def _read_one(name: str, rule: Rule, config: ReferenceConfig, context: Context, reading: Reading) -> None:
    raw = config.raw(name)
    origin = raw.origin if raw else "?"
    if rule.kind == "ignored":
        reading.ignored.append(Entry(name, origin, text=rule.why))
        return
    try:
        if rule.kind == "fixed":
            value = config.resolve(name) or ""
            allowed = " or ".join(rule.allowed)
            if value.strip().lower() not in (item.lower() for item in rule.allowed):
                raise Invalid(f"must be {allowed} ({rule.why} is fixed), got {value.strip()!r}")
            reading.ignored.append(Entry(name, origin, text=f"fixed: must equal {allowed} ({rule.why})"))
            return
        assert rule.convert is not None
        outcome = rule.convert(lambda: config.resolve(name) or "", context)
    except Skip as skipped:
        reading.ignored.append(Entry(name, origin, text=str(skipped)))
        return
    except Invalid as error:
        reading.invalid.append(Entry(name, origin, rule.target, _scrubbed(str(error), rule, config)))
        return
    for variable, converted in outcome.values.items():
        if not context.ours(variable):
            reading.values[variable] = converted
    reading.mapped.append(Entry(name, origin, outcome.target or rule.target, outcome.shown))
    reading.ignored.extend(Entry(f"{name} [{part}]", origin, text=why) for part, why in outcome.notes)


def _scrubbed(message: str, rule: Rule, config: ReferenceConfig) -> str:
    """A secret property's error, in case a message ever repeated its value (none does by design)."""
    if not rule.secret:
        return message
    try:
        value = config.resolve(rule.name) or ""
    except Invalid:  # then the message is about a placeholder, which names no value
        return message
    return message.replace(value.strip(), "(secret)") if value.strip() else message


def _list_unmapped_environment(env: Mapping[str, str], config: ReferenceConfig, reading: Reading) -> None:
    """MOSIP_* variables that are no property we know: listed, so that a typo shows."""
    for variable in sorted(env):
        if not variable.upper().startswith("MOSIP_") or config.spring_variable(variable):
            continue
        reading.ignored.append(Entry(variable, f"environment {variable}", text=UNREAD))
    # Known only now that every value is resolved: what placeholders read is not "unread".
    reading.ignored = [
        Entry(e.name, e.origin, text=THROUGH_PLACEHOLDER) if e.text == UNREAD and e.name in config.referenced else e
        for e in reading.ignored
    ]


def _nothing_to_read(env: Mapping[str, str]) -> bool:
    variable, declared = _spring_properties_declaration()
    if declared.parse(env, variable):
        return False
    return not any(name in _RULE_VARIABLES or name.upper().startswith("MOSIP_") for name in env)


def with_reference_config(env: Mapping[str, str]) -> Mapping[str, str]:
    """``env`` with the reference's mapped values beneath it (ours win). ConfigurationError naming
    each invalid property; ``env`` itself when there is nothing of the reference's to read."""
    if _nothing_to_read(env):
        return env
    reading = read_reference(env)
    if reading.invalid:
        details = "; ".join(f"{entry.name}: {entry.text}" for entry in reading.invalid)
        raise ConfigurationError(f"the reference's configuration is invalid ({details}); "
                                 "`keymanager config check` lists what was read")
    if reading.mapped:
        log.info("the reference's configuration: %d properties mapped from %s, %d ignored "
                 "(`keymanager config check` lists them)", len(reading.mapped), "; ".join(reading.sources),
                 len(reading.ignored))
    merged = dict(env)
    merged.update(reading.values)
    return merged


# -- keymanager config check -------------------------------------------------------------------------


def render_check(reading: Reading) -> str:
    nothing = "nothing (set KEYMANAGER_SPRING_PROPERTIES or pass --properties)"
    lines = ["read: " + ("; ".join(reading.sources) or nothing)]
    lines.append("precedence: our variables, then Spring's environment names, then the files (a later one wins)")
    lines.append(f"mapped ({len(reading.mapped)}):")
    lines.extend(f"  {e.name} -> {e.target} = {e.text}  [{e.origin}]" for e in reading.mapped)
    lines.append(f"ignored ({len(reading.ignored)}):")
    lines.extend(f"  {e.name}: {e.text}" for e in reading.ignored)
    lines.append(f"invalid ({len(reading.invalid)}):")
    lines.extend(f"  {e.name}: {e.text}  [{e.origin}]" for e in reading.invalid)
    return "\n".join(lines) + "\n"


def run_config_check(env: Mapping[str, str] | None = None, properties: str | None = None,
                     out: TextIO = sys.stdout) -> int:
    """``keymanager config check [--properties PATH[,PATH]]``: the three sections, then our settings'
    verdict. Exit 1 when anything is invalid, 2 when a file cannot be read."""
    env = dict(os.environ if env is None else env)
    variable, _ = _spring_properties_declaration()
    if properties:
        env[variable] = properties
    try:
        reading = read_reference(env)
    except ConfigurationError as error:
        print(f"keymanager: configuration error: {error}", file=out)
        return 2
    out.write(render_check(reading))
    failed = bool(reading.invalid)
    if not failed:
        try:
            settings = Settings.from_env(env)
            RolePolicy(settings.role_overrides)  # an unknown KEYMANAGER_ROLES_* key of ours is refused here too
        except ConfigurationError as error:
            print(f"settings: INVALID: {error}", file=out)
            return 1
        print(f"settings: ok (store={settings.store}, keystore={settings.keystore}, auth={settings.auth_mode})",
              file=out)
    return 1 if failed else 0
