"""The hexagonal layering, checked mechanically: import-linter contracts from
setup.cfg, plus a direct scan that the domain imports only the standard library
and the application only the domain, itself, the cryptography libraries and cachetools (a
general-purpose cache, issue 14)."""
from __future__ import annotations

import ast
import subprocess
import sys

from tests.support.repo import REPO_ROOT


def imported_top_level_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (REPO_ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(REPO_ROOT)))
    return found


def test_domain_imports_only_the_standard_library():
    outside = {
        module: files
        for module, files in imported_top_level_modules("domain").items()
        if module not in sys.stdlib_module_names and module not in ("domain", "__future__")
    }
    assert outside == {}


def test_application_imports_only_domain_and_crypto_libraries():
    # Format libraries only: CBOR (COSE/CWT), pyHanko and its ASN.1 layer (PDF signatures).
    allowed = {
        "domain", "application", "cryptography", "joserfc", "argon2", "cachetools", "cbor2",
        "pyhanko", "pyhanko_certvalidator", "asn1crypto", "__future__",
    }
    outside = {
        module: files
        for module, files in imported_top_level_modules("application").items()
        if module not in sys.stdlib_module_names and module not in allowed
    }
    assert outside == {}


def test_no_framework_or_driver_below_the_edges():
    forbidden = {"flask", "marshmallow", "dependency_injector", "pg8000", "pkcs11", "werkzeug", "gunicorn", "granian", "sqlite3"}
    for package in ("domain", "application"):
        assert forbidden.isdisjoint(imported_top_level_modules(package)), package


def test_import_linter_contracts_are_kept():
    # In a subprocess: import-linter's CLI reconfigures logging (dictConfig), which
    # would disable this process's loggers for every later test.
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
         "sys.exit(lint_imports_command())", "--config", "setup.cfg", "--no-cache"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
