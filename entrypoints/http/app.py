"""The Flask application factory: builds the container, the blueprints, the error handler."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask

from ..containers import Container, build_container
from ..settings import Settings
from . import (
    actuator,
    admin_api,  # -- admin console (issue 17) --
    batch,  # -- ML-DSA and batch (issue 18) --
    client_crypto,
    console,
    console_auth,  # -- admin console (issue 17) --
    cose,
    cryptomanager,
    key_migration,
    keymanager,
    license_keys,
    metrics,
    openapi,
    partner,
    post_quantum,  # -- post-quantum hybrid (issue 18) --
    routes,
    signature,
    swagger_ui,
    token_id,
    zk,
)
from .access_log import install_access_log
from .audit import install_audit
from .auth import install_auth
from .errors import register_error_handlers
from .url_text import install_url_check

API_PREFIX = "/v1/keymanager"
CONTROLLERS = (
    keymanager.api, cryptomanager.api, signature.api, cose.api, partner.api, zk.api, client_crypto.api, token_id.api,
    key_migration.api, license_keys.api,
    post_quantum.api,  # -- post-quantum hybrid (issue 18) --
    batch.api,  # -- ML-DSA and batch (issue 18) --
    actuator.api, metrics.api, openapi.api, swagger_ui.api, console.api,
    admin_api.api, console_auth.api,  # -- admin console (issue 17) --
)


class KeymanagerFlask(Flask):
    """Flask, minus one per-request cost: ``ensure_sync`` inspects every hook and view for being a
    coroutine function on every request (about ten ``inspect`` calls). They never change: decide once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        found = self._sync.get(func)
        if found is None:
            found = self._sync[func] = super().ensure_sync(func)
        return found


def create_app(settings: Settings | None = None, container: Container | None = None) -> Flask:
    settings = settings or Settings.from_env()
    container = container or build_container(settings)
    app = KeymanagerFlask("keymanager")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    app.config["KEYMANAGER_STORE"], app.config["KEYMANAGER_KEYSTORE"] = settings.store, settings.keystore
    app.config["KEYMANAGER_API_PREFIX"] = API_PREFIX
    app.config["KEYMANAGER_BATCH_MAX_ITEMS"] = settings.batch_max_items  # -- ML-DSA and batch (issue 18) --
    # No 308 redirect with an HTML body for "//" in a path (Werkzeug's default): such a path is
    # unknown, answered with the MOSIP envelope like any other. Set before the rules are bound.
    app.url_map.merge_slashes = False
    app.extensions["container"] = container
    app.container = container  # type: ignore[attr-defined]
    # Every endpoint is declared once, on its controller (routes.py); auth, audit, the server's
    # blocking paths and the OpenAPI document read those declarations.
    routes.install(app, CONTROLLERS, API_PREFIX)
    logging.getLogger("keymanager").setLevel(logging.INFO)
    install_access_log(app)  # first: its before_request runs first and its after_request last (final status)
    metrics.install_metrics(app)  # its after_request runs after the audit hook's: the final status
    install_url_check(app)  # a URL that is not UTF-8 is refused before anything else looks at it
    install_auth(app, settings)  # before any route runs: every request is authenticated
    console_auth.install_console_auth(app, settings)  # -- admin console (issue 17) -- sign-in settings
    register_error_handlers(app)
    if settings.cors_origins:  # the reference's @CrossOrigin, only when configured
        from flask_cors import CORS

        origins = "*" if "*" in settings.cors_origins else list(settings.cors_origins)
        CORS(app, resources={f"{API_PREFIX}/*": {"origins": origins}}, expose_headers=["X-Request-ID"])
    install_audit(app, container.audit_writer, settings.db_timeout_seconds)  # no record, no answer
    return app
