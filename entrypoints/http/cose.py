"""CoseSignController (the reference's development line): COSE_Sign1 and CWT signing and verification."""
from __future__ import annotations

from .routes import Controller

api = Controller("cose", tag="cose-sign-controller")
blueprint = api.blueprint
