"""KeyMigratorController: moving base keys and ZK pool keys in from another Key Manager deployment."""
from __future__ import annotations

from .routes import Controller

api = Controller("key_migration", tag="key-migrate-controller")
blueprint = api.blueprint
