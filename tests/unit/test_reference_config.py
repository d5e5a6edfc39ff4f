"""The reference's configuration, mapped onto ours (issue 16): one test per mapped property (from a
file and from Spring's environment name), precedence, the SunPKCS11 file, the JDBC URL, secrets kept
out of every output, invalid values refused naming the property, and `keymanager config check`."""
from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from adapters.postgres.key_repository import PostgresOptions
from entrypoints.cli import main
from entrypoints.reference_config import (
    RULE_LIST,
    RULES,
    read_reference,
    render_check,
    run_config_check,
)
from entrypoints.settings import ConfigurationError, Settings, declarations
from entrypoints.spring_properties import env_name, relaxed_names

SPRING = "KEYMANAGER_SPRING_PROPERTIES"
DB = "jdbc:postgresql://db.example:5432/mosip_keymgr"
LIBRARY = "/opt/hsm/lib/libvendor-pkcs11.so"

#: Every mapped property: (its value, supporting properties, the Settings field, the field's value).
#: "{hsm_cfg}" is a SunPKCS11 file the test writes.
EXAMPLES: dict[str, tuple[str, dict[str, str], str, Any]] = {
    "mosip.kernel.keymanager.hsm.keystore-type": ("PKCS12", {}, "keystore", "pkcs12"),
    "mosip.kernel.keymanager.hsm.config-path": ("{hsm_cfg}", {}, "pkcs11_module", LIBRARY),
    "mosip.kernel.keymanager.hsm.keystore-pass": ("pin 7731 ", {}, "pkcs11_pin", "pin 7731 "),  # verbatim
    "mosip.kernel.keymanager.ed25519.hsm.support.enabled": ("true", {}, "ed25519_in_keystore", True),
    "keymanager_database_url": (f"{DB}?user=km", {}, "db_url", "postgresql://km@db.example:5432/mosip_keymgr"),
    "keymanager_database_username": ("keymgruser", {"keymanager_database_url": DB}, "db_url",
                                     "postgresql://keymgruser@db.example:5432/mosip_keymgr"),
    "keymanager_database_password": ("p@ss word", {"keymanager_database_url": DB, "keymanager_database_username": "u"},
                                     "db_url", "postgresql://u:p%40ss%20word@db.example:5432/mosip_keymgr"),
    "keymanager.persistence.jdbc.schema": ("keymgr", {"keymanager_database_url": DB, "keymanager_database_username": "u"},
                                           "db_url", "postgresql://u@db.example:5432/mosip_keymgr?schema=keymgr"),
    "javax.persistence.jdbc.url": ("jdbc:postgresql://old.example/keys?user=k", {}, "db_url",
                                   "postgresql://k@old.example/keys"),
    "javax.persistence.jdbc.user": ("jpa", {"javax.persistence.jdbc.url": DB}, "db_url",
                                    "postgresql://jpa@db.example:5432/mosip_keymgr"),
    "javax.persistence.jdbc.password": ("pw", {"javax.persistence.jdbc.url": DB, "javax.persistence.jdbc.user": "j"},
                                        "db_url", "postgresql://j:pw@db.example:5432/mosip_keymgr"),
    "mosip.kernel.keymanager.certificate.default.common-name": ("km.example", {}, "cert_common_name", "km.example"),
    "mosip.kernel.keymanager.certificate.default.organizational-unit": ("IIITB", {}, "cert_organizational_unit",
                                                                        "IIITB"),
    "mosip.kernel.keymanager.certificate.default.organization": ("mosip", {}, "cert_organization", "mosip"),
    "mosip.kernel.keymanager.certificate.default.location": ("NAIROBI", {}, "cert_location", "NAIROBI"),
    "mosip.kernel.keymanager.certificate.default.state": ("NBO", {}, "cert_state", "NBO"),
    "mosip.kernel.keymanager.certificate.default.country": ("KE", {}, "cert_country", "KE"),
    "mosip.kernel.keymanager.autogen.appids.list": ("ROOT,KERNEL:SIGN,REGISTRATION,KERNEL:IDENTITY_CACHE", {},
                                                    "init_keys", ("ROOT", "KERNEL:SIGN", "REGISTRATION")),
    "zkcrypto.random.key.generate.count": ("500", {}, "zk_pool_size", 500),
    "mosip.kernel.zkcrypto.publickey.application.id": ("IDA2", {}, "zk_public_key_app_id", "IDA2"),
    "mosip.kernel.zkcrypto.publickey.reference.id": ("PUBLIC_KEY,OTHER", {}, "zk_public_key_ref_ids",
                                                     ("PUBLIC_KEY", "OTHER")),
    "mosip.kernel.partner.allowed.domains": ("AUTH,DEVICE,FTM,MISP", {}, "partner_domains",
                                             ("AUTH", "DEVICE", "FTM", "MISP")),
    "mosip.kernel.partner.cacertificate.upload.minimumvalidity.month": ("6", {}, "partner_ca_min_validity_months", 6),
    "mosip.kernel.partner.issuer.certificate.duration.years": ("2", {}, "partner_cert_duration_years", 2),
    "mosip.kernel.partner.issuer.certificate.allowed.grace.duration": ("45", {}, "partner_grace_days", 45),
    "mosip.kernel.partner.sign.masterkey.application.id": ("PMS2", {}, "partner_sign_app_id", "PMS2"),
    "mosip.kernel.partner.resign.ftm.domain.certs": ("true", {}, "partner_resign_ftm_certs", True),
    "mosip.kernel.partner.truststore.cache.expire.inMins": ("30", {}, "partner_trust_cache_seconds", 1800.0),
    "mosip.kernel.partner.truststore.cache.disable": ("true", {}, "partner_trust_cache_seconds", 0.0),
    "mosip.kernel.partner.trust.validate.domain.name": ("my_ca", {}, "partner_trust_domain", "MY_CA"),
    "mosip.kernel.tokenid.uin.salt": ("uin-salt", {}, "tokenid_uin_salt", "uin-salt"),
    "mosip.kernel.tokenid.partnercode.salt": ("pc-salt", {}, "tokenid_partner_code_salt", "pc-salt"),
    "mosip.kernel.tokenid.length": ("20", {}, "tokenid_length", 20),
    "mosip.kernel.keymanager.signature.kid.prepend": ("PAYLOAD_ISSUER", {}, "sign_kid_prefix", "PAYLOAD_ISSUER"),
    "mosip.kernel.keymanager.jwtsign.include.keyid": ("false", {}, "sign_include_keyid", False),
    "mosip.kernel.keymanager.signature.cwt.sign.iss": ("mosip.io", {}, "cwt_issuer", "mosip.io"),
    "mosip.kernel.keymanager.signature.cwt.exp": ("365", {}, "cwt_expire_days", 365),
    "mosip.kernel.keymanager.signature.cwt.nbf": ("1", {}, "cwt_not_before_days", 1),
    "mosip.kernel.keymanager.signature.cwt.verify.iss.enable": ("true", {}, "cwt_verify_issuer", True),
    "mosip.kernel.keymanager.signature.cwt.verify.iss": ("iss.example", {}, "cwt_expected_issuer", "iss.example"),
    "mosip.kernel.keymanager.signature.cwt.verify.sub.enable": ("true", {}, "cwt_verify_subject", True),
    "mosip.kernel.keymanager.signature.cwt.verify.sub": ("sub.example", {}, "cwt_expected_subject", "sub.example"),
    "mosip.kernel.licensekey.length": ("20", {}, "licensekey_length", 20),
    "mosip.kernel.licensekey.permissions": ("OTP Trigger,eKYC - Full", {}, "licensekey_permissions",
                                            ("OTP Trigger", "eKYC - Full")),
    "mosip.kernel.pdf_owner_password": ("owner-pw", {}, "pdf_owner_password", "owner-pw"),
    "mosip.kernel.crypto.hash-iteration": ("10", {}, "pin_hash_iterations", 10),
    "mosip.keymanager.argon2.hash.generate.iterations": ("3", {}, "argon2_iterations", 3),
    "mosip.keymanager.argon2.hash.generate.memory.inKiB": ("1024", {}, "argon2_memory_kib", 1024),
    "mosip.keymanager.argon2.hash.generate.parallelism": ("4", {}, "argon2_parallelism", 4),
    # the family mosip.role.keymanager.<key> -> KEYMANAGER_ROLES_<KEY>
    "mosip.role.keymanager.postencrypt": ("RESIDENT, ID_AUTHENTICATION", {}, "role_overrides",
                                          (("postencrypt", ("RESIDENT", "ID_AUTHENTICATION")),)),
}

