"""Views that compute for long (PBKDF2, Argon2) are declared ``blocking`` (routes.py), and the server
runs them off its event loop: ``blocking_paths`` reads the declarations once per application."""
from __future__ import annotations

from flask import Flask

from .routes import endpoints_of


def blocking_paths(app: Flask) -> frozenset[str]:
    """The URL paths whose endpoints are declared ``blocking`` (their rules have no variables)."""
    marked = {name for name, endpoint in endpoints_of(app).items() if endpoint.blocking}
    return frozenset(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint in marked)
