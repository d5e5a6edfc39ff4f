"""What the tests do when the machine lacks something they need (a back-end, a browser, wrk)."""
from __future__ import annotations

import pytest

from tests.support.repo import IN_CI


def missing_backend(what: str) -> None:
    """Under CI a missing backend fails the run; on a developer's machine it skips, saying why."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} not available on this machine")


def require_marker(request: pytest.FixtureRequest, marker: str, what: str) -> None:
    """Fails a test that reaches ``what`` without carrying ``marker`` (``make test-fast`` leaves
    the marked tests out, so an unmarked one would reach the back-end there)."""
    if request.node.get_closest_marker(marker) is None:
        pytest.fail(f"{request.node.nodeid} uses {what} but is not marked '{marker}': mark it "
                    f"(@pytest.mark.{marker}, or pytest.param(..., marks=pytest.mark.{marker}))")


#: Adapters that run on a real back-end, and the marker of the tests that use them.
ADAPTER_MARKERS = {"postgres": "postgres", "pkcs11": "softhsm"}


def adapter_params(names) -> list:
    """``params`` / ``parametrize`` values for a test run once per adapter: the adapters on a real
    back-end carry its marker (``make test-fast`` leaves them out)."""
    return [
        pytest.param(name, marks=getattr(pytest.mark, ADAPTER_MARKERS[name])) if name in ADAPTER_MARKERS else name
        for name in names
    ]
