"""LicenseKeyController: licence keys of trusted service providers (TSPs) and their permissions."""
from __future__ import annotations

from .routes import Controller

api = Controller("license_keys", tag="license-key-controller")
blueprint = api.blueprint