SUNPKCS11 = f"""# SunPKCS11 provider configuration, as the reference's SoftHSM image has it
name = SoftHSM2
library = {LIBRARY}
slotListIndex = 0
attributes(*, CKO_SECRET_KEY, *) = {{
  CKA_EXTRACTABLE = false
}}
"""


def write(path: Path, properties: dict[str, str]) -> Path:
    path.write_text("".join(f"{name}={value}\n" for name, value in properties.items()), encoding="utf-8")
    return path


@pytest.fixture
def hsm_cfg(tmp_path: Path) -> Path:
    path = tmp_path / "pkcs11-softhsm.cfg"
    path.write_text(SUNPKCS11, encoding="utf-8")
    return path


def settings_from(tmp_path: Path, properties: dict[str, str], **ours: str) -> Settings:
    return Settings.from_env({SPRING: str(write(tmp_path / "application.properties", properties)), **ours})


# -- the table -----------------------------------------------------------------------------------


def test_every_mapped_property_has_an_example() -> None:
    mapped = {rule.name for rule in RULE_LIST if rule.kind == "mapped"}
    assert mapped | {"mosip.role.keymanager.postencrypt"} == set(EXAMPLES)


def test_the_table_names_only_declared_variables_of_ours() -> None:
    declared = {declared.env for declared in declarations().values()}
    for rule in RULE_LIST:
        for variable in re.findall(r"\b(?:KEYMANAGER|PKCS11)_[A-Z0-9_]+\b", f"{rule.target} {rule.why}"):
            assert variable in declared, (rule.name, variable)


