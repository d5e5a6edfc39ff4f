"""Fixtures of the contract tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from application.ports.keystore import Keystore
from tests.support.keystores import FACTORIES
from tests.support.required import adapter_params


@pytest.fixture(params=adapter_params(FACTORIES))
def keystore(request: pytest.FixtureRequest, tmp_path: Path) -> Keystore:
    """Every keystore adapter, empty (tests/support/keystores.py)."""
    return FACTORIES[request.param](tmp_path, request)
