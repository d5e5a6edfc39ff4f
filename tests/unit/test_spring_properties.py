"""Spring's configuration read as Spring reads it (issue 16): the ``.properties`` syntax, YAML
flattening, relaxed environment names and ``${name:default}`` placeholders."""
from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import ConfigurationError
from entrypoints.spring_properties import (
    Invalid,
    ReferenceConfig,
    env_name,
    parse_properties,
    parse_yaml,
    read_properties_file,
    relaxed_names,
)

# -- the .properties syntax ---------------------------------------------------------------------


def test_comments_separators_and_blanks() -> None:
    text = (
        "# a comment\n"
        "! another comment\n"
        "   # an indented comment\n"
        "\n"
        "a=1\n"
        "b = 2\n"
        "c:3\n"
        "d : 4\n"
        "e 5\n"
        "  f=6\n"
        "g=\n"
        "h\n"
        "i==7\n"
        "j=a=b:c\n"
        "url=jdbc:postgresql://db:5432/x#y\n"
    )
    assert parse_properties(text) == {
        "a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "", "h": "", "i": "=7", "j": "a=b:c",
        "url": "jdbc:postgresql://db:5432/x#y",  # '#' starts a comment only at the start of a line
    }


def test_continuation_lines_join_and_drop_the_next_lines_leading_blanks() -> None:
    text = "list=a,\\\n    b,\\\r\n\tc\nafter=1\nescaped=ends with a backslash\\\\\nnext=2\n"
    assert parse_properties(text) == {"list": "a,b,c", "after": "1", "escaped": "ends with a backslash\\",
                                      "next": "2"}


def test_a_continuation_at_the_end_of_the_file_and_a_comment_line_never_continue() -> None:
    assert parse_properties("# comment \\\nkey=value\\") == {"key": "value"}


def test_escapes_in_keys_and_values() -> None:
    text = "key\\=with\\:separators\\ inside=v\nunicode=caf\\u00e9 \\t tab\nother=\\q\\n\n"
    assert parse_properties(text) == {"key=with:separators inside": "v", "unicode": "café \t tab", "other": "q\n"}


def test_values_keep_their_trailing_blanks_as_java_does() -> None:
    assert parse_properties("path=/hsm-files/x.cfg   \n") == {"path": "/hsm-files/x.cfg   "}


def test_the_last_of_duplicate_keys_wins() -> None:
    assert parse_properties("a=1\na=2\n") == {"a": "2"}


def test_a_malformed_unicode_escape_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="malformed"):
        parse_properties("a=\\u00zz\n")


def test_a_file_that_is_not_utf8_is_read_as_iso_8859_1(tmp_path: Path) -> None:
    path = tmp_path / "latin.properties"
    path.write_bytes("name=Bogot\xe1\n".encode("iso-8859-1"))
    assert read_properties_file(path) == {"name": "Bogotá"}


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read .*missing.properties"):
        read_properties_file(tmp_path / "missing.properties")


# -- YAML -------------------------------------------------------------------------------------------