def test_each_property_is_in_the_table_once_and_no_spring_name_is_one_of_ours() -> None:
    assert len(RULES) == len(RULE_LIST)
    declared = {declared.env for declared in declarations().values()}
    assert not {variable for rule in RULE_LIST for variable in relaxed_names(rule.name)} & declared


@pytest.mark.parametrize("via", ["file", "environment"])
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_mapped_property_reaches_its_setting(name: str, via: str, tmp_path: Path, hsm_cfg: Path) -> None:
    value, supporting, field_name, expected = EXAMPLES[name]
    properties = {**supporting, name: value.format(hsm_cfg=hsm_cfg)}
    if via == "file":
        settings = settings_from(tmp_path, properties)
    else:  # Spring's relaxed names: MOSIP_KERNEL_TOKENID_LENGTH, ...
        settings = Settings.from_env({env_name(key): text for key, text in properties.items()})
    assert getattr(settings, field_name) == expected


def test_an_empty_environment_and_no_file_change_nothing() -> None:
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({"UNRELATED": "x", "SERVER_PORT": "9999"}).port == Settings().port


# -- precedence --------------------------------------------------------------------------------------


def test_ours_win_over_springs_environment_names_which_win_over_the_file(tmp_path: Path) -> None:
    name = "mosip.kernel.keymanager.certificate.default.country"
    properties = {name: "FILE", "mosip.kernel.keymanager.certificate.default.state": "FILE"}
    assert settings_from(tmp_path, properties).cert_country == "FILE"
    assert settings_from(tmp_path, properties, MOSIP_KERNEL_KEYMANAGER_CERTIFICATE_DEFAULT_COUNTRY="ENV").cert_country \
        == "ENV"
    both = settings_from(tmp_path, properties, MOSIP_KERNEL_KEYMANAGER_CERTIFICATE_DEFAULT_COUNTRY="ENV",
                         KEYMANAGER_CERT_COUNTRY="OURS")
    assert (both.cert_country, both.cert_state) == ("OURS", "FILE")


def test_a_blank_variable_of_ours_does_not_hide_the_mapped_value(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, {"mosip.kernel.tokenid.length": "20"}, KEYMANAGER_TOKENID_LENGTH="  ")
    assert settings.tokenid_length == 20


