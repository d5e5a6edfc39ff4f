"""Views that compute for long (PBKDF2, Argon2) say so, and the server runs them off its event loop.

Declared at the view (``@blocking``), read once per application by the server
(``blocking_paths``): the fact lives beside the route it describes.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from flask import Flask

F = TypeVar("F", bound=Callable[..., object])
MARK = "keymanager_blocking"


def blocking(view: F) -> F:
    setattr(view, MARK, True)
    return view


def blocking_paths(app: Flask) -> frozenset[str]:
    """The URL paths whose views are marked ``blocking`` (their rules have no variables)."""
    marked = {name for name, view in app.view_functions.items() if getattr(view, MARK, False)}
    return frozenset(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint in marked)
