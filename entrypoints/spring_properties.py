"""Spring's configuration, read as Spring reads it: ``.properties`` and YAML files, relaxed
environment names and ``${name:default}`` placeholders (issue 16).

Nothing here knows the key manager's properties: ``entrypoints/reference_config.py`` maps them onto
our settings. A value is never logged or put in an error message here.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .settings import ConfigurationError


class Invalid(Exception):
    """A value cannot be used (an unresolved placeholder, a value out of range). The message never
    repeats a secret."""


# -- the .properties syntax (java.util.Properties, as Spring Boot reads it) ----------------------


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BLANKS = " \t\f"
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _continues(line: str) -> bool:
    """An odd number of trailing backslashes joins the next line."""
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _logical_lines(text: str) -> Iterable[str]:
    lines = _LINE_BREAK.split(text)
    index = 0
    while index < len(lines):
        line = lines[index].lstrip(_BLANKS)
        index += 1
        if not line or line[0] in "#!":
            continue
        while _continues(line):
            line = line[:-1]
            if index >= len(lines):
                break
            line += lines[index].lstrip(_BLANKS)  # a continued line's leading blanks are dropped
            index += 1
        yield line


def _unescape(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        index += 1
        if char != "\\":
            out.append(char)
            continue
        if index >= len(text):
            break
        char = text[index]
        index += 1
        if char == "u":
            digits = text[index:index + 4]
            if len(digits) != 4 or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ConfigurationError("malformed \\uxxxx escape")
            out.append(chr(int(digits, 16)))
            index += 4
        else:
            out.append(_ESCAPES.get(char, char))
    return "".join(out)


def parse_properties(text: str) -> dict[str, str]:
    """Comments (``#``, ``!``), ``key=value`` / ``key: value`` / ``key value``, continuation lines,
    escapes (``\\t``, ``\\uXXXX``, ``\\=``); the last of duplicate keys wins. Values keep trailing blanks
    (as Java does); the mapping strips them where a value is not a secret."""
    properties: dict[str, str] = {}
    for line in _logical_lines(text):
        index = 0
        while index < len(line) and line[index] not in "=:" + _BLANKS:
            index += 2 if line[index] == "\\" else 1
        key = line[:index]
        while index < len(line) and line[index] in _BLANKS:
            index += 1
        if index < len(line) and line[index] in "=:":
            index += 1
        while index < len(line) and line[index] in _BLANKS:
            index += 1
        properties[_unescape(key)] = _unescape(line[index:])
    return properties


def _flatten(node: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(node, list):
        for position, value in enumerate(node):
            _flatten(value, f"{prefix}[{position}]", out)
    elif prefix:
        out[prefix] = "" if node is None else str(node).lower() if isinstance(node, bool) else str(node)


def parse_yaml(text: str) -> dict[str, str]:
    """Spring's flattening of YAML: nested keys joined with dots, lists as ``key[0]``; documents in order."""
    try:
        import yaml  # PyYAML, when installed: not a dependency of ours
    except ImportError:
        raise ConfigurationError("a YAML file needs PyYAML (pip install pyyaml); or give a .properties file") from None
    properties: dict[str, str] = {}
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigurationError(f"not valid YAML{where}") from None
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            raise ConfigurationError("a YAML document must be a mapping of keys")
        _flatten(document, "", properties)
    return properties


def read_properties_file(path: Path) -> dict[str, str]:
    """A ``.properties`` file (UTF-8, else ISO-8859-1 as Java reads it) or a ``.yml``/``.yaml`` one."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigurationError(f"cannot read {path} ({error.strerror or type(error).__name__})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("iso-8859-1")
    try:
        if path.suffix.lower() in (".yml", ".yaml"):
            return parse_yaml(text)
        return parse_properties(text)
    except ConfigurationError as error:
        raise ConfigurationError(f"{path}: {error}") from None


# -- where a reference property's value comes from ------------------------------------------------


def relaxed_names(name: str) -> tuple[str, ...]:
    """The environment variables Spring reads a property from: the name, dots (and dashes) as
    underscores or dashes dropped, as is and upper-cased (``MOSIP_KERNEL_KEYMANAGER_HSM_KEYSTORE_TYPE``,
    ``MOSIP_KERNEL_KEYMANAGER_HSM_KEYSTORETYPE``)."""
    underscored = name.replace(".", "_")
    forms = [name, underscored, underscored.replace("-", "_"), underscored.replace("-", "")]
    return tuple(dict.fromkeys(forms + [form.upper() for form in forms]))


def env_name(name: str) -> str:
    """The relaxed environment name an operator would write: ``MOSIP_KERNEL_KEYMANAGER_HSM_KEYSTORE_TYPE``."""
    return name.replace(".", "_").replace("-", "_").upper()


@dataclass(frozen=True)
class Raw:
    value: str
    origin: str  # "environment NAME" or the file's path


class ReferenceConfig:
    """The reference's properties: the files (a later one wins) beneath Spring's relaxed environment
    names, with ``${name:default}`` placeholders resolved against both, as Spring's Environment does."""

    def __init__(self, files: Iterable[tuple[str, Mapping[str, str]]], env: Mapping[str, str],
                 known: Iterable[str] = (), families: Iterable[str] = ()) -> None:
        """``known``: the property names whose environment forms count as read; ``families``: property
        prefixes whose environment forms do (``mosip.role.keymanager.`` for MOSIP_ROLE_KEYMANAGER_X)."""
        self.env = env
        self.known = {variable: name for name in known for variable in relaxed_names(name)}
        self.families = {env_name(prefix): prefix for prefix in families}
        self.file_values: dict[str, Raw] = {}
        for origin, properties in files:
            for name, value in properties.items():
                self.file_values[name] = Raw(value, origin)
        #: Properties and variables read through placeholders (the check says so rather than "unused").
        self.referenced: set[str] = set()

    def raw(self, name: str) -> Raw | None:
        for variable in relaxed_names(name):
            if variable in self.env:
                return Raw(self.env[variable], f"environment {variable}")
        return self.file_values.get(name)

    def resolve(self, name: str) -> str | None:
        """The value with its placeholders resolved; None when the property is absent. Invalid
        naming the placeholder when one cannot be resolved (Spring refuses to start then)."""
        raw = self.raw(name)
        if raw is None:
            return None
        return self._expand(raw.value, (name,))

    def _expand(self, text: str, stack: tuple[str, ...]) -> str:
        out: list[str] = []
        index = 0
        while True:
            start = text.find("${", index)
            if start < 0:
                out.append(text[index:])
                return "".join(out)
            out.append(text[index:start])
            end = _closing_brace(text, start + 2)
            if end < 0:  # the text itself is not repeated: it may be a secret
                raise Invalid("an unterminated placeholder: '${' without its '}'")
            out.append(self._placeholder(text[start + 2:end], stack))
            index = end + 1

    def _placeholder(self, inner: str, stack: tuple[str, ...]) -> str:
        key, colon, default = _split_default(inner)
        key = self._expand(key, stack)
        if key in stack:
            raise Invalid(f"circular placeholder ${{{key}}}")
        raw = self.raw(key)
        if raw is not None:
            self.referenced.add(key)
            if raw.origin.startswith("environment "):
                self.referenced.add(raw.origin.removeprefix("environment "))
            return self._expand(raw.value, (*stack, key))
        if colon:
            return self._expand(default, stack)
        raise Invalid(f"unresolved placeholder ${{{key}}} (set it in the file or as the environment variable "
                      f"{env_name(key)})")

    def spring_variable(self, variable: str) -> str | None:
        """The property an environment variable sets, for the known names and the families; else None."""
        if variable in self.known:
            return self.known[variable]
        for prefix, family in self.families.items():
            if variable.upper().startswith(prefix) and len(variable) > len(prefix):
                return family + variable[len(prefix):].lower()
        return None

    def names(self) -> set[str]:
        """Every property read: the files', and those the environment sets (known names and families)."""
        names = set(self.file_values)
        names.update(name for name in map(self.spring_variable, self.env) if name)
        return names


def _closing_brace(text: str, index: int) -> int:
    depth = 1
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _split_default(inner: str) -> tuple[str, bool, str]:
    """``name:default`` at the top level (a ``:`` inside a nested placeholder does not count)."""
    depth = 0
    for index, char in enumerate(inner):
        if inner.startswith("${", index):
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == ":" and depth == 0:
            return inner[:index], True, inner[index + 1:]
    return inner, False, ""