def test_a_later_file_wins_over_an_earlier_one(tmp_path: Path) -> None:
    first = write(tmp_path / "kernel-default.properties", {"mosip.kernel.tokenid.length": "20",
                                                           "mosip.kernel.keymanager.certificate.default.state": "A"})
    second = write(tmp_path / "application-prod.properties", {"mosip.kernel.tokenid.length": "24"})
    settings = Settings.from_env({SPRING: f"{first},{second}"})
    assert (settings.tokenid_length, settings.cert_state) == (24, "A")


def test_our_role_variable_wins_whatever_its_case(tmp_path: Path) -> None:
    properties = {"mosip.role.keymanager.postencrypt": "FROM_FILE", "mosip.role.keymanager.putrevokekey": "FILE2"}
    settings = settings_from(tmp_path, properties, keymanager_roles_PostEncrypt="OURS")
    assert dict(settings.role_overrides) == {"postencrypt": ("OURS",), "putrevokekey": ("FILE2",)}


def test_a_pin_file_of_ours_wins_over_the_references_pin(tmp_path: Path) -> None:
    properties = {"mosip.kernel.keymanager.hsm.keystore-pass": "file-pin"}
    settings = settings_from(tmp_path, properties, PKCS11_TOKEN_PIN_FILE="/run/secrets/pin")
    assert settings.pkcs11_pin is None and settings.pkcs11_pin_file == Path("/run/secrets/pin")


def test_the_keystore_password_goes_to_pkcs12_with_that_type(tmp_path: Path) -> None:
    properties = {"mosip.kernel.keymanager.hsm.keystore-type": "PKCS12",
                  "mosip.kernel.keymanager.hsm.keystore-pass": "p12-pass"}
    settings = settings_from(tmp_path, properties)
    assert (settings.keystore, settings.keystore_password, settings.pkcs11_pin) == ("pkcs12", "p12-pass", None)


def test_another_keystore_of_ours_leaves_the_references_keystore_unread(tmp_path: Path) -> None:
    properties = {"mosip.kernel.keymanager.hsm.keystore-type": "PKCS11",
                  "mosip.kernel.keymanager.hsm.config-path": "/nowhere/pkcs11.cfg",
                  "mosip.kernel.keymanager.hsm.keystore-pass": "pin"}
    settings = settings_from(tmp_path, properties, KEYMANAGER_KEYSTORE="memory")  # no file read, no error
    assert (settings.keystore, settings.pkcs11_pin) == ("memory", None)
    reading = read_reference({SPRING: str(tmp_path / "application.properties"), "KEYMANAGER_KEYSTORE": "memory"})
    assert {entry.name: entry.text for entry in reading.ignored}["mosip.kernel.keymanager.hsm.config-path"] == \
        "KEYMANAGER_KEYSTORE=memory is set (ours win)"


def test_another_store_of_ours_leaves_the_references_database_unread(tmp_path: Path) -> None:
    properties = {"keymanager_database_url": DB, "keymanager_database_password": "${db.dbuser.password}"}
    settings = settings_from(tmp_path, properties, KEYMANAGER_STORE="sqlite")  # the unresolvable password: unread
    assert (settings.store, settings.db_url) == ("sqlite", None)


# -- the keystore ------------------------------------------------------------------------------------


def test_the_sunpkcs11_file_gives_the_module_and_says_how_to_choose_the_token(tmp_path: Path, hsm_cfg: Path) -> None:
    properties = {"mosip.kernel.keymanager.hsm.config-path": f"{hsm_cfg}   "}  # trailing blanks, as the reference's
    settings = settings_from(tmp_path, properties)
    assert settings.pkcs11_module == LIBRARY
    reading = read_reference({SPRING: str(tmp_path / "application.properties")})
    ignored = {entry.name: entry.text for entry in reading.ignored}
    assert ignored["mosip.kernel.keymanager.hsm.config-path [slotListIndex = 0]"] == \
        "the token is chosen by its label here: set PKCS11_TOKEN_LABEL"
    assert ignored["mosip.kernel.keymanager.hsm.config-path [name = SoftHSM2]"] == "the Java provider's name"
    assert not any("CKA_EXTRACTABLE" in name for name in ignored)  # the attributes block is skipped whole


