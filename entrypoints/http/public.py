"""Views anyone may call without a token (the actuator's probes), declared at the view like ``@blocking``."""
from __future__ import annotations

from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable[..., object])
MARK = "keymanager_public"


def public(view: F) -> F:
    setattr(view, MARK, True)
    return view


def is_public(view: object) -> bool:
    return bool(getattr(view, MARK, False))
