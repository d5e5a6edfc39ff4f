"""Fixtures of the integration tests: the stand-in identity provider and an app in OIDC mode."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.oidc import AUDIENCE, ISSUER, JWKS_URL, Idp


@pytest.fixture
def idp() -> Iterator[Idp]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        provider = Idp(mock)
        provider.publish("k1")
        yield provider


@pytest.fixture
def oidc_settings(memory_settings: Settings) -> Settings:
    return memory_settings.with_overrides(
        auth_mode="oidc", oidc_issuer=ISSUER, oidc_jwks_url=JWKS_URL, oidc_audience=(AUDIENCE,)
    )


@pytest.fixture
def oidc_app(oidc_settings: Settings, container):
    return create_app(oidc_settings, container)


@pytest.fixture
def oidc_client(oidc_app):
    return oidc_app.test_client()
