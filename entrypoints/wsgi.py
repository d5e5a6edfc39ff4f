"""WSGI entry point for any server: ``gunicorn 'entrypoints.wsgi:create_app()'``.

A factory, not a module-level app, so that importing builds nothing.
"""
from __future__ import annotations

from flask import Flask

from .http.app import create_app as _create_app
from .settings import Settings


def create_app() -> Flask:
    return _create_app(Settings.from_env())