def test_yaml_is_flattened_as_spring_does(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "values.yaml"
    path.write_text(
        "mosip:\n"
        "  kernel:\n"
        "    keymanager.hsm:\n"
        "      keystore-type: PKCS12\n"
        "    tokenid.length: 36\n"
        "  role.keymanager.postencrypt: RESIDENT\n"
        "flag: true\n"
        "empty:\n"
        "list: [a, b]\n"
        "---\n"
        "flag: false\n",
        encoding="utf-8",
    )
    assert read_properties_file(path) == {
        "mosip.kernel.keymanager.hsm.keystore-type": "PKCS12",
        "mosip.kernel.tokenid.length": "36",
        "mosip.role.keymanager.postencrypt": "RESIDENT",
        "flag": "false",  # a later document wins
        "empty": "",
        "list[0]": "a",
        "list[1]": "b",
    }


def test_malformed_yaml_is_refused_with_its_line() -> None:
    pytest.importorskip("yaml")
    with pytest.raises(ConfigurationError, match="not valid YAML at line 2"):
        parse_yaml("a: 1\nb: c: d\n")


# -- relaxed environment names ------------------------------------------------------------------


def test_relaxed_names_cover_both_of_springs_forms() -> None:
    names = relaxed_names("mosip.kernel.keymanager.hsm.keystore-type")
    assert names[0] == "mosip.kernel.keymanager.hsm.keystore-type"
    assert "MOSIP_KERNEL_KEYMANAGER_HSM_KEYSTORE_TYPE" in names  # @Value: dashes as underscores
    assert "MOSIP_KERNEL_KEYMANAGER_HSM_KEYSTORETYPE" in names  # Spring Boot's binder: dashes dropped
    assert env_name("mosip.kernel.keymanager.hsm.keystore-type") == "MOSIP_KERNEL_KEYMANAGER_HSM_KEYSTORE_TYPE"


def test_the_environment_wins_over_the_files_and_a_later_file_over_an_earlier_one() -> None:
    files = [("first", {"a": "1", "b": "1", "c": "1"}), ("second", {"b": "2", "c": "2"})]
    config = ReferenceConfig(files, {"C": "env"})
    assert [config.resolve(name) for name in ("a", "b", "c", "d")] == ["1", "2", "env", None]
    assert config.raw("c").origin == "environment C"
    assert config.raw("b").origin == "second"


def test_the_environment_names_of_known_properties_and_families_are_read() -> None:
    env = {"MOSIP_KERNEL_TOKENID_LENGTH": "20", "MOSIP_ROLE_KEYMANAGER_POSTENCRYPT": "X", "UNRELATED": "1"}
    config = ReferenceConfig([], env, known=["mosip.kernel.tokenid.length"], families=["mosip.role.keymanager."])
    assert config.names() == {"mosip.kernel.tokenid.length", "mosip.role.keymanager.postencrypt"}
    assert config.resolve("mosip.role.keymanager.postencrypt") == "X"


# -- placeholders ------------------------------------------------------------------------------------


def config_of(properties: dict[str, str], env: dict[str, str] | None = None) -> ReferenceConfig:
    return ReferenceConfig([("file", properties)], env or {})


def test_placeholders_resolve_within_the_file_from_the_environment_and_to_defaults() -> None:
    config = config_of(
        {
            "host": "db.example",
            "url": "jdbc:postgresql://${host}:${port:5432}/${name}",
            "name": "mosip_${suffix:keymgr}",
            "pin": "${softhsm.kernel.security.pin}",
            "nested": "${missing:${host}}",
            "colon": "${missing:a:b}",
            "empty_default": "[${missing:}]",
        },
        {"SOFTHSM_KERNEL_SECURITY_PIN": "from-env"},
    )
    assert config.resolve("url") == "jdbc:postgresql://db.example:5432/mosip_keymgr"
    assert config.resolve("pin") == "from-env"
    assert config.resolve("nested") == "db.example"
    assert config.resolve("colon") == "a:b"
    assert config.resolve("empty_default") == "[]"
    assert {"host", "name", "softhsm.kernel.security.pin", "SOFTHSM_KERNEL_SECURITY_PIN"} <= config.referenced


def test_the_environment_wins_for_a_placeholder_too() -> None:
    config = config_of({"host": "file-host", "url": "//${host}"}, {"HOST": "env-host"})
    assert config.resolve("url") == "//env-host"


@pytest.mark.parametrize(
    "properties, message",
    [
        ({"a": "${db.dbuser.password}"}, "unresolved placeholder ${db.dbuser.password} (set it in the file or as "
                                         "the environment variable DB_DBUSER_PASSWORD)"),
        ({"a": "${b}", "b": "${a}"}, "circular placeholder ${a}"),
        ({"a": "${a}"}, "circular placeholder ${a}"),
        ({"a": "secret${b"}, "an unterminated placeholder: '${' without its '}'"),
    ],
)
def test_placeholders_that_cannot_be_resolved_are_refused(properties: dict[str, str], message: str) -> None:
    with pytest.raises(Invalid) as raised:
        config_of(properties).resolve("a")
    assert str(raised.value) == message