@pytest.mark.parametrize(
    "config, message",
    [
        (None, "cannot read the SunPKCS11 configuration"),
        ("name = x\nslot = 1\n", "names no library"),
        ("library = ${java.home}/lib/libj2pkcs11.so\n", "uses a Java system property"),
        ("library /usr/lib/x.so\n", "a line without '='"),
    ],
)
def test_an_unusable_sunpkcs11_file_is_refused(tmp_path: Path, config: str | None, message: str) -> None:
    cfg = tmp_path / "hsm.cfg"
    if config is not None:
        cfg.write_text(config, encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        settings_from(tmp_path, {"mosip.kernel.keymanager.hsm.config-path": str(cfg)})
    assert "mosip.kernel.keymanager.hsm.config-path: " in str(raised.value) and message in str(raised.value)


def test_an_existing_reference_pkcs12_file_must_be_imported_first(tmp_path: Path) -> None:
    p12 = tmp_path / "mosip-ks.p12"
    p12.write_bytes(b"\x30\x82")
    properties = {"mosip.kernel.keymanager.hsm.keystore-type": "PKCS12",
                  "mosip.kernel.keymanager.hsm.config-path": str(p12)}
    with pytest.raises(ConfigurationError, match="keymanager keystore import"):
        settings_from(tmp_path, properties)
    assert settings_from(tmp_path, properties, KEYMANAGER_KEYSTORE_DIR=str(tmp_path / "ours")).keystore == "pkcs12"
    p12.unlink()  # a fresh deployment: nothing to import, our keystore directory applies
    assert settings_from(tmp_path, properties).keystore_directory is None


@pytest.mark.parametrize(
    "kind, message",
    [
        ("OFFLINE", "OFFLINE (a keystore without keys) is not supported: use PKCS11 or PKCS12"),
        ("JCE", "JCE keystores are Java provider classes: use PKCS11 with the HSM's PKCS#11 library"),
        ("LUNA", "must be PKCS11 or PKCS12, got 'LUNA'"),
    ],
)
def test_keystore_types_we_do_not_have_are_refused(tmp_path: Path, kind: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings_from(tmp_path, {"mosip.kernel.keymanager.hsm.keystore-type": kind})
    assert f"mosip.kernel.keymanager.hsm.keystore-type: {message}" in str(raised.value)


# -- the database --------------------------------------------------------------------------------------


def test_a_jdbc_url_with_user_and_password_becomes_our_postgresql_url(tmp_path: Path) -> None:
    properties = {
        "mosip.kernel.database.hostname": "${mosip.database.hostname.override:postgres-postgresql.postgres}",
        "mosip.kernel.database.port": "${mosip.database.port.override:5432}",
        "keymanager_database_url": "jdbc:postgresql://${mosip.kernel.database.hostname}:"
                                   "${mosip.kernel.database.port}/mosip_keymgr?ApplicationName=km",
        "keymanager_database_username": " keymgruser",
        "keymanager_database_password": "${db.dbuser.password}",
        "keymanager.persistence.jdbc.schema": "keymgr",
    }
    settings = settings_from(tmp_path, properties, DB_DBUSER_PASSWORD="s3cr:t/@%pw")
    assert settings.store == "postgres"
    assert settings.db_url == ("postgresql://keymgruser:s3cr%3At%2F%40%25pw@postgres-postgresql.postgres:5432/"
                               "mosip_keymgr?schema=keymgr")
    options = PostgresOptions.from_url(settings.db_url)  # our adapter reads it back as it was meant
    assert (options.user, options.password, options.host, options.port, options.database, options.schema) == (
        "keymgruser", "s3cr:t/@%pw", "postgres-postgresql.postgres", 5432, "mosip_keymgr", "keymgr")

    out = io.StringIO()
    run_config_check({SPRING: str(tmp_path / "application.properties"), "DB_DBUSER_PASSWORD": "s3cr:t/@%pw"},
                     out=out)
    text = out.getvalue()
    assert "keymanager_database_url -> KEYMANAGER_DB_URL = postgresql://keymgruser@postgres-postgresql.postgres:" \
           "5432/mosip_keymgr?schema=keymgr (password set); KEYMANAGER_STORE = postgres" in text
    assert "keymanager_database_password -> KEYMANAGER_DB_URL (its password) = (secret, set)" in text
    assert "keymanager_database_url [?ApplicationName]: a JDBC URL parameter with no counterpart here" in text
    assert "mosip.kernel.database.hostname: read only through a ${...} placeholder" in text
    assert "s3cr" not in text and "%3A" not in text


@pytest.mark.parametrize(
    "url, expected",
    [
        ("jdbc:postgresql:mosip_keymgr?user=u", "postgresql://u@localhost/mosip_keymgr"),
        ("jdbc:postgresql://[::1]:5433/keys?user=u&currentSchema=km", "postgresql://u@[::1]:5433/keys?schema=km"),
        ("jdbc:postgresql://db?user=u&sslmode=disable", None),  # no database name
        ("JDBC:POSTGRESQL://db/keys?user=u&ssl=false", "postgresql://u@db/keys"),
    ],
)
def test_jdbc_url_forms(tmp_path: Path, url: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ConfigurationError, match="no database name"):
            settings_from(tmp_path, {"keymanager_database_url": url})
    else:
        assert settings_from(tmp_path, {"keymanager_database_url": url}).db_url == expected


@pytest.mark.parametrize(
    "url, message",
    [
        ("jdbc:mysql://db/keys", "expected jdbc:postgresql://host[:port]/database"),
        ("jdbc:postgresql://a:5432,b:5432/keys", "several hosts (failover) are not supported"),
        ("jdbc:postgresql://db/keys?sslmode=require", "TLS to PostgreSQL (ssl/sslmode) is not supported"),
        ("jdbc:postgresql://db/keys?ssl=true", "TLS to PostgreSQL (ssl/sslmode) is not supported"),
        ("jdbc:postgresql://db:port/keys", "the port must be a number"),
        ("jdbc:postgresql://db/keys", "no database user: set the username property"),
    ],
)
def test_jdbc_urls_we_cannot_use_are_refused(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings_from(tmp_path, {"keymanager_database_url": url, "keymanager_database_password": "hunter2-db"})
    assert f"keymanager_database_url: {message}" in str(raised.value)
    assert "hunter2-db" not in str(raised.value)


def test_the_key_managers_own_database_properties_win_over_the_jpa_ones(tmp_path: Path) -> None:
    properties = {"javax.persistence.jdbc.url": "jdbc:postgresql://jpa/x?user=j", "keymanager_database_url": DB,
                  "keymanager_database_username": "km"}
    assert settings_from(tmp_path, properties).db_url == "postgresql://km@db.example:5432/mosip_keymgr"


# -- other conversions -----------------------------------------------------------------------------


def test_the_autogen_list_keeps_root_first_and_says_what_the_ceremony_does_not_make(tmp_path: Path) -> None:
    value = "PRE_REGISTRATION,ROOT,KERNEL:SIGN,KERNEL:IDENTITY_CACHE,ID_REPO:ED25519_SIGN, RESIDENT"
    settings = settings_from(tmp_path, {"mosip.kernel.keymanager.autogen.appids.list": value})
    assert settings.init_keys == ("ROOT", "PRE_REGISTRATION", "KERNEL:SIGN", "RESIDENT")
    reading = read_reference({SPRING: str(tmp_path / "application.properties")})
    ignored = {entry.name: entry.text for entry in reading.ignored}
    assert "KEYMANAGER_ZK_POOL_SIZE" in ignored["mosip.kernel.keymanager.autogen.appids.list [KERNEL:IDENTITY_CACHE]"]
    assert "generateECSignKey" in ignored["mosip.kernel.keymanager.autogen.appids.list [ID_REPO:ED25519_SIGN]"]


def test_a_disabled_trust_store_cache_wins_over_its_expiry(tmp_path: Path) -> None:
    properties = {"mosip.kernel.partner.truststore.cache.expire.inMins": "30",
                  "mosip.kernel.partner.truststore.cache.disable": "true"}
    assert settings_from(tmp_path, properties).partner_trust_cache_seconds == 0.0
    properties["mosip.kernel.partner.truststore.cache.disable"] = "false"
    assert settings_from(tmp_path, properties).partner_trust_cache_seconds == 1800.0


def test_an_empty_value_leaves_our_default(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, {"mosip.kernel.keymanager.signature.kid.prepend": "",
                                        "mosip.kernel.pdf_owner_password": ""})
    assert (settings.sign_kid_prefix, settings.pdf_owner_password) == ("", None)


# -- invalid values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("mosip.kernel.crypto.symmetric-algorithm-name", "AES/CBC/PKCS5Padding",
         "must be AES/GCM/PKCS5Padding or AES/GCM/NoPadding (the wire format is fixed), got 'AES/CBC/PKCS5Padding'"),
        ("mosip.kernel.crypto.gcm-tag-length", "96", "must be 128 (the wire format is fixed), got '96'"),
        ("mosip.kernel.keygenerator.asymmetric-key-length", "4096", "must be 2048 (the wire format is fixed)"),
        ("mosip.kernel.data-key-splitter", "#SPLIT#", "must be #KEY_SPLITTER# (the wire format is fixed)"),
        ("mosip.sign.applicationid", "OTHER", "must be KERNEL (the key hierarchy is fixed), got 'OTHER'"),
        ("mosip.kernel.tokenid.length", "thirty", "must be a number, got 'thirty' (as KEYMANAGER_TOKENID_LENGTH)"),
        ("mosip.kernel.keymanager.signature.cwt.verify.iss.enable", "maybe",
         "must be true or false, got 'maybe' (as KEYMANAGER_CWT_VERIFY_ISSUER)"),
        ("mosip.kernel.partner.truststore.cache.expire.inMins", "soon", "must be a number of minutes, got 'soon'"),
        ("mosip.role.keymanager.postdecrypt", " , ", "an empty role list (the reference would refuse every caller)"),
        ("mosip.kernel.tokenid.uin.salt", "${tokenid.salt}", "unresolved placeholder ${tokenid.salt}"),
    ],
)
def test_invalid_values_are_refused_naming_the_property(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings_from(tmp_path, {name: value})
    assert f"{name}: {message}" in str(raised.value)


def test_the_wire_format_values_of_the_reference_are_accepted_in_any_case(tmp_path: Path) -> None:
    properties = {"mosip.kernel.crypto.asymmetric-algorithm-name": "RSA/ECB/OAEPWithSHA-256AndMGF1Padding",
                  "mosip.kernel.crypto.symmetric-algorithm-name": "AES/GCM/NoPadding"}
    assert settings_from(tmp_path, properties) == Settings(spring_properties=(tmp_path / "application.properties",))


# -- ignored ------------------------------------------------------------------------------------------


def test_unknown_properties_are_listed_as_ignored_with_why(tmp_path: Path) -> None:
    properties = {"mosip.kernel.something.new": "1", "mosip.role.keymanager.postcwtdecode": "A",
                  "hibernate.dialect": "x", "mosip.kernel.keymanager.hsm.jce.className": "x",
                  "mosip.kernel.crypto.gcm-tag-length": "128"}
    env = {SPRING: str(write(tmp_path / "application.properties", properties)), "MOSIP_UNHEARD_OF": "1"}
    assert Settings.from_env(env).role_overrides == ()  # the unknown role key does not stop the start
    ignored = {entry.name: entry.text for entry in read_reference(env).ignored}
    assert ignored == {
        "mosip.kernel.something.new": "not read by the key manager",
        "MOSIP_UNHEARD_OF": "not read by the key manager",
        "mosip.role.keymanager.postcwtdecode": "no endpoint here is guarded by this role key",
        "hibernate.dialect": "the Java service's JPA/Hibernate settings",
        "mosip.kernel.keymanager.hsm.jce.className": "JCE keystore parameters (Java provider classes): use PKCS11 "
                                                     "with the HSM's PKCS#11 library",
        "mosip.kernel.crypto.gcm-tag-length": "fixed: must equal 128 (the wire format)",
    }


# -- secrets ----------------------------------------------------------------------------------------------

SECRETS = {
    "mosip.kernel.keymanager.hsm.keystore-pass": "pin-Qm3v8",
    "keymanager_database_password": "db-Tz4k1",
    "mosip.kernel.tokenid.uin.salt": "salt-Xc7n2",
    "mosip.kernel.tokenid.partnercode.salt": "salt-Pb5r6",
    "mosip.kernel.pdf_owner_password": "pdf-Hw2j9",
}


def test_secrets_are_never_shown_nor_logged(tmp_path: Path, hsm_cfg: Path, caplog, capsys) -> None:
    properties = {**SECRETS, "keymanager_database_url": f"{DB}?user=km&password=url-Gd8s3",
                  "mosip.kernel.keymanager.hsm.config-path": str(hsm_cfg)}
    env = {SPRING: str(write(tmp_path / "application.properties", properties))}
    with caplog.at_level(logging.DEBUG):
        settings = Settings.from_env(env)
        out = io.StringIO()
        assert run_config_check(env, out=out) == 0
    assert settings.pkcs11_pin == "pin-Qm3v8" and "db-Tz4k1" in str(settings.db_url)
    shown = out.getvalue() + caplog.text + repr(settings) + capsys.readouterr().err
    assert "the reference's configuration: 7 properties mapped" in caplog.text
    for secret in [*SECRETS.values(), "url-Gd8s3"]:
        assert secret not in shown
    for name in SECRETS:
        assert re.search(rf"^  {re.escape(name)} -> .* = \(secret, set\)", out.getvalue(), re.MULTILINE), name


def test_secrets_stay_out_of_errors(tmp_path: Path) -> None:
    properties = {**SECRETS, "mosip.kernel.crypto.gcm-tag-length": "64", "keymanager_database_url": "jdbc:oracle:x"}
    with pytest.raises(ConfigurationError) as raised:
        settings_from(tmp_path, properties)
    assert not any(secret in str(raised.value) for secret in SECRETS.values())


# -- keymanager config check --------------------------------------------------------------------------------


def test_config_check_prints_three_sections_and_exits_1_on_anything_invalid(tmp_path: Path, capsys,
                                                                           monkeypatch) -> None:
    for variable in list(__import__("os").environ):
        if variable.startswith(("KEYMANAGER_", "MOSIP_")):
            monkeypatch.delenv(variable)
    good = write(tmp_path / "good.properties", {"mosip.kernel.tokenid.length": "20", "spring.application.name": "km"})
    assert main(["config", "check", "--properties", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"read: {good} (2 properties)\n")
    assert "mapped (1):\n  mosip.kernel.tokenid.length -> KEYMANAGER_TOKENID_LENGTH = 20  [" in out
    assert "ignored (1):\n  spring.application.name: Spring Boot's own\n" in out
    assert "invalid (0):\nsettings: ok (store=sqlite, keystore=pkcs12, auth=dev)\n" in out

    bad = write(tmp_path / "bad.properties", {"mosip.kernel.crypto.gcm-tag-length": "96"})
    monkeypatch.setenv(SPRING, str(bad))
    assert main(["config", "check"]) == 1
    out = capsys.readouterr().out
    assert "invalid (1):\n  mosip.kernel.crypto.gcm-tag-length: must be 128 (the wire format is fixed), got '96'" in out
    assert "settings:" not in out

    assert main(["config", "check", "--properties", str(tmp_path / "missing.properties")]) == 2
    assert "KEYMANAGER_SPRING_PROPERTIES: cannot read" in capsys.readouterr().out


def test_config_check_checks_our_own_settings_too(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_config_check({"KEYMANAGER_ROLES_NOSUCHKEY": "A"}, out=out) == 1
    assert "read: nothing (set KEYMANAGER_SPRING_PROPERTIES or pass --properties)" in out.getvalue()
    assert "settings: INVALID: KEYMANAGER_ROLES_NOSUCHKEY: no such role key" in out.getvalue()


def test_the_check_lists_where_each_value_came_from(tmp_path: Path) -> None:
    env = {SPRING: str(write(tmp_path / "a.properties", {"mosip.kernel.tokenid.length": "20"})),
           "MOSIP_KERNEL_TOKENID_LENGTH": "22"}
    text = render_check(read_reference(env))
    assert "mosip.kernel.tokenid.length -> KEYMANAGER_TOKENID_LENGTH = 22  [environment MOSIP_KERNEL_TOKENID_LENGTH]" \
        in text
    assert Settings.from_env(env).tokenid_length == 22
