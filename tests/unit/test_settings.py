"""Each setting declared once (issue 14): its variable, parser, default and README line live on the
``Settings`` field; ``from_env`` reads every declaration, the README's table is generated from them, and
the container is configured with the field names."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from entrypoints.containers import build_container, derived_config
from entrypoints.settings import (
    ROLES_PREFIX,
    TABLE_END,
    TABLE_START,
    ConfigurationError,
    Settings,
    declarations,
    markdown_table,
    readme_with_table,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
REGENERATE = "regenerate it: .venv/bin/python -m entrypoints.settings --update-readme README.md"
#: Read outside Settings, by the test suite and the benchmark only (README "Tests", docs/performance.md).
TEST_AND_BENCH_ONLY = frozenset({
    "KEYMANAGER_TEST_PG_URL", "KEYMANAGER_VECTORS_DIR", "KEYMANAGER_SCHEMATHESIS_EXAMPLES", "KEYMANAGER_BENCH_PG_URL",
    "KEYMANAGER_WRITE_SCREENSHOTS",  # the console's browser test writes docs/console-*.png (issue 17)
})
#: Spelled like variables, never read from the environment.
NOT_VARIABLES = frozenset({"KEYMANAGER_API_PREFIX"})  # a Flask app.config key
VARIABLE = re.compile(r"\b(?:KEYMANAGER|PKCS11)_[A-Z0-9_]+")


def declared_variables() -> set[str]:
    return {declared.env for declared in declarations().values()}


def readme_table(text: str) -> str:
    start, end = text.index(TABLE_START) + len(TABLE_START) + 1, text.index(TABLE_END)
    return text[start:end]


def table_variables(table: str) -> set[str]:
    return set(re.findall(r"^\| `([^`]+)` \|", table, re.MULTILINE))


# -- the README --------------------------------------------------------------------------------


def test_the_readme_table_lists_exactly_the_declared_settings() -> None:
    listed = table_variables(readme_table(README.read_text(encoding="utf-8")))
    declared = declared_variables()
    assert not declared - listed, f"declared but not in the README table ({REGENERATE})"
    assert not listed - declared, f"in the README table but not declared ({REGENERATE})"


def test_the_readme_table_is_the_generated_one() -> None:
    # defaults and descriptions included: the declarations are the only place to edit them
    assert readme_table(README.read_text(encoding="utf-8")) == markdown_table(), REGENERATE


def test_regenerating_the_readme_changes_only_the_table() -> None:
    text = README.read_text(encoding="utf-8")
    stale = text.replace(readme_table(text), "| variable | default | meaning |\n|---|---|---|\n| `X` | — | gone |\n")
    assert readme_with_table(stale) == readme_with_table(text)
    assert readme_with_table(stale).split(TABLE_START)[0] == text.split(TABLE_START)[0]
    assert readme_with_table(stale).split(TABLE_END)[1] == text.split(TABLE_END)[1]


def test_the_table_has_one_well_formed_row_per_setting() -> None:
    rows = markdown_table().splitlines()[2:]
    assert len(rows) == len(fields(Settings))
    for row in rows:
        assert row.count(" | ") == 2, row  # a '|' in a description would break the table


def test_every_variable_named_in_the_readme_or_the_code_is_declared() -> None:
    """A variable read somewhere without a declaration, or documented but gone, fails here. The role
    family and the test-only variables are handled explicitly."""
    declared = declared_variables()
    sources = [README, *sorted((REPO_ROOT / "entrypoints").rglob("*.py"))]
    unknown = set()
    for source in sources:
        for name in VARIABLE.findall(source.read_text(encoding="utf-8")):
            if name.endswith("_"):  # a family or an abbreviation (KEYMANAGER_CERT_*): must lead somewhere
                known = name == ROLES_PREFIX or any(variable.startswith(name) for variable in declared)
            else:
                known = name in declared | TEST_AND_BENCH_ONLY | NOT_VARIABLES or name.startswith(ROLES_PREFIX)
            if not known:
                unknown.add(f"{name} ({source.relative_to(REPO_ROOT)})")
    assert not unknown


# -- reading the environment -------------------------------------------------------------------


def test_an_empty_environment_gives_the_declared_defaults() -> None:
    assert Settings.from_env({}) == Settings()
    blank = {variable: "  " for variable in declared_variables() if "<" not in variable}
    assert Settings.from_env(blank) == Settings(keystore_password="  ", db_url="  ", pkcs11_pin="  ",
                                                tokenid_uin_salt="  ", tokenid_partner_code_salt="  ",
                                                pdf_owner_password="  ", console_client_secret="  ")


@pytest.mark.parametrize("name", [name for name, declared in declarations().items() if "<" not in declared.env])
def test_every_declaration_reads_its_own_variable(name: str) -> None:
    """Any value either reaches the declared field or is refused naming the variable."""
    variable = declarations()[name].env
    try:
        settings = Settings.from_env({variable: "surely-not-a-default"})
    except ConfigurationError as error:
        assert variable in str(error)
    else:
        assert getattr(settings, name) != getattr(Settings(), name)
        changed = [other for other in declarations() if getattr(settings, other) != getattr(Settings(), other)]
        assert changed == [name]


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"KEYMANAGER_HOST": " 0.0.0.0 "}, {"host": "0.0.0.0"}),
        ({"KEYMANAGER_KEYSTORE_PASSWORD": " spaced "}, {"keystore_password": " spaced "}),  # secrets verbatim
        ({"KEYMANAGER_DATA_DIR": "/srv/km"}, {"data_dir": Path("/srv/km")}),
        ({"PKCS11_TOKEN_PIN_FILE": "/run/pin"}, {"pkcs11_pin_file": Path("/run/pin")}),
        ({"KEYMANAGER_PORT": "9000", "KEYMANAGER_WORKERS": "0"}, {"port": 9000, "workers": 1}),
        ({"KEYMANAGER_HEADER_TIMEOUT_SECONDS": "600"}, {"header_timeout_seconds": 60.0}),
        ({"KEYMANAGER_HEADER_TIMEOUT_SECONDS": "0.1"}, {"header_timeout_seconds": 0.5}),
        ({"KEYMANAGER_DB_TIMEOUT_SECONDS": "0"}, {"db_timeout_seconds": 1.0}),
        ({"KEYMANAGER_ARGON2_MEMORY_KIB": "1"}, {"argon2_memory_kib": 8}),
        ({"KEYMANAGER_STORE": " Postgres ", "KEYMANAGER_SERVER_DISPATCH": "THREADS"},
         {"store": "postgres", "server_dispatch": "threads"}),
        ({"KEYMANAGER_AUTO_INIT": "off", "KEYMANAGER_PARTNER_RESIGN_FTM_CERTS": "Yes"},
         {"auto_init": False, "partner_resign_ftm_certs": True}),
        ({"KEYMANAGER_INIT_KEYS": " ROOT, ,KERNEL:SIGN ,"}, {"init_keys": ("ROOT", "KERNEL:SIGN")}),
        ({"KEYMANAGER_INIT_KEYS": " , "}, {"init_keys": Settings().init_keys}),
        ({"KEYMANAGER_PARTNER_DOMAINS": "auth, ftm"}, {"partner_domains": ("AUTH", "FTM")}),
        ({"KEYMANAGER_CORS_ORIGINS": "https://a.example, *"}, {"cors_origins": ("https://a.example", "*")}),
        ({"KEYMANAGER_ROLES_POSTENCRYPT": "A, B", "keymanager_roles_PutRevokeKey": "C", "KEYMANAGER_ROLES_X": " "},
         {"role_overrides": (("postencrypt", ("A", "B")), ("putrevokekey", ("C",)))}),
    ],
)
def test_special_parsers(env: dict[str, str], expected: dict[str, object]) -> None:
    settings = Settings.from_env(env)
    assert {name: getattr(settings, name) for name in expected} == expected
    assert all(type(getattr(settings, name)) is type(value) for name, value in expected.items())


@pytest.mark.parametrize(
    "env, message",
    [
        ({"KEYMANAGER_PORT": "http"}, "KEYMANAGER_PORT must be a number, got 'http'"),
        ({"KEYMANAGER_WORKERS": "1.5"}, "KEYMANAGER_WORKERS must be a number, got '1.5'"),
        ({"KEYMANAGER_KEY_CACHE_TTL_SECONDS": "-1"}, "KEYMANAGER_KEY_CACHE_TTL_SECONDS must not be negative"),
        ({"KEYMANAGER_DB_AUTO_UPGRADE": "maybe"}, "KEYMANAGER_DB_AUTO_UPGRADE must be true or false, got 'maybe'"),
        ({"KEYMANAGER_STORE": "MySQL"}, "KEYMANAGER_STORE must be one of sqlite, memory, postgres, got 'mysql'"),
        ({"KEYMANAGER_KEYSTORE": "jks"}, "KEYMANAGER_KEYSTORE must be one of pkcs12, memory, pkcs11, got 'jks'"),
        ({"KEYMANAGER_LOG_FORMAT": "xml"}, "KEYMANAGER_LOG_FORMAT must be one of text, json, got 'xml'"),
        ({"KEYMANAGER_AUTH": "oidc", "KEYMANAGER_OIDC_ISSUER": "i", "KEYMANAGER_OIDC_AUDIENCE": "a",
          "KEYMANAGER_OIDC_JWKS_URL": "ftp://x"}, "KEYMANAGER_OIDC_JWKS_URL must be an http(s) URL"),
    ],
)
def test_malformed_values_are_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(env)
    assert str(raised.value) == message


def test_secrets_stay_out_of_repr() -> None:
    settings = Settings(db_url="postgresql://km:hunter2@db/km", keystore_password="hunter2", pkcs11_pin="hunter2",
                        tokenid_uin_salt="hunter2", tokenid_partner_code_salt="hunter2")
    assert "hunter2" not in repr(settings)


# -- the container -----------------------------------------------------------------------------


def test_the_container_is_configured_with_the_field_names(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, store="memory", keystore="memory", partner_ca_min_validity_months=7,
                        cert_country="KE", tokenid_length=20, argon2_parallelism=3, zk_public_key_app_id="X")
    derived = derived_config(settings)
    assert not set(derived) & set(declarations()), "a derived value would hide a setting"
    container = build_container(settings)
    assert container.config() == settings.as_config() | derived
    # the renamed keys reach their adapters
    assert container.partner_policy().ca_minimum_validity_months == 7
    assert container.certificate_defaults().country == "KE"
    assert container.generate_argon2_hash().parameters.parallelism == 3
