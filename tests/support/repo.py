"""Where things are: the repository, the shared known-answer vectors, and whether this is CI."""
from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS_DIR = Path(os.environ.get("KEYMANAGER_VECTORS_DIR", REPO_ROOT.parent / "shared" / "spec" / "vectors"))
#: Under CI a missing back-end fails the run instead of skipping (tests/conftest.py: missing_backend).
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: A fixed start for lifecycle tests (the day of the uni_ident vector).
START = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def child_process_env(**variables: str) -> dict[str, str]:
    """The environment of a child process running the service's code: this one's, without any
    KEYMANAGER_* setting (a child is configured only by ``variables``), with the repository importable."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KEYMANAGER_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env.update(variables)
    return env


def sqlite_pkcs12_env(data_dir: Path, keystore_password: str | None) -> dict[str, str]:
    """A child on the embedded store and keystore of ``data_dir``."""
    return child_process_env(
        KEYMANAGER_DATA_DIR=str(data_dir),
        KEYMANAGER_STORE="sqlite",
        KEYMANAGER_KEYSTORE="pkcs12",
        KEYMANAGER_KEYSTORE_PASSWORD=keystore_password or "",
    )


def read_vectors() -> dict[str, str]:
    """``name=value`` lines of jdk_jose4j_vectors.txt."""
    values = {}
    for line in (VECTORS_DIR / "jdk_jose4j_vectors.txt").read_text().splitlines():
        if "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values
